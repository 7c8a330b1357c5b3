//! 郵便番号 → 住所 on the registration form: as soon as a complete code is
//! typed, htmx asks here and the answer fills 都道府県 and 住所 (city and
//! town) out of band, leaving the cursor after the town for the 番地. A code
//! with several towns offers a choice; an unknown code says so quietly. A
//! 住所 the user already typed is never replaced without asking.

use maud::{Markup, html};
use poem::{
    IntoResponse, Response, handler,
    web::{Data, Form, Query},
};
use serde::Deserialize;

use crate::{
    catalog,
    domain::{Field, PostalCode},
    postal::Address,
    state::AppState,
    views::components::{input_control, message},
    web::register::form_view::{check_url, select_control, text_input},
};

pub use super::form_view::POSTAL_URL;
use super::form_view::{RESULT_ID, result_region};

/// The prefecture and the address filled in out of band (the address only
/// when `replace`), with their earlier messages cleared.
fn fill(a: &Address, line: &str, replace: bool) -> Markup {
    let addr_url = check_url(Field::Address);
    html! {
        @if catalog::prefecture_by_name(&a.prefecture).is_some() {
            (select_control(Field::Prefecture, &a.prefecture, None, true))
            (message(Field::Prefecture.name(), None, None, true))
        }
        @if replace {
            (input_control(&text_input(Field::Address, line, None, None, &addr_url), true))
            (message(Field::Address.name(), None, None, true))
        }
    }
}

#[derive(Deserialize)]
pub struct PostalQuery {
    /// Which of several towns was chosen.
    pick: Option<usize>,
}

/// Looks the typed code up and answers with the fill-in.
#[handler]
pub fn lookup(
    state: Data<&AppState>,
    Query(q): Query<PostalQuery>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Response {
    let get = |k: &str| {
        pairs
            .iter()
            .find(|(n, _)| n == k)
            .map(|(_, v)| v.as_str())
            .unwrap_or_default()
    };
    let Ok(code) = PostalCode::parse(get(Field::PostalCode.name())) else {
        return result_region(html! {}, false).into_response();
    };
    let found = state.postal.lookup(code.number());
    let current = get(Field::Address.name());
    let markup = match (found.len(), q.pick) {
        (0, _) => result_region(
            html! { p.note { "この郵便番号の住所は見つかりませんでした。住所を直接入力してください。" } },
            false,
        ),
        (1, _) => one(&found[0], current),
        (_, Some(i)) if i < found.len() => one(&found[i], current),
        _ => result_region(
            html! {
                p.note { "この郵便番号には複数の住所があります。該当する住所を選んでください。" }
                ul.postal-choices {
                    @for (i, a) in found.iter().enumerate() {
                        li {
                            button.secondary type="button" hx-post={ (POSTAL_URL) "?pick=" (i) }
                                hx-target={ "#" (RESULT_ID) } hx-swap="outerHTML" {
                                (a.prefecture) " " (a.city) (a.town)
                            }
                        }
                    }
                }
            },
            false,
        ),
    };
    markup.into_response()
}

fn one(a: &Address, current: &str) -> Markup {
    let line = format!("{}{}", a.city, a.town);
    let replaced = current.trim().is_empty() || current.trim() == line;
    html! {
        (result_region(html! {
            @if replaced {
                p.note { (a.prefecture) " " (line) " を入力しました。続けて番地を入力してください。" }
            } @else {
                p.note { "郵便番号の住所：" (a.prefecture) " " (line) "（入力済みの住所はそのままにしています）" }
            }
        }, replaced))
        (fill(a, &line, replaced))
    }
}
