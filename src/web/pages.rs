//! 個人情報保護について: the operator's privacy text.

use maud::{Markup, html};
use poem::{handler, web::Data};

use crate::{state::AppState, views::layout::page as layout};

#[handler]
pub fn privacy(state: Data<&AppState>) -> Markup {
    layout(
        "個人情報保護について",
        None,
        html! {
            section.card {
                h1 { "個人情報保護について" }
                div.terms tabindex="0" role="region" aria-label="個人情報保護について" { (state.texts.privacy) }
            }
        },
    )
}
