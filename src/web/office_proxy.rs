//! 代行入力 of a 退会届: staff file a member's withdrawal from a paper form
//! or at the counter (`/office/people/:id/withdraw`), recorded with its
//! 受付方法 (紙 / 窓口) and the staff account that entered it; it then goes
//! up the levels like one filed on マイページ. A person outside the staff
//! member's scope is answered with the 404 page. It also holds what every
//! 代行入力 form shares (the 受付方法, the person's name read in scope, the
//! filing and its redirect).

use maud::{Markup, html};
use poem::{
    IntoResponse, Response, handler,
    http::StatusCode,
    web::{CsrfToken, Data, Form, Path, Redirect},
};
use serde::Deserialize;

use super::my_filing::{ProcErrors, check_reason, errors_markup, field_message, optional_date};
use crate::{
    auth::guards::Staff,
    domain::{
        application::Filing,
        procedure::{Intake, Procedure, WithdrawScope},
    },
    error::{OrInternal, not_found},
    service::{
        person_record,
        procedures::{self, Filer, Refused},
    },
    state::AppState,
    views::{
        components::msg_id,
        layout::{csrf_input, page as layout},
    },
    web::office_history::person_path,
};

/// The form of person `id`.
pub fn withdraw_path(id: u64) -> String {
    format!("{}/withdraw", person_path(id))
}

#[derive(Debug, Default, Deserialize)]
pub struct ProxyWithdrawForm {
    #[serde(default)]
    scope: String,
    #[serde(default)]
    intake: String,
    #[serde(default)]
    desired: String,
    #[serde(default)]
    reason: String,
}

const SCOPES: [(&str, WithdrawScope); 3] = [
    ("all", WithdrawScope::All),
    ("pn", WithdrawScope::PrefectureAndNational),
    ("n", WithdrawScope::NationalOnly),
];
/// The ways a form on paper comes in, by their form value (every 代行入力).
pub(crate) const INTAKES: [(&str, Intake); 2] =
    [("paper", Intake::Paper), ("counter", Intake::Counter)];

/// The 受付方法 posted as `key`, if it is one.
pub(crate) fn intake_of(key: &str) -> Option<Intake> {
    INTAKES.iter().find(|(k, _)| *k == key).map(|(_, i)| *i)
}

fn page(csrf: &str, id: u64, name: &str, f: &ProxyWithdrawForm, errors: &ProcErrors) -> Markup {
    let title = format!("退会届の代行入力（{name}）");
    let body = html! {
        section.card aria-labelledby="proxy-title" {
            h1 #proxy-title { (title) }
            p { a href=(person_path(id)) { "← 利用者情報に戻る" } }
            p { "紙の退会届や窓口での届出を、ご本人に代わって入力します。入力した申請は、ご本人が申請した場合と同じく各医師会の承認を経て完了します。" }
            (errors_markup(errors))
            form method="post" action=(withdraw_path(id)) novalidate {
                (csrf_input(csrf))
                fieldset.field #intake aria-invalid=[errors.invalid("intake")] aria-describedby=(msg_id("intake")) {
                    legend { "受付方法" span.req { "必須" } }
                    @for (key, intake) in INTAKES {
                        label { input type="radio" name="intake" value=(key) checked[f.intake == key]; " " (intake.label()) }
                    }
                    (field_message(errors, "intake"))
                }
                fieldset.field #scope aria-invalid=[errors.invalid("scope")] aria-describedby=(msg_id("scope")) {
                    legend { "退会する医師会" span.req { "必須" } }
                    @for (key, scope) in SCOPES {
                        label { input type="radio" name="scope" value=(key) checked[f.scope == key]; " " (scope.label()) }
                    }
                    (field_message(errors, "scope"))
                }
                div.field {
                    label for="desired" { "退会希望日（任意）" }
                    input #desired type="text" name="desired" value=(f.desired) placeholder="2026/03/31"
                        aria-invalid=[errors.invalid("desired")] aria-describedby=(msg_id("desired"));
                    (field_message(errors, "desired"))
                }
                div.field {
                    label for="reason" { "理由・備考（任意）" }
                    textarea #reason name="reason" maxlength="1000"
                        aria-invalid=[errors.invalid("reason")] aria-describedby=(msg_id("reason")) { (f.reason) }
                    (field_message(errors, "reason"))
                }
                div.actions { button type="submit" { "代行入力で申請する" } }
            }
        }
    };
    layout(&title, Some(csrf), body)
}

/// The name of person `id` when `staff` may see them; the 404 page
/// otherwise.
pub(crate) async fn name_of(state: &AppState, staff: &Staff, id: u64) -> poem::Result<String> {
    let rec = person_record::open(&state.store, staff, id)
        .await
        .or_internal()?
        .ok_or_else(not_found)?;
    Ok(rec.person.display_name())
}

#[handler]
pub async fn form(
    state: Data<&AppState>,
    csrf: &CsrfToken,
    staff: Staff,
    Path(id): Path<u64>,
) -> poem::Result<Response> {
    let name = name_of(&state, &staff, id).await?;
    let f = ProxyWithdrawForm {
        intake: "paper".into(),
        ..ProxyWithdrawForm::default()
    };
    Ok(page(csrf, id, &name, &f, &ProcErrors::default()).into_response())
}

#[handler]
pub async fn submit(
    state: Data<&AppState>,
    csrf: &CsrfToken,
    staff: Staff,
    Path(id): Path<u64>,
    Form(f): Form<ProxyWithdrawForm>,
) -> poem::Result<Response> {
    let name = name_of(&state, &staff, id).await?;
    let mut errors = ProcErrors::default();
    let intake = intake_of(&f.intake);
    if intake.is_none() {
        errors.insert("intake", "受付方法", "受付方法を選んでください。");
    }
    let scope = SCOPES.iter().find(|(k, _)| *k == f.scope).map(|(_, s)| *s);
    if scope.is_none() {
        errors.insert(
            "scope",
            "退会する医師会",
            "退会する医師会を選んでください。",
        );
    }
    let desired = optional_date(&f.desired, "退会希望日", &mut errors);
    check_reason(&f.reason, "理由", &mut errors);
    let refuse = |errors: &ProcErrors| {
        page(csrf, id, &name, &f, errors)
            .with_status(StatusCode::UNPROCESSABLE_ENTITY)
            .into_response()
    };
    let (Some(scope), Some(intake), true) = (scope, intake, errors.is_empty()) else {
        return Ok(refuse(&errors));
    };
    let filing = Filing {
        procedure: Procedure::Withdraw(scope),
        reason: f.reason.trim().to_owned(),
        desired,
    };
    match file_on_behalf(&state, &staff, id, intake, filing).await? {
        Ok(done) => Ok(done),
        Err(r) => Ok(refuse(&ProcErrors::of_form(r.message()))),
    }
}

/// Files `filing` for person `id` as `staff` received it (`intake`): the
/// redirect to the new application, or the service's refusal (a person
/// gone from the scope meanwhile is the 404 page).
pub(crate) async fn file_on_behalf(
    state: &AppState,
    staff: &Staff,
    id: u64,
    intake: Intake,
    filing: Filing,
) -> poem::Result<Result<Response, Refused>> {
    let filed = procedures::file(
        &state.store,
        &state.config,
        &state.mail,
        Filer::Staff(staff.clone(), intake),
        id,
        filing,
    )
    .await
    .or_internal()?;
    match filed {
        Ok(app) => Ok(Ok(Redirect::see_other(format!(
            "{}/{app}?done=filed",
            super::staff_applications::LIST
        ))
        .into_response())),
        Err(Refused::NotFound) => Err(not_found()),
        Err(r) => Ok(Err(r)),
    }
}
