//! Partial-match suggestions (htmx active search) for 出身校, 大学院 and
//! 所属学会: a `role=listbox` of options, each carrying the value to fill in.

use maud::{Markup, html};
use poem::{
    IntoResponse, Response, handler,
    http::StatusCode,
    web::{Path, Query},
};

use crate::{
    catalog::{self, Catalog, Hit},
    text::search_key,
};

/// Most suggestions shown at once.
pub const LIMIT: usize = 12;

struct Kind {
    catalog: &'static Catalog,
    /// The input the list belongs to.
    input: &'static str,
    /// Appended to a medical school's name when shown (「医学部」).
    suffix: &'static str,
    /// Offer the typed text itself when nothing matches exactly (multi-choice).
    offer_typed: bool,
}

fn kind(name: &str) -> Option<Kind> {
    Some(match name {
        "school" => Kind {
            catalog: catalog::medical_schools(),
            input: "school",
            suffix: " 医学部",
            offer_typed: false,
        },
        "university" => Kind {
            catalog: catalog::universities(),
            input: "grad_university",
            suffix: "",
            offer_typed: false,
        },
        "society" => Kind {
            catalog: catalog::societies(),
            input: "society_query",
            suffix: "",
            offer_typed: true,
        },
        _ => return None,
    })
}

fn former_note(hit: &Hit) -> Option<String> {
    let f = hit.matched_former?;
    let (y, m) = f.until.split_once('-').unwrap_or((f.until, ""));
    let when = if m.is_empty() {
        format!("{y}年")
    } else {
        format!("{y}年{}月", m.trim_start_matches('0'))
    };
    Some(format!("旧称「{}」（{when}に名称変更）", f.name))
}

/// The listbox for `query` (the answer to the search input's request).
pub fn listbox(catalog_name: &str, query: &str) -> Option<Markup> {
    let k = kind(catalog_name)?;
    let list_id = format!("{}-list", k.input);
    let query = query.trim();
    let hits = if query.is_empty() {
        Vec::new()
    } else {
        k.catalog.search(query, LIMIT)
    };
    let query_key = search_key(query);
    let exact = hits.iter().any(|h| h.entry.name_key() == query_key);
    let typed = k.offer_typed && !query.is_empty() && !exact && query.chars().count() <= 40;
    Some(html! {
        ul id=(list_id) role="listbox" aria-label="候補" {
            @for (i, hit) in hits.iter().enumerate() {
                li id={ (list_id) "-" (i) } role="option" aria-selected="false" data-value=(hit.entry.name) {
                    (hit.entry.name) (k.suffix)
                    @if let Some(note) = former_note(hit) { span.former { (note) } }
                }
            }
            @if typed {
                li id={ (list_id) "-typed" } role="option" aria-selected="false" data-value=(query) {
                    "「" (query) "」を一覧にない学会として追加"
                }
            }
        }
    })
}

/// `GET /suggest/{school|university|society}?<input name>=<query>`.
#[handler]
pub fn suggest(Path(name): Path<String>, Query(params): Query<Vec<(String, String)>>) -> Response {
    let query = params
        .into_iter()
        .next()
        .map(|(_, v)| v)
        .unwrap_or_default();
    if query.chars().count() > 100 {
        return StatusCode::BAD_REQUEST.into_response();
    }
    match listbox(&name, &query) {
        Some(m) => m.into_response(),
        None => StatusCode::NOT_FOUND.into_response(),
    }
}
