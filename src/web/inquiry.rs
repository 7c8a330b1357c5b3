//! お問合せフォーム: name, e-mail, subject, message → stored for staff and
//! mailed to the help desk, in one transaction.

use maud::{Markup, html};
use poem::{
    IntoResponse, Response, handler,
    http::StatusCode,
    web::{CsrfToken, Data, Form},
};
use serde::Deserialize;

use crate::{
    auth::client::ClientIp,
    domain::{Email, control_message, has_forbidden_control},
    error::OrInternal,
    mail::templates,
    state::AppState,
    store::{inquiries, outbox},
    text::{normalize_fullwidth_field, normalize_halfwidth_field},
    views::{
        components::{Input, error_summary, message, required_mark, text_field},
        layout::{csrf_input, page as layout},
    },
};

const PATH: &str = "/inquiry";
const INQUIRIES_PER_ADDRESS: u32 = 5;

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

type Errors = Vec<(String, String, String)>;

fn render(state: &AppState, csrf: &str, f: &InquiryForm, errors: &Errors) -> Markup {
    let err = |n: &str| {
        errors
            .iter()
            .find(|(k, _, _)| k == n)
            .map(|(_, _, m)| m.as_str())
    };
    let h = &state.config.helpdesk;
    let body = html! {
        section.card {
            h1 { "お問合せフォーム" }
            p { "MAMISに関するお問合せは、次のフォームからお送りください。お電話の場合は " (h.name) "（" (h.phone) "、受付時間 " (h.hours) "）までご連絡ください。" }
            (error_summary(errors))
            form method="post" action=(PATH) novalidate {
                (csrf_input(csrf))
                (text_field(&Input { name: "name", label: "お名前", required: true, hint: Some("（100文字以内）"), value: &f.name, error: err("name"), kind: "text", autocomplete: Some("name"), maxlength: Some(100), ..Input::default() }))
                (text_field(&Input { name: "email", label: "メールアドレス", required: true, hint: Some("(半角英数字・記号 100文字以内)"), value: &f.email, error: err("email"), kind: "email", autocomplete: Some("email"), inputmode: Some("email"), maxlength: Some(100), ..Input::default() }))
                (text_field(&Input { name: "subject", label: "件名", required: true, hint: Some("（100文字以内）"), value: &f.subject, error: err("subject"), kind: "text", maxlength: Some(100), ..Input::default() }))
                div.field #f-message {
                    label for="message" { "お問合せ内容" (required_mark(true)) }
                    p.hint #h-message { "（2,000文字以内）" }
                    textarea #message name="message" required aria-required="true" maxlength="2000"
                        aria-describedby="h-message m-message" aria-invalid=[err("message").map(|_| "true")] { (f.message) }
                    (message("message", err("message"), None, false))
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
    render(&state, csrf, &InquiryForm::default(), &Vec::new())
}

fn one_line(s: &str, label: &str, max: usize, errors: &mut Errors, name: &str) -> String {
    let v = normalize_fullwidth_field(s);
    if v.is_empty() {
        errors.push((
            name.into(),
            label.into(),
            format!("{label}を入力してください。"),
        ));
    } else if v.contains(['\n', '\r']) || v.chars().count() > max {
        errors.push((
            name.into(),
            label.into(),
            format!("{label}は改行を含めず{max}文字以内で入力してください。"),
        ));
    } else if has_forbidden_control(&v, false) {
        errors.push((name.into(), label.into(), control_message(label)));
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
    let mut errors = Errors::new();
    let name = one_line(&raw.name, "お名前", 100, &mut errors, "name");
    let email = normalize_halfwidth_field(&raw.email);
    if let Err(m) = Email::parse(&email) {
        errors.push(("email".into(), "メールアドレス".into(), m));
    }
    let subject = one_line(&raw.subject, "件名", 100, &mut errors, "subject");
    let text = raw.message.trim().replace("\r\n", "\n");
    if text.is_empty() {
        errors.push((
            "message".into(),
            "お問合せ内容".into(),
            "お問合せ内容を入力してください。".into(),
        ));
    } else if text.chars().count() > 2000 {
        errors.push((
            "message".into(),
            "お問合せ内容".into(),
            "お問合せ内容は2,000文字以内で入力してください。".into(),
        ));
    } else if has_forbidden_control(&text, true) {
        errors.push((
            "message".into(),
            "お問合せ内容".into(),
            control_message("お問合せ内容"),
        ));
    }
    let form = InquiryForm {
        name,
        email,
        subject,
        message: text,
    };
    if !errors.is_empty() {
        return Ok(render(&state, csrf, &form, &errors)
            .with_status(StatusCode::UNPROCESSABLE_ENTITY)
            .into_response());
    }
    let key = format!("inquiry:{}", form.email.to_ascii_lowercase());
    let per_address = state.throttle.is_blocked(&key, INQUIRIES_PER_ADDRESS);
    // One client's allowance of mail requests (`mail::limit`), whatever
    // addresses it types.
    let per_client = !per_address && !state.mail_limit.allow(ip);
    if per_client {
        tracing::warn!(client = %ip, "inquiry refused: too many mail requests from one client");
    }
    if per_address || per_client {
        let e = vec![(
            "message".into(),
            "お問合せ内容".into(),
            "短時間に多くのお問合せが送信されました。しばらく待ってから再度お送りください。".into(),
        )];
        return Ok(render(&state, csrf, &form, &e)
            .with_status(StatusCode::TOO_MANY_REQUESTS)
            .into_response());
    }
    state.throttle.fail(&key);
    let desk = state.config.helpdesk.email.clone();
    let f = form.clone();
    let id = state
        .store
        .write_ok(move |tx| {
            let q = inquiries::add(tx, &f.name, &f.email, &f.subject, &f.message)?;
            let (subject, body) =
                templates::inquiry(&q.name, &q.email, &q.subject, &q.message, q.id);
            outbox::enqueue(tx, &desk, &subject, body)?;
            Ok(q.id)
        })
        .await
        .or_internal()?;
    state.mail.wake();
    tracing::info!(inquiry_id = id, "inquiry received");
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
