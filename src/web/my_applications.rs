//! The physician's procedures on マイページ: 所属状況 and 申請状況 (every
//! application with its step timeline, 差戻し comments with 「修正して
//! 再提出」, 取下げ), and the way into a sent-back application's form. The
//! forms themselves: `my_join` (入会申込), `my_change` (異動届),
//! `my_withdraw` (退会届); their 確認 and 申請完了: `my_filing`.

use maud::html;
use poem::{
    IntoResponse, Response, handler,
    http::StatusCode,
    web::{CsrfToken, Data, Form, Path, Query, Redirect},
};
use serde::Deserialize;

use super::{
    my_change,
    my_filing::{LIST, edit_url, person_of},
    my_join, my_withdraw,
};
use crate::{
    auth::guards::SignedIn,
    domain::{
        AssociationId,
        application::{Status, StepState},
        membership::Level,
        procedure::ApplicationKind,
    },
    error::not_found,
    error::{OrInternal, UserError},
    mail::templates::jst,
    service::procedures::{self, Filer, Refused},
    state::AppState,
    views::layout::{csrf_input, page as layout},
    web::paths,
};

#[derive(Debug, Default, Deserialize)]
pub struct DoneQuery {
    #[serde(default)]
    done: String,
}

fn state_class(s: StepState) -> &'static str {
    match s {
        StepState::Done => "done",
        StepState::Current => "current",
        StepState::Waiting => "waiting",
        StepState::SentBack => "sent-back",
        StepState::Rejected => "rejected",
        StepState::Withdrawn => "withdrawn",
    }
}

#[handler]
pub async fn list(
    state: Data<&AppState>,
    csrf: &CsrfToken,
    signed: SignedIn,
    Query(q): Query<DoneQuery>,
) -> poem::Result<Response> {
    let person = person_of(&signed)?;
    let file = procedures::memberships_of(&state.store, person)
        .await
        .or_internal()?;
    let apps = procedures::mine(&state.store, person).await.or_internal()?;
    let flags = procedures::flags(&state.store, person, crate::web::today())
        .await
        .or_internal()?
        .unwrap_or_default();
    let names = crate::service::associations::names(&state.store)
        .await
        .or_internal()?;
    let name_of = |id: AssociationId| names.get(&id).cloned().unwrap_or_default();
    let title = "申請状況";
    let body = html! {
        section.card aria-labelledby="memberships-title" {
            h1 { "所属状況・申請状況" }
            h2 #memberships-title { "所属状況" }
            p { a href=(paths::MYPAGE) { "← マイページに戻る" } }
            @match q.done.as_str() {
                "filed" => div.helpbox role="status" { p { "申請を受け付けました。確認のメールをお送りしました。" } },
                "withdrawn" => div.helpbox role="status" { p { "申請を取り下げました。" } },
                _ => {},
            }
            table {
                thead { tr { th scope="col" { "区分" } th scope="col" { "医師会" } th scope="col" { "会員種別" } th scope="col" { "入会日" } th scope="col" { "状態" } } }
                tbody {
                    @for level in Level::ALL {
                        @let m = file.memberships.iter().rev().find(|m| m.level == level);
                        @let pending = apps.iter().any(|a| a.application.status.is_open()
                            && a.application.stages.iter().any(|s| s.level == level));
                        tr {
                            th scope="row" { (level.label()) }
                            @match m {
                                Some(m) => {
                                    td { (name_of(m.association)) }
                                    td { (m.class()) }
                                    td { (m.joined) }
                                    td { (m.state_label()) @if let Some(left) = m.left { "（" (left) "）" } }
                                }
                                None => {
                                    td { "-" } td { "-" } td { "-" }
                                    td { (if pending { "申請中" } else { "未入会" }) }
                                }
                            }
                        }
                    }
                }
            }
            @if flags.dues_reduced {
                p.hint { "卒後5年目までのため、日医会費の減免の対象です。" }
            }
            @if flags.class_change_due {
                div.helpbox role="status" { p { "臨床研修の2年間が経過しました。会員種別の変更（異動届）をお願いします。" } }
            }
            ul.linklist {
                li { a href=(my_join::NEW) { "入会申込 →" } }
                li { a href=(my_change::CHANGE) { "異動届（記録の変更・会員種別の変更・所属医師会の移動） →" } }
                li { a href=(my_withdraw::WITHDRAW) { "退会届 →" } }
            }
        }
        section.card aria-labelledby="apps-title" {
            h2 #apps-title { (title) }
            @if apps.is_empty() {
                p { "申請はありません。" }
            }
            @for v in &apps {
                @let a = &v.application;
                article.application #{ "application-" (a.id) } {
                    h3 { "申請番号 " (a.id) "：" (a.procedure.summary()) "（" (a.status.label()) "）" }
                    ol.timeline aria-label="手続きの流れ" {
                        @for t in &v.timeline {
                            li class=(state_class(t.state)) {
                                (t.label)
                                @if let Some(at) = t.at { " " small { (jst(at)) } }
                                @if t.state == StepState::Current { " ← 現在ここで確認中です" }
                            }
                        }
                    }
                    @for s in a.steps.iter().filter(|s| !s.text.is_empty()) {
                        p.comment { (s.action.label()) "：" (s.text) }
                    }
                    @if let Some(d) = a.effective { p { "効力発生日：" (d) } }
                    @if matches!(a.status, Status::SentBack { .. }) {
                        p.actions { a.button href=(edit_url(a.id)) { "修正して再提出" } }
                    }
                    @if matches!(a.status, Status::Pending { stage: 0 }) && a.approvals_this_round() == 0 || matches!(a.status, Status::SentBack { .. }) {
                        form method="post" action={ (LIST) "/" (a.id) "/withdraw" } {
                            (csrf_input(csrf))
                            input type="hidden" name="version" value=(a.version);
                            div.actions { button.secondary type="submit" { "取下げ" } }
                        }
                    }
                }
            }
        }
    };
    Ok(layout(title, Some(csrf), body).into_response())
}

#[derive(Debug, Default, Deserialize)]
pub struct VersionForm {
    #[serde(default)]
    version: u64,
}

/// 取下げ by the applicant.
#[handler]
pub async fn withdraw_application(
    state: Data<&AppState>,
    signed: SignedIn,
    Path(id): Path<u64>,
    Form(f): Form<VersionForm>,
) -> poem::Result<Response> {
    let person = person_of(&signed)?;
    let done = procedures::withdraw(
        &state.store,
        &state.config,
        &state.mail,
        Filer::Physician(person),
        id,
        f.version,
    )
    .await
    .or_internal()?;
    match done {
        Ok(()) => Ok(Redirect::see_other(format!("{LIST}?done=withdrawn")).into_response()),
        Err(Refused::Transition(r)) => {
            Err(UserError::into_error(StatusCode::CONFLICT, r.message()))
        }
        Err(_) => Err(not_found()),
    }
}

/// 「修正して再提出」: the form of a sent-back application, pre-filled
/// with its answers; anything else goes back to 申請状況.
#[handler]
pub async fn edit(
    state: Data<&AppState>,
    csrf: &CsrfToken,
    signed: SignedIn,
    Path(id): Path<u64>,
) -> poem::Result<Response> {
    let person = person_of(&signed)?;
    let apps = procedures::mine(&state.store, person).await.or_internal()?;
    let Some(v) = apps.into_iter().find(|v| v.application.id == id) else {
        return Err(not_found());
    };
    let a = &v.application;
    if !matches!(a.status, Status::SentBack { .. }) {
        return Ok(Redirect::see_other(format!("{LIST}#application-{id}")).into_response());
    }
    match a.procedure.kind() {
        ApplicationKind::Join => my_join::edit_page(&state, csrf, a).await,
        ApplicationKind::Change => my_change::edit_page(&state, csrf, person, a).await,
        ApplicationKind::Withdraw => my_withdraw::edit_page(csrf, a),
    }
}
