//! The pages for forgotten credentials linked from the login page, and what they share.
//!
//! ログインIDをお忘れの方 (`login_id`: the ID is mailed to the registered
//! address) and パスワードをお忘れの方 (`password`: a one-hour, single-use
//! reset link; `reset`: the link and the new password under the
//! registration rules). Both requests answer the same page whether or not
//! the address or ID is known (see `service::accounts`).

pub mod login_id;
pub mod password;
pub mod reset;

use maud::{Markup, html};
use serde::Deserialize;

use crate::domain::{FieldError, FieldErrors};
use crate::views::{
    components::{Input, error_summary, text_field},
    layout::{csrf_input, page as layout},
};

/// ログインIDをお忘れの方.
pub const LOGIN_ID: &str = "/forgot/login-id";
/// パスワードをお忘れの方.
pub const PASSWORD: &str = "/forgot/password";
/// The mailed reset link (its path is the use case's: it is in the mail).
pub use crate::service::accounts::RESET_LINK;
/// The new-password form, after the link was opened.
pub const NEW_PASSWORD: &str = "/forgot/password/new";

/// The one field of a request form (`email` or `login`).
#[derive(Deserialize)]
pub struct OneField {
    #[serde(default)]
    email: String,
    #[serde(default)]
    login: String,
}

/// A page with one card titled `title`.
fn card(title: &str, csrf: Option<&str>, content: Markup) -> Markup {
    layout(
        title,
        csrf,
        html! { section.card { h1 { (title) } (content) } },
    )
}

/// The answer to a request, the same whether or not anything was sent.
fn sent_page(title: &str, text: &str) -> Markup {
    card(
        title,
        None,
        html! {
            p.lead { (text) }
            p { "メールが届かない場合は、入力内容に誤りがないかご確認のうえ、もう一度お試しいただくか、お問合せ窓口までご連絡ください。" }
            p.actions { a.button.secondary href="/login" { "ログインページに戻る" } }
        },
    )
}

/// A request form with one field (and its error, if any).
fn one_field_form(title: &str, lead: &str, action: &str, csrf: &str, input: &Input) -> Markup {
    let errors = FieldErrors::from(
        input
            .error
            .map(|e| FieldError::new(input.name, input.label, e)),
    );
    card(
        title,
        Some(csrf),
        html! {
            p { (lead) }
            (error_summary(&errors))
            form method="post" action=(action) novalidate {
                (csrf_input(csrf))
                (text_field(input))
                div.actions {
                    button type="submit" { "送信する" }
                    a.button.secondary href="/login" { "ログインページに戻る" }
                }
            }
        },
    )
}
