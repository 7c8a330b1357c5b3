//! `/dev/outbox`: the local outbox, for running without an SMTP server.
//! Routed only when `MAMIS_SMTP_URL` is not set, and shown only to clients
//! on this machine (loopback): its mails hold registration and reset links.

use maud::{Markup, html};
use poem::{
    IntoResponse, Request, Response, handler,
    http::StatusCode,
    web::{Data, Path},
};

use crate::{app::AppState, error::OrInternal, store::outbox, views::layout::page as layout};

fn when(ts: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp(ts)
        .map(|t| {
            let t = t.to_offset(time::macros::offset!(+9));
            format!(
                "{:04}/{:02}/{:02} {:02}:{:02}:{:02}",
                t.year(),
                u8::from(t.month()),
                t.day(),
                t.hour(),
                t.minute(),
                t.second()
            )
        })
        .unwrap_or_default()
}

/// The body with its http(s) URLs as links (text still escaped by maud).
fn linkify(body: &str) -> Markup {
    html! {
        @for (i, line) in body.split('\n').enumerate() {
            @if i > 0 { "\n" }
            @let t = line.trim();
            @if (t.starts_with("http://") || t.starts_with("https://")) && !t.contains(char::is_whitespace) {
                a href=(t) { (line) }
            } @else {
                (line)
            }
        }
    }
}

/// True for a request from this machine.
fn local(req: &Request) -> bool {
    req.remote_addr()
        .as_socket_addr()
        .is_some_and(|a| a.ip().is_loopback())
}

#[handler]
pub async fn list(state: Data<&AppState>, req: &Request) -> poem::Result<Response> {
    if !local(req) {
        return Ok(StatusCode::NOT_FOUND.into_response());
    }
    let mails = state
        .store
        .read(|tx| outbox::recent(tx, 100))
        .await
        .or_internal()?;
    let body = html! {
        section.card {
            h1 { "ローカル送信箱（開発用）" }
            p { "SMTPサーバーが設定されていないため、送信メールはここに保存されています（MAMIS_SMTP_URL を設定すると、このページはなくなります）。" }
            @if mails.is_empty() {
                p { "メールはまだありません。" }
            } @else {
                table.mails {
                    thead { tr { th { "日時" } th { "宛先" } th { "件名" } } }
                    tbody {
                        @for m in &mails {
                            tr {
                                td { (when(m.created_at)) }
                                td { (m.to) }
                                td { a href={ "/dev/outbox/" (m.id) } { (m.subject) } }
                            }
                        }
                    }
                }
            }
        }
    };
    Ok(layout("ローカル送信箱", None, body).into_response())
}

#[handler]
pub async fn show(
    state: Data<&AppState>,
    req: &Request,
    Path(id): Path<u64>,
) -> poem::Result<Response> {
    if !local(req) {
        return Ok(StatusCode::NOT_FOUND.into_response());
    }
    let mail = state
        .store
        .read(move |tx| outbox::get(tx, id))
        .await
        .or_internal()?;
    let Some(m) = mail else {
        return Ok(StatusCode::NOT_FOUND.into_response());
    };
    let body = html! {
        section.card {
            h1 { (m.subject) }
            dl.review {
                dt { "日時" } dd { (when(m.created_at)) }
                dt { "宛先" } dd { (m.to) }
                dt { "差出人" } dd { (state.config.mail_from) }
            }
            pre.mailbody { (linkify(&m.body)) }
            p.actions { a.button.secondary href="/dev/outbox" { "一覧に戻る" } }
        }
    };
    Ok(layout(&m.subject, None, body).into_response())
}
