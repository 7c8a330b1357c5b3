//! 退会届 on マイページ: the shape (郡市区・都道府県・日医 all three,
//! 都道府県・日医, 日医 only), the 退会日 and the reason, then 確認 and
//! 申請完了 (see `my_filing`); pre-filled to correct a sent-back one.

use maud::{Markup, html};
use poem::{
    IntoResponse, Response, handler,
    http::StatusCode,
    web::{CsrfToken, Data, Form, Redirect},
};

use super::my_filing::{
    self, BACK, Confirm, LIST, ProcErrors, Resubmit, check_reason, complete_url, confirm_page,
    errors_markup, field_message, file_or_resubmit, optional_date, person_of, pick,
    resubmit_inputs, resubmit_notice, slash_date,
};
use crate::{
    auth::guards::SignedIn,
    domain::{
        application::{Application, Filing},
        procedure::{Procedure, WithdrawScope},
    },
    error::not_found,
    service::procedures::Refused,
    state::AppState,
    views::{
        components::msg_id,
        layout::{csrf_input, page as layout},
    },
};

/// 退会届.
pub const WITHDRAW: &str = "/mypage/applications/withdraw";
/// Its 確認 (申請する / 戻る).
pub const CONFIRM: &str = "/mypage/applications/withdraw/confirm";

const SCOPES: [(&str, WithdrawScope); 3] = [
    ("all", WithdrawScope::All),
    ("pn", WithdrawScope::PrefectureAndNational),
    ("n", WithdrawScope::NationalOnly),
];

/// The 退会届 as typed.
#[derive(Clone, Debug, Default)]
pub struct WithdrawForm {
    scope: String,
    reason: String,
    desired: String,
}

impl WithdrawForm {
    fn from_pairs(pairs: &[(String, String)]) -> WithdrawForm {
        WithdrawForm {
            scope: pick(pairs, "scope").trim().to_owned(),
            reason: pick(pairs, "reason").to_owned(),
            desired: pick(pairs, "desired").trim().to_owned(),
        }
    }

    fn of(a: &Application) -> Option<WithdrawForm> {
        let Procedure::Withdraw(scope) = &a.procedure else {
            return None;
        };
        Some(WithdrawForm {
            scope: SCOPES
                .iter()
                .find(|(_, s)| s == scope)
                .map_or("", |(v, _)| *v)
                .to_owned(),
            reason: a.reason.clone(),
            desired: a.desired.map(slash_date).unwrap_or_default(),
        })
    }

    fn pairs(&self) -> Vec<(String, String)> {
        vec![
            ("scope".to_owned(), self.scope.clone()),
            ("reason".to_owned(), self.reason.clone()),
            ("desired".to_owned(), self.desired.clone()),
        ]
    }

    fn scope(&self) -> Option<WithdrawScope> {
        SCOPES
            .iter()
            .find(|(v, _)| *v == self.scope)
            .map(|(_, s)| *s)
    }

    fn filing(&self) -> Result<Filing, ProcErrors> {
        let mut errors = ProcErrors::default();
        let scope = self.scope();
        if scope.is_none() {
            errors.insert(
                "scope",
                "退会する医師会",
                "退会する医師会を選んでください。",
            );
        }
        let desired = optional_date(&self.desired, "退会日", &mut errors);
        if self.desired.is_empty() {
            errors.insert("desired", "退会日", "退会日を入力してください。");
        }
        check_reason(&self.reason, "理由", &mut errors);
        match (scope, errors.is_empty()) {
            (Some(scope), true) => Ok(Filing {
                procedure: Procedure::Withdraw(scope),
                reason: self.reason.trim().to_owned(),
                desired,
            }),
            _ => Err(errors),
        }
    }

    fn rows(&self) -> Vec<(String, String)> {
        vec![
            (
                "退会する医師会".to_owned(),
                self.scope().map_or("", |s| s.label()).to_owned(),
            ),
            ("退会日".to_owned(), self.desired.clone()),
            ("理由".to_owned(), self.reason.trim().to_owned()),
        ]
    }
}

fn withdraw_page(
    csrf: &str,
    f: &WithdrawForm,
    errors: &ProcErrors,
    resubmit: Option<Resubmit>,
) -> Markup {
    let title = "退会届";
    let body = html! {
        section.card aria-labelledby="withdraw-title" {
            h1 #withdraw-title { (title) }
            p { a href=(LIST) { "← 申請状況に戻る" } }
            (resubmit_notice(resubmit))
            (errors_markup(errors))
            form method="post" action=(WITHDRAW) novalidate {
                (csrf_input(csrf))
                (resubmit_inputs(resubmit))
                fieldset.field #scope aria-invalid=[errors.invalid("scope")] aria-describedby=(msg_id("scope")) {
                    legend { "退会する医師会" span.req { "必須" } }
                    @for (v, s) in SCOPES {
                        label { input type="radio" name="scope" value=(v) checked[f.scope == v]; " " (s.label()) }
                    }
                    (field_message(errors, "scope"))
                }
                div.field {
                    label for="desired" { "退会日" span.req { "必須" } }
                    input #desired type="text" name="desired" aria-required="true" placeholder="2027/03/31" value=(f.desired)
                        aria-invalid=[errors.invalid("desired")] aria-describedby=(msg_id("desired"));
                    (field_message(errors, "desired"))
                }
                div.field {
                    label for="reason" { "理由（任意）" }
                    textarea #reason name="reason" maxlength="1000"
                        aria-invalid=[errors.invalid("reason")] aria-describedby=(msg_id("reason")) { (f.reason) }
                    (field_message(errors, "reason"))
                }
                div.actions { button type="submit" { "確認画面へ進む" } }
            }
        }
    };
    layout(title, Some(csrf), body)
}

fn refused(
    csrf: &str,
    f: &WithdrawForm,
    errors: &ProcErrors,
    resubmit: Option<Resubmit>,
) -> Response {
    withdraw_page(csrf, f, errors, resubmit)
        .with_status(StatusCode::UNPROCESSABLE_ENTITY)
        .into_response()
}

#[handler]
pub async fn new_withdraw(csrf: &CsrfToken, signed: SignedIn) -> poem::Result<Response> {
    person_of(&signed)?;
    Ok(withdraw_page(csrf, &WithdrawForm::default(), &ProcErrors::default(), None).into_response())
}

/// The form pre-filled with sent-back application `a`, for its 再提出.
pub fn edit_page(csrf: &str, a: &Application) -> poem::Result<Response> {
    let Some(f) = WithdrawForm::of(a) else {
        return Err(not_found());
    };
    let resubmit = Some(Resubmit {
        id: a.id,
        version: a.version,
    });
    Ok(withdraw_page(csrf, &f, &ProcErrors::default(), resubmit).into_response())
}

/// The answers checked: 確認, or the form again with the messages.
#[handler]
pub async fn submit_withdraw(
    csrf: &CsrfToken,
    signed: SignedIn,
    Form(pairs): Form<Vec<(String, String)>>,
) -> poem::Result<Response> {
    person_of(&signed)?;
    let f = WithdrawForm::from_pairs(&pairs);
    let resubmit = Resubmit::from_pairs(&pairs);
    if let Err(errors) = f.filing() {
        return Ok(refused(csrf, &f, &errors, resubmit));
    }
    let confirm = Confirm {
        title: "退会届",
        action: CONFIRM,
        rows: f.rows(),
        hidden: f.pairs(),
        resubmit,
    };
    Ok(confirm_page(csrf, &confirm).into_response())
}

/// 申請する (files, then 申請完了) or 戻る (the form with the values).
#[handler]
pub async fn confirm_withdraw(
    state: Data<&AppState>,
    csrf: &CsrfToken,
    signed: SignedIn,
    Form(pairs): Form<Vec<(String, String)>>,
) -> poem::Result<Response> {
    let person = person_of(&signed)?;
    let f = WithdrawForm::from_pairs(&pairs);
    let resubmit = Resubmit::from_pairs(&pairs);
    if pick(&pairs, my_filing::ACTION) == BACK {
        return Ok(withdraw_page(csrf, &f, &ProcErrors::default(), resubmit).into_response());
    }
    let filing = match f.filing() {
        Ok(filing) => filing,
        Err(errors) => return Ok(refused(csrf, &f, &errors, resubmit)),
    };
    match file_or_resubmit(&state, person, resubmit, filing).await? {
        Ok(id) => Ok(Redirect::see_other(complete_url(id)).into_response()),
        Err(Refused::NotFound) => Err(not_found()),
        Err(r) => Ok(refused(
            csrf,
            &f,
            &ProcErrors::of_form(r.message()),
            resubmit,
        )),
    }
}
