//! The first login's change of a one-time password (パスワードの変更): every other page sends the account here until it is done.

use maud::{Markup, html};
use poem::{
    IntoResponse, Response, handler,
    http::StatusCode,
    session::Session,
    web::{CsrfToken, Data, Form, Redirect},
};

use crate::{
    auth::{
        client::ClientIp,
        current_user::{self, PendingStep},
        guards::SignedIn,
    },
    error::OrInternal,
    service::{
        self,
        accounts::{NewPasswordError, NewPasswordInput, OneTimeOutcome},
    },
    state::AppState,
    views::{
        components::{RESUBMIT_MESSAGE, resubmit_notice},
        layout::page as layout,
    },
    web::{
        context, first_login,
        forgot::reset::{NewPasswordForm, new_password_form},
        landing, paths,
    },
};

fn change_page(csrf: &str, error: Option<&NewPasswordError>, notice: Option<&str>) -> Markup {
    let title = "パスワードの変更";
    layout(
        title,
        Some(csrf),
        html! {
            section.card {
                h1 { (title) }
                p.lead { "初回ログインのため、お渡ししたパスワードをご自身で決めたパスワードに変更してください。変更するまで、ほかの画面はご利用いただけません。" }
                (resubmit_notice(notice))
                (new_password_form(csrf, error, paths::PASSWORD_CHANGE, "パスワードを変更する"))
            }
        },
    )
}

#[handler]
pub async fn page(
    state: Data<&AppState>,
    csrf: &CsrfToken,
    session: &Session,
    SignedIn(account): SignedIn,
) -> poem::Result<Response> {
    if current_user::pending(session) != Some(PendingStep::Password) {
        return first_login::next(&state, session, account.id).await;
    }
    Ok(change_page(csrf, None, None).into_response())
}

/// The submit refused for a stale CSRF token (see `web::kept_forms`): the
/// page again with a fresh token (passwords are never shown back); nothing
/// is changed.
#[handler]
pub async fn refused(
    state: Data<&AppState>,
    csrf: &CsrfToken,
    session: &Session,
    SignedIn(account): SignedIn,
) -> poem::Result<Response> {
    if current_user::pending(session) != Some(PendingStep::Password) {
        return first_login::next(&state, session, account.id).await;
    }
    Ok(change_page(csrf, None, Some(RESUBMIT_MESSAGE))
        .with_status(StatusCode::FORBIDDEN)
        .into_response())
}

#[handler]
pub async fn submit(
    state: Data<&AppState>,
    csrf: &CsrfToken,
    session: &Session,
    ClientIp(ip): ClientIp,
    SignedIn(account): SignedIn,
    Form(f): Form<NewPasswordForm>,
) -> poem::Result<Response> {
    let input = NewPasswordInput {
        password: &f.password,
        confirm: &f.password_confirm,
    };
    let outcome = context::accounts(&state)
        .replace_one_time_password(account.id, &input, ip)
        .await
        .or_internal()?;
    Ok(match outcome {
        OneTimeOutcome::Saved(user) => {
            // The change ended every session of the account: this one
            // starts again (a new id), with what is left to do.
            let step = service::first_login::pending(&user, &state.texts.version);
            current_user::sign_in(session, &user, step);
            Redirect::see_other(landing(user.role, step)).into_response()
        }
        OneTimeOutcome::NotRequired => return first_login::next(&state, session, account.id).await,
        OneTimeOutcome::Refused(e) => change_page(csrf, Some(&e), None)
            .with_status(StatusCode::UNPROCESSABLE_ENTITY)
            .into_response(),
    })
}
