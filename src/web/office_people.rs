//! The office's people search (`GET /office/people`) and its CSV export
//! (`GET /office/people.csv`): one search box with filters, an htmx active
//! search that swaps the results only (and pushes the URL), the same GET
//! form without JavaScript, paged results, and the export of every page.
//! Staff of every role may search; the rows are those of their scope.

use maud::{Markup, html};
use poem::{
    Body, Response, handler,
    http::header,
    web::{CsrfToken, Data, Query},
};
use serde::Deserialize;

use crate::{
    auth::guards::Staff,
    error::OrInternal,
    htmx::{self, HxRequest},
    service::people::{self, AccountState, AssociationFilter, Found, PAGE_SIZE, Search, Sort},
    state::AppState,
    views::layout::page as layout,
    web::{paths, people_csv, people_csv::Encoding},
};

/// The search page.
pub const SEARCH: &str = "/office/people";
/// The export of the current search.
pub const EXPORT: &str = "/office/people.csv";
/// The id of the region htmx replaces.
const RESULTS: &str = "results";

/// A person's page (built elsewhere).
fn person_path(id: u64) -> String {
    format!("{SEARCH}/{id}")
}

/// The query string of both routes.
#[derive(Clone, Debug, Default, Deserialize)]
pub struct PeopleQuery {
    #[serde(default)]
    q: String,
    #[serde(default)]
    association: String,
    #[serde(default)]
    state: String,
    #[serde(default)]
    sort: String,
    #[serde(default)]
    page: String,
    #[serde(default)]
    encoding: String,
}

impl PeopleQuery {
    fn search(&self) -> Search {
        Search {
            q: self.q.chars().take(100).collect(),
            association: AssociationFilter::from_key(&self.association),
            state: AccountState::from_key(&self.state),
            sort: Sort::from_key(&self.sort),
            page: self.page.trim().parse().unwrap_or(1),
        }
    }
}

/// The query string of `search` at `page` (and `extra` pairs).
fn query_string(search: &Search, page: usize, extra: &[(&str, &str)]) -> String {
    let mut s = url::form_urlencoded::Serializer::new(String::new());
    s.append_pair("q", &search.q)
        .append_pair("association", &search.association.key())
        .append_pair("state", search.state.map_or("", AccountState::key))
        .append_pair("sort", search.sort.key());
    if page > 1 {
        s.append_pair("page", &page.to_string());
    }
    for (k, v) in extra {
        s.append_pair(k, v);
    }
    s.finish()
}

#[handler]
pub async fn search_page(
    state: Data<&AppState>,
    csrf: &CsrfToken,
    staff: Staff,
    hx: HxRequest,
    Query(query): Query<PeopleQuery>,
) -> poem::Result<Response> {
    let search = query.search();
    let found = people::search(&state.store, &staff, search.clone())
        .await
        .or_internal()?;
    let body = if hx.0 {
        results(&search, &found)
    } else {
        layout("医師の検索", Some(csrf), full_page(&search, &found))
    };
    Ok(htmx::vary(body))
}

fn full_page(search: &Search, found: &Found) -> Markup {
    let association = search.association;
    let include = "closest form";
    html! {
        section.card aria-labelledby="people-title" {
            h1 #people-title { "医師の検索" }
            p { a href=(paths::OFFICE) { "← 事務局TOPに戻る" } }
            form method="get" action=(SEARCH) role="search" {
                div.field {
                    label for="q" { "検索語" }
                    p.hint #h-q { "氏名・フリガナ（前方一致。ひらがな・半角カナ、髙・﨑などの異体字も可）、ログインID、医籍登録番号、メールアドレス、電話番号、生年月日（1980/4/1、昭和55年4月1日など）" }
                    input #q type="search" name="q" value=(search.q) maxlength="100" autocomplete="off"
                        aria-describedby="h-q"
                        hx-get=(SEARCH) hx-trigger="input changed delay:300ms, search"
                        hx-target={ "#" (RESULTS) } hx-push-url="true" hx-include=(include);
                }
                div.field {
                    label for="association" { "所属医師会" }
                    select #association name="association" hx-get=(SEARCH) hx-trigger="change"
                        hx-target={ "#" (RESULTS) } hx-push-url="true" hx-include=(include) {
                        option value="" selected[association == AssociationFilter::Any] { "すべて" }
                        @if found.sees_unaffiliated {
                            option value="none" selected[association == AssociationFilter::Unaffiliated] { "所属なし" }
                        }
                        @for a in &found.associations {
                            option value=(a.id.0) selected[association == AssociationFilter::Of(a.id)] { (a.name) }
                        }
                    }
                }
                div.field {
                    label for="state" { "状態" }
                    select #state name="state" hx-get=(SEARCH) hx-trigger="change"
                        hx-target={ "#" (RESULTS) } hx-push-url="true" hx-include=(include) {
                        option value="" selected[search.state.is_none()] { "すべて" }
                        @for s in AccountState::ALL {
                            option value=(s.key()) selected[search.state == Some(s)] { (s.label()) }
                        }
                    }
                }
                div.field {
                    label for="sort" { "並び順" }
                    select #sort name="sort" hx-get=(SEARCH) hx-trigger="change"
                        hx-target={ "#" (RESULTS) } hx-push-url="true" hx-include=(include) {
                        @for s in Sort::ALL {
                            option value=(s.key()) selected[search.sort == s] { (s.label()) }
                        }
                    }
                }
                div.actions { button type="submit" { "検索" } }
            }
        }
        (results(search, found))
    }
}

/// The results region: the count, the export, the table and the pages.
fn results(search: &Search, found: &Found) -> Markup {
    let first = (found.page - 1) * PAGE_SIZE + 1;
    let last = first + found.rows.len().saturating_sub(1);
    let page_link = |page: usize| format!("{SEARCH}?{}", query_string(search, page, &[]));
    html! {
        section.card #(RESULTS) aria-labelledby="results-title" {
            h2 #results-title { "検索結果" }
            @if found.total == 0 {
                p role="status" { "該当する医師はいません。" }
            } @else {
                p role="status" {
                    (found.total) "件中 " (first) "〜" (last) "件を表示"
                    @if search.q.trim().is_empty() { "（検索語なし：登録日の新しい順の一覧）" }
                }
                form.inline method="get" action=(EXPORT) {
                    input type="hidden" name="q" value=(search.q);
                    input type="hidden" name="association" value=(search.association.key());
                    input type="hidden" name="state" value=(search.state.map_or("", AccountState::key));
                    input type="hidden" name="sort" value=(search.sort.key());
                    label for="encoding" { "文字コード" }
                    select #encoding name="encoding" {
                        option value="utf8" { "UTF-8（BOM付き・Excel対応）" }
                        option value="sjis" { "Shift_JIS" }
                    }
                    button.secondary type="submit" { "CSV出力（" (found.total) "件）" }
                }
                table.mails.people {
                    caption.sr-only { "検索結果" }
                    thead {
                        tr {
                            th scope="col" { "氏名" }
                            th scope="col" { "フリガナ" }
                            th scope="col" { "生年月日" }
                            th scope="col" { "医籍登録番号" }
                            th scope="col" { "ログインID" }
                            th scope="col" { "所属医師会" }
                            th scope="col" { "状態" }
                        }
                    }
                    tbody {
                        @for row in &found.rows {
                            @let u = &row.user;
                            tr {
                                td { a href=(person_path(u.id)) { (u.display_name()) } }
                                @if let Some(p) = &u.person {
                                    td { (p.kana.last.as_str()) " " (p.kana.first.as_str()) }
                                    td { (p.birth_date) }
                                    td { (p.registry.number.as_str()) }
                                } @else {
                                    td {} td {} td {}
                                }
                                td { (u.login_id) }
                                td { (row.association.as_deref().unwrap_or("所属なし")) }
                                td { (row.state.label()) }
                            }
                        }
                    }
                }
                @if found.pages > 1 {
                    nav aria-label="ページ" {
                        @if found.page > 1 {
                            a href=(page_link(found.page - 1)) hx-get=(page_link(found.page - 1))
                                hx-target={ "#" (RESULTS) } hx-push-url="true" rel="prev" { "← 前の" (PAGE_SIZE) "件" }
                            " "
                        }
                        span { (found.page) " / " (found.pages) " ページ" }
                        @if found.has_more() {
                            " "
                            a href=(page_link(found.page + 1)) hx-get=(page_link(found.page + 1))
                                hx-target={ "#" (RESULTS) } hx-push-url="true" rel="next" { "次の" (PAGE_SIZE) "件 →" }
                        }
                    }
                }
            }
        }
    }
}

#[handler]
pub async fn export(
    state: Data<&AppState>,
    staff: Staff,
    Query(query): Query<PeopleQuery>,
) -> poem::Result<Response> {
    let encoding = Encoding::from_key(&query.encoding);
    let search = query.search();
    let head = people_csv::header(encoding).or_internal()?;
    let export = people::export(&state.store, &staff, search, encoding.key())
        .await
        .or_internal()?;
    let rows = futures_util::stream::unfold(export.chunks, move |mut chunks| async move {
        let chunk = chunks.recv().await?;
        let bytes = chunk
            .and_then(|rows| people_csv::rows(encoding, &rows))
            .map_err(|e| {
                // The status line is sent: the download is cut short instead.
                tracing::error!(error = format!("{e:#}"), "people export stopped");
                std::io::Error::other("the export stopped")
            });
        Some((bytes, chunks))
    });
    use futures_util::StreamExt as _;
    let stream = futures_util::stream::once(async move { Ok(head) }).chain(rows);
    let filename = format!("people-{}.csv", today_digits());
    Ok(Response::builder()
        .content_type(encoding.content_type())
        .header(
            header::CONTENT_DISPOSITION,
            format!("attachment; filename=\"{filename}\""),
        )
        .header(header::CACHE_CONTROL, "no-store")
        .body(Body::from_bytes_stream(stream)))
}

/// Today in Japan as `YYYYMMDD`.
fn today_digits() -> String {
    let d = crate::web::today();
    format!("{:04}{:02}{:02}", d.year(), u8::from(d.month()), d.day())
}
