//! 代行入力 of a 異動届 (種別変更 only): staff file a member's change of
//! class (勤務先での立場, 医賠責) from a paper form or at the counter
//! (`/office/people/:id/change`), with its 受付方法 (紙 / 窓口). The answers
//! are parsed by the 異動届 form of マイページ (`my_change::ChangeForm`). A
//! person outside the staff member's scope is answered with the 404 page.
//! No 確認 step: the form is a transcription.

use maud::{Markup, html};
use poem::{
    IntoResponse, Response, handler,
    http::StatusCode,
    web::{CsrfToken, Data, Form, Path, Redirect},
};

use super::{
    my_change::{self, ChangeForm},
    my_filing::{ProcErrors, errors_markup, field_message, pick},
    my_workplace::{self, WorkplaceForm},
    office_proxy_join::{INTAKES, class_region},
};
use crate::{
    auth::guards::Staff,
    domain::membership::Workplace,
    error::{OrInternal, UserError, status_message},
    service::{
        person_record,
        procedures::{self, Filer, Refused},
    },
    state::AppState,
    views::layout::{csrf_input, page as layout},
    web::office_history::person_path,
};

fn not_found() -> poem::Error {
    UserError::into_error(StatusCode::NOT_FOUND, status_message(StatusCode::NOT_FOUND))
}

/// The form of person `id`.
pub fn change_path(id: u64) -> String {
    format!("{}/change", person_path(id))
}

/// The answers as typed (or as on file when the form opens).
struct Answers {
    intake: String,
    workplace: WorkplaceForm,
    opt_out: bool,
    desired: String,
    reason: String,
}

impl Answers {
    fn from_pairs(pairs: &[(String, String)]) -> Answers {
        Answers {
            intake: pick(pairs, "intake").trim().to_owned(),
            workplace: WorkplaceForm::from_pairs(pairs),
            opt_out: !pick(pairs, "opt_out").is_empty(),
            desired: pick(pairs, "desired").trim().to_owned(),
            reason: pick(pairs, "reason").to_owned(),
        }
    }
}

fn page(csrf: &str, id: u64, name: &str, a: &Answers, errors: &ProcErrors) -> Markup {
    let title = format!("異動届（種別変更）の代行入力（{name}）");
    let body = html! {
        section.card aria-labelledby="proxy-title" {
            h1 #proxy-title { (title) }
            p { a href=(person_path(id)) { "← 利用者情報に戻る" } }
            p { "紙の異動届や窓口での届出のうち、会員種別の変更（勤務先での立場・日医医賠責保険の加入）を、ご本人に代わって入力します。" }
            (errors_markup(errors))
            form method="post" action=(change_path(id)) novalidate {
                (csrf_input(csrf))
                fieldset.field #intake aria-invalid=[errors.invalid("intake")] aria-describedby="m-intake" {
                    legend { "受付方法" span.req { "必須" } }
                    @for (key, i) in INTAKES {
                        label { input type="radio" name="intake" value=(key) checked[a.intake == key]; " " (i.label()) }
                    }
                    (field_message(errors, "intake"))
                }
                (my_workplace::fieldset(&a.workplace, errors))
                div.field {
                    label { input type="checkbox" name="opt_out" value="1" checked[a.opt_out]; " 日医医賠責保険に加入しない" }
                }
                (class_region(a.workplace.role(), a.opt_out))
                div.field {
                    label for="desired" { "異動日" span.req { "必須" } }
                    input #desired type="text" name="desired" aria-required="true" placeholder="2026/04/01" value=(a.desired)
                        aria-invalid=[errors.invalid("desired")] aria-describedby="m-desired";
                    (field_message(errors, "desired"))
                }
                div.field {
                    label for="reason" { "備考（任意）" }
                    textarea #reason name="reason" maxlength="1000" aria-invalid=[errors.invalid("reason")] aria-describedby="m-reason" { (a.reason) }
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
async fn name_of(state: &AppState, staff: &Staff, id: u64) -> poem::Result<String> {
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
    let file = procedures::memberships_of(&state.store, id)
        .await
        .or_internal()?;
    let a = Answers {
        intake: "paper".into(),
        workplace: WorkplaceForm::of(file.workplace.as_ref().unwrap_or(&Workplace::none())),
        opt_out: file.liability_opt_out,
        desired: String::new(),
        reason: String::new(),
    };
    Ok(page(csrf, id, &name, &a, &ProcErrors::default()).into_response())
}

/// Files the 種別変更 and shows the application, or the form again with
/// the messages and the values.
#[handler]
pub async fn submit(
    state: Data<&AppState>,
    csrf: &CsrfToken,
    staff: Staff,
    Path(id): Path<u64>,
    Form(mut pairs): Form<Vec<(String, String)>>,
) -> poem::Result<Response> {
    let name = name_of(&state, &staff, id).await?;
    let Some(mine) = my_change::mine(&state, id).await? else {
        return Err(not_found());
    };
    pairs.retain(|(k, _)| k != "what");
    pairs.push(("what".to_owned(), "class".to_owned()));
    let a = Answers::from_pairs(&pairs);
    let mut errors = ProcErrors::default();
    let intake = INTAKES
        .iter()
        .find(|(k, _)| *k == a.intake)
        .map(|(_, i)| *i);
    if intake.is_none() {
        errors.insert("intake", "受付方法", "受付方法を選んでください。");
    }
    let filing = match ChangeForm::from_pairs(&pairs, &mine).filing(&mine) {
        Ok(filing) => Some(filing),
        Err(p) => {
            errors.merge(p);
            None
        }
    };
    let (Some(intake), Some(filing), true) = (intake, filing, errors.is_empty()) else {
        return Ok(page(csrf, id, &name, &a, &errors)
            .with_status(StatusCode::UNPROCESSABLE_ENTITY)
            .into_response());
    };
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
        Ok(app) => Ok(Redirect::see_other(format!(
            "{}/{app}?done=filed",
            super::staff_applications::LIST
        ))
        .into_response()),
        Err(Refused::NotFound) => Err(not_found()),
        Err(r) => Ok(page(csrf, id, &name, &a, &ProcErrors::of_form(r.message()))
            .with_status(StatusCode::UNPROCESSABLE_ENTITY)
            .into_response()),
    }
}
