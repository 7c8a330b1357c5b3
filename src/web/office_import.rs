//! The CSV import of 郡市区等医師会 for 管理者 of a prefecture or of 日本医師会: the upload form and the template, the dry run (line by line: added, 登録済み, or refused and why), and 取り込む, which imports the file that was checked, kept in the session between the two steps. Anyone else gets the 404 page.
//!
//! The upload is `multipart/form-data`; the app's CSRF guard reads its
//! token part (`web::member_import::multipart_field`). The file is bounded
//! by the app's request body limit (`app::MAX_BODY_BYTES`).

use maud::{Markup, html};
use poem::{
    IntoResponse, Response, handler,
    http::{StatusCode, header},
    session::Session,
    web::{CsrfToken, Data, Form, Multipart, Query},
};
use serde::Deserialize;
use sha2::{Digest, Sha256};

use crate::{
    auth::guards::StaffAdmin,
    error::not_found,
    error::{OrInternal, UserError, status_message},
    service::{
        association_import::{self, HEADER, Outcome, Plan},
        associations,
    },
    state::AppState,
    views::layout::{csrf_input, page as layout},
    web::office_associations::LIST,
};

/// The upload form; the file is posted here for the dry run.
pub const IMPORT: &str = "/office/associations/import";
/// 取り込む: imports the file checked last.
pub const COMMIT: &str = "/office/associations/import/commit";
/// The empty template (UTF-8 with BOM, for Excel).
pub const TEMPLATE: &str = "/office/associations/template.csv";

/// The session key of the file's text between the dry run and 取り込む.
const SESSION_KEY: &str = "association_import";
/// The name of the file input.
const FILE_FIELD: &str = "file";

fn bad_request() -> poem::Error {
    UserError::into_error(
        StatusCode::BAD_REQUEST,
        status_message(StatusCode::BAD_REQUEST),
    )
}

/// Only a 管理者 who may add under a prefecture may import.
async fn allowed(state: &AppState, admin: &StaffAdmin) -> poem::Result<()> {
    if associations::may_import(&state.store, &admin.0)
        .await
        .or_internal()?
    {
        Ok(())
    } else {
        Err(not_found())
    }
}

fn digest(text: &str) -> String {
    Sha256::digest(text.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn upload_form(csrf: &str) -> Markup {
    html! {
        form method="post" action=(IMPORT) enctype="multipart/form-data" {
            (csrf_input(csrf))
            div.field #f-file {
                label for=(FILE_FIELD) { "CSVファイル" span.req { "必須" } }
                p.hint #h-file { "UTF-8 または Shift_JIS（Excelの「CSV（コンマ区切り）」）で保存したファイル。64KBまで。" }
                input #file type="file" name=(FILE_FIELD) accept=".csv,text/csv" required aria-describedby="h-file";
            }
            div.actions { button type="submit" { "内容を確認する（まだ取り込みません）" } }
        }
    }
}

fn render_upload(csrf: &str, notice: Option<&str>, error: Option<&str>) -> Markup {
    let title = "医師会のCSV取り込み";
    let body = html! {
        section.card aria-labelledby="import-title" {
            h1 #import-title { (title) }
            p { a href=(LIST) { "← 医師会の一覧に戻る" } }
            @if let Some(n) = notice {
                div.helpbox role="status" { p { (n) } }
            }
            @if let Some(e) = error {
                div.error-summary role="alert" { p { (e) } }
            }
            p { "郡市区医師会・大学医師会・職域医師会をCSVファイルからまとめて追加します。まず内容を確認し、問題がなければ「取り込む」を押してください。" }
            p { "1行目（見出し）：" code { (HEADER.join(",")) } }
            p { "例：" code { "新宿区医師会,郡市区,東京都,160-0023,東京都新宿区西新宿1-1-1,03-1234-5678" } }
            ul {
                li { "種別は「郡市区」「大学」「職域」のいずれかです。" }
                li { "都道府県は「東京都」または「東京都医師会」の形で書いてください。" }
                li { "郵便番号・住所・電話番号は空欄でもかまいません。" }
                li { "既に登録されている名称の行は「登録済み」として飛ばします。" }
            }
            p { a href=(TEMPLATE) download="associations-template.csv" { "テンプレート（CSV）をダウンロード" } }
            (upload_form(csrf))
        }
    };
    layout(title, Some(csrf), body)
}

fn outcome_cell(o: &Outcome) -> Markup {
    html! {
        @match o {
            Outcome::Add { parent } => { "追加します（" (parent) "の下）" }
            Outcome::Registered => { "登録済み（飛ばします）" }
            Outcome::Refused(reasons) => {
                strong { "取り込めません：" }
                @for r in reasons { br; (r) }
            }
        }
    }
}

fn render_plan(csrf: &str, plan: &Plan, encoding: Option<&str>, text_digest: &str) -> Markup {
    let title = "取り込み内容の確認";
    let body = html! {
        section.card aria-labelledby="plan-title" {
            h1 #plan-title { (title) }
            p { a href=(IMPORT) { "← ファイルの選択に戻る" } }
            @if let Some(problem) = &plan.problem {
                div.error-summary role="alert" { p { (problem) } }
            } @else {
                p {
                    @if let Some(e) = encoding { "文字コード：" (e) "　" }
                    "追加 " (plan.to_add()) " 件、登録済み " (plan.registered()) " 件、取り込めない行 " (plan.refused()) " 件"
                }
                @if plan.refused() > 0 {
                    div.error-summary role="alert" {
                        p { "取り込めない行があるため、このファイルは取り込めません（1件も追加されません）。該当する行を修正して、もう一度ファイルを選択してください。" }
                    }
                }
                table.mails {
                    caption.sr-only { (title) }
                    thead { tr { th scope="col" { "行" } th scope="col" { "名称" } th scope="col" { "種別" } th scope="col" { "都道府県" } th scope="col" { "結果" } } }
                    tbody {
                        @for l in &plan.lines {
                            tr {
                                td { (l.line) "行目" }
                                td { (l.name) }
                                td { (l.kind) }
                                td { (l.prefecture) }
                                td { (outcome_cell(&l.outcome)) }
                            }
                        }
                    }
                }
            }
            @if plan.importable() {
                form method="post" action=(COMMIT) {
                    (csrf_input(csrf))
                    input type="hidden" name="digest" value=(text_digest);
                    div.actions { button type="submit" { "取り込む（" (plan.to_add()) "件を追加）" } }
                }
            } @else if plan.problem.is_none() && plan.refused() == 0 {
                p { "新しく追加する医師会はありません。" }
            }
        }
        @if !plan.importable() {
            section.card aria-labelledby="again-title" {
                h2 #again-title { "ファイルを選び直す" }
                (upload_form(csrf))
            }
        }
    };
    layout(title, Some(csrf), body)
}

#[derive(Debug, Default, Deserialize)]
pub struct DoneQuery {
    #[serde(default)]
    added: Option<usize>,
}

#[handler]
pub async fn page(
    state: Data<&AppState>,
    csrf: &CsrfToken,
    admin: StaffAdmin,
    Query(q): Query<DoneQuery>,
) -> poem::Result<Response> {
    allowed(&state, &admin).await?;
    let notice = q.added.map(|n| format!("{n}件の医師会を取り込みました。"));
    Ok(render_upload(csrf, notice.as_deref(), None).into_response())
}

#[handler]
pub async fn template(state: Data<&AppState>, admin: StaffAdmin) -> poem::Result<Response> {
    allowed(&state, &admin).await?;
    let body = format!("\u{feff}{}\r\n", HEADER.join(","));
    Ok(body
        .with_content_type("text/csv; charset=utf-8")
        .with_header(
            header::CONTENT_DISPOSITION,
            "attachment; filename=\"associations-template.csv\"",
        )
        .into_response())
}

/// The dry run of the uploaded file.
#[handler]
pub async fn upload(
    state: Data<&AppState>,
    csrf: &CsrfToken,
    session: &Session,
    admin: StaffAdmin,
    mut multipart: Multipart,
) -> poem::Result<Response> {
    allowed(&state, &admin).await?;
    let mut file = None;
    while let Some(field) = multipart.next_field().await.map_err(|_| bad_request())? {
        if field.name() == Some(FILE_FIELD) {
            file = Some(field.bytes().await.map_err(|_| bad_request())?);
        }
    }
    let refuse = |message: &str| {
        render_upload(csrf, None, Some(message))
            .with_status(StatusCode::UNPROCESSABLE_ENTITY)
            .into_response()
    };
    let Some(bytes) = file.filter(|b| !b.is_empty()) else {
        return Ok(refuse("CSVファイルを選択してください。"));
    };
    let Some(decoded) = association_import::decode(&bytes) else {
        return Ok(refuse(
            "ファイルの文字を読み取れませんでした。UTF-8 または Shift_JIS で保存したCSVファイルを選択してください。",
        ));
    };
    let plan = association_import::dry_run(&state.store, &admin.0, decoded.text.clone())
        .await
        .or_internal()?;
    let text_digest = digest(&decoded.text);
    if plan.importable() {
        session.set(SESSION_KEY, &decoded.text);
    } else {
        session.remove(SESSION_KEY);
    }
    let status = if plan.importable() || (plan.problem.is_none() && plan.refused() == 0) {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    Ok(
        render_plan(csrf, &plan, Some(decoded.encoding), &text_digest)
            .with_status(status)
            .into_response(),
    )
}

#[derive(Debug, Default, Deserialize)]
pub struct CommitForm {
    #[serde(default)]
    digest: String,
}

/// 取り込む: the file checked last, if it is the one on the page.
#[handler]
pub async fn commit(
    state: Data<&AppState>,
    csrf: &CsrfToken,
    session: &Session,
    admin: StaffAdmin,
    Form(f): Form<CommitForm>,
) -> poem::Result<Response> {
    allowed(&state, &admin).await?;
    let text = session
        .get::<String>(SESSION_KEY)
        .filter(|t| digest(t) == f.digest);
    let Some(text) = text else {
        return Ok(render_upload(
            csrf,
            None,
            Some("取り込む内容が見つかりませんでした。もう一度ファイルを選択して、内容を確認してください。"),
        )
        .with_status(StatusCode::UNPROCESSABLE_ENTITY)
        .into_response());
    };
    let text_digest = digest(&text);
    match association_import::import(&state.store, &admin.0, text)
        .await
        .or_internal()?
    {
        Ok(added) => {
            session.remove(SESSION_KEY);
            Ok(poem::web::Redirect::see_other(format!("{IMPORT}?added={added}")).into_response())
        }
        Err(plan) => {
            session.remove(SESSION_KEY);
            Ok(render_plan(csrf, &plan, None, &text_digest)
                .with_status(StatusCode::UNPROCESSABLE_ENTITY)
                .into_response())
        }
    }
}
