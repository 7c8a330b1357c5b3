//! A person's page for office staff: the registration's fields, the
//! account's state and the record's history; the correction form (the
//! registration form's fields, checks and parsers); the password-reset mail
//! sent at staff's request. A person outside the staff member's scope, a
//! staff account, a missing or non-numeric id all get the 404 page, as do
//! physicians.

use maud::{Markup, html};
use poem::{
    IntoResponse, Response, handler,
    http::StatusCode,
    web::{CsrfToken, Data, Form, Path, Query, Redirect},
};
use serde::Deserialize;

use super::{
    office_history::{PEOPLE, entries_table, person_path},
    office_postcards,
    register::{
        form::read_form,
        form_view::{Ctx, fields_markup},
    },
};
use crate::{
    auth::guards::Staff,
    domain::{Field, FieldErrors, RegistrationForm, person_form, wareki},
    error::OrInternal,
    error::not_found,
    htmx::{self, HxRequest},
    mail::templates::jst,
    service::{
        person_record::{self, Correction, PersonRecord, ResetMail},
        postcards,
    },
    state::AppState,
    views::{
        components::error_summary,
        layout::{csrf_input, page as layout},
    },
    web::{paths, today},
};

/// The name of the hidden input carrying the record's version.
const VERSION: &str = "version";

/// Said when the record changed after the correction form was shown.
pub const STALE: &str = "この登録情報は、修正画面を開いた後に他の職員によって変更されました。入力内容は保存されていません。最新の登録情報を開き直してから、もう一度修正してください。";
/// Said when the corrected 医籍登録番号 belongs to another account.
pub const REGISTRY_TAKEN: &str = "この医籍登録番号は他の利用者に登録されています。";
/// Said after the password-reset mail was queued.
pub const RESET_SENT: &str = "パスワード再設定のメールを送信しました";

/// The person id of the path; anything else is a page that does not exist.
fn person_id(raw: &str) -> poem::Result<u64> {
    raw.parse::<u64>().map_err(|_| not_found())
}

fn edit_path(id: u64) -> String {
    format!("{}/edit", person_path(id))
}

fn reset_path(id: u64) -> String {
    format!("{}/password-reset", person_path(id))
}

/// The record of person `id` for `staff`, or the 404 page.
async fn record(state: &AppState, staff: &Staff, id: u64) -> poem::Result<PersonRecord> {
    person_record::open(&state.store, staff, id)
        .await
        .or_internal()?
        .ok_or_else(not_found)
}

#[derive(Debug, Default, Deserialize)]
pub struct DoneQuery {
    #[serde(default)]
    done: String,
}

fn done_message(key: &str) -> Option<&'static str> {
    match key {
        "corrected" => Some("登録情報を修正しました。"),
        "unchanged" => Some("変更された項目がなかったため、保存しませんでした。"),
        "reset" => Some(RESET_SENT),
        "no-address" => Some(
            "この利用者にはメールアドレスが登録されていないため、パスワード再設定のメールを送信できません。",
        ),
        _ => None,
    }
}

/// The account's state, one row each.
fn account_rows(rec: &PersonRecord) -> Markup {
    html! {
        dl.review {
            dt { "利用者番号" } dd { (rec.id) }
            dt { "ログインID" } dd { (rec.login_id) }
            dt { "メールアドレス" } dd {
                @if rec.email.is_empty() { "（未登録）" } @else { (rec.email) }
            }
            dt { "登録日" } dd { (jst(rec.created_at)) }
            dt { "最終ログイン" } dd {
                @match rec.last_login_at { Some(at) => (jst(at)), None => "記録なし" }
            }
            dt { "ロック状態" } dd {
                @match rec.throttled_secs {
                    Some(s) => { "ログイン制限中（あと約" (s.div_ceil(60)) "分）" }
                    None => "なし",
                }
            }
            dt { "初回ログイン待ち" } dd {
                @if rec.must_change_password { "はい（仮パスワードが未変更です）" } @else { "いいえ" }
            }
            dt { "所属医師会" } dd {
                @match &rec.association { Some(a) => (a), None => "未所属" }
            }
        }
    }
}

/// The id of the password-reset region, which its htmx answer replaces.
const RESET_REGION: &str = "person-reset";

/// The password-reset region: the button, and what its last use did.
fn reset_region(csrf: &str, id: u64, done: Option<&str>) -> Markup {
    let target = format!("#{RESET_REGION}");
    html! {
        section.card #(RESET_REGION) aria-labelledby="person-reset-title" {
            h2 #person-reset-title { "パスワード再設定" }
            p { "ご本人の登録メールアドレス宛てに、パスワード再設定用のURL（有効期限1時間）をお送りします。事務局がパスワードを見たり設定したりすることはできません。" }
            @if let Some(done) = done {
                div.helpbox role="status" { p { (done) } }
            }
            form method="post" action=(reset_path(id)) hx-post=(reset_path(id)) hx-target=(target) hx-swap="outerHTML" {
                (csrf_input(csrf))
                div.actions { button.secondary type="submit" { "パスワード再設定のメールを送信する" } }
            }
        }
    }
}

/// The person's memberships (所属状況), every one ever held.
fn memberships_card(rec: &PersonRecord) -> Markup {
    html! {
        section.card aria-labelledby="person-memberships" {
            h2 #person-memberships { "所属状況" }
            @if rec.memberships.is_empty() {
                p { "医師会の会員としての所属はありません。" }
            } @else {
                    table.mails {
                        caption { "所属状況" }
                        thead { tr { th scope="col" { "区分" } th scope="col" { "医師会" } th scope="col" { "会員種別" } th scope="col" { "入会日" } th scope="col" { "退会日" } } }
                        tbody {
                            @for m in &rec.memberships {
                                tr {
                                    td { (m.level.label()) }
                                    td { (m.association) }
                                    td { @if m.class.is_empty() { "—" } @else { (m.class) } }
                                    td { (wareki::format_date(m.joined)) }
                                    td { @match m.left { Some(d) => (wareki::format_date(d)), None => "在籍" } }
                                }
                            }
                        }
                    }
            }
        }
    }
}

fn initial_password_path(id: u64) -> String {
    format!("{}/initial-password", person_path(id))
}

/// A new initial password on a new ID・パスワード通知ハガキ (for a member who
/// lost the postcard or let it expire): shown only on that postcard's print view.
fn initial_password_card(csrf: &str, id: u64) -> Markup {
    html! {
        section.card aria-labelledby="person-initial" {
            h2 #person-initial { "初期パスワードの再発行" }
            p { "ハガキを紛失した、または初期パスワードの有効期限が切れた会員に、新しい初期パスワードを発行します。現在のパスワードは使えなくなり、ログイン中の画面も終了します。新しい初期パスワードは、通知ハガキの印刷画面にのみ表示されます。" }
            form method="post" action=(initial_password_path(id)) {
                (csrf_input(csrf))
                div.actions { button.secondary type="submit" { "初期パスワードを再発行してハガキを作成する" } }
            }
        }
    }
}

/// Issues a new initial password on a new postcard batch and opens its print view.
#[handler]
pub async fn reissue_initial_password(
    state: Data<&AppState>,
    staff: Staff,
    Path(id): Path<String>,
) -> poem::Result<Response> {
    let id = person_id(&id)?;
    let scope = crate::service::office::scope_of(&state.store, staff.association)
        .await
        .or_internal()?;
    let batch = postcards::reissue_initial_password(&state.store, &staff, &scope, id)
        .await
        .or_internal()?
        .ok_or_else(not_found)?;
    Ok(Redirect::see_other(office_postcards::print_path(batch)).into_response())
}

/// The whole page; `done` names what was just done (shown at the top, or
/// in the password-reset region for the reset mail).
fn record_page(csrf: &str, rec: &PersonRecord, done: &str) -> Markup {
    let (done, reset_done) = match done {
        "reset" | "no-address" => (None, done_message(done)),
        other => (done_message(other), None),
    };
    let name = rec.person.display_name();
    let title = format!("{name}（利用者情報）");
    let body = html! {
        section.card aria-labelledby="person-title" {
            h1 #person-title { (name) }
            p { a href=(PEOPLE) { "← 利用者の検索に戻る" } " " a href=(paths::OFFICE) { "事務局TOPに戻る" } }
            @if let Some(done) = done {
                div.helpbox role="status" { p { (done) } }
            }
            h2 { "アカウント" }
            (account_rows(rec))
        }
        section.card aria-labelledby="person-fields" {
            h2 #person-fields { "登録情報" }
            dl.review {
                @for (label, value) in person_form::person_rows(&rec.person) {
                    dt { (label) }
                    dd { @if value.is_empty() { "（未入力）" } @else { (value) } }
                }
            }
            div.actions { a.button href=(edit_path(rec.id)) { "登録情報を修正する" } " " a.button.secondary href=(super::office_proxy_join::join_path(rec.id)) { "入会申込を代行入力する" } " " a.button.secondary href=(super::office_proxy_change::change_path(rec.id)) { "異動届を代行入力する" } " " a.button.secondary href=(super::office_proxy::withdraw_path(rec.id)) { "退会届を代行入力する" } }
        }
        (memberships_card(rec))
        (reset_region(csrf, rec.id, reset_done))
        (initial_password_card(csrf, rec.id))
        section.card aria-labelledby="person-history" {
            h2 #person-history { "変更履歴" }
            @if rec.history.is_empty() {
                p { "変更履歴はありません。" }
            } @else {
                (entries_table("変更履歴", &rec.history, false))
            }
        }
    };
    layout(&title, Some(csrf), body)
}

#[handler]
pub async fn show(
    state: Data<&AppState>,
    csrf: &CsrfToken,
    staff: Staff,
    Path(id): Path<String>,
    Query(d): Query<DoneQuery>,
) -> poem::Result<Response> {
    let id = person_id(&id)?;
    let rec = record(&state, &staff, id).await?;
    Ok(record_page(csrf, &rec, &d.done).into_response())
}

/// What the correction form shows besides the values.
struct EditShown<'a> {
    version: &'a str,
    errors: &'a FieldErrors,
    stale: bool,
}

fn edit_page(csrf: &str, rec: &PersonRecord, form: &RegistrationForm, shown: &EditShown) -> Markup {
    let name = rec.person.display_name();
    let title = format!("{name}（登録情報の修正）");
    let (_, person_fields) = Field::ALL.split_at(Field::RegistryNumber as usize);
    let ctx = Ctx {
        form,
        errors: shown.errors,
        password_kept: false,
    };
    let body = html! {
        section.card {
            h1 { "登録情報の修正" }
            p.lead { (name) "（ログインID：" (rec.login_id) "）" }
            p { "利用者登録と同じ入力規則で確認します。ログインID・メールアドレス・パスワードはここでは変更できません。" }
            @if shown.stale {
                div.error-summary role="alert" tabindex="-1" {
                    p { (STALE) }
                    p { a href=(edit_path(rec.id)) { "最新の登録情報で修正画面を開き直す" } }
                }
            }
            (error_summary(shown.errors))
            form #person-form method="post" action=(edit_path(rec.id)) novalidate {
                (csrf_input(csrf))
                input type="hidden" name=(VERSION) value=(shown.version);
                (fields_markup(&ctx, person_fields))
                div.actions {
                    button type="submit" { "修正を保存する" }
                    a.button.secondary href=(person_path(rec.id)) { "保存せずに戻る" }
                }
            }
        }
    };
    layout(&title, Some(csrf), body)
}

#[handler]
pub async fn edit(
    state: Data<&AppState>,
    csrf: &CsrfToken,
    staff: Staff,
    Path(id): Path<String>,
) -> poem::Result<Response> {
    let id = person_id(&id)?;
    let rec = record(&state, &staff, id).await?;
    let form = person_form::person_form(&rec.person);
    let shown = EditShown {
        version: &rec.version,
        errors: &FieldErrors::default(),
        stale: false,
    };
    Ok(edit_page(csrf, &rec, &form, &shown).into_response())
}

#[handler]
pub async fn update(
    state: Data<&AppState>,
    csrf: &CsrfToken,
    staff: Staff,
    Path(id): Path<String>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> poem::Result<Response> {
    let id = person_id(&id)?;
    let rec = record(&state, &staff, id).await?;
    let version = pairs
        .iter()
        .find(|(k, _)| k == VERSION)
        .map(|(_, v)| v.clone())
        .unwrap_or_default();
    let form = read_form(&pairs);
    let refused = |errors: &FieldErrors, stale: bool, status: StatusCode| {
        let shown = EditShown {
            version: &version,
            errors,
            stale,
        };
        edit_page(csrf, &rec, &form, &shown)
            .with_status(status)
            .into_response()
    };
    let person = match person_form::validate_person(&form, today()) {
        Ok(p) => p,
        Err(errors) => return Ok(refused(&errors, false, StatusCode::UNPROCESSABLE_ENTITY)),
    };
    let outcome = person_record::correct(&state.store, &staff, id, version.clone(), person)
        .await
        .or_internal()?;
    let done = match outcome {
        Correction::NotFound => return Err(not_found()),
        Correction::Stale => {
            return Ok(refused(&FieldErrors::default(), true, StatusCode::CONFLICT));
        }
        Correction::RegistryNumberTaken => {
            let mut errors = FieldErrors::default();
            errors.insert(Field::RegistryNumber, REGISTRY_TAKEN.to_owned());
            return Ok(refused(&errors, false, StatusCode::UNPROCESSABLE_ENTITY));
        }
        Correction::Unchanged => "unchanged",
        Correction::Saved(_) => "corrected",
    };
    Ok(Redirect::see_other(format!("{}?done={done}", person_path(id))).into_response())
}

/// Sends the password-reset mail; htmx gets the region back with what was
/// done, a plain form the page (by redirect).
#[handler]
pub async fn password_reset(
    state: Data<&AppState>,
    csrf: &CsrfToken,
    staff: Staff,
    hx: HxRequest,
    Path(id): Path<String>,
) -> poem::Result<Response> {
    let id = person_id(&id)?;
    let sent =
        person_record::send_password_reset(&state.store, &state.config, &state.mail, &staff, id)
            .await
            .or_internal()?;
    let done = match sent {
        ResetMail::NotFound => return Err(not_found()),
        ResetMail::NoAddress => "no-address",
        ResetMail::Sent => "reset",
    };
    if hx.0 {
        return Ok(htmx::vary(reset_region(csrf, id, done_message(done))));
    }
    Ok(htmx::vary(Redirect::see_other(format!(
        "{}?done={done}",
        person_path(id)
    ))))
}
