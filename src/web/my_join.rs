//! 入会申込 on マイページ: the 郡市区等医師会 and the levels to join, the
//! 勤務先, 送付先 and 医賠責 with the 日医 class shown as the answers are
//! given (htmx), then 確認 and 申請完了 (see `my_filing`). The same form,
//! pre-filled, corrects a sent-back 入会申込 for its 再提出.

use maud::{Markup, html};
use poem::{
    IntoResponse, Response, handler,
    http::StatusCode,
    web::{CsrfToken, Data, Form, Redirect},
};

use super::{
    my_filing::{
        self, BACK, Confirm, LIST, ProcErrors, Resubmit, check_reason, complete_url, confirm_page,
        errors_markup, field_message, file_or_resubmit, optional_date, person_of, pick,
        resubmit_inputs, resubmit_notice, slash_date,
    },
    my_workplace::{self, WorkplaceForm, class_region, opt_out_label},
};
use crate::{
    auth::guards::SignedIn,
    domain::{
        AssociationId,
        application::{Application, Filing},
        membership::{JmaClass, Level, MailTo},
        procedure::{Join, Procedure},
    },
    error::OrInternal,
    error::not_found,
    htmx,
    service::procedures::{self, LocalChoice, Refused},
    state::AppState,
    views::{
        components::msg_id,
        layout::{csrf_input, page as layout},
    },
};

/// 入会申込.
pub const NEW: &str = "/mypage/applications/new";
/// Its 確認 (申請する / 戻る).
pub const CONFIRM: &str = "/mypage/applications/new/confirm";

pub(crate) const LEVELS: [(&str, &str); 3] = [
    ("d", "郡市区等医師会のみ"),
    ("dp", "郡市区等医師会・都道府県医師会"),
    ("dpn", "郡市区等医師会・都道府県医師会・日本医師会"),
];

/// The 入会申込 as typed.
#[derive(Clone, Debug, Default)]
pub struct JoinForm {
    pub(crate) district: String,
    pub(crate) levels: String,
    pub(crate) workplace: WorkplaceForm,
    pub(crate) mail_to: String,
    pub(crate) opt_out: String,
    pub(crate) reason: String,
    pub(crate) desired: String,
}

impl JoinForm {
    pub(crate) fn from_pairs(pairs: &[(String, String)]) -> JoinForm {
        let v = |n: &str| pick(pairs, n).trim().to_owned();
        JoinForm {
            district: v("district"),
            levels: v("levels"),
            workplace: WorkplaceForm::from_pairs(pairs),
            mail_to: v("mail_to"),
            opt_out: v("opt_out"),
            reason: pick(pairs, "reason").to_owned(),
            desired: v("desired"),
        }
    }

    /// The form showing application `a` (a 入会申込), to correct it.
    fn of(a: &Application) -> Option<JoinForm> {
        let Procedure::Join(j) = &a.procedure else {
            return None;
        };
        let levels = match j.levels.len() {
            1 => "d",
            2 => "dp",
            _ => "dpn",
        };
        Some(JoinForm {
            district: j.district.0.to_string(),
            levels: levels.to_owned(),
            workplace: WorkplaceForm::of(&j.workplace),
            mail_to: match j.mail_to {
                MailTo::Home => "home",
                MailTo::Work => "work",
            }
            .to_owned(),
            opt_out: if j.liability_opt_out { "1" } else { "" }.to_owned(),
            reason: a.reason.clone(),
            desired: a.desired.map(slash_date).unwrap_or_default(),
        })
    }

    fn pairs(&self) -> Vec<(String, String)> {
        let mut out = vec![
            ("district".to_owned(), self.district.clone()),
            ("levels".to_owned(), self.levels.clone()),
        ];
        out.extend(self.workplace.pairs());
        for (n, v) in [
            ("mail_to", &self.mail_to),
            ("opt_out", &self.opt_out),
            ("reason", &self.reason),
            ("desired", &self.desired),
        ] {
            out.push((n.to_owned(), v.clone()));
        }
        out
    }

    pub(crate) fn opt_out(&self) -> bool {
        !self.opt_out.is_empty()
    }

    fn levels(&self) -> Option<Vec<Level>> {
        match self.levels.as_str() {
            "d" => Some(vec![Level::District]),
            "dp" => Some(vec![Level::District, Level::Prefecture]),
            "dpn" => Some(Level::ALL.to_vec()),
            _ => None,
        }
    }

    /// The filing, or the messages of what is missing.
    pub(crate) fn filing(&self) -> Result<Filing, ProcErrors> {
        let mut errors = ProcErrors::default();
        let district = self.district.parse::<u64>().ok().map(AssociationId);
        if district.is_none() {
            errors.insert(
                "district",
                "郡市区等医師会",
                "郡市区等医師会を選んでください。",
            );
        }
        let levels = self.levels();
        if levels.is_none() {
            errors.insert(
                "levels",
                "入会する医師会の範囲",
                "入会する医師会の範囲を選んでください。",
            );
        }
        let workplace = self.workplace.parse(&mut errors);
        let mail_to = match self.mail_to.as_str() {
            "home" => Some(MailTo::Home),
            "work" => Some(MailTo::Work),
            _ => None,
        };
        if mail_to.is_none() {
            errors.insert("mail_to", "送付先", "送付先を選んでください。");
        }
        let desired = optional_date(&self.desired, "入会希望日", &mut errors);
        check_reason(&self.reason, "備考", &mut errors);
        let (Some(district), Some(levels), Some(workplace), Some(mail_to), true) =
            (district, levels, workplace, mail_to, errors.is_empty())
        else {
            return Err(errors);
        };
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

    /// Every answer, for 確認.
    fn rows(&self, choices: &[LocalChoice]) -> Vec<(String, String)> {
        let district = choices
            .iter()
            .find(|c| c.id.0.to_string() == self.district)
            .map(|c| format!("{}　{}", c.prefecture, c.name))
            .unwrap_or_default();
        let levels = LEVELS
            .iter()
            .find(|(v, _)| *v == self.levels)
            .map_or("", |(_, l)| *l);
        let mut rows = vec![
            ("入会する郡市区等医師会".to_owned(), district),
            ("入会する医師会の範囲".to_owned(), levels.to_owned()),
        ];
        rows.extend(self.workplace.rows());
        let mail_to = if self.mail_to == "work" {
            "勤務先"
        } else {
            "自宅"
        };
        rows.push(("送付先".to_owned(), mail_to.to_owned()));
        if self.levels == "dpn" {
            rows.push((
                "日医医賠責保険".to_owned(),
                opt_out_label(self.opt_out()).to_owned(),
            ));
            rows.push((
                "日医の会員種別".to_owned(),
                JmaClass::derive(self.workplace.role(), self.opt_out())
                    .label()
                    .to_owned(),
            ));
        }
        rows.push(("入会希望日".to_owned(), self.desired.clone()));
        rows.push(("備考".to_owned(), self.reason.trim().to_owned()));
        rows
    }
}

fn join_page(
    csrf: &str,
    f: &JoinForm,
    choices: &[LocalChoice],
    errors: &ProcErrors,
    resubmit: Option<Resubmit>,
) -> Markup {
    let title = "入会申込";
    let body = html! {
        section.card aria-labelledby="join-title" {
            h1 #join-title { (title) }
            p { a href=(LIST) { "← 申請状況に戻る" } }
            (resubmit_notice(resubmit))
            (errors_markup(errors))
            form method="post" action=(NEW) novalidate {
                (csrf_input(csrf))
                (resubmit_inputs(resubmit))
                div.field {
                    label for="district" { "入会する郡市区等医師会" span.req { "必須" } }
                    select #district name="district" aria-required="true"
                        aria-invalid=[errors.invalid("district")] aria-describedby=(msg_id("district")) {
                        option value="" { "選択してください" }
                        @for c in choices {
                            option value=(c.id.0) selected[f.district == c.id.0.to_string()] { (c.prefecture) "　" (c.name) }
                        }
                    }
                    (field_message(errors, "district"))
                }
                fieldset.field #levels aria-invalid=[errors.invalid("levels")] aria-describedby=(msg_id("levels")) {
                    legend { "入会する医師会の範囲" span.req { "必須" } }
                    @for (v, label) in LEVELS {
                        label { input type="radio" name="levels" value=(v) checked[v == f.levels]; " " (label) }
                    }
                    (field_message(errors, "levels"))
                }
                (my_workplace::fieldset(&f.workplace, errors))
                fieldset.field #mail_to aria-invalid=[errors.invalid("mail_to")] aria-describedby=(msg_id("mail_to")) {
                    legend { "送付先" }
                    label { input type="radio" name="mail_to" value="home" checked[f.mail_to != "work"]; " 自宅" }
                    label { input type="radio" name="mail_to" value="work" checked[f.mail_to == "work"]; " 勤務先" }
                    (field_message(errors, "mail_to"))
                }
                div.field {
                    label { input type="checkbox" name="opt_out" value="1" checked[f.opt_out()]; " 日医医賠責保険に加入しない" }
                }
                (class_region(f.workplace.role(), f.opt_out()))
                div.field {
                    label for="desired" { "入会希望日（任意）" }
                    input #desired type="text" name="desired" placeholder="2026/04/01" value=(f.desired)
                        aria-invalid=[errors.invalid("desired")] aria-describedby=(msg_id("desired"));
                    (field_message(errors, "desired"))
                }
                div.field {
                    label for="reason" { "備考（任意）" }
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

async fn choices(state: &AppState) -> poem::Result<Vec<LocalChoice>> {
    procedures::local_associations(&state.store)
        .await
        .or_internal()
}

#[handler]
pub async fn new_join(
    state: Data<&AppState>,
    csrf: &CsrfToken,
    signed: SignedIn,
) -> poem::Result<Response> {
    person_of(&signed)?;
    let choices = choices(&state).await?;
    Ok(join_page(
        csrf,
        &JoinForm::default(),
        &choices,
        &ProcErrors::default(),
        None,
    )
    .into_response())
}

/// The form pre-filled with sent-back application `a`, for its 再提出.
pub async fn edit_page(state: &AppState, csrf: &str, a: &Application) -> poem::Result<Response> {
    let Some(f) = JoinForm::of(a) else {
        return Err(not_found());
    };
    let choices = choices(state).await?;
    let resubmit = Some(Resubmit {
        id: a.id,
        version: a.version,
    });
    Ok(join_page(csrf, &f, &choices, &ProcErrors::default(), resubmit).into_response())
}

/// The 日医 class for the answers so far (htmx).
#[handler]
pub async fn class_preview(
    signed: SignedIn,
    Form(pairs): Form<Vec<(String, String)>>,
) -> poem::Result<Response> {
    person_of(&signed)?;
    let role = WorkplaceForm::from_pairs(&pairs).role();
    let opt_out = !pick(&pairs, "opt_out").is_empty();
    Ok(htmx::vary(class_region(role, opt_out)))
}

async fn refused(
    state: &AppState,
    csrf: &str,
    f: &JoinForm,
    errors: &ProcErrors,
    resubmit: Option<Resubmit>,
) -> poem::Result<Response> {
    let choices = choices(state).await?;
    Ok(join_page(csrf, f, &choices, errors, resubmit)
        .with_status(StatusCode::UNPROCESSABLE_ENTITY)
        .into_response())
}

/// The answers checked: 確認, or the form again with the messages.
#[handler]
pub async fn submit_join(
    state: Data<&AppState>,
    csrf: &CsrfToken,
    signed: SignedIn,
    Form(pairs): Form<Vec<(String, String)>>,
) -> poem::Result<Response> {
    person_of(&signed)?;
    let f = JoinForm::from_pairs(&pairs);
    let resubmit = Resubmit::from_pairs(&pairs);
    if let Err(errors) = f.filing() {
        return refused(&state, csrf, &f, &errors, resubmit).await;
    }
    let choices = choices(&state).await?;
    let confirm = Confirm {
        title: "入会申込",
        action: CONFIRM,
        rows: f.rows(&choices),
        hidden: f.pairs(),
        resubmit,
    };
    Ok(confirm_page(csrf, &confirm).into_response())
}

/// 申請する (files, then 申請完了) or 戻る (the form with the values).
#[handler]
pub async fn confirm_join(
    state: Data<&AppState>,
    csrf: &CsrfToken,
    signed: SignedIn,
    Form(pairs): Form<Vec<(String, String)>>,
) -> poem::Result<Response> {
    let person = person_of(&signed)?;
    let f = JoinForm::from_pairs(&pairs);
    let resubmit = Resubmit::from_pairs(&pairs);
    if pick(&pairs, my_filing::ACTION) == BACK {
        let choices = choices(&state).await?;
        return Ok(join_page(csrf, &f, &choices, &ProcErrors::default(), resubmit).into_response());
    }
    let filing = match f.filing() {
        Ok(filing) => filing,
        Err(errors) => return refused(&state, csrf, &f, &errors, resubmit).await,
    };
    match file_or_resubmit(&state, person, resubmit, filing).await? {
        Ok(id) => Ok(Redirect::see_other(complete_url(id)).into_response()),
        Err(Refused::NotFound) => Err(not_found()),
        Err(r) => {
            refused(
                &state,
                csrf,
                &f,
                &ProcErrors::of_form(r.message()),
                resubmit,
            )
            .await
        }
    }
}
