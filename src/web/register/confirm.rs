//! Screen 5 (入力内容の確認) and 「登録する」, which hands the draft to
//! `service::registration::complete` and shows what became of it: the
//! completion page (also for a second click), the link's problem, or the
//! form with the refused fields.

use maud::html;
use poem::{
    IntoResponse, Response, handler,
    http::StatusCode,
    session::Session,
    web::{CsrfToken, Data, Redirect},
};

use super::{
    form::{KEPT_PASSWORD_STAND_IN, check_all},
    form_view::{self, Ctx},
    state::{self, DONE_KEY, REG_KEY, RegSession},
};
use crate::{
    auth::client::ClientIp,
    domain::{EmailField, Field, NewRegistration, RegistrationForm, validate_registration},
    error::OrInternal,
    service::registration::{self, Completion, Outcome, ValidLink},
    state::AppState,
    views::{
        components::steps,
        layout::{csrf_input, page as layout},
    },
    web::{
        paths,
        register::verify::{Problem, problem_page},
        today,
    },
};

/// The draft, validated again; `None` sends the user back to the form.
async fn validated(
    state: &AppState,
    reg: &RegSession,
    link: &ValidLink,
) -> poem::Result<Option<NewRegistration>> {
    if reg.password_hash.is_none() || reg.draft.is_empty() {
        return Ok(None);
    }
    let form = RegistrationForm::from_pairs(&reg.draft).normalized();
    let checked = check_all(state, link, form, reg.password_hash.as_deref()).await?;
    match checked.result {
        Ok((r, _)) => Ok(Some(r)),
        Err(errors) => {
            tracing::info!(fields = ?errors.names().collect::<Vec<_>>(), "draft no longer valid");
            Ok(None)
        }
    }
}

/// The draft checked against the field rules only.
fn rules_only(reg: &RegSession) -> Option<NewRegistration> {
    let mut form = RegistrationForm::from_pairs(&reg.draft).normalized();
    form.password = KEPT_PASSWORD_STAND_IN.to_owned();
    validate_registration(&form, today()).ok().map(|(r, _)| r)
}

#[handler]
pub async fn page(
    state: Data<&AppState>,
    csrf: &CsrfToken,
    session: &Session,
) -> poem::Result<Response> {
    let (reg, link) = match state::current(&state, session).await? {
        Ok(v) => v,
        Err(gone) => return Ok(gone.into_response()),
    };
    let Some(new) = validated(&state, &reg, &link).await? else {
        return Ok(Redirect::see_other(paths::FORM).into_response());
    };
    let body = html! {
        (steps(3))
        section.card {
            h1 { "入力内容の確認" }
            p.lead { "入力内容をご確認ください。" }
            dl.review {
                dt { (EmailField::Email.label()) } dd { (reg.email) }
                dt { (Field::Password.label()) } dd { "（表示しません）" }
                @for (label, value) in new.display_rows() {
                    dt { (label) }
                    dd { @if value.is_empty() { "—" } @else { (value) } }
                }
            }
            form method="post" action=(paths::CONFIRM) {
                (csrf_input(csrf))
                div.actions {
                    button type="submit" { "登録する" }
                    a.button.secondary href=(paths::FORM) { "戻る" }
                }
            }
        }
    };
    Ok(layout("入力内容の確認", Some(csrf), body).into_response())
}

#[handler]
pub async fn submit(
    state: Data<&AppState>,
    csrf: &CsrfToken,
    session: &Session,
    ClientIp(client_ip): ClientIp,
) -> poem::Result<Response> {
    let Some(reg) = session.get::<RegSession>(REG_KEY) else {
        if session.get::<String>(DONE_KEY).is_some() {
            return Ok(Redirect::see_other(paths::COMPLETE).into_response());
        }
        return Ok(problem_page(Problem::NoSession));
    };
    let (Some(token), Some(password_hash)) = (reg.hash(), reg.password_hash.clone()) else {
        return Ok(Redirect::see_other(paths::FORM).into_response());
    };
    // Rules only: uniqueness is decided by the service, inside its write
    // transaction, where a second submit finds the token consumed.
    let Some(registration) = rules_only(&reg) else {
        return Ok(Redirect::see_other(paths::FORM).into_response());
    };
    let completion = Completion {
        token,
        registration,
        password_hash,
        client_ip,
    };
    let outcome = registration::complete(&state.store, &state.config, &state.mail, completion)
        .await
        .or_internal()?;
    let problem = match outcome {
        Outcome::Created { login_id } | Outcome::AlreadyCreated { login_id } => {
            session.remove(REG_KEY);
            session.set(DONE_KEY, login_id);
            return Ok(Redirect::see_other(paths::COMPLETE).into_response());
        }
        Outcome::LinkExpired => Problem::Expired,
        Outcome::LinkUnknown => Problem::Unknown,
        Outcome::EmailTaken => Problem::Used,
        Outcome::Refused(errors) => {
            // Someone else claimed a key since the form was checked.
            let form = RegistrationForm::from_pairs(&reg.draft).normalized();
            let ctx = Ctx {
                form: &form,
                errors: &errors,
                password_kept: true,
            };
            return Ok(form_view::page(csrf, &reg.email, &ctx, None)
                .with_status(StatusCode::CONFLICT)
                .into_response());
        }
    };
    session.remove(REG_KEY);
    Ok(problem_page(problem))
}
