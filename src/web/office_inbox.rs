//! お問合せ inbox of 日本医師会's office: the list (filtered by status), one
//! inquiry with its sender, message, status and note, and a reply by mail.
//! Staff of other associations get the 404 page, as do physicians.

use maud::{Markup, html};
use poem::{
    IntoResponse, Response, handler,
    http::StatusCode,
    web::{CsrfToken, Data, Form, Path, Query, Redirect},
};
use serde::Deserialize;

use crate::{
    auth::guards::Staff,
    domain::{FieldError, FieldErrors, InquiryStatus, control_message, has_forbidden_control},
    error::OrInternal,
    error::not_found,
    mail::templates::jst,
    service::inbox::{self, Inquiry, NOTE_MAX, REPLY_MAX, Reply, SUBJECT_MAX},
    state::AppState,
    views::{
        components::{Input, error_summary, message, required_mark, text_field},
        layout::{csrf_input, page as layout},
    },
    web::paths,
};

/// The inbox's list.
pub const INBOX: &str = "/office/inquiries";

fn inquiry_path(id: u64) -> String {
    format!("{INBOX}/{id}")
}

#[derive(Debug, Default, Deserialize)]
pub struct ListQuery {
    #[serde(default)]
    status: String,
}

#[handler]
pub async fn list(
    state: Data<&AppState>,
    csrf: &CsrfToken,
    staff: Staff,
    Query(q): Query<ListQuery>,
) -> poem::Result<Response> {
    let status = InquiryStatus::from_key(&q.status);
    let Some(items) = inbox::list(&state.store, &staff, status)
        .await
        .or_internal()?
    else {
        return Err(not_found());
    };
    let title = "お問合せ一覧";
    let body = html! {
        section.card aria-labelledby="inbox-title" {
            h1 #inbox-title { (title) }
            p { a href=(paths::OFFICE) { "← 事務局TOPに戻る" } }
            form method="get" action=(INBOX) {
                div.field {
                    label for="status" { "対応状況" }
                    select #status name="status" {
                        option value="" selected[status.is_none()] { "すべて" }
                        @for s in InquiryStatus::ALL {
                            option value=(s.key()) selected[status == Some(s)] { (s.label()) }
                        }
                    }
                }
                div.actions { button.secondary type="submit" { "絞り込む" } }
            }
            @if items.is_empty() {
                p { "該当するお問合せはありません。" }
            } @else {
                table.mails {
                    caption.sr-only { (title) }
                    thead { tr { th scope="col" { "受付番号" } th scope="col" { "受付日時" } th scope="col" { "対応状況" } th scope="col" { "件名" } th scope="col" { "お名前" } } }
                    tbody {
                        @for i in &items {
                            tr {
                                td { (i.id) }
                                td { (jst(i.created_at)) }
                                td { (i.status.label()) }
                                td { a href=(inquiry_path(i.id)) { (i.subject) } }
                                td { (i.name) }
                            }
                        }
                    }
                }
            }
        }
    };
    Ok(layout(title, Some(csrf), body).into_response())
}

#[derive(Clone, Debug, Default, Deserialize)]
pub struct StatusForm {
    #[serde(default)]
    status: String,
    #[serde(default)]
    note: String,
}

#[derive(Clone, Debug, Default, Deserialize)]
pub struct ReplyForm {
    #[serde(default)]
    subject: String,
    #[serde(default)]
    body: String,
}

#[derive(Debug, Default, Deserialize)]
pub struct DoneQuery {
    #[serde(default)]
    done: String,
}

/// What the inquiry's page shows besides the record: forms as typed, their
/// errors, and what was just done.
#[derive(Default)]
struct Shown<'a> {
    status_form: Option<&'a StatusForm>,
    reply_form: Option<&'a ReplyForm>,
    errors: FieldErrors,
    done: Option<&'static str>,
}

fn render(csrf: &str, q: &Inquiry, shown: &Shown) -> Markup {
    let err = |n: &str| shown.errors.message(n);
    let status = shown
        .status_form
        .and_then(|f| InquiryStatus::from_key(&f.status))
        .unwrap_or(q.status);
    let note = shown
        .status_form
        .map_or(q.note.as_str(), |f| f.note.as_str());
    let default_subject = format!("Re: {}", q.subject);
    let subject = shown
        .reply_form
        .map_or(default_subject.as_str(), |f| f.subject.as_str());
    let reply_text = shown.reply_form.map_or("", |f| f.body.as_str());
    let path = inquiry_path(q.id);
    let title = format!("お問合せ（受付番号 {}）", q.id);
    let body = html! {
        section.card aria-labelledby="inquiry-title" {
            h1 #inquiry-title { (title) }
            p { a href=(INBOX) { "← お問合せ一覧に戻る" } }
            @if let Some(done) = shown.done {
                div.helpbox role="status" { p { (done) } }
            }
            (error_summary(&shown.errors))
            dl.review {
                dt { "受付日時" } dd { (jst(q.created_at)) }
                dt { "対応状況" } dd { (q.status.label()) }
                dt { "お名前" } dd { (q.name) }
                dt { "メールアドレス" } dd { a href={ "mailto:" (q.email) } { (q.email) } }
                dt { "件名" } dd { (q.subject) }
                dt { "返信回数" } dd { (q.replies) " 回" }
            }
            h2 { "お問合せ内容" }
            pre.mailbody { (q.message) }
        }
        section.card aria-labelledby="status-title" {
            h2 #status-title { "対応状況とメモ" }
            form method="post" action={ (path) "/status" } novalidate {
                (csrf_input(csrf))
                div.field #f-status {
                    label for="status" { "対応状況" (required_mark(true)) }
                    select #status name="status" aria-describedby="m-status" {
                        @for s in InquiryStatus::ALL {
                            option value=(s.key()) selected[s == status] { (s.label()) }
                        }
                    }
                    (message("status", err("status"), None, false))
                }
                div.field #f-note {
                    label for="note" { "メモ" (required_mark(false)) }
                    p.hint #h-note { "事務局内の記録です。お問合せの送信者には送られません。（2,000文字以内）" }
                    textarea #note name="note" maxlength=(NOTE_MAX) aria-describedby="h-note m-note"
                        aria-invalid=[err("note").map(|_| "true")] { (note) }
                    (message("note", err("note"), None, false))
                }
                div.actions { button type="submit" { "保存する" } }
            }
        }
        section.card aria-labelledby="reply-title" {
            h2 #reply-title { "メールで返信" }
            p { (q.email) " 宛てに送信します。未対応のお問合せは対応中になります。" }
            form method="post" action={ (path) "/reply" } novalidate {
                (csrf_input(csrf))
                (text_field(&Input { name: "subject", label: "件名", required: true, hint: Some("（100文字以内）"), value: subject, error: err("subject"), kind: "text", maxlength: Some(SUBJECT_MAX), ..Input::default() }))
                div.field #f-body {
                    label for="body" { "本文" (required_mark(true)) }
                    p.hint #h-body { "（4,000文字以内）末尾にお問合せ窓口の連絡先が付きます。" }
                    textarea #body name="body" required aria-required="true" maxlength=(REPLY_MAX) rows="10"
                        aria-describedby="h-body m-body" aria-invalid=[err("body").map(|_| "true")] { (reply_text) }
                    (message("body", err("body"), None, false))
                }
                div.actions { button type="submit" { "返信を送信する" } }
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
    Path(id): Path<u64>,
    Query(d): Query<DoneQuery>,
) -> poem::Result<Response> {
    let Some(q) = inbox::get(&state.store, &staff, id).await.or_internal()? else {
        return Err(not_found());
    };
    let done = match d.done.as_str() {
        "status" => Some("対応状況とメモを保存しました。"),
        "reply" => Some("返信メールを送信しました。"),
        _ => None,
    };
    let shown = Shown {
        done,
        ..Shown::default()
    };
    Ok(render(csrf, &q, &shown).into_response())
}

/// Shows the inquiry again with the errors of one of its forms.
async fn refused(
    state: &AppState,
    csrf: &str,
    staff: &Staff,
    id: u64,
    shown: Shown<'_>,
) -> poem::Result<Response> {
    let Some(q) = inbox::get(&state.store, staff, id).await.or_internal()? else {
        return Err(not_found());
    };
    Ok(render(csrf, &q, &shown)
        .with_status(StatusCode::UNPROCESSABLE_ENTITY)
        .into_response())
}

#[handler]
pub async fn set_status(
    state: Data<&AppState>,
    csrf: &CsrfToken,
    staff: Staff,
    Path(id): Path<u64>,
    Form(f): Form<StatusForm>,
) -> poem::Result<Response> {
    if !inbox::allowed(&state.store, &staff).await.or_internal()? {
        return Err(not_found());
    }
    let mut errors = FieldErrors::default();
    let status = InquiryStatus::from_key(&f.status);
    if status.is_none() {
        errors.push(FieldError::new(
            "status",
            "対応状況",
            "対応状況を選択してください。",
        ));
    }
    let note = f.note.trim().replace("\r\n", "\n");
    if note.chars().count() > NOTE_MAX {
        errors.push(FieldError::new(
            "note",
            "メモ",
            "メモは2,000文字以内で入力してください。",
        ));
    } else if has_forbidden_control(&note, true) {
        errors.push(FieldError::new("note", "メモ", control_message("メモ")));
    }
    let (Some(status), true) = (status, errors.is_empty()) else {
        let shown = Shown {
            status_form: Some(&f),
            errors,
            ..Shown::default()
        };
        return refused(&state, csrf, &staff, id, shown).await;
    };
    match inbox::update(&state.store, &staff, id, status, note)
        .await
        .or_internal()?
    {
        Some(_) => {
            Ok(Redirect::see_other(format!("{}?done=status", inquiry_path(id))).into_response())
        }
        None => Err(not_found()),
    }
}

#[handler]
pub async fn reply(
    state: Data<&AppState>,
    csrf: &CsrfToken,
    staff: Staff,
    Path(id): Path<u64>,
    Form(f): Form<ReplyForm>,
) -> poem::Result<Response> {
    if !inbox::allowed(&state.store, &staff).await.or_internal()? {
        return Err(not_found());
    }
    let mut errors = FieldErrors::default();
    let subject = f.subject.trim().to_owned();
    if subject.is_empty() {
        errors.push(FieldError::new(
            "subject",
            "件名",
            "件名を入力してください。",
        ));
    } else if subject.chars().count() > SUBJECT_MAX || subject.contains(['\n', '\r']) {
        errors.push(FieldError::new(
            "subject",
            "件名",
            "件名は改行を含めず100文字以内で入力してください。",
        ));
    } else if has_forbidden_control(&subject, false) {
        errors.push(FieldError::new("subject", "件名", control_message("件名")));
    }
    let text = f.body.trim().replace("\r\n", "\n");
    if text.is_empty() {
        errors.push(FieldError::new("body", "本文", "本文を入力してください。"));
    } else if text.chars().count() > REPLY_MAX {
        errors.push(FieldError::new(
            "body",
            "本文",
            "本文は4,000文字以内で入力してください。",
        ));
    } else if has_forbidden_control(&text, true) {
        errors.push(FieldError::new("body", "本文", control_message("本文")));
    }
    if !errors.is_empty() {
        let shown = Shown {
            reply_form: Some(&f),
            errors,
            ..Shown::default()
        };
        return refused(&state, csrf, &staff, id, shown).await;
    }
    let sent = inbox::reply(
        &state.store,
        &state.config,
        &state.mail,
        &staff,
        id,
        Reply {
            subject,
            body: text,
        },
    )
    .await
    .or_internal()?;
    match sent {
        Some(_) => {
            Ok(Redirect::see_other(format!("{}?done=reply", inquiry_path(id))).into_response())
        }
        None => Err(not_found()),
    }
}
