//! The office's procedures: 申請詳細 with the timeline, the decision
//! history and the 承認 / 差戻し / 却下 forms, 確認依頼 confirmed, and bulk
//! 承認 (a 理事会 batch) posted from 申請一覧 (`application_list`). An
//! application that has not reached the staff member's association is
//! answered with the 404 page.

use maud::{Markup, html};
use poem::{
    IntoResponse, Response, handler,
    http::StatusCode,
    web::{CsrfToken, Data, Form, Path, Query, Redirect},
};
use serde::Deserialize;

use crate::{
    auth::guards::Staff,
    domain::{Date, application::Decision, change_rows::ChangeRow, procedure::Procedure},
    error::OrInternal,
    error::not_found,
    mail::templates::jst,
    service::procedures::{self, ApplicationView, Refused},
    state::AppState,
    views::layout::{csrf_input, page as layout},
};

/// 申請一覧.
pub const LIST: &str = "/office/applications";
/// Bulk 承認.
pub const BULK: &str = "/office/applications/bulk";

fn detail_path(id: u64) -> String {
    format!("{LIST}/{id}")
}

#[derive(Debug, Default, Deserialize)]
pub struct DoneQuery {
    #[serde(default)]
    done: String,
}

fn detail(
    csrf: &str,
    v: &ApplicationView,
    changes: Option<&[ChangeRow]>,
    classes: Option<&[String]>,
    message: Option<&str>,
) -> Markup {
    let a = &v.application;
    let path = detail_path(a.id);
    let title = format!("申請詳細（申請番号 {}）", a.id);
    let body = html! {
        section.card aria-labelledby="app-title" {
            h1 #app-title { (title) }
            p { a href=(LIST) { "← 申請一覧に戻る" } }
            @if let Some(m) = message { div.helpbox role="status" { p { (m) } } }
            dl.review {
                dt { "申請者" } dd { (v.person_name) }
                dt { "申請内容" } dd { (a.procedure.summary()) }
                dt { "状態" } dd { (a.status.label()) }
                dt { "受付方法" } dd { (a.intake.label()) }
                @if let Some(d) = a.desired { dt { "希望日" } dd { (d) } }
                @if !a.reason.is_empty() { dt { "理由・備考" } dd { (a.reason) } }
                @if let Some(d) = a.effective { dt { "効力発生日" } dd { (d) } }
            }
            @match &a.procedure {
                Procedure::Join(j) => {
                    h2 { "申込内容" }
                    dl.review {
                        dt { "勤務先" } dd { (j.workplace.summary()) }
                        dt { "送付先" } dd { (j.mail_to.label()) }
                        dt { "日医医賠責" } dd { (if j.liability_opt_out { "加入しない" } else { "加入する" }) }
                        @if !j.district_class.is_empty() { dt { "郡市区等医師会の会員種別" } dd { (j.district_class) } }
                        @if !j.prefecture_class.is_empty() { dt { "都道府県医師会の会員種別" } dd { (j.prefecture_class) } }
                    }
                }
                Procedure::Change(c) => {
                    h2 #change-title { "変更内容（" (c.label()) "）" }
                    @match changes {
                        Some([]) => p { "現在の登録内容と同じです（変更される項目はありません）。" },
                        Some(rows) => table.changes aria-labelledby="change-title" {
                            thead { tr { th scope="col" { "項目" } th scope="col" { "変更前" } th scope="col" { "変更後" } } }
                            tbody {
                                @for r in rows {
                                    tr { th scope="row" { (r.label) } td { (r.before) } td { (r.after) } }
                                }
                            }
                        },
                        None => p { "変更の内容は処理履歴と変更履歴をご覧ください。" },
                    }
                }
                Procedure::Withdraw(_) => {}
            }
            h2 { "手続きの流れ" }
            ol.timeline {
                @for (i, name) in v.stage_names.iter().enumerate() {
                    li { (a.stages.get(i).map(|s| s.level.short()).unwrap_or_default()) "：" (name) }
                }
            }
            h2 { "処理履歴" }
            table {
                thead { tr { th scope="col" { "日時" } th scope="col" { "処理" } th scope="col" { "内容" } } }
                tbody {
                    @for s in &a.steps {
                        tr {
                            td { (jst(s.at)) }
                            td { (s.action.label()) @if let Some(i) = s.stage { "（" (v.stage_names.get(i).cloned().unwrap_or_default()) "）" } }
                            td { (s.text) @if let Some(d) = s.date { (d) } }
                        }
                    }
                }
            }
        }
        @if v.decides_now {
            section.card aria-labelledby="decide-title" {
                h2 #decide-title { "審査" }
                form method="post" action={ (path) "/decide" } {
                    (csrf_input(csrf))
                    input type="hidden" name="version" value=(a.version);
                    input type="hidden" name="action" value="approve";
                    div.field {
                        label for="date" { "入会日・効力発生日（最終承認の場合は必須）" }
                        input #date type="text" name="date" placeholder="2026/04/01";
                    }
                    @if let Some(list) = classes {
                        div.field {
                            label for="class" { "貴会の会員種別（必須）" }
                            select #class name="class" required {
                                option value="" { "選択してください" }
                                @for c in list { option value=(c) { (c) } }
                            }
                        }
                    }
                    div.actions { button type="submit" { "承認" } }
                }
                form method="post" action={ (path) "/decide" } {
                    (csrf_input(csrf))
                    input type="hidden" name="version" value=(a.version);
                    input type="hidden" name="action" value="send_back";
                    div.field {
                        label for="comment" { "差戻しの理由（必須）" }
                        textarea #comment name="text" maxlength="1000" {}
                    }
                    div.actions { button.secondary type="submit" { "差戻し" } }
                }
                form method="post" action={ (path) "/decide" } {
                    (csrf_input(csrf))
                    input type="hidden" name="version" value=(a.version);
                    input type="hidden" name="action" value="reject";
                    div.field {
                        label for="reason" { "却下の理由（必須）" }
                        textarea #reason name="text" maxlength="1000" {}
                    }
                    div.actions { button.secondary type="submit" { "却下" } }
                }
            }
        }
        @if a.notices.iter().any(|n| n.confirmed.is_none()) {
            section.card {
                form method="post" action={ (path) "/confirm" } {
                    (csrf_input(csrf))
                    div.actions { button type="submit" { "確認依頼を確認済みにする" } }
                }
            }
        }
    };
    layout(&title, Some(csrf), body)
}

#[handler]
pub async fn show(
    state: Data<&AppState>,
    csrf: &CsrfToken,
    staff: Staff,
    Path(id): Path<u64>,
    Query(d): Query<DoneQuery>,
) -> poem::Result<Response> {
    let Some(v) = procedures::open_for_staff(&state.store, &staff, id)
        .await
        .or_internal()?
    else {
        return Err(not_found());
    };
    let changes = procedures::compare::change_rows(&state.store, &staff, id)
        .await
        .or_internal()?;
    let message = match d.done.as_str() {
        "approve" => Some("承認しました。"),
        "send_back" => Some("差し戻しました。"),
        "reject" => Some("却下しました。"),
        "confirm" => Some("確認済みにしました。"),
        "filed" => Some("代行入力で申請しました。"),
        _ => None,
    };
    let classes = procedures::classes::class_choice(&state.store, &staff, id)
        .await
        .or_internal()?;
    Ok(detail(csrf, &v, changes.as_deref(), classes.as_deref(), message).into_response())
}

#[derive(Debug, Default, Deserialize)]
pub struct DecideForm {
    #[serde(default)]
    version: u64,
    #[serde(default)]
    action: String,
    #[serde(default)]
    date: String,
    #[serde(default)]
    text: String,
    /// The association's own class, for a 入会 (see `procedures::classes`).
    #[serde(default)]
    class: String,
}

/// Shows the application again with `message` and `status`.
async fn again(
    state: &AppState,
    csrf: &str,
    staff: &Staff,
    id: u64,
    message: &str,
    status: StatusCode,
) -> poem::Result<Response> {
    let Some(v) = procedures::open_for_staff(&state.store, staff, id)
        .await
        .or_internal()?
    else {
        return Err(not_found());
    };
    let changes = procedures::compare::change_rows(&state.store, staff, id)
        .await
        .or_internal()?;
    let classes = procedures::classes::class_choice(&state.store, staff, id)
        .await
        .or_internal()?;
    Ok(detail(
        csrf,
        &v,
        changes.as_deref(),
        classes.as_deref(),
        Some(message),
    )
    .with_status(status)
    .into_response())
}

#[handler]
pub async fn decide(
    state: Data<&AppState>,
    csrf: &CsrfToken,
    staff: Staff,
    Path(id): Path<u64>,
    Form(f): Form<DecideForm>,
) -> poem::Result<Response> {
    let date = match f.date.trim() {
        "" => None,
        s => match Date::parse_as(s, "入会日・効力発生日") {
            Ok(d) => Some(d.get()),
            Err(e) => {
                return again(
                    &state,
                    csrf,
                    &staff,
                    id,
                    &e,
                    StatusCode::UNPROCESSABLE_ENTITY,
                )
                .await;
            }
        },
    };
    let text: String = f.text.trim().chars().take(1000).collect();
    let decision = match f.action.as_str() {
        "approve" => Decision::Approve(date),
        "send_back" => Decision::SendBack(text),
        "reject" => Decision::Reject(text),
        _ => return Err(not_found()),
    };
    let done = match decision {
        Decision::Approve(date) => {
            let class = Some(f.class.trim().to_owned()).filter(|c| !c.is_empty());
            procedures::classes::approve(
                &state.store,
                &state.config,
                &state.mail,
                &staff,
                id,
                f.version,
                date,
                class,
            )
            .await
        }
        decision => {
            procedures::decide(
                &state.store,
                &state.config,
                &state.mail,
                &staff,
                id,
                f.version,
                decision,
            )
            .await
        }
    }
    .or_internal()?;
    match done {
        Ok(_) => Ok(
            Redirect::see_other(format!("{}?done={}", detail_path(id), f.action)).into_response(),
        ),
        Err(Refused::NotFound) => Err(not_found()),
        Err(r) => again(&state, csrf, &staff, id, &r.message(), StatusCode::CONFLICT).await,
    }
}

#[handler]
pub async fn confirm(
    state: Data<&AppState>,
    staff: Staff,
    Path(id): Path<u64>,
) -> poem::Result<Response> {
    match procedures::confirm_notice(&state.store, &staff, id)
        .await
        .or_internal()?
    {
        Ok(()) => {
            Ok(Redirect::see_other(format!("{}?done=confirm", detail_path(id))).into_response())
        }
        Err(_) => Err(not_found()),
    }
}

/// Bulk 承認: `item` is `id:version`, repeated.
#[handler]
pub async fn bulk(
    state: Data<&AppState>,
    staff: Staff,
    Form(pairs): Form<Vec<(String, String)>>,
) -> poem::Result<Response> {
    let items: Vec<(u64, u64)> = pairs
        .iter()
        .filter(|(k, _)| k == "item")
        .filter_map(|(_, v)| {
            let (id, version) = v.split_once(':')?;
            Some((id.parse().ok()?, version.parse().ok()?))
        })
        .collect();
    let date = pairs
        .iter()
        .find(|(k, _)| k == "date")
        .and_then(|(_, v)| Date::parse_as(v, "承認日").ok())
        .map(|d| d.get());
    let Some(date) = date else {
        return Ok(list_with("承認日を入力してください。"));
    };
    let class = pairs
        .iter()
        .find(|(k, _)| k == "class")
        .map(|(_, v)| v.trim().to_owned())
        .filter(|c| !c.is_empty());
    let results = procedures::classes::approve_many(
        &state.store,
        &state.config,
        &state.mail,
        &staff,
        items,
        date,
        class,
    )
    .await
    .or_internal()?;
    let ok = results.iter().filter(|(_, r)| r.is_ok()).count();
    let refused = results.len() - ok;
    Ok(list_with(&format!(
        "{ok}件を承認しました。承認できなかった申請：{refused}件"
    )))
}

/// Back to the list with a note.
fn list_with(note: &str) -> Response {
    let query = url::form_urlencoded::Serializer::new(String::new())
        .append_pair("done", &format!("bulk-{note}"))
        .finish();
    Redirect::see_other(format!("{LIST}?{query}")).into_response()
}
