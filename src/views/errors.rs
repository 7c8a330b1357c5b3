//! Error pages: a message the user can act on, and for unexpected errors the
//! request id to quote to the help desk.

use maud::html;
use poem::{IntoResponse, Response, http::StatusCode};

use super::layout;

/// A full error page with the given status.
pub fn page_with_link(
    status: StatusCode,
    message: &str,
    rid: Option<&str>,
    link: (&str, &str),
) -> Response {
    let title = if status.is_server_error() {
        "システムエラー"
    } else {
        "エラー"
    };
    let body = html! {
        section.card {
            h1 { (title) }
            p.lead role="alert" { (message) }
            @if let Some(rid) = rid {
                p { "お問い合わせの際は、次の番号をお知らせください。" }
                p { "お問い合わせ番号: " code.rid { (rid) } }
            }
            p.actions { a.button.secondary href=(link.0) { (link.1) } }
        }
    };
    layout::page(title, None, body)
        .with_status(status)
        .into_response()
}

/// A full error page linking back to the login page.
pub fn page(status: StatusCode, message: &str, rid: Option<&str>) -> Response {
    page_with_link(status, message, rid, ("/login", "ログインページに戻る"))
}
