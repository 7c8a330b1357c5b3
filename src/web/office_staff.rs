//! 事務局アカウントの管理 for 管理者: the staff accounts of their association and those below, and the form for a new one, whose one-time password is shown once on the page that answers it (never stored in clear, never shown again). 担当者 and physicians get the 404 page.

use maud::{Markup, html};
use poem::{
    IntoResponse, Response, handler,
    http::{StatusCode, header},
    web::{CsrfToken, Data, Form, Path, Query, Redirect},
};
use serde::Deserialize;

use crate::{
    auth::guards::StaffAdmin,
    domain::{FieldError, FieldErrors, StaffRole},
    error::not_found,
    error::{OrInternal, UserError, status_message},
    mail::templates::jst,
    service::staff::{
        self, CONTACT_LABEL, CreateError, Created, LOGIN_ID_TAKEN, NAME_MAX, Reissued, StaffForm,
        StaffList, StaffRow,
    },
    state::AppState,
    views::{
        components::{Input, error_summary, field_frame, text_field},
        layout::{csrf_input, page as layout},
    },
    web::{office_associations::parse_id, paths},
};

/// The list; a new account is posted here.
pub const LIST: &str = "/office/staff";

/// The page of staff account `id`.
pub fn staff_path(id: u64) -> String {
    format!("{LIST}/{id}")
}

fn select(
    name: &str,
    label: &str,
    options: &[(String, String)],
    chosen: &str,
    error: Option<&str>,
) -> Markup {
    let control = html! {
        select id=(name) name=(name) required aria-required="true"
            aria-invalid=[error.map(|_| "true")] aria-describedby={ "m-" (name) } {
            option value="" { "選択してください" }
            @for (value, text) in options {
                option value=(value) selected[value == chosen] { (text) }
            }
        }
    };
    field_frame(name, label, true, None, error, None, None, control)
}

fn render(csrf: &str, accounts: &StaffList, f: &StaffForm, errors: &FieldErrors) -> Markup {
    let err = |n: &str| errors.message(n);
    let associations: Vec<(String, String)> = accounts
        .associations
        .iter()
        .map(|a| (a.id.0.to_string(), a.name.clone()))
        .collect();
    let roles: Vec<(String, String)> = [StaffRole::Clerk, StaffRole::Admin]
        .iter()
        .map(|r| (r.label().to_owned(), r.label().to_owned()))
        .collect();
    let title = "事務局アカウントの管理";
    let body = html! {
        section.card aria-labelledby="staff-title" {
            h1 #staff-title { (title) }
            p { a href=(paths::OFFICE) { "← 事務局TOPに戻る" } }
            p { "所属医師会と、その下部の医師会の事務局アカウントです。パスワードは表示も設定もできません。" }
            @if accounts.rows.is_empty() {
                p { "アカウントはありません。" }
            } @else {
                table.mails {
                    caption.sr-only { "事務局アカウント一覧" }
                    thead { tr {
                        th scope="col" { "氏名" } th scope="col" { "ログインID" } th scope="col" { "所属医師会" }
                        th scope="col" { "権限" } th scope="col" { "状態" } th scope="col" { "作成日時" }
                    } }
                    tbody {
                        @for r in &accounts.rows {
                            tr {
                                td { a href=(staff_path(r.user_id)) { (r.name) } }
                                td { (r.login_id) }
                                td { (r.association) }
                                td { (r.role.label()) }
                                td { @if r.first_login_pending { "初回ログイン待ち" } @else { "利用中" } }
                                td { (jst(r.created_at)) }
                            }
                        }
                    }
                }
            }
        }
        section.card aria-labelledby="new-staff-title" #new {
            h2 #new-staff-title { "アカウントの作成" }
            p { "作成すると初期パスワードが一度だけ表示されます。ご本人にお渡しください。初回ログイン時にパスワードの変更が必要です。" }
            (error_summary(errors))
            form method="post" action=(LIST) novalidate {
                (csrf_input(csrf))
                (text_field(&Input { name: "name", label: "氏名", required: true, hint: Some("（50文字以内）"), value: &f.name, error: err("name"), kind: "text", maxlength: Some(NAME_MAX), autocomplete: Some("off"), ..Input::default() }))
                (text_field(&Input { name: "login_id", label: "ログインID", required: true, hint: Some("半角英数字・記号（% ! @ # &）8〜32文字"), value: &f.login_id, error: err("login_id"), kind: "text", maxlength: Some(32), autocomplete: Some("off"), class: Some("short"), ..Input::default() }))
                (select("association", "所属医師会", &associations, &f.association, err("association")))
                (select("role", "権限", &roles, &f.role, err("role")))
                (text_field(&Input { name: "email", label: CONTACT_LABEL, required: false, hint: Some("（任意）貴会の処理待ちに申請が届いたときに、申請番号と種類だけをお知らせします。"), value: &f.email, error: err("email"), kind: "email", maxlength: Some(256), autocomplete: Some("off"), ..Input::default() }))
                div.actions { button type="submit" { "作成する" } }
            }
        }
    };
    layout(title, Some(csrf), body)
}

fn render_account(
    csrf: &str,
    r: &StaffRow,
    may_change: bool,
    done: Option<&str>,
    email_error: Option<(&str, &str)>,
) -> Markup {
    let path = staff_path(r.user_id);
    let title = "事務局アカウント";
    let body = html! {
        section.card aria-labelledby="account-title" {
            h1 #account-title { (title) }
            p { a href=(LIST) { "← 事務局アカウントの管理に戻る" } }
            @if let Some(done) = done {
                div.helpbox role="status" { p { (done) } }
            }
            dl.review {
                dt { "氏名" } dd { (r.name) }
                dt { "ログインID" } dd { (r.login_id) }
                dt { "所属医師会" } dd { (r.association) }
                dt { "権限" } dd { (r.role.label()) }
                dt { "状態" } dd { @if r.first_login_pending { "初回ログイン待ち" } @else { "利用中" } }
                dt { "作成日時" } dd { (jst(r.created_at)) }
                dt { (CONTACT_LABEL) } dd { (r.email.as_deref().unwrap_or("未設定")) }
            }
            @if !may_change {
                p.hint { "ご自身のアカウントの権限は変更できません。" }
            }
        }
        section.card aria-labelledby="email-title" {
            h2 #email-title { (CONTACT_LABEL) "の変更" }
            p { "貴会の処理待ちに申請が届いたときのお知らせの送り先です。空欄にするとお知らせは送られません。" }
            form method="post" action={ (path) "/email" } novalidate {
                (csrf_input(csrf))
                @let (typed, error) = email_error.map_or((r.email.as_deref().unwrap_or(""), None), |(t, e)| (t, Some(e)));
                (text_field(&Input { name: "email", label: CONTACT_LABEL, required: false, value: typed, error, kind: "email", maxlength: Some(256), autocomplete: Some("off"), ..Input::default() }))
                div.actions { button type="submit" { "変更する" } }
            }
        }
        @if may_change {
            section.card aria-labelledby="role-title" {
                h2 #role-title { "権限の変更" }
                form method="post" action={ (path) "/role" } {
                    (csrf_input(csrf))
                    div.field #f-role {
                        label for="role" { "権限" }
                        select #role name="role" {
                            @for role in [StaffRole::Clerk, StaffRole::Admin] {
                                option value=(role.label()) selected[role == r.role] { (role.label()) }
                            }
                        }
                    }
                    div.actions { button type="submit" { "権限を変更する" } }
                }
            }
            section.card aria-labelledby="reissue-title" {
                h2 #reissue-title { "初期パスワードの再発行" }
                p { "パスワードを忘れた場合などに、新しい初期パスワードを発行します。今のパスワードは使えなくなり、ログイン中の画面もログアウトされます。新しい初期パスワードは一度だけ表示されます。" }
                form method="post" action={ (path) "/password" } {
                    (csrf_input(csrf))
                    div.actions { button.secondary type="submit" { "初期パスワードを再発行する" } }
                }
            }
        }
    };
    layout(title, Some(csrf), body)
}

fn render_reissued(csrf: &str, id: u64, r: &Reissued) -> Markup {
    let title = "初期パスワードを再発行しました";
    let body = html! {
        section.card aria-labelledby="reissued-title" {
            h1 #reissued-title { (title) }
            dl.review {
                dt { "氏名" } dd { (r.name) }
                dt { "ログインID" } dd { (r.login_id) }
                dt { "初期パスワード（この画面でのみ表示されます）" } dd { code #one-time-password { (r.one_time_password) } }
            }
            div.helpbox {
                p { "初期パスワードはこの画面を閉じると二度と表示されません。ご本人に安全な方法でお渡しください。次のログイン時にご本人がパスワードを変更します。" }
            }
            p { a href=(staff_path(id)) { "← アカウントに戻る" } }
        }
    };
    layout(title, Some(csrf), body)
}

fn render_created(csrf: &str, c: &Created) -> Markup {
    let title = "事務局アカウントを作成しました";
    let body = html! {
        section.card aria-labelledby="created-title" {
            h1 #created-title { (title) }
            dl.review {
                dt { "氏名" } dd { (c.name) }
                dt { "ログインID" } dd { (c.login_id) }
                dt { "所属医師会" } dd { (c.association) }
                dt { "権限" } dd { (c.role.label()) }
                dt { "初期パスワード（この画面でのみ表示されます）" } dd { code #one-time-password { (c.one_time_password) } }
            }
            div.helpbox {
                p { "初期パスワードはこの画面を閉じると二度と表示されません。ご本人に安全な方法でお渡しください。初回ログイン時にご本人がパスワードを変更します。" }
            }
            p { a href=(LIST) { "← 事務局アカウントの管理に戻る" } }
        }
    };
    layout(title, Some(csrf), body)
}

#[handler]
pub async fn list(
    state: Data<&AppState>,
    csrf: &CsrfToken,
    admin: StaffAdmin,
) -> poem::Result<Response> {
    let accounts = staff::list(&state.store, &admin).await.or_internal()?;
    Ok(render(
        csrf,
        &accounts,
        &StaffForm::default(),
        &FieldErrors::default(),
    )
    .into_response())
}

#[handler]
pub async fn create(
    state: Data<&AppState>,
    csrf: &CsrfToken,
    admin: StaffAdmin,
    Form(f): Form<StaffForm>,
) -> poem::Result<Response> {
    let refused = |accounts: &StaffList, errors: FieldErrors| {
        render(csrf, accounts, &f, &errors)
            .with_status(StatusCode::UNPROCESSABLE_ENTITY)
            .into_response()
    };
    let new = match f.parse() {
        Ok(new) => new,
        Err(errors) => {
            let accounts = staff::list(&state.store, &admin).await.or_internal()?;
            return Ok(refused(&accounts, errors));
        }
    };
    match staff::create(&state.store, &state.hasher, &admin, new)
        .await
        .or_internal()?
    {
        Ok(created) => Ok(render_created(csrf, &created)
            .with_header(header::CACHE_CONTROL, "no-store")
            .into_response()),
        Err(CreateError::NotFound) => Err(not_found()),
        Err(CreateError::LoginIdTaken) => {
            let accounts = staff::list(&state.store, &admin).await.or_internal()?;
            let mut errors = FieldErrors::default();
            errors.push(FieldError::new("login_id", "ログインID", LOGIN_ID_TAKEN));
            Ok(refused(&accounts, errors))
        }
    }
}

#[derive(Debug, Default, Deserialize)]
pub struct DoneQuery {
    #[serde(default)]
    done: String,
}

#[handler]
pub async fn show(
    state: Data<&AppState>,
    csrf: &CsrfToken,
    admin: StaffAdmin,
    Path(id): Path<String>,
    Query(q): Query<DoneQuery>,
) -> poem::Result<Response> {
    let id = parse_id(&id)?;
    let Some((row, may_change)) = staff::get(&state.store, &admin, id).await.or_internal()? else {
        return Err(not_found());
    };
    let done = match q.done.as_str() {
        "role" => Some("権限を変更しました。"),
        "email" => Some("連絡用メールアドレスを変更しました。"),
        _ => None,
    };
    Ok(render_account(csrf, &row, may_change, done, None).into_response())
}

#[derive(Debug, Default, Deserialize)]
pub struct RoleForm {
    #[serde(default)]
    role: String,
}

#[handler]
pub async fn set_role(
    state: Data<&AppState>,
    admin: StaffAdmin,
    Path(id): Path<String>,
    Form(f): Form<RoleForm>,
) -> poem::Result<Response> {
    let id = parse_id(&id)?;
    // An account out of scope is not found, whatever the form says.
    if staff::get(&state.store, &admin, id)
        .await
        .or_internal()?
        .is_none()
    {
        return Err(not_found());
    }
    let Some(role) = StaffRole::from_label(&f.role) else {
        return Err(UserError::into_error(
            StatusCode::BAD_REQUEST,
            status_message(StatusCode::BAD_REQUEST),
        ));
    };
    match staff::set_role(&state.store, &admin, id, role)
        .await
        .or_internal()?
    {
        Some(()) => {
            Ok(Redirect::see_other(format!("{}?done=role", staff_path(id))).into_response())
        }
        None => Err(not_found()),
    }
}

#[derive(Debug, Default, Deserialize)]
pub struct EmailForm {
    #[serde(default)]
    email: String,
}

#[handler]
pub async fn set_email(
    state: Data<&AppState>,
    csrf: &CsrfToken,
    admin: StaffAdmin,
    Path(id): Path<String>,
    Form(f): Form<EmailForm>,
) -> poem::Result<Response> {
    let id = parse_id(&id)?;
    let email = match staff::parse_contact(&f.email) {
        Ok(email) => email,
        Err(message) => {
            let Some((row, may_change)) =
                staff::get(&state.store, &admin, id).await.or_internal()?
            else {
                return Err(not_found());
            };
            return Ok(
                render_account(csrf, &row, may_change, None, Some((&f.email, &message)))
                    .with_status(StatusCode::UNPROCESSABLE_ENTITY)
                    .into_response(),
            );
        }
    };
    match staff::set_email(&state.store, &admin, id, email)
        .await
        .or_internal()?
    {
        Some(()) => {
            Ok(Redirect::see_other(format!("{}?done=email", staff_path(id))).into_response())
        }
        None => Err(not_found()),
    }
}

#[handler]
pub async fn reissue(
    state: Data<&AppState>,
    csrf: &CsrfToken,
    admin: StaffAdmin,
    Path(id): Path<String>,
) -> poem::Result<Response> {
    let id = parse_id(&id)?;
    match staff::reissue_password(&state.store, &state.hasher, &admin, id)
        .await
        .or_internal()?
    {
        Some(r) => Ok(render_reissued(csrf, id, &r)
            .with_header(header::CACHE_CONTROL, "no-store")
            .into_response()),
        None => Err(not_found()),
    }
}
