//! `/dev/outbox`: the local outbox, for running without an SMTP server.
//! Routed only when `MAMIS_SMTP_URL` is not set. Its mails hold live
//! registration and reset links, so it opens only with a random key made at
//! every start and printed in the start-up log as a URL
//! (`…/dev/outbox?key=…`); the key is then kept in a cookie for `/dev/`.
//! Without it the page does not exist (404). The peer address decides
//! nothing: behind a proxy on the same machine every peer is loopback.

use base64::{Engine as _, engine::general_purpose::URL_SAFE_NO_PAD};
use maud::{Markup, html};
use poem::{
    IntoResponse, Request, Response, handler,
    http::{StatusCode, header},
    web::{Data, Path, Redirect},
};
use subtle::ConstantTimeEq as _;

use crate::{error::OrInternal, service::outbox, state::AppState, views::layout::page as layout};

/// The cookie that carries the key after the first visit.
const KEY_COOKIE: &str = "mamis_outbox";

/// A new random key: 128 bits, base64url.
pub fn new_key() -> String {
    URL_SAFE_NO_PAD.encode(rand::random::<[u8; 16]>())
}

fn key_matches(state: &AppState, given: &str) -> bool {
    bool::from(given.as_bytes().ct_eq(state.dev_outbox_key.as_bytes()))
}

/// The key from the query (`?key=`), if any.
fn query_key(req: &Request) -> Option<String> {
    url::form_urlencoded::parse(req.uri().query().unwrap_or_default().as_bytes())
        .find(|(k, _)| k == "key")
        .map(|(_, v)| v.into_owned())
}

/// True when the request carries the key in its cookie.
fn has_key_cookie(state: &AppState, req: &Request) -> bool {
    req.headers()
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|c| c.trim().split_once('='))
        .any(|(name, value)| name == KEY_COOKIE && key_matches(state, value))
}

/// What a request for the outbox gets before the page itself: `None` to
/// show it, or the answer (404 without the key; the key in the query is
/// swapped for the cookie and the address without it).
fn gate(state: &AppState, req: &Request) -> Option<Response> {
    if let Some(given) = query_key(req) {
        if !key_matches(state, &given) {
            return Some(StatusCode::NOT_FOUND.into_response());
        }
        let secure = if state.config.is_https() {
            "; Secure"
        } else {
            ""
        };
        let cookie = format!(
            "{KEY_COOKIE}={}; Path=/dev/; HttpOnly; SameSite=Strict{secure}",
            state.dev_outbox_key
        );
        return Some(
            Redirect::see_other(req.uri().path())
                .with_header(header::SET_COOKIE, cookie)
                .into_response(),
        );
    }
    if has_key_cookie(state, req) {
        None
    } else {
        Some(StatusCode::NOT_FOUND.into_response())
    }
}

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

#[handler]
pub async fn list(state: Data<&AppState>, req: &Request) -> poem::Result<Response> {
    if let Some(answer) = gate(&state, req) {
        return Ok(answer);
    }
    let mails = outbox::recent(&state.store).await.or_internal()?;
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
    if let Some(answer) = gate(&state, req) {
        return Ok(answer);
    }
    let mail = outbox::get(&state.store, id).await.or_internal()?;
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
