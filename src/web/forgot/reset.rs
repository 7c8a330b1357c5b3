//! The mailed password-reset link and the new-password form it opens.
//!
//! Opening the link keeps its token's key in the session (never the token
//! itself in a page) and redirects to the form, so that the token leaves
//! the address bar; the form is refused once the link stops working.

use base64::{Engine as _, engine::general_purpose::URL_SAFE_NO_PAD};
use maud::{Markup, html};
use poem::{
    IntoResponse, Response, handler,
    http::StatusCode,
    session::Session,
    web::{CsrfToken, Data, Form, Query, Redirect},
};
use serde::Deserialize;

use super::{NEW_PASSWORD, PASSWORD, card};
use crate::{
    auth::client::ClientIp,
    domain::{Field, FieldError, FieldErrors},
    error::OrInternal,
    service::accounts::{NewPasswordError, NewPasswordInput, ResetKey, ResetOutcome},
    state::AppState,
    views::{
        components::{Input, error_summary, text_field},
        layout::csrf_input,
    },
    web::context,
};

/// The session key of the opened link's token key (base64).
const RESET_KEY: &str = "reset";

const PASSWORD_LABEL: &str = "新しいパスワード";
const CONFIRM_LABEL: &str = "新しいパスワード（確認用）";

fn link_problem() -> Response {
    card(
        "URLが無効です",
        None,
        html! {
            p.lead role="alert" { "このURLは有効期限が切れているか、既に使用されています。お手数ですが、もう一度パスワード再設定のお手続きを行ってください。" }
            div.actions {
                a.button href=(PASSWORD) { "パスワード再設定をやり直す" }
                a.button.secondary href="/login" { "ログインページに戻る" }
            }
        },
    )
    .with_status(StatusCode::GONE)
    .into_response()
}

#[derive(Deserialize)]
pub struct TokenQuery {
    #[serde(default)]
    token: String,
}

#[handler]
pub async fn open_link(
    state: Data<&AppState>,
    session: &Session,
    ClientIp(ip): ClientIp,
    Query(q): Query<TokenQuery>,
) -> poem::Result<Response> {
    let opened = context::accounts(&state)
        .open_reset_link(&q.token, ip)
        .await
        .or_internal()?;
    let Some(h) = opened else {
        return Ok(link_problem());
    };
    session.set(RESET_KEY, URL_SAFE_NO_PAD.encode(h));
    Ok(Redirect::see_other(NEW_PASSWORD).into_response())
}

fn reset_key(session: &Session) -> Option<ResetKey> {
    session
        .get::<String>(RESET_KEY)
        .and_then(|s| URL_SAFE_NO_PAD.decode(s).ok())
        .and_then(|v| ResetKey::try_from(v.as_slice()).ok())
}

fn new_password_page(csrf: &str, error: Option<&NewPasswordError>) -> Markup {
    card(
        "パスワードの再設定",
        Some(csrf),
        new_password_form(csrf, error, NEW_PASSWORD, "パスワードを再設定する"),
    )
}

/// The new password and its confirmation, with their errors: the form of
/// the reset and of the first login's change of a one-time password.
pub fn new_password_form(
    csrf: &str,
    error: Option<&NewPasswordError>,
    action: &str,
    button: &str,
) -> Markup {
    new_password_form_with(csrf, error, action, button, html! {})
}

/// [`new_password_form`] with `before` (e.g. the current password) first
/// inside the form.
pub fn new_password_form_with(
    csrf: &str,
    error: Option<&NewPasswordError>,
    action: &str,
    button: &str,
    before: Markup,
) -> Markup {
    let (password_error, confirm_error) = match error {
        Some(NewPasswordError::Password(m)) => (Some(m.as_str()), None),
        Some(NewPasswordError::Confirmation(m)) => (None, Some(*m)),
        None => (None, None),
    };
    let mut errors = FieldErrors::default();
    for (name, label, message) in [
        ("password", PASSWORD_LABEL, password_error),
        ("password_confirm", CONFIRM_LABEL, confirm_error),
    ] {
        if let Some(m) = message {
            errors.push(FieldError::new(name, label, m));
        }
    }
    let pw = Input {
        name: "password",
        label: PASSWORD_LABEL,
        required: true,
        hint: Some(Field::Password.hint()),
        error: password_error,
        kind: "password",
        autocomplete: Some("new-password"),
        maxlength: Some(128),
        ..Input::default()
    };
    let confirm = Input {
        name: "password_confirm",
        label: CONFIRM_LABEL,
        required: true,
        error: confirm_error,
        kind: "password",
        autocomplete: Some("new-password"),
        maxlength: Some(128),
        ..Input::default()
    };
    html! {
        (error_summary(&errors))
        form method="post" action=(action) novalidate {
            (csrf_input(csrf))
            (before)
            (text_field(&pw))
            (text_field(&confirm))
            div.checkline {
                input #show-password type="checkbox" data-show-password="password password_confirm";
                label for="show-password" { "パスワードを表示" }
            }
            div.actions { button type="submit" { (button) } }
        }
    }
}

/// The new-password form as posted.
#[derive(Deserialize)]
pub struct NewPasswordForm {
    #[serde(default)]
    pub password: String,
    #[serde(default)]
    pub password_confirm: String,
}

#[handler]
pub async fn new_password(
    state: Data<&AppState>,
    csrf: &CsrfToken,
    session: &Session,
) -> poem::Result<Response> {
    let Some(h) = reset_key(session) else {
        return Ok(link_problem());
    };
    let account = context::accounts(&state)
        .reset_account(h)
        .await
        .or_internal()?;
    if account.is_none() {
        session.remove(RESET_KEY);
        return Ok(link_problem());
    }
    Ok(new_password_page(csrf, None).into_response())
}

#[handler]
pub async fn new_password_submit(
    state: Data<&AppState>,
    csrf: &CsrfToken,
    session: &Session,
    ClientIp(ip): ClientIp,
    Form(f): Form<NewPasswordForm>,
) -> poem::Result<Response> {
    let Some(h) = reset_key(session) else {
        return Ok(link_problem());
    };
    let input = NewPasswordInput {
        password: &f.password,
        confirm: &f.password_confirm,
    };
    let outcome = context::accounts(&state)
        .reset_password(h, &input, ip)
        .await
        .or_internal()?;
    match outcome {
        ResetOutcome::LinkInvalid => {
            session.remove(RESET_KEY);
            Ok(link_problem())
        }
        ResetOutcome::Refused(e) => Ok(new_password_page(csrf, Some(&e))
            .with_status(StatusCode::UNPROCESSABLE_ENTITY)
            .into_response()),
        ResetOutcome::Saved { .. } => {
            // This browser is not signed in afterwards either, whoever it was.
            session.purge();
            Ok(card(
                "パスワードを再設定しました",
                None,
                html! {
                    p.lead { "新しいパスワードを設定しました。ログインページよりログインしてください。" }
                    p.actions { a.button href="/login" { "ログインページへ" } }
                },
            )
            .into_response())
        }
    }
}
