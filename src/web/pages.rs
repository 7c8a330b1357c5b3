//! Pages the login page links to that are plain text for now: privacy, and
//! the help-desk contacts for inquiries and forgotten credentials.

use maud::{Markup, html};
use poem::{handler, web::Data};

use crate::{app::AppState, views::layout::page as layout, web::register::terms_text::PRIVACY};

#[handler]
pub fn privacy() -> Markup {
    layout(
        "個人情報保護について",
        None,
        html! {
            section.card {
                h1 { "個人情報保護について" }
                div.terms tabindex="0" role="region" aria-label="個人情報保護について" { (PRIVACY) }
            }
        },
    )
}

fn contact(state: &AppState, title: &str, lead: &str) -> Markup {
    let h = &state.config.helpdesk;
    layout(
        title,
        None,
        html! {
            section.card {
                h1 { (title) }
                p.lead { (lead) }
                dl.review {
                    dt { "窓口" } dd { (h.name) }
                    dt { "電話" } dd { (h.phone) "（受付時間 " (h.hours) "）" }
                    dt { "メール" } dd { a href={ "mailto:" (h.email) } { (h.email) } }
                }
                p.actions { a.button.secondary href="/login" { "ログインページに戻る" } }
            }
        },
    )
}

#[handler]
pub fn inquiry(state: Data<&AppState>) -> Markup {
    contact(
        &state,
        "お問合せ",
        "MAMISに関するお問合せは、下記の窓口までご連絡ください。",
    )
}

#[handler]
pub fn forgot_login_id(state: Data<&AppState>) -> Markup {
    contact(
        &state,
        "ログインIDをお忘れの方",
        "ログインIDの再通知は、現在お問合せ窓口で承っています。ご登録のメールアドレスから下記の窓口までご連絡ください。",
    )
}

#[handler]
pub fn forgot_password(state: Data<&AppState>) -> Markup {
    contact(
        &state,
        "パスワードをお忘れの方",
        "パスワードの再設定は、現在お問合せ窓口で承っています。ご登録のメールアドレスから下記の窓口までご連絡ください。",
    )
}
