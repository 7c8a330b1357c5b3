//! マイページ's account changes: a new e-mail address (the current password,
//! the new address twice; done when the link mailed to it is opened, and
//! the old address is told) and a new password (the current one, the new
//! one twice; every other session ends).

use maud::{Markup, html};
use poem::{
    IntoResponse, Response, handler,
    http::StatusCode,
    session::Session,
    web::{CsrfToken, Data, Form, Query},
};
use serde::Deserialize;

use crate::{
    auth::{client::ClientIp, current_user, guards::SignedIn},
    domain::{EmailForm, FieldError, FieldErrors},
    error::OrInternal,
    service::{
        accounts::{NewPasswordError, NewPasswordInput},
        first_login,
        my_account::{CURRENT_PASSWORD_WRONG, EmailPurpose, EmailRequest, PasswordChange},
    },
    state::AppState,
    views::{
        components::{Input, text_field},
        layout::page as layout,
    },
    web::{context, first_login::email_form, forgot::reset::new_password_form_with, paths},
};

const CURRENT_LABEL: &str = "現在のパスワード";

fn current_password_field(error: Option<&str>) -> Markup {
    text_field(&Input {
        name: "current_password",
        label: CURRENT_LABEL,
        required: true,
        error,
        kind: "password",
        autocomplete: Some("current-password"),
        maxlength: Some(128),
        ..Input::default()
    })
}

fn back() -> Markup {
    html! { p { a href=(paths::MYPAGE) { "← マイページに戻る" } } }
}

fn email_page(csrf: &str, form: &EmailForm, errors: &FieldErrors, sent: bool) -> Markup {
    let title = "メールアドレスの変更";
    let current_error = errors.message("current_password");
    let body = html! {
        section.card {
            h1 { (title) }
            (back())
            @if sent {
                div.helpbox role="status" {
                    p { "新しいメールアドレスに「メールアドレスのご確認」をお送りしました。メール本文のURLを開くと変更が完了します（有効期限：24時間）。それまでは、現在のメールアドレスのままです。" }
                }
            }
            p { "新しいメールアドレスに確認メールをお送りします。メール本文のURLを開くと変更が完了し、これまでのメールアドレスにも変更のお知らせをお送りします。" }
            (email_form(csrf, paths::MY_EMAIL, form, errors, current_password_field(current_error), "確認メールを送信する"))
        }
    };
    layout(title, Some(csrf), body)
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct SentQuery {
    sent: String,
}

#[handler]
pub fn email(csrf: &CsrfToken, _who: SignedIn, Query(q): Query<SentQuery>) -> Markup {
    email_page(
        csrf,
        &EmailForm::default(),
        &FieldErrors::default(),
        q.sent == "1",
    )
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct EmailChangeForm {
    current_password: String,
    email: String,
    email_confirm: String,
}

#[handler]
pub async fn send_email(
    state: Data<&AppState>,
    csrf: &CsrfToken,
    ClientIp(ip): ClientIp,
    SignedIn(account): SignedIn,
    Form(f): Form<EmailChangeForm>,
) -> poem::Result<Response> {
    let form = EmailForm {
        email: f.email,
        email_confirm: f.email_confirm,
    };
    let outcome = context::accounts(&state)
        .request_email_confirmation(
            account.id,
            &form,
            EmailPurpose::Change,
            Some(&f.current_password),
            ip,
        )
        .await
        .or_internal()?;
    let refused = |errors: FieldErrors| {
        email_page(csrf, &form.normalized(), &errors, false)
            .with_status(StatusCode::UNPROCESSABLE_ENTITY)
            .into_response()
    };
    Ok(match outcome {
        EmailRequest::Sent => {
            poem::web::Redirect::see_other(format!("{}?sent=1", paths::MY_EMAIL)).into_response()
        }
        EmailRequest::Refused(errors) => refused(errors),
        EmailRequest::WrongPassword => {
            let mut errors = FieldErrors::default();
            errors.push(FieldError::new(
                "current_password",
                CURRENT_LABEL,
                CURRENT_PASSWORD_WRONG,
            ));
            refused(errors)
        }
    })
}

fn password_page(csrf: &str, form: Markup) -> Markup {
    let title = "パスワードの変更";
    let body = html! {
        section.card {
            h1 { (title) }
            (back())
            p { "変更すると、ほかの端末やブラウザでのログインはすべて終了します。" }
            (form)
        }
    };
    layout(title, Some(csrf), body)
}

/// The new-password form with the current password first.
fn change_form(
    csrf: &str,
    current_error: Option<&str>,
    error: Option<&NewPasswordError>,
) -> Markup {
    new_password_form_with(
        csrf,
        error,
        paths::MY_PASSWORD,
        "パスワードを変更する",
        current_password_field(current_error),
    )
}

#[handler]
pub fn password(csrf: &CsrfToken, _who: SignedIn) -> Markup {
    password_page(csrf, change_form(csrf, None, None))
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct PasswordChangeForm {
    current_password: String,
    password: String,
    password_confirm: String,
}

#[handler]
pub async fn change_password(
    state: Data<&AppState>,
    csrf: &CsrfToken,
    session: &Session,
    ClientIp(ip): ClientIp,
    SignedIn(account): SignedIn,
    Form(f): Form<PasswordChangeForm>,
) -> poem::Result<Response> {
    let input = NewPasswordInput {
        password: &f.password,
        confirm: &f.password_confirm,
    };
    let outcome = context::accounts(&state)
        .change_password(account.id, &f.current_password, &input, ip)
        .await
        .or_internal()?;
    Ok(match outcome {
        PasswordChange::Saved(user) => {
            // Every session of the account ended; this one starts again.
            let step = first_login::pending(&user, &state.texts.version);
            current_user::sign_in(session, &user, step);
            poem::web::Redirect::see_other(format!("{}?done=password", paths::MYPAGE))
                .into_response()
        }
        PasswordChange::WrongCurrent => {
            password_page(csrf, change_form(csrf, Some(CURRENT_PASSWORD_WRONG), None))
                .with_status(StatusCode::UNPROCESSABLE_ENTITY)
                .into_response()
        }
        PasswordChange::Refused(e) => password_page(csrf, change_form(csrf, None, Some(&e)))
            .with_status(StatusCode::UNPROCESSABLE_ENTITY)
            .into_response(),
    })
}
