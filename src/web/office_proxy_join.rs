//! 代行入力 of a 入会申込: staff file a member's join from a paper form or
//! at the counter (`/office/people/:id/join`), with its 受付方法 (紙 /
//! 窓口). The answers are those of the 入会申込 on マイページ, parsed by
//! the same `JoinForm`; only the 郡市区等医師会 within the staff member's
//! scope may be chosen. A person outside the scope is answered with the
//! 404 page. No 確認 step: the form is a transcription.

use maud::{Markup, html};
use poem::{
    IntoResponse, Response, handler,
    http::StatusCode,
    web::{CsrfToken, Data, Form, Path},
};

use super::{
    my_filing::{ProcErrors, errors_markup, field_message, pick},
    my_join::{JoinForm, LEVELS},
    my_workplace::{self, WorkplaceForm},
    office_proxy::{INTAKES, file_on_behalf, intake_of, name_of},
};
use crate::{
    auth::guards::Staff,
    domain::membership::WorkRole,
    error::OrInternal,
    htmx,
    service::{
        office,
        procedures::{self, LocalChoice},
    },
    state::AppState,
    views::layout::{csrf_input, page as layout},
    web::office_history::person_path,
};

/// The htmx region with the derived 日医 class, for staff.
pub const CLASS: &str = "/office/proxy/class";

const NO_DISTRICT: &str = "入会先に選べる郡市区等医師会は、担当範囲内のものに限られます。";

/// The form of person `id`.
pub fn join_path(id: u64) -> String {
    format!("{}/join", person_path(id))
}

/// The region with the 日医 class the answers give; it asks again (as
/// staff) when the form changes.
pub(crate) fn class_region(role: WorkRole, opt_out: bool) -> Markup {
    my_workplace::class_region_at(CLASS, role, opt_out)
}

struct View<'a> {
    csrf: &'a str,
    id: u64,
    name: &'a str,
    intake: &'a str,
    f: &'a JoinForm,
    choices: &'a [LocalChoice],
    errors: &'a ProcErrors,
}

fn page(v: &View) -> Markup {
    let View {
        csrf,
        id,
        name,
        intake,
        f,
        choices,
        errors,
    } = v;
    let title = format!("入会申込の代行入力（{name}）");
    let body = html! {
        section.card aria-labelledby="proxy-title" {
            h1 #proxy-title { (title) }
            p { a href=(person_path(*id)) { "← 利用者情報に戻る" } }
            p { "紙の入会申込書や窓口での申込を、ご本人に代わって入力します。入力した申請は、ご本人が申請した場合と同じく各医師会の承認を経て完了します。" }
            (errors_markup(errors))
            form method="post" action=(join_path(*id)) novalidate {
                (csrf_input(csrf))
                fieldset.field #intake aria-invalid=[errors.invalid("intake")] aria-describedby="m-intake" {
                    legend { "受付方法" span.req { "必須" } }
                    @for (key, i) in INTAKES {
                        label { input type="radio" name="intake" value=(key) checked[*intake == key]; " " (i.label()) }
                    }
                    (field_message(errors, "intake"))
                }
                div.field {
                    label for="district" { "入会する郡市区等医師会" span.req { "必須" } }
                    select #district name="district" aria-required="true" aria-invalid=[errors.invalid("district")] aria-describedby="m-district" {
                        option value="" { "選択してください" }
                        @for c in choices.iter() {
                            option value=(c.id.0) selected[f.district == c.id.0.to_string()] { (c.prefecture) "　" (c.name) }
                        }
                    }
                    (field_message(errors, "district"))
                }
                fieldset.field #levels aria-invalid=[errors.invalid("levels")] aria-describedby="m-levels" {
                    legend { "入会する医師会の範囲" span.req { "必須" } }
                    @for (key, label) in LEVELS {
                        label { input type="radio" name="levels" value=(key) checked[key == f.levels]; " " (label) }
                    }
                    (field_message(errors, "levels"))
                }
                (my_workplace::fieldset(&f.workplace, errors))
                fieldset.field {
                    legend { "送付先" }
                    label { input type="radio" name="mail_to" value="home" checked[f.mail_to != "work"]; " 自宅" }
                    label { input type="radio" name="mail_to" value="work" checked[f.mail_to == "work"]; " 勤務先" }
                }
                div.field {
                    label { input type="checkbox" name="opt_out" value="1" checked[f.opt_out()]; " 日医医賠責保険に加入しない" }
                }
                (class_region(f.workplace.role(), f.opt_out()))
                div.field {
                    label for="desired" { "入会希望日（任意）" }
                    input #desired type="text" name="desired" placeholder="2026/04/01" value=(f.desired);
                }
                div.field {
                    label for="reason" { "備考（任意）" }
                    textarea #reason name="reason" maxlength="1000" { (f.reason) }
                }
                div.actions { button type="submit" { "代行入力で申請する" } }
            }
        }
    };
    layout(&title, Some(csrf), body)
}

/// The 郡市区等医師会 `staff` may file a join into.
async fn choices(state: &AppState, staff: &Staff) -> poem::Result<Vec<LocalChoice>> {
    let scope = office::scope_of(&state.store, staff.association)
        .await
        .or_internal()?;
    let all = procedures::local_associations(&state.store)
        .await
        .or_internal()?;
    Ok(all.into_iter().filter(|c| scope.allows(c.id)).collect())
}

#[handler]
pub async fn form(
    state: Data<&AppState>,
    csrf: &CsrfToken,
    staff: Staff,
    Path(id): Path<u64>,
) -> poem::Result<Response> {
    let name = name_of(&state, &staff, id).await?;
    let choices = choices(&state, &staff).await?;
    let mut f = JoinForm::default();
    // A district staff member has one association to choose: chosen.
    if let [only] = choices.as_slice() {
        f.district = only.id.0.to_string();
    }
    let view = View {
        csrf,
        id,
        name: &name,
        intake: "paper",
        f: &f,
        choices: &choices,
        errors: &ProcErrors::default(),
    };
    Ok(page(&view).into_response())
}

/// The 日医 class for the answers so far (htmx).
#[handler]
pub async fn class_preview(
    _staff: Staff,
    Form(pairs): Form<Vec<(String, String)>>,
) -> poem::Result<Response> {
    let role = WorkplaceForm::from_pairs(&pairs).role();
    let opt_out = !pick(&pairs, "opt_out").is_empty();
    Ok(htmx::vary(class_region(role, opt_out)))
}

/// Files the join and shows the application, or the form again with the
/// messages and the values.
#[handler]
pub async fn submit(
    state: Data<&AppState>,
    csrf: &CsrfToken,
    staff: Staff,
    Path(id): Path<u64>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> poem::Result<Response> {
    let name = name_of(&state, &staff, id).await?;
    let choices = choices(&state, &staff).await?;
    let f = JoinForm::from_pairs(&pairs);
    let intake_key = pick(&pairs, "intake").trim().to_owned();
    let mut errors = ProcErrors::default();
    let intake = intake_of(&intake_key);
    if intake.is_none() {
        errors.insert("intake", "受付方法", "受付方法を選んでください。");
    }
    if !f.district.is_empty() && !choices.iter().any(|c| c.id.0.to_string() == f.district) {
        errors.insert("district", "入会する郡市区等医師会", NO_DISTRICT);
    }
    let filing = match f.filing() {
        Ok(filing) => Some(filing),
        Err(e) => {
            errors.merge(e);
            None
        }
    };
    let refuse = |errors: &ProcErrors| {
        let view = View {
            csrf,
            id,
            name: &name,
            intake: &intake_key,
            f: &f,
            choices: &choices,
            errors,
        };
        page(&view)
            .with_status(StatusCode::UNPROCESSABLE_ENTITY)
            .into_response()
    };
    let (Some(intake), Some(filing), true) = (intake, filing, errors.is_empty()) else {
        return Ok(refuse(&errors));
    };
    match file_on_behalf(&state, &staff, id, intake, filing).await? {
        Ok(done) => Ok(done),
        Err(r) => Ok(refuse(&ProcErrors::of_form(r.message()))),
    }
}
