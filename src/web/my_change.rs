//! 異動届 on マイページ, in three kinds the physician chooses from:
//!
//! - 記録の変更: 氏名・旧姓, 自宅現住所 and phones (the registration's
//!   fields, parsers and messages), the 勤務先 and the 送付先; the form
//!   opens with the record as it is and only what differs is filed;
//! - 会員種別の変更: the 勤務先 (研修修了 → 勤務, 開業 → 開設者) and 医賠責,
//!   the 日医 class they give shown as they are answered (htmx);
//! - 所属医師会の移動: the destination 郡市区等医師会, in the same or
//!   another prefecture, filed once as one linked transfer.
//!
//! Each with its 異動日 and 備考, then 確認 and 申請完了 (see `my_filing`).
//! The 医籍登録番号 is not offered (the person's unique key); the service
//! refuses a change of it. Nothing changes in the record until the
//! application completes.

use maud::{Markup, html};
use poem::{
    IntoResponse, Response, handler,
    http::StatusCode,
    web::{CsrfToken, Data, Form, Query, Redirect},
};
use serde::Deserialize;

use super::{
    my_filing::{
        self, BACK, Confirm, LIST, ProcErrors, Resubmit, check_reason, complete_url, confirm_page,
        errors_markup, field_message, file_or_resubmit, optional_date, person_of, pick,
        resubmit_inputs, resubmit_notice, slash_date,
    },
    my_workplace::{self, WorkplaceForm, opt_out_label},
    register::form_view::{Ctx, fields_markup},
};
use crate::{
    auth::guards::SignedIn,
    domain::{
        AssociationId, RegistrationForm,
        application::{Application, Filing},
        membership::{JmaClass, Level, MailTo, MemberFile, Workplace},
        person::Person,
        person_form,
        procedure::{Change, Procedure},
    },
    error::OrInternal,
    error::not_found,
    service::{
        my_profile,
        procedures::{self, LocalChoice, Refused},
    },
    state::AppState,
    views::{
        components::msg_id,
        layout::{csrf_input, page as layout},
    },
    web::today,
};

/// 異動届.
pub const CHANGE: &str = "/mypage/applications/change";
/// Its 確認 (申請する / 戻る).
pub const CONFIRM: &str = "/mypage/applications/change/confirm";

/// The kind of 異動 chosen.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum What {
    Record,
    Class,
    Transfer,
}

impl What {
    pub(crate) const ALL: [What; 3] = [What::Record, What::Class, What::Transfer];

    pub(crate) fn key(self) -> &'static str {
        match self {
            What::Record => "record",
            What::Class => "class",
            What::Transfer => "transfer",
        }
    }

    pub(crate) fn from_key(s: &str) -> Option<What> {
        What::ALL.into_iter().find(|w| w.key() == s)
    }

    pub(crate) fn label(self) -> &'static str {
        match self {
            What::Record => "記録の変更",
            What::Class => "会員種別の変更",
            What::Transfer => "所属医師会の移動",
        }
    }

    fn hint(self) -> &'static str {
        match self {
            What::Record => "氏名・旧姓、自宅の住所・電話番号、勤務先、送付先が変わったとき。",
            What::Class => {
                "臨床研修を修了したとき（研修医 → 勤務）、開業したとき（→ 開設者）、日医医賠責保険への加入をやめるとき。"
            }
            What::Transfer => "別の郡市区等医師会（同じ都道府県または他の都道府県）に移るとき。",
        }
    }
}

/// What the form needs of the physician: the record, the memberships and
/// the associations to move to.
pub(crate) struct Mine {
    person: Person,
    file: MemberFile,
    choices: Vec<LocalChoice>,
}

pub(crate) async fn mine(state: &AppState, person: u64) -> poem::Result<Option<Mine>> {
    let profile = my_profile::open(&state.store, person).await.or_internal()?;
    let Some(p) = profile.and_then(|p| p.person) else {
        return Ok(None);
    };
    let file = procedures::memberships_of(&state.store, person)
        .await
        .or_internal()?;
    let choices = procedures::local_associations(&state.store)
        .await
        .or_internal()?;
    Ok(Some(Mine {
        person: p,
        file,
        choices,
    }))
}

fn mail_to_key(m: MailTo) -> &'static str {
    match m {
        MailTo::Home => "home",
        MailTo::Work => "work",
    }
}

/// The workplace on file (勤務なし when none is).
fn workplace_on_file(file: &MemberFile) -> WorkplaceForm {
    WorkplaceForm::of(file.workplace.as_ref().unwrap_or(&Workplace::none()))
}

/// The 異動届 as typed.
pub(crate) struct ChangeForm {
    pub(crate) what: Option<What>,
    /// The record as it is, with the posted 記録の変更 fields over it.
    person: RegistrationForm,
    workplace: WorkplaceForm,
    mail_to: String,
    opt_out: String,
    to: String,
    desired: String,
    reason: String,
}

impl ChangeForm {
    /// The form as it opens: the record and the memberships as they are.
    pub(crate) fn fresh(what: Option<What>, m: &Mine) -> ChangeForm {
        ChangeForm {
            what,
            person: person_form::person_form(&m.person),
            workplace: workplace_on_file(&m.file),
            mail_to: mail_to_key(m.file.mail_to).to_owned(),
            opt_out: if m.file.liability_opt_out { "1" } else { "" }.to_owned(),
            to: String::new(),
            desired: String::new(),
            reason: String::new(),
        }
    }

    pub(crate) fn from_pairs(pairs: &[(String, String)], m: &Mine) -> ChangeForm {
        let posted = RegistrationForm::from_pairs(pairs).normalized();
        let mut person = person_form::person_form(&m.person);
        for f in person_form::record_fields() {
            person.set_value(*f, posted.value(*f));
        }
        let v = |n: &str| pick(pairs, n).trim().to_owned();
        ChangeForm {
            what: What::from_key(pick(pairs, "what")),
            person,
            workplace: WorkplaceForm::from_pairs(pairs),
            mail_to: v("mail_to"),
            opt_out: v("opt_out"),
            to: v("to"),
            desired: v("desired"),
            reason: pick(pairs, "reason").to_owned(),
        }
    }

    /// The form showing application `a` (a 異動届), to correct it.
    fn of(a: &Application, m: &Mine) -> Option<ChangeForm> {
        let Procedure::Change(c) = &a.procedure else {
            return None;
        };
        let mut f = ChangeForm::fresh(None, m);
        f.desired = a.desired.map(slash_date).unwrap_or_default();
        f.reason = a.reason.clone();
        match c {
            Change::Record {
                person,
                workplace,
                mail_to,
            } => {
                f.what = Some(What::Record);
                if let Some(p) = person {
                    f.person = person_form::person_form(p);
                }
                if let Some(w) = workplace {
                    f.workplace = WorkplaceForm::of(w);
                }
                if let Some(to) = mail_to {
                    f.mail_to = mail_to_key(*to).to_owned();
                }
            }
            Change::Class {
                workplace,
                liability_opt_out,
                ..
            } => {
                f.what = Some(What::Class);
                f.workplace = WorkplaceForm::of(workplace);
                f.opt_out = if *liability_opt_out { "1" } else { "" }.to_owned();
            }
            Change::Transfer { to, .. } => {
                f.what = Some(What::Transfer);
                f.to = to.0.to_string();
            }
        }
        Some(f)
    }

    fn opt_out(&self) -> bool {
        !self.opt_out.is_empty()
    }

    fn mail_to(&self) -> Option<MailTo> {
        match self.mail_to.as_str() {
            "home" => Some(MailTo::Home),
            "work" => Some(MailTo::Work),
            _ => None,
        }
    }

    /// The values carried from 確認 (to the filing, or back to the form).
    fn pairs(&self) -> Vec<(String, String)> {
        let mut out = vec![(
            "what".to_owned(),
            self.what.map_or("", What::key).to_owned(),
        )];
        match self.what {
            Some(What::Record) => {
                for f in person_form::record_fields() {
                    out.push((f.name().to_owned(), self.person.value(*f)));
                }
                out.extend(self.workplace.pairs());
                out.push(("mail_to".to_owned(), self.mail_to.clone()));
            }
            Some(What::Class) => {
                out.extend(self.workplace.pairs());
                out.push(("opt_out".to_owned(), self.opt_out.clone()));
            }
            Some(What::Transfer) => out.push(("to".to_owned(), self.to.clone())),
            None => {}
        }
        out.push(("desired".to_owned(), self.desired.clone()));
        out.push(("reason".to_owned(), self.reason.clone()));
        out
    }

    /// The filing, or what is wrong.
    pub(crate) fn filing(&self, m: &Mine) -> Result<Filing, ProcErrors> {
        let mut p = ProcErrors::default();
        let change = match self.what {
            None => {
                p.note("異動の種類を選んでください。");
                None
            }
            Some(What::Record) => self.record(m, &mut p),
            Some(What::Class) => self.class(m, &mut p),
            Some(What::Transfer) => match self.to.parse::<u64>() {
                Ok(to) => Some(Change::Transfer {
                    to: AssociationId(to),
                    district_class: String::new(),
                    prefecture_class: String::new(),
                }),
                Err(_) => {
                    p.insert(
                        "to",
                        "移動先の郡市区等医師会",
                        "移動先の郡市区等医師会を選んでください。",
                    );
                    None
                }
            },
        };
        let desired = optional_date(&self.desired, "異動日", &mut p);
        if self.desired.is_empty() {
            p.insert("desired", "異動日", "異動日を入力してください。");
        }
        check_reason(&self.reason, "備考", &mut p);
        match change {
            Some(c) if p.is_empty() => Ok(Filing {
                procedure: Procedure::Change(c),
                reason: self.reason.trim().to_owned(),
                desired,
            }),
            _ => Err(p),
        }
    }

    /// A 記録変更 of what differs from the record.
    fn record(&self, m: &Mine, p: &mut ProcErrors) -> Option<Change> {
        let person = match person_form::validate_record(&m.person, &self.person, today()) {
            Ok(new) if person_form::changed_rows(&m.person, &new).is_empty() => None,
            Ok(new) => Some(Box::new(new)),
            Err(errors) => {
                // The record fields come first on the screen.
                *p = ProcErrors::of_fields(errors);
                None
            }
        };
        let workplace = if self.workplace == workplace_on_file(&m.file) {
            None
        } else {
            self.workplace.parse(p)
        };
        let mail_to = self.mail_to().filter(|to| *to != m.file.mail_to);
        if !p.is_empty() {
            return None;
        }
        if person.is_none() && workplace.is_none() && mail_to.is_none() {
            p.note("変更された項目がありません。変更する項目を入力してください。");
            return None;
        }
        Some(Change::Record {
            person,
            workplace,
            mail_to,
        })
    }

    /// A 種別変更 with the new answers.
    fn class(&self, m: &Mine, p: &mut ProcErrors) -> Option<Change> {
        let workplace = self.workplace.parse(p)?;
        if m.file.workplace.as_ref() == Some(&workplace)
            && m.file.liability_opt_out == self.opt_out()
        {
            p.insert(
                "wp_role",
                "勤務先での立場",
                "勤務先での立場または医賠責保険の加入を、変更後の内容にしてください。",
            );
            return None;
        }
        Some(Change::Class {
            workplace,
            liability_opt_out: self.opt_out(),
            district_class: None,
            prefecture_class: None,
        })
    }

    /// Every answer, for 確認.
    fn rows(&self, m: &Mine) -> Vec<(String, String)> {
        let mut rows = vec![(
            "異動の種類".to_owned(),
            self.what.map_or("", What::label).to_owned(),
        )];
        match self.what {
            Some(What::Record) => {
                if let Ok(new) = person_form::validate_record(&m.person, &self.person, today()) {
                    for (label, old, new) in person_form::changed_rows(&m.person, &new) {
                        let old = if old.is_empty() {
                            "—".to_owned()
                        } else {
                            old
                        };
                        rows.push((label, format!("{new}（変更前：{old}）")));
                    }
                }
                if self.workplace != workplace_on_file(&m.file) {
                    rows.extend(self.workplace.rows());
                }
                if let Some(to) = self.mail_to().filter(|to| *to != m.file.mail_to) {
                    rows.push((
                        "送付先".to_owned(),
                        format!("{}（変更前：{}）", to.label(), m.file.mail_to.label()),
                    ));
                }
            }
            Some(What::Class) => {
                rows.extend(self.workplace.rows());
                rows.push((
                    "日医医賠責保険".to_owned(),
                    opt_out_label(self.opt_out()).to_owned(),
                ));
                if m.file.current(Level::National).is_some() {
                    rows.push((
                        "日医の会員種別".to_owned(),
                        format!(
                            "{}（変更前：{}）",
                            JmaClass::derive(self.workplace.role(), self.opt_out()).label(),
                            m.file.derived_jma_class().label()
                        ),
                    ));
                }
            }
            Some(What::Transfer) => {
                let name = m
                    .choices
                    .iter()
                    .find(|c| c.id.0.to_string() == self.to)
                    .map(|c| format!("{}　{}", c.prefecture, c.name))
                    .unwrap_or_default();
                rows.push(("移動先の郡市区等医師会".to_owned(), name));
            }
            None => {}
        }
        rows.push(("異動日".to_owned(), self.desired.clone()));
        rows.push(("備考".to_owned(), self.reason.trim().to_owned()));
        rows
    }
}

fn current_district(m: &Mine) -> String {
    m.file
        .district()
        .and_then(|d| m.choices.iter().find(|c| c.id == d))
        .map(|c| format!("{}　{}", c.prefecture, c.name))
        .unwrap_or_else(|| "（所属なし）".to_owned())
}

fn chooser(m: &Mine) -> Markup {
    html! {
        @if m.file.district().is_none() {
            div.helpbox role="status" { p { "医師会に在籍していないため、異動届は出せません。入会申込をご利用ください。" } }
        }
        ul.linklist {
            @for w in What::ALL {
                li {
                    a href={ (CHANGE) "?what=" (w.key()) } { (w.label()) " →" }
                    br;
                    span.hint { (w.hint()) }
                }
            }
        }
    }
}

fn form_body(f: &ChangeForm, what: What, m: &Mine, errors: &ProcErrors) -> Markup {
    html! {
        (what_fields(f, what, m, errors, my_workplace::CLASS))
        div.actions { button type="submit" { "確認画面へ進む" } }
    }
}

/// The fields of a 異動届 of kind `what` (without its button), the JMA
/// class region answered by `class_endpoint` (マイページ's or the office's).
pub(crate) fn what_fields(
    f: &ChangeForm,
    what: What,
    m: &Mine,
    errors: &ProcErrors,
    class_endpoint: &str,
) -> Markup {
    let ctx = Ctx {
        form: &f.person,
        errors: errors.fields(),
        password_kept: false,
    };
    html! {
        input type="hidden" name="what" value=(what.key());
        p.hint { (what.hint()) }
        @match what {
            What::Record => {
                p { "変更する項目だけを書き換えてください。医籍登録番号は異動届では変更できません。" }
                (fields_markup(&ctx, person_form::record_fields()))
                (my_workplace::fieldset(&f.workplace, errors))
                fieldset.field {
                    legend { "送付先" }
                    label { input type="radio" name="mail_to" value="home" checked[f.mail_to != "work"]; " 自宅" }
                    label { input type="radio" name="mail_to" value="work" checked[f.mail_to == "work"]; " 勤務先" }
                }
            }
            What::Class => {
                @if m.file.current(Level::National).is_some() {
                    p { "現在の日医の会員種別：" strong { (m.file.derived_jma_class().label()) } }
                }
                (my_workplace::fieldset(&f.workplace, errors))
                div.field {
                    label { input type="checkbox" name="opt_out" value="1" checked[f.opt_out()]; " 日医医賠責保険に加入しない" }
                }
                (my_workplace::class_region_at(class_endpoint, f.workplace.role(), f.opt_out()))
            }
            What::Transfer => {
                p { "現在の所属：" (current_district(m)) }
                div.field {
                    label for="to" { "移動先の郡市区等医師会" span.req { "必須" } }
                    select #to name="to" aria-required="true"
                        aria-invalid=[errors.invalid("to")] aria-describedby=(msg_id("to")) {
                        option value="" { "選択してください" }
                        @for c in m.choices.iter().filter(|c| Some(c.id) != m.file.district()) {
                            option value=(c.id.0) selected[f.to == c.id.0.to_string()] { (c.prefecture) "　" (c.name) }
                        }
                    }
                    (field_message(errors, "to"))
                }
                p.hint { "移動先の医師会が承認すると、移動元の医師会に確認依頼が届きます。他の都道府県に移る場合は、都道府県医師会の所属も移ります（日本医師会の会員資格は続きます）。" }
            }
        }
        div.field {
            label for="desired" { "異動日" span.req { "必須" } }
            input #desired type="text" name="desired" aria-required="true" placeholder="2026/04/01" value=(f.desired)
                aria-invalid=[errors.invalid("desired")] aria-describedby=(msg_id("desired"));
            (field_message(errors, "desired"))
        }
        div.field {
            label for="reason" { "備考（任意）" }
            textarea #reason name="reason" maxlength="1000"
                aria-invalid=[errors.invalid("reason")] aria-describedby=(msg_id("reason")) { (f.reason) }
            (field_message(errors, "reason"))
        }
    }
}

fn change_page(
    csrf: &str,
    f: &ChangeForm,
    m: &Mine,
    problems: &ProcErrors,
    resubmit: Option<Resubmit>,
) -> Markup {
    let title = match f.what {
        Some(w) => format!("異動届（{}）", w.label()),
        None => "異動届".to_owned(),
    };
    let body = html! {
        section.card aria-labelledby="change-title" {
            h1 #change-title { (title) }
            p { a href=(LIST) { "← 申請状況に戻る" } }
            (resubmit_notice(resubmit))
            (errors_markup(problems))
            @match f.what {
                None => (chooser(m)),
                Some(what) => {
                    form method="post" action=(CHANGE) novalidate {
                        (csrf_input(csrf))
                        (resubmit_inputs(resubmit))
                        (form_body(f, what, m, problems))
                    }
                    @if resubmit.is_none() {
                        p { a href=(CHANGE) { "異動の種類を選び直す" } }
                    }
                }
            }
        }
    };
    layout(&title, Some(csrf), body)
}

fn refused(
    csrf: &str,
    f: &ChangeForm,
    m: &Mine,
    problems: &ProcErrors,
    resubmit: Option<Resubmit>,
) -> Response {
    change_page(csrf, f, m, problems, resubmit)
        .with_status(StatusCode::UNPROCESSABLE_ENTITY)
        .into_response()
}

#[derive(Debug, Default, Deserialize)]
pub struct WhatQuery {
    #[serde(default)]
    what: String,
}

/// The choice of the kind of 異動, or the form of the kind chosen.
#[handler]
pub async fn new_change(
    state: Data<&AppState>,
    csrf: &CsrfToken,
    signed: SignedIn,
    Query(q): Query<WhatQuery>,
) -> poem::Result<Response> {
    let person = person_of(&signed)?;
    let Some(m) = mine(&state, person).await? else {
        return Ok(Redirect::see_other(LIST).into_response());
    };
    let f = ChangeForm::fresh(What::from_key(&q.what), &m);
    Ok(change_page(csrf, &f, &m, &ProcErrors::default(), None).into_response())
}

/// The form pre-filled with sent-back application `a`, for its 再提出.
pub async fn edit_page(
    state: &AppState,
    csrf: &str,
    person: u64,
    a: &Application,
) -> poem::Result<Response> {
    let Some(m) = mine(state, person).await? else {
        return Err(not_found());
    };
    let Some(f) = ChangeForm::of(a, &m) else {
        return Err(not_found());
    };
    let resubmit = Some(Resubmit {
        id: a.id,
        version: a.version,
    });
    Ok(change_page(csrf, &f, &m, &ProcErrors::default(), resubmit).into_response())
}

/// The answers checked: 確認, or the form again with the messages.
#[handler]
pub async fn submit_change(
    state: Data<&AppState>,
    csrf: &CsrfToken,
    signed: SignedIn,
    Form(pairs): Form<Vec<(String, String)>>,
) -> poem::Result<Response> {
    let person = person_of(&signed)?;
    let Some(m) = mine(&state, person).await? else {
        return Ok(Redirect::see_other(LIST).into_response());
    };
    let f = ChangeForm::from_pairs(&pairs, &m);
    let resubmit = Resubmit::from_pairs(&pairs);
    if let Err(p) = f.filing(&m) {
        return Ok(refused(csrf, &f, &m, &p, resubmit));
    }
    let confirm = Confirm {
        title: "異動届",
        action: CONFIRM,
        rows: f.rows(&m),
        hidden: f.pairs(),
        resubmit,
    };
    Ok(confirm_page(csrf, &confirm).into_response())
}

/// 申請する (files, then 申請完了) or 戻る (the form with the values).
#[handler]
pub async fn confirm_change(
    state: Data<&AppState>,
    csrf: &CsrfToken,
    signed: SignedIn,
    Form(pairs): Form<Vec<(String, String)>>,
) -> poem::Result<Response> {
    let person = person_of(&signed)?;
    let Some(m) = mine(&state, person).await? else {
        return Ok(Redirect::see_other(LIST).into_response());
    };
    let f = ChangeForm::from_pairs(&pairs, &m);
    let resubmit = Resubmit::from_pairs(&pairs);
    if pick(&pairs, my_filing::ACTION) == BACK {
        return Ok(change_page(csrf, &f, &m, &ProcErrors::default(), resubmit).into_response());
    }
    let filing = match f.filing(&m) {
        Ok(filing) => filing,
        Err(p) => return Ok(refused(csrf, &f, &m, &p, resubmit)),
    };
    match file_or_resubmit(&state, person, resubmit, filing).await? {
        Ok(id) => Ok(Redirect::see_other(complete_url(id)).into_response()),
        Err(Refused::NotFound) => Err(not_found()),
        Err(r) => Ok(refused(
            csrf,
            &f,
            &m,
            &ProcErrors::of_form(r.message()),
            resubmit,
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::Field;

    #[test]
    fn the_record_fields_leave_out_the_registry_number() {
        assert!(!person_form::record_fields().contains(&Field::RegistryNumber));
        assert!(person_form::record_fields().contains(&Field::NameLast));
        assert!(person_form::record_fields().contains(&Field::Fax));
    }
}
