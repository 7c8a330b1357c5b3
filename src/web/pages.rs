//! 個人情報保護について: the operator's privacy text.

use maud::{Markup, html};
use poem::handler;

use crate::{views::layout::page as layout, web::register::terms_text::PRIVACY};

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
