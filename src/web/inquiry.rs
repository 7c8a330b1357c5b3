//! お問合せフォーム: name, e-mail, subject, message, checked here, then
//! stored for staff and mailed to the help desk by `service::inquiries`.

use maud::{Markup, html};
use poem::{
    IntoResponse, Response, handler,
    http::StatusCode,
    web::{CsrfToken, Data, Form},
};
use serde::Deserialize;

use crate::{
    auth::client::ClientIp,
    domain::{Email, EmailField, FieldError, FieldErrors, control_message, has_forbidden_control},
    error::OrInternal,
    service::inquiries::{self, Inquiry, Outcome},
    state::AppState,
    text::{normalize_fullwidth_field, normalize_halfwidth_field},
    views::{
        components::{
            Input, RESUBMIT_MESSAGE, error_summary, message, required_mark, resubmit_notice,
            text_field,
        },
        layout::{csrf_input, page as layout},
    },
    web::context,
};

pub const PATH: &str = "/inquiry";

#[derive(Clone, Debug, Default, Deserialize)]
pub struct InquiryForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    email: String,
    #[serde(default)]
    subject: String,
    #[serde(default)]
    message: String,
}

/// One field of the inquiry form: its HTML name and its label.
struct InquiryField {
    name: &'static str,
    label: &'static str,
}

const NAME: InquiryField = InquiryField {
    name: "name",
    label: "お名前",
};
const EMAIL: InquiryField = InquiryField {
    name: EmailField::Email.name(),
    label: EmailField::Email.label(),
};
const SUBJECT: InquiryField = InquiryField {
    name: "subject",
    label: "件名",
};
const MESSAGE: InquiryField = InquiryField {
    name: "message",
    label: "お問合せ内容",
};

impl InquiryField {
    fn error(&self, message: impl Into<String>) -> FieldError {
        FieldError::new(self.name, self.label, message)
    }
}

fn render(
    state: &AppState,
    csrf: &str,
    f: &InquiryForm,
    errors: &FieldErrors,
    notice: Option<&str>,
) -> Markup {
    let err = |n: &str| errors.message(n);
    let h = &state.config.helpdesk;
    let body = html! {
        section.card {
            h1 { "お問合せフォーム" }
            p { "MAMISに関するお問合せは、次のフォームからお送りください。お電話の場合は " (h.name) "（" (h.phone) "、受付時間 " (h.hours) "）までご連絡ください。" }
            (resubmit_notice(notice))
            (error_summary(errors))
            form method="post" action=(PATH) novalidate {
                (csrf_input(csrf))
                (text_field(&Input { name: NAME.name, label: NAME.label, required: true, hint: Some("（100文字以内）"), value: &f.name, error: err(NAME.name), kind: "text", autocomplete: Some("name"), maxlength: Some(100), ..Input::default() }))
                (text_field(&Input { name: EMAIL.name, label: EMAIL.label, required: true, hint: Some(EmailField::Email.hint()), value: &f.email, error: err(EMAIL.name), kind: "email", autocomplete: Some("email"), inputmode: Some("email"), maxlength: Some(100), ..Input::default() }))
                (text_field(&Input { name: SUBJECT.name, label: SUBJECT.label, required: true, hint: Some("（100文字以内）"), value: &f.subject, error: err(SUBJECT.name), kind: "text", maxlength: Some(100), ..Input::default() }))
                div.field #f-message {
                    label for=(MESSAGE.name) { (MESSAGE.label) (required_mark(true)) }
                    p.hint #h-message { "（2,000文字以内）" }
                    textarea #message name=(MESSAGE.name) required aria-required="true" maxlength="2000"
                        aria-describedby="h-message m-message" aria-invalid=[err(MESSAGE.name).map(|_| "true")] { (f.message) }
                    (message(MESSAGE.name, err(MESSAGE.name), None, false))
                }
                div.actions {
                    button type="submit" { "送信する" }
                    a.button.secondary href="/login" { "ログインページに戻る" }
                }
            }
        }
    };
    layout("お問合せフォーム", Some(csrf), body)
}

#[handler]
pub fn page(state: Data<&AppState>, csrf: &CsrfToken) -> Markup {
    render(
        &state,
        csrf,
        &InquiryForm::default(),
        &FieldErrors::default(),
        None,
    )
}

/// The submit refused for a stale CSRF token (see `web::kept_forms`): the
/// form again with what was typed and a fresh token; nothing is sent.
#[handler]
pub fn refused(state: Data<&AppState>, csrf: &CsrfToken, Form(raw): Form<InquiryForm>) -> Response {
    render(
        &state,
        csrf,
        &raw,
        &FieldErrors::default(),
        Some(RESUBMIT_MESSAGE),
    )
    .with_status(StatusCode::FORBIDDEN)
    .into_response()
}

fn one_line(s: &str, field: &InquiryField, max: usize, errors: &mut FieldErrors) -> String {
    let label = field.label;
    let v = normalize_fullwidth_field(s);
    if v.is_empty() {
        errors.push(field.error(format!("{label}を入力してください。")));
    } else if v.contains(['\n', '\r']) || v.chars().count() > max {
        errors.push(field.error(format!(
            "{label}は改行を含めず{max}文字以内で入力してください。"
        )));
    } else if has_forbidden_control(&v, false) {
        errors.push(field.error(control_message(label)));
    }
    v
}

#[handler]
pub async fn submit(
    state: Data<&AppState>,
    csrf: &CsrfToken,
    ClientIp(ip): ClientIp,
    Form(raw): Form<InquiryForm>,
) -> poem::Result<Response> {
    let mut errors = FieldErrors::default();
    let name = one_line(&raw.name, &NAME, 100, &mut errors);
    let email = normalize_halfwidth_field(&raw.email);
    if let Err(m) = Email::parse(&email) {
        errors.push(EMAIL.error(m));
    }
    let subject = one_line(&raw.subject, &SUBJECT, 100, &mut errors);
    let text = raw.message.trim().replace("\r\n", "\n");
    let label = MESSAGE.label;
    if text.is_empty() {
        errors.push(MESSAGE.error(format!("{label}を入力してください。")));
    } else if text.chars().count() > 2000 {
        errors.push(MESSAGE.error(format!("{label}は2,000文字以内で入力してください。")));
    } else if has_forbidden_control(&text, true) {
        errors.push(MESSAGE.error(control_message(label)));
    }
    let form = InquiryForm {
        name,
        email,
        subject,
        message: text,
    };
    if !errors.is_empty() {
        return Ok(render(&state, csrf, &form, &errors, None)
            .with_status(StatusCode::UNPROCESSABLE_ENTITY)
            .into_response());
    }
    let inquiry = Inquiry {
        name: form.name.clone(),
        email: form.email.clone(),
        subject: form.subject.clone(),
        message: form.message.clone(),
    };
    let outcome = inquiries::submit(&context::mailing(&state), inquiry, ip)
        .await
        .or_internal()?;
    let id = match outcome {
        Outcome::Received { id } => id,
        Outcome::TooMany => {
            let e = FieldErrors::from(Some(MESSAGE.error(inquiries::TOO_MANY)));
            return Ok(render(&state, csrf, &form, &e, None)
                .with_status(StatusCode::TOO_MANY_REQUESTS)
                .into_response());
        }
    };
    let body = html! {
        section.card {
            h1 { "お問合せを受け付けました" }
            p.lead { "お問合せいただき、ありがとうございます。担当者より順次ご連絡いたします。" }
            p { "受付番号：" (id) }
            p.actions { a.button.secondary href="/login" { "ログインページに戻る" } }
        }
    };
    Ok(layout("お問合せを受け付けました", None, body).into_response())
}
