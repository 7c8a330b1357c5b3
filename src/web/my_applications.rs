//! The physician's procedures on マイページ: 所属状況 and 申請状況 (every
//! application with its step timeline, 差戻し comments, 取下げ), the
//! 入会申込 form with the 日医 class shown as the answers are given (htmx),
//! and the 退会届.

use maud::{Markup, html};
use poem::{
    IntoResponse, Response, handler,
    http::StatusCode,
    web::{CsrfToken, Data, Form, Path, Query, Redirect},
};
use serde::Deserialize;

use crate::{
    auth::guards::SignedIn,
    domain::{
        AssociationId, Date, Role,
        application::{Filing, StepState},
        membership::{JmaClass, Level, MailTo, WorkRole, Workplace, WorkplaceKind},
        procedure::{Join, Procedure, WithdrawScope},
    },
    error::{OrInternal, UserError, status_message},
    htmx,
    mail::templates::jst,
    service::procedures::{self, Filer, Refused},
    state::AppState,
    views::layout::{csrf_input, page as layout},
    web::paths,
};

/// 申請状況 (and 所属状況).
pub const LIST: &str = "/mypage/applications";
/// 入会申込.
pub const NEW: &str = "/mypage/applications/new";
/// 退会届.
pub const WITHDRAW: &str = "/mypage/applications/withdraw";
/// The htmx region with the derived 日医 class.
pub const CLASS: &str = "/mypage/applications/class";

fn not_found() -> poem::Error {
    UserError::into_error(StatusCode::NOT_FOUND, status_message(StatusCode::NOT_FOUND))
}

/// The physician's person id (= account id); staff have no procedures.
fn person_of(signed: &SignedIn) -> poem::Result<u64> {
    match signed.0.role {
        Role::Physician | Role::Member => Ok(signed.0.id),
        Role::Staff { .. } => Err(not_found()),
    }
}

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
    let choices = procedures::local_associations(&state.store)
        .await
        .or_internal()?;
    let flags = procedures::flags(&state.store, person, crate::web::today())
        .await
        .or_internal()?
        .unwrap_or_default();
    let name_of = |id: AssociationId| {
        choices
            .iter()
            .find(|c| c.id == id)
            .map(|c| c.name.clone())
            .unwrap_or_default()
    };
    let title = "申請状況";
    let body = html! {
        section.card aria-labelledby="memberships-title" {
            h1 #memberships-title { "所属状況" }
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
                                    td { (if level == Level::District { name_of(m.association) } else { level.label().to_owned() }) }
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
                li { a href=(NEW) { "入会申込 →" } }
                li { a href=(WITHDRAW) { "退会届 →" } }
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
                    @if a.status.is_open() && a.approvals_this_round() == 0 || matches!(a.status, crate::domain::application::Status::SentBack { .. }) {
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

/// The 入会申込 form as typed.
#[derive(Clone, Debug, Default, Deserialize)]
pub struct JoinForm {
    #[serde(default)]
    district: String,
    #[serde(default)]
    levels: String,
    #[serde(default)]
    wp_kind: String,
    #[serde(default)]
    wp_role: String,
    #[serde(default)]
    wp_name: String,
    #[serde(default)]
    wp_postal: String,
    #[serde(default)]
    wp_address: String,
    #[serde(default)]
    wp_phone: String,
    #[serde(default)]
    mail_to: String,
    #[serde(default)]
    opt_out: String,
    #[serde(default)]
    reason: String,
    #[serde(default)]
    desired: String,
}

impl JoinForm {
    fn role(&self) -> WorkRole {
        WorkRole::from_key(&self.wp_role).unwrap_or(WorkRole::Employed)
    }

    fn opt_out(&self) -> bool {
        !self.opt_out.is_empty()
    }

    fn levels(&self) -> Option<Vec<Level>> {
        match self.levels.as_str() {
            "d" => Some(vec![Level::District]),
            "dp" => Some(vec![Level::District, Level::Prefecture]),
            "dpn" => Some(vec![Level::District, Level::Prefecture, Level::National]),
            _ => None,
        }
    }

    /// The filing, or the messages of what is missing.
    fn filing(&self) -> Result<Filing, Vec<String>> {
        let mut errors = Vec::new();
        let district = self.district.trim().parse::<u64>().ok().map(AssociationId);
        if district.is_none() {
            errors.push("郡市区等医師会を選んでください。".to_owned());
        }
        let levels = self.levels();
        if levels.is_none() {
            errors.push("入会する医師会の範囲を選んでください。".to_owned());
        }
        let kind = WorkplaceKind::from_key(&self.wp_kind);
        let role = WorkRole::from_key(&self.wp_role);
        if kind.is_none() || role.is_none() {
            errors.push("勤務先の種別と立場を選んでください。".to_owned());
        }
        let mail_to = match self.mail_to.as_str() {
            "home" => Some(MailTo::Home),
            "work" => Some(MailTo::Work),
            _ => None,
        };
        if mail_to.is_none() {
            errors.push("送付先を選んでください。".to_owned());
        }
        let desired = match self.desired.trim() {
            "" => None,
            s => match Date::parse_as(s, "入会希望日") {
                Ok(d) => Some(d.get()),
                Err(e) => {
                    errors.push(e);
                    None
                }
            },
        };
        if self.reason.chars().count() > 1000 {
            errors.push("備考は1,000文字以内で入力してください。".to_owned());
        }
        let (Some(district), Some(levels), Some(kind), Some(role), Some(mail_to)) =
            (district, levels, kind, role, mail_to)
        else {
            return Err(errors);
        };
        let workplace = Workplace {
            kind,
            role,
            name: self.wp_name.trim().to_owned(),
            postal_code: self.wp_postal.trim().to_owned(),
            address: self.wp_address.trim().to_owned(),
            phone: self.wp_phone.trim().to_owned(),
        };
        errors.extend(workplace.problems());
        if !errors.is_empty() {
            return Err(errors);
        }
        Ok(Filing {
            procedure: Procedure::Join(Join {
                district,
                levels,
                workplace,
                mail_to,
                liability_opt_out: self.opt_out(),
                district_class: String::new(),
                prefecture_class: String::new(),
            }),
            reason: self.reason.trim().to_owned(),
            desired,
        })
    }
}

/// The region with the 日医 class the answers give.
fn class_region(role: WorkRole, opt_out: bool) -> Markup {
    let class = JmaClass::derive(role, opt_out);
    html! {
        div #jma-class role="status" hx-post=(CLASS) hx-trigger="change from:closest form"
            hx-include="closest form" hx-swap="outerHTML" {
            p { "日医の会員種別（日医に入会する場合）：" strong { (class.label()) } }
            p.hint {
                @if class.has_liability_insurance() { "日医医賠責保険が付きます。" }
                @else { "日医医賠責保険は付きません。" }
            }
        }
    }
}

fn join_page(
    csrf: &str,
    f: &JoinForm,
    choices: &[procedures::LocalChoice],
    errors: &[String],
) -> Markup {
    let opt = |v: &str, cur: &str| v == cur;
    let title = "入会申込";
    let body = html! {
        section.card aria-labelledby="join-title" {
            h1 #join-title { (title) }
            p { a href=(LIST) { "← 申請状況に戻る" } }
            @if !errors.is_empty() {
                div.error-summary role="alert" {
                    p { "入力内容を確認してください。" }
                    ul { @for e in errors { li { (e) } } }
                }
            }
            form method="post" action=(NEW) novalidate {
                (csrf_input(csrf))
                div.field {
                    label for="district" { "入会する郡市区等医師会" }
                    select #district name="district" {
                        option value="" { "選択してください" }
                        @for c in choices {
                            option value=(c.id.0) selected[f.district == c.id.0.to_string()] { (c.prefecture) "　" (c.name) }
                        }
                    }
                }
                fieldset.field {
                    legend { "入会する医師会の範囲" }
                    @for (v, label) in [("d", "郡市区等医師会のみ"), ("dp", "郡市区等医師会・都道府県医師会"), ("dpn", "郡市区等医師会・都道府県医師会・日本医師会")] {
                        label { input type="radio" name="levels" value=(v) checked[opt(v, &f.levels)]; " " (label) }
                    }
                }
                fieldset.field {
                    legend { "勤務先" }
                    label for="wp_kind" { "種別" }
                    select #wp_kind name="wp_kind" {
                        @for k in WorkplaceKind::ALL { option value=(k.key()) selected[opt(k.key(), &f.wp_kind)] { (k.label()) } }
                    }
                    label for="wp_role" { "立場" }
                    select #wp_role name="wp_role" {
                        @for r in WorkRole::ALL { option value=(r.key()) selected[opt(r.key(), &f.wp_role) || (f.wp_role.is_empty() && r == WorkRole::Employed)] { (r.label()) } }
                    }
                    label for="wp_name" { "名称" }
                    input #wp_name type="text" name="wp_name" maxlength="100" value=(f.wp_name);
                    label for="wp_postal" { "郵便番号" }
                    input #wp_postal type="text" name="wp_postal" maxlength="10" value=(f.wp_postal);
                    label for="wp_address" { "所在地" }
                    input #wp_address type="text" name="wp_address" maxlength="200" value=(f.wp_address);
                    label for="wp_phone" { "電話番号" }
                    input #wp_phone type="tel" name="wp_phone" maxlength="20" value=(f.wp_phone);
                }
                fieldset.field {
                    legend { "送付先" }
                    label { input type="radio" name="mail_to" value="home" checked[f.mail_to != "work"]; " 自宅" }
                    label { input type="radio" name="mail_to" value="work" checked[f.mail_to == "work"]; " 勤務先" }
                }
                div.field {
                    label { input type="checkbox" name="opt_out" value="1" checked[f.opt_out()]; " 日医医賠責保険に加入しない" }
                }
                (class_region(f.role(), f.opt_out()))
                div.field {
                    label for="desired" { "入会希望日（任意）" }
                    input #desired type="text" name="desired" placeholder="2026/04/01" value=(f.desired);
                }
                div.field {
                    label for="reason" { "備考（任意）" }
                    textarea #reason name="reason" maxlength="1000" { (f.reason) }
                }
                div.actions { button type="submit" { "申請する" } }
            }
        }
    };
    layout(title, Some(csrf), body)
}

#[handler]
pub async fn new_join(
    state: Data<&AppState>,
    csrf: &CsrfToken,
    signed: SignedIn,
) -> poem::Result<Response> {
    person_of(&signed)?;
    let choices = procedures::local_associations(&state.store)
        .await
        .or_internal()?;
    Ok(join_page(csrf, &JoinForm::default(), &choices, &[]).into_response())
}

/// The 日医 class for the answers so far (htmx).
#[handler]
pub async fn class_preview(signed: SignedIn, Form(f): Form<JoinForm>) -> poem::Result<Response> {
    person_of(&signed)?;
    Ok(htmx::vary(class_region(f.role(), f.opt_out())))
}

async fn refused_join(
    state: &AppState,
    csrf: &str,
    f: &JoinForm,
    errors: &[String],
) -> poem::Result<Response> {
    let choices = procedures::local_associations(&state.store)
        .await
        .or_internal()?;
    Ok(join_page(csrf, f, &choices, errors)
        .with_status(StatusCode::UNPROCESSABLE_ENTITY)
        .into_response())
}

#[handler]
pub async fn submit_join(
    state: Data<&AppState>,
    csrf: &CsrfToken,
    signed: SignedIn,
    Form(f): Form<JoinForm>,
) -> poem::Result<Response> {
    let person = person_of(&signed)?;
    let filing = match f.filing() {
        Ok(filing) => filing,
        Err(errors) => return refused_join(&state, csrf, &f, &errors).await,
    };
    let filed = procedures::file(
        &state.store,
        &state.config,
        &state.mail,
        Filer::Physician(person),
        person,
        filing,
    )
    .await
    .or_internal()?;
    match filed {
        Ok(_) => Ok(Redirect::see_other(format!("{LIST}?done=filed")).into_response()),
        Err(Refused::NotFound) => Err(not_found()),
        Err(r) => refused_join(&state, csrf, &f, &[r.message()]).await,
    }
}

/// The 退会届 as typed.
#[derive(Clone, Debug, Default, Deserialize)]
pub struct WithdrawForm {
    #[serde(default)]
    scope: String,
    #[serde(default)]
    reason: String,
    #[serde(default)]
    desired: String,
}

fn withdraw_page(csrf: &str, f: &WithdrawForm, errors: &[String]) -> Markup {
    let scopes = [
        ("all", WithdrawScope::All),
        ("pn", WithdrawScope::PrefectureAndNational),
        ("n", WithdrawScope::NationalOnly),
    ];
    let title = "退会届";
    let body = html! {
        section.card aria-labelledby="withdraw-title" {
            h1 #withdraw-title { (title) }
            p { a href=(LIST) { "← 申請状況に戻る" } }
            @if !errors.is_empty() {
                div.error-summary role="alert" { ul { @for e in errors { li { (e) } } } }
            }
            form method="post" action=(WITHDRAW) novalidate {
                (csrf_input(csrf))
                fieldset.field {
                    legend { "退会する医師会" }
                    @for (v, s) in scopes {
                        label { input type="radio" name="scope" value=(v) checked[f.scope == v]; " " (s.label()) }
                    }
                }
                div.field {
                    label for="desired" { "退会日" }
                    input #desired type="text" name="desired" placeholder="2027/03/31" value=(f.desired);
                }
                div.field {
                    label for="reason" { "理由" }
                    textarea #reason name="reason" maxlength="1000" { (f.reason) }
                }
                div.actions { button type="submit" { "退会を届け出る" } }
            }
        }
    };
    layout(title, Some(csrf), body)
}

#[handler]
pub async fn new_withdraw(csrf: &CsrfToken, signed: SignedIn) -> poem::Result<Response> {
    person_of(&signed)?;
    Ok(withdraw_page(csrf, &WithdrawForm::default(), &[]).into_response())
}

#[handler]
pub async fn submit_withdraw(
    state: Data<&AppState>,
    csrf: &CsrfToken,
    signed: SignedIn,
    Form(f): Form<WithdrawForm>,
) -> poem::Result<Response> {
    let person = person_of(&signed)?;
    let mut errors = Vec::new();
    let scope = match f.scope.as_str() {
        "all" => Some(WithdrawScope::All),
        "pn" => Some(WithdrawScope::PrefectureAndNational),
        "n" => Some(WithdrawScope::NationalOnly),
        _ => None,
    };
    if scope.is_none() {
        errors.push("退会する医師会を選んでください。".to_owned());
    }
    let desired = match f.desired.trim() {
        "" => None,
        s => match Date::parse_as(s, "退会日") {
            Ok(d) => Some(d.get()),
            Err(e) => {
                errors.push(e);
                None
            }
        },
    };
    if f.reason.chars().count() > 1000 {
        errors.push("理由は1,000文字以内で入力してください。".to_owned());
    }
    let (Some(scope), true) = (scope, errors.is_empty()) else {
        return Ok(withdraw_page(csrf, &f, &errors)
            .with_status(StatusCode::UNPROCESSABLE_ENTITY)
            .into_response());
    };
    let filing = Filing {
        procedure: Procedure::Withdraw(scope),
        reason: f.reason.trim().to_owned(),
        desired,
    };
    let filed = procedures::file(
        &state.store,
        &state.config,
        &state.mail,
        Filer::Physician(person),
        person,
        filing,
    )
    .await
    .or_internal()?;
    match filed {
        Ok(_) => Ok(Redirect::see_other(format!("{LIST}?done=filed")).into_response()),
        Err(Refused::NotFound) => Err(not_found()),
        Err(r) => Ok(withdraw_page(csrf, &f, &[r.message()])
            .with_status(StatusCode::UNPROCESSABLE_ENTITY)
            .into_response()),
    }
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
