//! マイページ's change of contact details (自宅現住所, phones): the
//! registration's fields, inline checks and postal-code fill-in, its
//! parsers on submit, a confirmation step (old → new) and the save.
//!
//! Between 確認 and 変更する the new values travel in hidden inputs of the
//! confirmation form with the record's version; saving parses them again
//! and the service refuses a record changed meanwhile.

use maud::{Markup, html};
use poem::{
    IntoResponse, Response, handler,
    http::StatusCode,
    web::{CsrfToken, Data, Form, Redirect},
};

use super::register::{
    form::read_form,
    form_view::{Ctx, fields_markup},
};
use crate::{
    auth::guards::SignedIn,
    domain::{FieldErrors, RegistrationForm, person::Person, person_form},
    error::OrInternal,
    service::my_profile::{self, ContactChange, MyProfile},
    state::AppState,
    views::{
        components::error_summary,
        layout::{csrf_input, page as layout},
    },
    web::{paths, today},
};

/// The name of the hidden input carrying the record's version.
const VERSION: &str = "version";
/// The name of the confirmation form's buttons.
const ACTION: &str = "action";

/// Said when the record changed after the form was shown.
pub const STALE: &str = "登録情報が、この画面を開いた後に変更されました（事務局による修正など）。入力内容は保存されていません。最新の登録情報を確認してから、もう一度変更してください。";
/// Said when the confirmed values equal the stored ones.
pub const UNCHANGED: &str = "変更された項目がありません。変更する項目を入力してください。";

fn back() -> Markup {
    html! { p { a href=(paths::MYPAGE) { "← マイページに戻る" } } }
}

/// The signed-in account's profile with its person, or the way back to
/// マイページ (an account without a person has no contact details here).
async fn own(
    state: &AppState,
    account_id: u64,
) -> poem::Result<Result<(MyProfile, Person), Response>> {
    let profile = my_profile::open(&state.store, account_id)
        .await
        .or_internal()?;
    Ok(match profile {
        Some(p) => match p.person.clone() {
            Some(person) => Ok((p, person)),
            None => Err(Redirect::see_other(paths::MYPAGE).into_response()),
        },
        None => Err(Redirect::see_other(paths::LOGIN).into_response()),
    })
}

/// What the contact form shows besides the values.
struct Shown<'a> {
    version: &'a str,
    errors: &'a FieldErrors,
    notice: Option<&'a str>,
    stale: bool,
}

fn form_page(csrf: &str, form: &RegistrationForm, shown: &Shown) -> Markup {
    let title = "連絡先の変更";
    let ctx = Ctx {
        form,
        errors: shown.errors,
        password_kept: false,
    };
    let body = html! {
        section.card {
            h1 { (title) }
            (back())
            p { "自宅現住所と電話番号を変更できます。利用者登録と同じ入力規則で確認し、確認画面のあとで保存します。変更は登録情報の履歴に記録され、登録メールアドレスにお知らせをお送りします。" }
            @if shown.stale {
                div.error-summary role="alert" tabindex="-1" {
                    p { (STALE) }
                    p { a href=(paths::MY_CONTACT) { "最新の登録情報で開き直す" } }
                }
            }
            @if let Some(n) = shown.notice {
                div.helpbox role="status" { p { (n) } }
            }
            (error_summary(shown.errors))
            form #contact-form method="post" action=(paths::MY_CONTACT) novalidate {
                (csrf_input(csrf))
                input type="hidden" name=(VERSION) value=(shown.version);
                (fields_markup(&ctx, person_form::contact_fields()))
                div.actions {
                    button type="submit" { "確認画面へ進む" }
                    a.button.secondary href=(paths::MYPAGE) { "変更せずに戻る" }
                }
            }
        }
    };
    layout(title, Some(csrf), body)
}

fn confirm_page(csrf: &str, version: &str, old: &Person, new: &Person) -> Markup {
    let title = "入力内容の確認";
    let form = person_form::person_form(new);
    let body = html! {
        section.card {
            h1 { (title) }
            p.lead { "次の項目を変更します。入力内容をご確認ください。" }
            table.mails {
                caption.sr-only { "変更する項目" }
                thead { tr { th scope="col" { "項目" } th scope="col" { "変更前" } th scope="col" { "変更後" } } }
                tbody {
                    @for (label, o, n) in person_form::changed_rows(old, new) {
                        tr {
                            th scope="row" { (label) }
                            td { @if o.is_empty() { "—" } @else { (o) } }
                            td { @if n.is_empty() { "—" } @else { (n) } }
                        }
                    }
                }
            }
            form method="post" action=(paths::MY_CONTACT_CONFIRM) {
                (csrf_input(csrf))
                input type="hidden" name=(VERSION) value=(version);
                @for f in person_form::contact_fields() {
                    input type="hidden" name=(f.name()) value=(form.value(*f));
                }
                div.actions {
                    button type="submit" name=(ACTION) value="save" { "変更する" }
                    button.secondary type="submit" name=(ACTION) value="back" { "戻る" }
                }
            }
        }
    };
    layout(title, Some(csrf), body)
}

fn pick<'a>(pairs: &'a [(String, String)], name: &str) -> &'a str {
    pairs
        .iter()
        .find(|(k, _)| k == name)
        .map_or("", |(_, v)| v.as_str())
}

/// The stored person's form with the posted contact fields over it.
fn posted_form(current: &Person, pairs: &[(String, String)]) -> RegistrationForm {
    let posted = read_form(pairs);
    let mut form = person_form::person_form(current);
    form.postal_code = posted.postal_code;
    form.prefecture = posted.prefecture;
    form.address = posted.address;
    form.building = posted.building;
    form.mobile = posted.mobile;
    form.tel = posted.tel;
    form.fax = posted.fax;
    form
}

#[handler]
pub async fn page(
    state: Data<&AppState>,
    csrf: &CsrfToken,
    SignedIn(account): SignedIn,
) -> poem::Result<Response> {
    let (profile, person) = match own(&state, account.id).await? {
        Ok(v) => v,
        Err(resp) => return Ok(resp),
    };
    let form = person_form::person_form(&person);
    let shown = Shown {
        version: &profile.version,
        errors: &FieldErrors::default(),
        notice: None,
        stale: false,
    };
    Ok(form_page(csrf, &form, &shown).into_response())
}

/// Checks the posted contact details: the form again with the messages
/// (422), with a notice when nothing changed, or the confirmation.
#[handler]
pub async fn submit(
    state: Data<&AppState>,
    csrf: &CsrfToken,
    SignedIn(account): SignedIn,
    Form(pairs): Form<Vec<(String, String)>>,
) -> poem::Result<Response> {
    let (_, person) = match own(&state, account.id).await? {
        Ok(v) => v,
        Err(resp) => return Ok(resp),
    };
    let version = pick(&pairs, VERSION).to_owned();
    let form = posted_form(&person, &pairs);
    let new = match person_form::validate_contact(&person, &form, today()) {
        Ok(p) => p,
        Err(errors) => {
            let shown = Shown {
                version: &version,
                errors: &errors,
                notice: None,
                stale: false,
            };
            return Ok(form_page(csrf, &form, &shown)
                .with_status(StatusCode::UNPROCESSABLE_ENTITY)
                .into_response());
        }
    };
    if person_form::changed_rows(&person, &new).is_empty() {
        let shown = Shown {
            version: &version,
            errors: &FieldErrors::default(),
            notice: Some(UNCHANGED),
            stale: false,
        };
        return Ok(form_page(csrf, &form, &shown).into_response());
    }
    Ok(confirm_page(csrf, &version, &person, &new).into_response())
}

/// 変更する (saves, then マイページ) or 戻る (the form with the values).
#[handler]
pub async fn confirm(
    state: Data<&AppState>,
    csrf: &CsrfToken,
    SignedIn(account): SignedIn,
    Form(pairs): Form<Vec<(String, String)>>,
) -> poem::Result<Response> {
    let (_, person) = match own(&state, account.id).await? {
        Ok(v) => v,
        Err(resp) => return Ok(resp),
    };
    let version = pick(&pairs, VERSION).to_owned();
    let form = posted_form(&person, &pairs);
    let checked = person_form::validate_contact(&person, &form, today());
    let refused = |errors: &FieldErrors, stale: bool, status: StatusCode| {
        let shown = Shown {
            version: &version,
            errors,
            notice: None,
            stale,
        };
        form_page(csrf, &form, &shown)
            .with_status(status)
            .into_response()
    };
    let new = match checked {
        Ok(new) if pick(&pairs, ACTION) != "back" => new,
        Ok(_) => return Ok(refused(&FieldErrors::default(), false, StatusCode::OK)),
        Err(errors) => return Ok(refused(&errors, false, StatusCode::UNPROCESSABLE_ENTITY)),
    };
    let outcome = my_profile::change_contact(
        &state.store,
        &state.config,
        &state.mail,
        account.id,
        version.clone(),
        new,
    )
    .await
    .or_internal()?;
    let done = match outcome {
        ContactChange::NoPerson => return Ok(Redirect::see_other(paths::MYPAGE).into_response()),
        ContactChange::Stale => {
            return Ok(refused(&FieldErrors::default(), true, StatusCode::CONFLICT));
        }
        ContactChange::Unchanged => "contact-unchanged",
        ContactChange::Saved(_) => "contact",
    };
    Ok(Redirect::see_other(format!("{}?done={done}", paths::MYPAGE)).into_response())
}
