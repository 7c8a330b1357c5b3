//! Screen 3 (メールアドレスの入力) and its 確認メール送信完了 page. The same page
//! follows whether or not the address already has an account; only the mail
//! differs (a link, or a pointer to the forgot-password flow).

use maud::{Markup, html};
use poem::{
    IntoResponse, Response, handler,
    http::StatusCode,
    session::Session,
    web::{CsrfToken, Data, Form, Path, Redirect},
};

use super::state::{TERMS_KEY, TermsAgreement};
use crate::{
    auth::client::ClientIp,
    domain::{EmailField, EmailForm, FieldErrors, check_email_field, validate_email_step},
    error::OrInternal,
    service::registration,
    state::AppState,
    views::{
        components::{Input, error_summary, help_box, input_control, message, steps, text_field},
        layout::{csrf_input, page as layout},
    },
    web::{context, paths},
};

pub(crate) fn check_url(f: EmailField) -> String {
    format!("{}/{}", paths::EMAIL_CHECK, f.name())
}

pub(crate) fn input<'a>(
    f: EmailField,
    value: &'a str,
    error: Option<&'a str>,
    url: &'a str,
) -> Input<'a> {
    Input {
        name: f.name(),
        label: f.label(),
        required: true,
        hint: Some(f.hint()),
        value,
        error,
        kind: "email",
        autocomplete: Some(if f == EmailField::Email {
            "email"
        } else {
            "off"
        }),
        inputmode: Some("email"),
        maxlength: Some(100),
        check_url: Some(url),
        ..Input::default()
    }
}

fn render(csrf: &str, form: &EmailForm, errors: &FieldErrors) -> Markup {
    let err = |f: EmailField| errors.message(f.name());
    let (u1, u2) = (
        check_url(EmailField::Email),
        check_url(EmailField::EmailConfirm),
    );
    let body = html! {
        (steps(1))
        section.card {
            h1 { "利用者登録" }
            h2 { "メールアドレスの入力" }
            (error_summary(errors))
            form method="post" action=(paths::EMAIL) novalidate {
                (csrf_input(csrf))
                (text_field(&input(EmailField::Email, &form.email, err(EmailField::Email), &u1)))
                (text_field(&input(EmailField::EmailConfirm, &form.email_confirm, err(EmailField::EmailConfirm), &u2)))
                p { "入力いただきましたメールアドレスに「メールアドレス登録のご案内」をお送りいたしますので、24時間以内に登録手続きを完了してください。" }
                div.actions {
                    button type="submit" { "送信する" }
                    a.button.secondary href=(paths::TERMS) { "戻る" }
                }
            }
        }
    };
    layout("メールアドレスの入力", Some(csrf), body)
}

fn agreed(session: &Session) -> Option<TermsAgreement> {
    session.get::<TermsAgreement>(TERMS_KEY)
}

#[handler]
pub fn page(csrf: &CsrfToken, session: &Session) -> Response {
    if agreed(session).is_none() {
        return Redirect::see_other(paths::TERMS).into_response();
    }
    render(csrf, &EmailForm::default(), &FieldErrors::default()).into_response()
}

#[handler]
pub async fn submit(
    state: Data<&AppState>,
    csrf: &CsrfToken,
    session: &Session,
    ClientIp(ip): ClientIp,
    Form(form): Form<EmailForm>,
) -> poem::Result<Response> {
    let Some(terms) = agreed(session) else {
        return Ok(Redirect::see_other(paths::TERMS).into_response());
    };
    let form = form.normalized();
    let email = match validate_email_step(&form) {
        Ok(e) => e,
        Err(errors) => {
            return Ok(render(csrf, &form, &errors)
                .with_status(StatusCode::UNPROCESSABLE_ENTITY)
                .into_response());
        }
    };
    registration::send_link(&context::mailing(&state), &email, terms, ip)
        .await
        .or_internal()?;
    Ok(Redirect::see_other(paths::EMAIL_SENT).into_response())
}

/// htmx: the message of one e-mail field (and of the confirmation when both
/// are filled), with the value shown back normalised.
#[handler]
pub fn check(Path(field): Path<String>, Form(raw): Form<EmailForm>) -> Response {
    let Some(field) = EmailField::from_name(&field) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let form = raw.normalized();
    let err = check_email_field(&form, field);
    let other = match field {
        EmailField::Email => EmailField::EmailConfirm,
        EmailField::EmailConfirm => EmailField::Email,
    };
    let (value, raw_value) = match field {
        EmailField::Email => (&form.email, &raw.email),
        EmailField::EmailConfirm => (&form.email_confirm, &raw.email_confirm),
    };
    let url = check_url(field);
    let other_filled = !form.email.is_empty() && !form.email_confirm.is_empty();
    let markup = html! {
        (message(field.name(), err.as_deref(), None, false))
        @if other_filled && other == EmailField::EmailConfirm {
            (message(other.name(), check_email_field(&form, other).as_deref(), None, true))
        }
        @if value != raw_value {
            (input_control(&input(field, value, err.as_deref(), &url), true))
        }
    };
    markup.into_response()
}

/// The page after sending: the same whatever the address.
#[handler]
pub fn sent(state: Data<&AppState>) -> Markup {
    let body = html! {
        (steps(1))
        section.card {
            h1 { "利用者登録" }
            h2 { "確認メール送信完了" }
            p.lead { "ご入力いただいたメールアドレスに確認メールを送信しました。" }
            p { strong { "お手続きはまだ完了していません。" } }
            p { "確認メールに記載のURLから登録手続きを行ってください。" }
            p { "URLの有効期限は送信後24時間です。" }
            (help_box(state.config.sending_domain()))
            p.actions { a.button.secondary href=(paths::LOGIN) { "ログインページに戻る" } }
        }
    };
    layout("確認メール送信完了", None, body)
}
