//! 変更履歴の検索 for 管理者: the audit log of the records in their scope,
//! newest first, filtered by kind, date range and record (login ID or
//! person id), a page at a time. 担当者 and physicians get the 404 page.

use maud::{Markup, html};
use poem::{
    IntoResponse, Response, handler,
    web::{CsrfToken, Data, Query},
};
use serde::Deserialize;

use super::office_history::{KINDS, entries_table, kind_from_key, kind_label};
use crate::{
    auth::guards::StaffAdmin,
    error::OrInternal,
    service::person_record::{self, AuditPage, AuditQuery},
    state::AppState,
    views::{components::message, layout::page as layout},
    web::paths,
};

/// The search page.
pub const AUDIT: &str = "/office/audit";

/// The longest record text read from the query.
const TARGET_MAX: usize = 100;

/// The search as typed (GET parameters).
#[derive(Clone, Debug, Default, Deserialize)]
pub struct SearchForm {
    #[serde(default)]
    kind: String,
    #[serde(default)]
    from: String,
    #[serde(default)]
    to: String,
    #[serde(default)]
    target: String,
    #[serde(default)]
    before: Option<u64>,
}

const DATE_MESSAGE: &str = "日付は「2026-12-01」の形式で入力してください。";

/// A `YYYY-MM-DD` day as the Unix time of its start in Japan; `Ok(None)`
/// when empty.
fn day_start(text: &str) -> Result<Option<i64>, &'static str> {
    let text = crate::text::to_halfwidth_ascii(text.trim());
    if text.is_empty() {
        return Ok(None);
    }
    let format = time::macros::format_description!("[year]-[month]-[day]");
    let day = time::Date::parse(&text, format).map_err(|_| DATE_MESSAGE)?;
    Ok(Some(
        day.midnight()
            .assume_offset(time::macros::offset!(+9))
            .unix_timestamp(),
    ))
}

/// The query the search form asks for, or the messages of its date fields.
fn query_of(f: &SearchForm) -> Result<AuditQuery, (Option<&'static str>, Option<&'static str>)> {
    let from = day_start(&f.from);
    let until = day_start(&f.to).map(|d| d.map(|t| t + 86_400));
    match (from, until) {
        (Ok(from), Ok(until)) => Ok(AuditQuery {
            kind: kind_from_key(&f.kind),
            from,
            until,
            target: Some(f.target.trim().to_owned())
                .filter(|t| !t.is_empty() && t.len() <= TARGET_MAX),
            before: f.before,
        }),
        (from, until) => Err((from.err(), until.err())),
    }
}

/// The link to the next page: the same search, older entries.
fn next_link(f: &SearchForm, before: u64) -> String {
    let pairs = [
        ("kind", f.kind.as_str()),
        ("from", f.from.as_str()),
        ("to", f.to.as_str()),
        ("target", f.target.as_str()),
    ];
    let mut url = format!("{AUDIT}?before={before}");
    for (k, v) in pairs {
        if !v.is_empty() {
            url.push('&');
            url.push_str(k);
            url.push('=');
            url.push_str(&urlencoding(v));
        }
    }
    url
}

/// Percent-encodes a query value.
fn urlencoding(v: &str) -> String {
    v.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                char::from(b).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

fn search_form(f: &SearchForm, from_err: Option<&str>, to_err: Option<&str>) -> Markup {
    html! {
        form method="get" action=(AUDIT) {
            div.field #f-kind {
                label for="kind" { "操作" }
                select #kind name="kind" {
                    option value="" selected[kind_from_key(&f.kind).is_none()] { "すべて" }
                    @for k in KINDS {
                        option value=(k.as_str()) selected[f.kind == k.as_str()] { (kind_label(k)) }
                    }
                }
            }
            div.field #f-from {
                label for="from" { "期間（開始日）" }
                input #from type="date" name="from" value=(f.from) aria-describedby="m-from"
                    aria-invalid=[from_err.map(|_| "true")];
                (message("from", from_err, None, false))
            }
            div.field #f-to {
                label for="to" { "期間（終了日）" }
                input #to type="date" name="to" value=(f.to) aria-describedby="m-to"
                    aria-invalid=[to_err.map(|_| "true")];
                (message("to", to_err, None, false))
            }
            div.field #f-target {
                label for="target" { "対象（ログインIDまたは利用者番号）" }
                input #target type="text" name="target" value=(f.target) maxlength=(TARGET_MAX);
            }
            div.actions { button type="submit" { "検索する" } }
        }
    }
}

#[handler]
pub async fn search(
    state: Data<&AppState>,
    csrf: &CsrfToken,
    admin: StaffAdmin,
    Query(f): Query<SearchForm>,
) -> poem::Result<Response> {
    let (page, errors) = match query_of(&f) {
        Ok(q) => (
            person_record::search_audit(&state.store, &admin, q)
                .await
                .or_internal()?,
            (None, None),
        ),
        Err(errors) => (AuditPage::default(), errors),
    };
    let title = "変更履歴の検索";
    let body = html! {
        section.card aria-labelledby="audit-title" {
            h1 #audit-title { (title) }
            p { a href=(paths::OFFICE) { "← 事務局TOPに戻る" } }
            p.hint { "所属医師会の範囲（下部の医師会を含みます）の記録に対する操作を、新しい順に表示します。" }
            (search_form(&f, errors.0, errors.1))
        }
        section.card aria-labelledby="audit-results" {
            h2 #audit-results { "検索結果" }
            @if page.rows.is_empty() {
                p { "該当する記録はありません。" }
            } @else {
                (entries_table(title, &page.rows, true))
            }
            @if let Some(before) = page.next {
                p { a href=(next_link(&f, before)) { "さらに古い記録を表示 →" } }
            }
        }
    };
    Ok(layout(title, Some(csrf), body).into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn days_are_read_in_japan_time_and_bad_dates_are_refused() {
        assert_eq!(day_start(""), Ok(None));
        // 2026-12-02 00:00 +09:00 is 2026-12-01 15:00 UTC.
        assert_eq!(day_start("2026-12-02"), Ok(Some(1_796_137_200)));
        assert_eq!(day_start("２０２６-12-02"), Ok(Some(1_796_137_200)));
        assert_eq!(day_start("2026/13/01"), Err(DATE_MESSAGE));
        let f = SearchForm {
            to: "2026-12-02".into(),
            target: " doctor01 ".into(),
            ..SearchForm::default()
        };
        let q = query_of(&f).unwrap();
        assert_eq!(q.until, Some(1_796_137_200 + 86_400));
        assert_eq!(q.target.as_deref(), Some("doctor01"));
        assert_eq!(
            next_link(&f, 9),
            "/office/audit?before=9&to=2026-12-02&target=%20doctor01%20"
        );
    }
}
