//! 事務局アカウントの管理 for 管理者: the staff accounts of their association and those below, and the form for a new one, whose one-time password is shown once on the page that answers it (never stored in clear, never shown again). 担当者 and physicians get the 404 page.

use maud::{Markup, html};
use poem::{
    IntoResponse, Response, handler,
    http::{StatusCode, header},
    web::{CsrfToken, Data, Form},
};

use crate::{
    auth::guards::StaffAdmin,
    domain::{FieldError, FieldErrors, StaffRole},
    error::{OrInternal, UserError, status_message},
    mail::templates::jst,
    service::staff::{self, CreateError, Created, LOGIN_ID_TAKEN, NAME_MAX, StaffForm, StaffList},
    state::AppState,
    views::{
        components::{Input, error_summary, field_frame, text_field},
        layout::{csrf_input, page as layout},
    },
    web::paths,
};

/// The list; a new account is posted here.
pub const LIST: &str = "/office/staff";

fn not_found() -> poem::Error {
    UserError::into_error(StatusCode::NOT_FOUND, status_message(StatusCode::NOT_FOUND))
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
                                td { (r.name) }
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
                div.actions { button type="submit" { "作成する" } }
            }
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
