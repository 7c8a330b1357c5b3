//! 会員データの取り込み: staff (管理者 and 担当者) upload their association's
//! CSV of existing members, see the dry run row by row, and import it with
//! 「取り込む」; the template to download; the 管理者's setting of how long
//! initial passwords last. Physicians get the 404 page.
//!
//! The upload is the one request larger than the usual body limit
//! ([`UPLOAD_MAX_BYTES`], see [`body_limit`]) and the one multipart form,
//! whose CSRF token `app`'s guard reads with [`multipart_field`].

use maud::{Markup, html};
use poem::{
    IntoResponse, Response, handler,
    http::{StatusCode, header},
    web::{CsrfToken, Data, Form, Multipart},
};
use serde::Deserialize;

use crate::{
    auth::guards::{Staff, StaffAdmin},
    domain::member_csv::{self, TEMPLATE_COLUMNS},
    error::OrInternal,
    service::member_import::{
        self, Checked, DryRun, Imported, Match as MatchedBy, Outcome, RowOutcome,
    },
    state::AppState,
    views::layout::{csrf_input, page as layout},
    web::{office_postcards, paths},
};

/// The import page; the file is uploaded here.
pub const UPLOAD: &str = "/office/members/import";
/// 「取り込む」.
pub const RUN: &str = "/office/members/import/run";
/// The 管理者's setting of the initial passwords' validity.
pub const SETTINGS: &str = "/office/members/import/settings";
/// The template CSV.
pub const TEMPLATE: &str = "/office/members/template.csv";
/// The largest file accepted (10,000 members take about 1.5 MB).
pub const UPLOAD_MAX_BYTES: usize = 8 * 1024 * 1024;

/// The body limit of a request to `path`: [`UPLOAD_MAX_BYTES`] for the
/// upload, `default` for everything else.
pub fn body_limit(path: &str, default: usize) -> usize {
    if path == UPLOAD {
        UPLOAD_MAX_BYTES.max(default)
    } else {
        default
    }
}

/// The value of the text part `name` of a `multipart/form-data` body (for
/// the CSRF token of the upload form); `None` for any other body.
pub fn multipart_field(content_type: &str, body: &[u8], name: &str) -> Option<String> {
    let boundary = content_type
        .strip_prefix("multipart/form-data")?
        .split(';')
        .filter_map(|p| p.trim().strip_prefix("boundary="))
        .next()?
        .trim_matches('"');
    let delimiter = format!("--{boundary}");
    let wanted = format!("name=\"{name}\"");
    let mut rest = body;
    while let Some(start) = find(rest, delimiter.as_bytes()) {
        rest = &rest[start + delimiter.len()..];
        let end = find(rest, delimiter.as_bytes()).unwrap_or(rest.len());
        let part = &rest[..end];
        let split = find(part, b"\r\n\r\n")?;
        let head = std::str::from_utf8(&part[..split]).ok()?;
        let disposition = head
            .lines()
            .find(|l| l.to_ascii_lowercase().starts_with("content-disposition"));
        if disposition.is_some_and(|d| d.split(';').any(|p| p.trim() == wanted)) {
            let value = &part[split + 4..];
            let value = value.strip_suffix(b"\r\n").unwrap_or(value);
            return std::str::from_utf8(value).ok().map(str::to_owned);
        }
    }
    None
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

fn outcome_detail(o: &Outcome) -> Markup {
    match o {
        Outcome::Create { association } => html! { (association) "の会員として作成します。" },
        Outcome::Matched(MatchedBy::RegistryNumber) => {
            html! { "同じ医籍登録番号の方が登録済みです（作成しません）。" }
        }
        Outcome::Matched(MatchedBy::NameAndBirth) => {
            html! { "同じ氏名・生年月日の方が登録済みです（作成しません）。" }
        }
        Outcome::Refused(msgs) => html! {
            ul.row-errors { @for m in msgs { li { (m) } } }
        },
    }
}

fn rows_table(rows: &[RowOutcome]) -> Markup {
    html! {
        table.mails.import-rows {
            caption.sr-only { "確認結果" }
            thead { tr { th scope="col" { "行" } th scope="col" { "氏名" } th scope="col" { "結果" } th scope="col" { "内容" } } }
            tbody {
                @for r in rows {
                    tr {
                        td { (r.line) }
                        td { (r.name) }
                        td { strong { (r.outcome.label()) } }
                        td { (outcome_detail(&r.outcome)) }
                    }
                }
            }
        }
    }
}

fn upload_form(csrf: &str) -> Markup {
    html! {
        form method="post" action=(UPLOAD) enctype="multipart/form-data" {
            (csrf_input(csrf))
            div.field {
                label for="file" { "CSVファイル " (crate::views::components::required_mark(true)) }
                p.hint #file-hint { "Excel で保存した CSV（UTF-8 または Shift_JIS）。まず内容を確認し、取り込みはその後で行います。" }
                input #file type="file" name="file" accept=".csv,text/csv" required aria-required="true" aria-describedby="file-hint";
            }
            p.actions { button type="submit" { "内容を確認する" } }
        }
    }
}

/// The import page.
#[handler]
pub async fn page(
    state: Data<&AppState>,
    csrf: &CsrfToken,
    staff: Staff,
) -> poem::Result<Response> {
    let days = member_import::validity_days(&state.store, &staff)
        .await
        .or_internal()?;
    Ok(import_page(&csrf.0, &staff, days, None).into_response())
}

fn import_page(csrf: &str, staff: &Staff, days: u32, notice: Option<&str>) -> Markup {
    let admin = staff.role == crate::domain::StaffRole::Admin;
    let title = "会員データの取り込み";
    layout(
        title,
        Some(csrf),
        html! {
            section.card aria-labelledby="import-title" {
                h1 #import-title { (title) }
                p { a href=(paths::OFFICE) { "← 事務局TOPに戻る" } " ｜ " a href=(office_postcards::LIST) { "ID・パスワード通知ハガキ" } }
                @if let Some(n) = notice {
                    div.helpbox role="status" { p { (n) } }
                }
                p { "既存の会員を CSV ファイルから取り込みます。1行に1名、見出し行の列名で読み取ります。取り込んだ会員にはログインIDと初期パスワードを発行し、通知ハガキを印刷できます。" }
                p { a href=(TEMPLATE) download="members-template.csv" { "テンプレート（CSV）をダウンロード" } }
                details {
                    summary { "列の一覧" }
                    p { "必須：氏名（または 姓・名）、フリガナ（または セイ・メイ）、生年月日、医籍登録番号、医籍登録日、郵便番号、都道府県、住所、電話番号。任意：性別、建物名、会員種別、入会日、所属医師会（空欄は自医師会）。" }
                    p { (TEMPLATE_COLUMNS.join("、")) }
                }
                (upload_form(csrf))
            }
            section.card aria-labelledby="validity-title" {
                h2 #validity-title { "初期パスワードの有効期間" }
                @if admin {
                    form method="post" action=(SETTINGS) {
                        (csrf_input(csrf))
                        div.field {
                            label for="validity_days" { "有効期間（日数）" }
                            p.hint #validity-hint { "取り込み時に発行する初期パスワードの有効期間です（1〜365日）。" }
                            input.short #validity_days type="text" inputmode="numeric" name="validity_days" value=(days) aria-describedby="validity-hint";
                        }
                        p.actions { button.secondary type="submit" { "保存する" } }
                    }
                } @else {
                    p { (days) "日（管理者が変更できます）" }
                }
            }
        },
    )
}

fn dry_run_page(csrf: &str, dry: &DryRun) -> Markup {
    let title = "取り込み内容の確認";
    layout(
        title,
        Some(csrf),
        html! {
            section.card aria-labelledby="dry-title" {
                h1 #dry-title { (title) }
                p { a href=(UPLOAD) { "← 会員データの取り込みに戻る" } }
                p { "ファイル：" (dry.file_name) "（" (dry.encoding.label()) "）" }
                p.lead {
                    "作成 " strong { (dry.to_create()) } " 名、既存と一致 " strong { (dry.matched()) } " 名、エラー " strong { (dry.refused()) } " 件"
                }
                @if let Some(reference) = &dry.reference {
                    p { "この内容で取り込みます。すべての行がまとめて取り込まれます。" }
                    form method="post" action=(RUN) {
                        (csrf_input(csrf))
                        input type="hidden" name="reference" value=(reference);
                        p.actions { button type="submit" { "取り込む" } }
                    }
                } @else if dry.refused() > 0 {
                    div.error-summary role="alert" {
                        h2 { "取り込めない行があります" }
                        p { "エラーの行を直したファイルで、もう一度確認してください。1行でもエラーがあると、何も取り込まれません。" }
                    }
                } @else {
                    div.helpbox role="status" { p { "新しく作成する会員はいません。" } }
                }
                (rows_table(&dry.rows))
                @if dry.reference.is_none() {
                    h2 { "ファイルを選び直す" }
                    (upload_form(csrf))
                }
            }
        },
    )
}

/// The upload: the dry run of the file.
#[handler]
pub async fn upload(
    state: Data<&AppState>,
    csrf: &CsrfToken,
    staff: Staff,
    mut multipart: Multipart,
) -> poem::Result<Response> {
    let mut file: Option<(String, Vec<u8>)> = None;
    while let Some(field) = multipart.next_field().await? {
        if field.name() == Some("file") {
            let name = field.file_name().unwrap_or("").to_owned();
            let bytes = field.bytes().await?;
            file = Some((name, bytes));
        }
    }
    let days = member_import::validity_days(&state.store, &staff)
        .await
        .or_internal()?;
    let Some((name, bytes)) = file.filter(|(_, b)| !b.is_empty()) else {
        let shown = import_page(
            &csrf.0,
            &staff,
            days,
            Some("CSVファイルを選択してください。"),
        );
        return Ok((StatusCode::BAD_REQUEST, shown).into_response());
    };
    let checked = member_import::dry_run(&state.store, &staff, &name, &bytes)
        .await
        .or_internal()?;
    Ok(match checked {
        Checked::Rows(dry) => dry_run_page(&csrf.0, &dry).into_response(),
        Checked::Unreadable(message) => (
            StatusCode::BAD_REQUEST,
            import_page(&csrf.0, &staff, days, Some(&message)),
        )
            .into_response(),
    })
}

#[derive(Debug, Deserialize)]
pub struct RunForm {
    #[serde(default)]
    reference: String,
}

/// 「取り込む」.
#[handler]
pub async fn run(
    state: Data<&AppState>,
    csrf: &CsrfToken,
    staff: Staff,
    Form(form): Form<RunForm>,
) -> poem::Result<Response> {
    let outcome = member_import::import(&state.store, &staff, &form.reference)
        .await
        .or_internal()?;
    let title = "取り込み結果";
    let body = match outcome {
        Imported::Done {
            batch,
            created,
            matched,
        } => html! {
            section.card aria-labelledby="done-title" {
                h1 #done-title { (title) }
                div.helpbox role="status" {
                    p { (created) "名の会員を取り込みました（既存と一致 " (matched) "名は作成していません）。" }
                }
                @if let Some(id) = batch {
                    p { "ログインIDと初期パスワードを通知ハガキで会員にお知らせください。" }
                    p.actions {
                        a.button href=(office_postcards::print_path(id)) { "通知ハガキを印刷する" }
                        a.button.secondary href=(office_postcards::LIST) { "通知ハガキの一覧" }
                    }
                }
                p { a href=(paths::OFFICE) { "事務局TOPに戻る" } }
            }
        },
        Imported::Refused(rows) => html! {
            section.card aria-labelledby="done-title" {
                h1 #done-title { (title) }
                div.error-summary role="alert" {
                    h2 { "取り込めない行があるため、何も取り込みませんでした" }
                    p { "確認の後に登録内容が変わりました。ファイルを直して、もう一度確認してください。" }
                }
                (rows_table(&rows))
                p { a href=(UPLOAD) { "会員データの取り込みに戻る" } }
            }
        },
        Imported::Gone => html! {
            section.card aria-labelledby="done-title" {
                h1 #done-title { (title) }
                div.error-summary role="alert" {
                    p { "この確認結果はもう使えません（取り込み済みか、確認から24時間を過ぎています）。もう一度ファイルを選択してください。" }
                }
                p { a href=(UPLOAD) { "会員データの取り込みに戻る" } }
            }
        },
    };
    Ok(layout(title, Some(&csrf.0), body).into_response())
}

/// The template CSV (UTF-8 with a BOM).
#[handler]
pub async fn template(_staff: Staff) -> Response {
    Response::builder()
        .header(header::CONTENT_TYPE, "text/csv; charset=utf-8")
        .header(
            header::CONTENT_DISPOSITION,
            "attachment; filename=\"members-template.csv\"",
        )
        .body(member_csv::template())
}

#[derive(Debug, Deserialize)]
pub struct SettingsForm {
    #[serde(default)]
    validity_days: String,
}

/// The 管理者's setting of the validity of initial passwords.
#[handler]
pub async fn settings(
    state: Data<&AppState>,
    csrf: &CsrfToken,
    StaffAdmin(staff): StaffAdmin,
    Form(form): Form<SettingsForm>,
) -> poem::Result<Response> {
    let saved = member_import::set_validity_days(&state.store, &staff, &form.validity_days)
        .await
        .or_internal()?;
    let days = member_import::validity_days(&state.store, &staff)
        .await
        .or_internal()?;
    Ok(match saved {
        Ok(()) => import_page(
            &csrf.0,
            &staff,
            days,
            Some("初期パスワードの有効期間を保存しました。"),
        )
        .into_response(),
        Err(msg) => (
            StatusCode::BAD_REQUEST,
            import_page(&csrf.0, &staff, days, Some(&msg)),
        )
            .into_response(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_csrf_token_is_read_from_a_multipart_body() {
        let body = b"--XyZ\r\nContent-Disposition: form-data; name=\"csrf_token\"\r\n\r\nabc123\r\n--XyZ\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.csv\"\r\nContent-Type: text/csv\r\n\r\n\x82\xa0,b\r\n--XyZ--\r\n";
        let ct = "multipart/form-data; boundary=XyZ";
        assert_eq!(
            multipart_field(ct, body, "csrf_token").as_deref(),
            Some("abc123")
        );
        assert_eq!(multipart_field(ct, body, "other"), None);
        assert_eq!(
            multipart_field("application/x-www-form-urlencoded", body, "csrf_token"),
            None
        );
        assert_eq!(body_limit(UPLOAD, 1024), UPLOAD_MAX_BYTES);
        assert_eq!(body_limit("/login", 1024), 1024);
    }
}
