//! 申請一覧 (`GET /office/applications`) and its CSV export
//! (`GET /office/applications.csv`): the applications a staff member may
//! see, filtered by 種類, 段階・状態, 申請日 (from/to, 西暦 or 和暦) and the
//! association below; a plain GET form that htmx enhances by swapping the
//! results only. The rows waiting for the staff member's association can be
//! approved together (bulk 承認, posted to `staff_applications::bulk`). The
//! 確認依頼 inbox is under the list.

use maud::{Markup, html};
use poem::{
    Body, Response, handler,
    http::header,
    web::{CsrfToken, Data, Query},
};
use serde::Deserialize;

use crate::{
    auth::guards::Staff,
    domain::{AssociationId, Date, procedure::ApplicationKind},
    error::OrInternal,
    htmx::{self, HxRequest},
    mail::templates::jst,
    service::procedures::{
        self, QueueRow,
        listing::{self, ListFilter, ListRow, Listing, StageFilter},
    },
    state::AppState,
    views::layout::{csrf_input, page as layout},
    web::{
        csv_file::{self, Encoding},
        paths,
        staff_applications::{BULK, LIST},
    },
};

/// The export of the current list.
pub const EXPORT: &str = "/office/applications.csv";
/// The id of the region htmx replaces.
const RESULTS: &str = "app-results";
/// Rows per chunk of the streamed CSV.
const CSV_CHUNK: usize = 500;

fn detail_path(id: u64) -> String {
    format!("{LIST}/{id}")
}

/// The query string of the list and the export.
#[derive(Clone, Debug, Default, Deserialize)]
pub struct ListQuery {
    #[serde(default)]
    kind: String,
    #[serde(default)]
    stage: String,
    #[serde(default)]
    from: String,
    #[serde(default)]
    to: String,
    #[serde(default)]
    association: String,
    #[serde(default)]
    done: String,
    #[serde(default)]
    encoding: String,
}

fn kind_key(k: ApplicationKind) -> &'static str {
    match k {
        ApplicationKind::Join => "join",
        ApplicationKind::Change => "change",
        ApplicationKind::Withdraw => "withdraw",
    }
}

impl ListQuery {
    /// The filter, and the messages of the dates that could not be read
    /// (such a date filters nothing).
    fn filter(&self) -> (ListFilter, Vec<String>) {
        let mut errors = Vec::new();
        let mut day = |s: &str, label: &str| match s.trim() {
            "" => None,
            s => match Date::parse_as(s, label) {
                Ok(d) => Some(d.get()),
                Err(e) => {
                    errors.push(e);
                    None
                }
            },
        };
        let from = day(&self.from, "申請日（から）");
        let to = day(&self.to, "申請日（まで）");
        let filter = ListFilter {
            kind: ApplicationKind::ALL
                .into_iter()
                .find(|k| kind_key(*k) == self.kind),
            stage: StageFilter::from_key(&self.stage),
            from,
            to,
            association: self.association.trim().parse().ok().map(AssociationId),
        };
        (filter, errors)
    }

    /// The filter's pairs, as typed, for links and the export form.
    fn pairs(&self) -> [(&'static str, &str); 5] {
        [
            ("kind", &self.kind),
            ("stage", &self.stage),
            ("from", &self.from),
            ("to", &self.to),
            ("association", &self.association),
        ]
    }
}

pub(crate) fn rows_table(rows: &[QueueRow], selectable: &[bool]) -> Markup {
    let any = selectable.iter().any(|s| *s);
    html! {
        table {
            thead { tr {
                @if any { th scope="col" { "選択" } }
                th scope="col" { "申請番号" } th scope="col" { "種類" } th scope="col" { "申請者" }
                th scope="col" { "受付方法" } th scope="col" { "提出日時" } th scope="col" { "待ち開始" } th scope="col" { "状態" }
            } }
            tbody {
                @for (i, r) in rows.iter().enumerate() {
                    tr {
                        @if any {
                            td {
                                @if selectable.get(i).copied().unwrap_or(false) {
                                    input type="checkbox" name="item" value={ (r.id) ":" (r.version) } aria-label={ "申請番号 " (r.id) " を選択" };
                                }
                            }
                        }
                        td { a href=(detail_path(r.id)) { (r.id) } }
                        td { (r.summary) }
                        td { (r.person_name) }
                        td { (r.intake.label()) }
                        td { (jst(r.filed_at)) }
                        td { (jst(r.waiting_since)) }
                        td { (r.status) }
                    }
                }
            }
        }
    }
}

#[handler]
pub async fn list(
    state: Data<&AppState>,
    csrf: &CsrfToken,
    staff: Staff,
    hx: HxRequest,
    Query(q): Query<ListQuery>,
) -> poem::Result<Response> {
    let (filter, errors) = q.filter();
    let listing = listing::list(&state.store, &staff, filter.clone())
        .await
        .or_internal()?;
    if hx.0 {
        return Ok(htmx::vary(results(csrf, &q, &filter, &listing, &errors)));
    }
    let notices = procedures::notices(&state.store, &staff)
        .await
        .or_internal()?;
    let title = "申請一覧";
    let include = "closest form";
    let body = html! {
        section.card aria-labelledby="queue-title" {
            h1 #queue-title { (title) }
            p { a href=(paths::OFFICE) { "← 事務局TOPに戻る" } }
            @if let Some(n) = q.done.strip_prefix("bulk-") {
                div.helpbox role="status" { p { (n) } }
            }
            form method="get" action=(LIST) hx-get=(LIST) hx-target={ "#" (RESULTS) }
                hx-push-url="true" hx-trigger="change, submit" hx-include=(include) {
                div.field {
                    label for="kind" { "種類" }
                    select #kind name="kind" {
                        option value="" selected[filter.kind.is_none()] { "すべて" }
                        @for k in ApplicationKind::ALL {
                            option value=(kind_key(k)) selected[filter.kind == Some(k)] { (k.label()) }
                        }
                    }
                }
                div.field {
                    label for="stage" { "段階・状態" }
                    select #stage name="stage" {
                        @for s in StageFilter::ALL {
                            option value=(s.key()) selected[filter.stage == s] { (s.label()) }
                        }
                    }
                }
                div.field {
                    label for="from" { "申請日（から）" }
                    p.hint #h-dates { "2026/4/1、令和8年4月1日、R8.4.1 など" }
                    input #from type="text" name="from" value=(q.from) maxlength="20" aria-describedby="h-dates";
                }
                div.field {
                    label for="to" { "申請日（まで）" }
                    input #to type="text" name="to" value=(q.to) maxlength="20" aria-describedby="h-dates";
                }
                div.field {
                    label for="association" { "医師会" }
                    select #association name="association" {
                        option value="" selected[filter.association.is_none()] { "すべて" }
                        @for (id, name) in &listing.associations {
                            option value=(id.0) selected[filter.association == Some(*id)] { (name) }
                        }
                    }
                }
                div.actions { button.secondary type="submit" { "絞り込む" } }
            }
        }
        (results(csrf, &q, &filter, &listing, &errors))
        section.card aria-labelledby="notices-title" {
            h2 #notices-title { "確認依頼" }
            @if notices.is_empty() {
                p { "確認依頼はありません。" }
            } @else {
                (rows_table(&notices, &[]))
            }
        }
    };
    Ok(htmx::vary(layout(title, Some(csrf), body)))
}

/// The results region: errors, the count, the export, the table with bulk
/// 承認 for the rows this association decides.
fn results(
    csrf: &CsrfToken,
    q: &ListQuery,
    filter: &ListFilter,
    listing: &Listing,
    errors: &[String],
) -> Markup {
    let rows: Vec<QueueRow> = listing.rows.iter().map(|r| r.row.clone()).collect();
    let selectable: Vec<bool> = listing.rows.iter().map(|r| r.decides_here).collect();
    let any = selectable.iter().any(|s| *s);
    html! {
        section.card #(RESULTS) aria-labelledby="results-title" {
            h2 #results-title { "申請（" (filter.stage.label()) "）" }
            @if !errors.is_empty() {
                div.errors role="alert" { ul { @for e in errors { li { (e) } } } }
            }
            @if rows.is_empty() {
                p role="status" {
                    @if filter.stage == StageFilter::Waiting { "貴会の処理待ちの申請はありません。" }
                    @else { "該当する申請はありません。" }
                }
            } @else {
                p role="status" { (rows.len()) "件" }
                form.inline method="get" action=(EXPORT) {
                    @for (k, v) in q.pairs() { input type="hidden" name=(k) value=(v); }
                    label for="encoding" { "文字コード" }
                    select #encoding name="encoding" {
                        option value="utf8" { "UTF-8（BOM付き・Excel対応）" }
                        option value="sjis" { "Shift_JIS" }
                    }
                    button.secondary type="submit" { "CSV出力（" (rows.len()) "件）" }
                }
                @if any {
                    form method="post" action=(BULK) {
                        (csrf_input(csrf))
                        (rows_table(&rows, &selectable))
                        div.field {
                            label for="date" { "承認日（最終承認の場合は入会日・効力発生日）" }
                            input #date type="text" name="date" placeholder="2026/04/01";
                        }
                        @if !listing.classes.is_empty() {
                            div.field {
                                label for="class" { "貴会の会員種別（入会の申請に適用）" }
                                select #class name="class" {
                                    option value="" { "選択してください" }
                                    @for c in &listing.classes { option value=(c) { (c) } }
                                }
                            }
                        }
                        div.actions { button type="submit" { "選択した申請を一括承認する" } }
                    }
                } @else {
                    (rows_table(&rows, &[]))
                }
            }
        }
    }
}

/// The columns of the export.
pub const COLUMNS: [&str; 11] = [
    "申請番号",
    "種別",
    "申請日",
    "氏名",
    "フリガナ",
    "医籍登録番号",
    "医師会",
    "現在の段階",
    "状態",
    "入会日・異動日",
    "受付方法",
];

fn cells(r: &ListRow) -> Vec<String> {
    vec![
        r.row.id.to_string(),
        r.row.summary.clone(),
        listing::jst_day(r.row.filed_at).to_string(),
        r.row.person_name.clone(),
        r.kana.clone(),
        r.registry.clone(),
        r.association.clone(),
        r.stage.clone(),
        r.status.to_owned(),
        r.effective.map(|d| d.to_string()).unwrap_or_default(),
        r.row.intake.label().to_owned(),
    ]
}

#[handler]
pub async fn export(
    state: Data<&AppState>,
    staff: Staff,
    Query(q): Query<ListQuery>,
) -> poem::Result<Response> {
    let encoding = Encoding::from_key(&q.encoding);
    let (filter, _) = q.filter();
    let listing = listing::list(&state.store, &staff, filter)
        .await
        .or_internal()?;
    let detail = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(q.pairs())
        .append_pair("encoding", encoding.key())
        .finish();
    listing::audit_export(&state.store, &staff, detail, listing.rows.len())
        .await
        .or_internal()?;
    let head = csv_file::header(encoding, &COLUMNS).or_internal()?;
    let chunks: Vec<Vec<ListRow>> = listing
        .rows
        .chunks(CSV_CHUNK)
        .map(<[ListRow]>::to_vec)
        .collect();
    let rows = futures_util::stream::iter(chunks).map(move |chunk| {
        csv_file::records(encoding, chunk.iter().map(cells)).map_err(|e| {
            // The status line is sent: the download is cut short instead.
            tracing::error!(error = format!("{e:#}"), "applications export stopped");
            std::io::Error::other("the export stopped")
        })
    });
    use futures_util::StreamExt as _;
    let stream = futures_util::stream::once(async move { Ok(head) }).chain(rows);
    let d = crate::web::today();
    let filename = format!(
        "applications-{:04}{:02}{:02}.csv",
        d.year(),
        u8::from(d.month()),
        d.day()
    );
    Ok(Response::builder()
        .content_type(encoding.content_type())
        .header(
            header::CONTENT_DISPOSITION,
            format!("attachment; filename=\"{filename}\""),
        )
        .header(header::CACHE_CONTROL, "no-store")
        .body(Body::from_bytes_stream(stream)))
}
