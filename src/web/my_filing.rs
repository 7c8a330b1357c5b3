//! The steps every マイページ procedure (入会申込, 異動届, 退会届) shares
//! after its form: 確認 (every answer read-only; the values travel in
//! hidden inputs, 戻る shows the form again with them, 申請する files),
//! 申請完了 (what happens next, the way to 申請状況), and the 再提出 of a
//! sent-back application through the same form and the same 確認.
//!
//! ```text
//! form ─POST→ 確認 ─申請する→ service file / resubmit → 申請完了
//!   ↑            └─戻る→ form (values kept)
//!   └─ 申請状況「修正して再提出」(a 差戻し, pre-filled with its answers)
//! ```

use maud::{Markup, html};
use poem::{
    IntoResponse, Response, handler,
    web::{CsrfToken, Data, Path},
};

use crate::{
    auth::guards::SignedIn,
    domain::{
        FieldError, FieldErrors, Role,
        application::{Filing, Status},
    },
    error::OrInternal,
    error::not_found,
    service::procedures::{self, Filer, Refused},
    state::AppState,
    views::{
        components::message,
        layout::{csrf_input, page as layout},
    },
};

/// 申請状況 (and 所属状況).
pub const LIST: &str = "/mypage/applications";
/// The name of the confirmation's buttons.
pub const ACTION: &str = "action";
/// The button value that files (or refiles) the application.
pub const FILE: &str = "file";
/// The button value that goes back to the form.
pub const BACK: &str = "back";
/// The hidden input naming the sent-back application being corrected.
pub const RESUBMIT: &str = "resubmit";
/// The hidden input with the version of that application when shown.
pub const APP_VERSION: &str = "app_version";

/// The physician's person id (= account id); staff have no procedures.
pub fn person_of(signed: &SignedIn) -> poem::Result<u64> {
    match signed.0.role {
        Role::Physician | Role::Member => Ok(signed.0.id),
        Role::Staff { .. } => Err(not_found()),
    }
}

/// The URL of the 申請完了 page of application `id`.
pub fn complete_url(id: u64) -> String {
    format!("{LIST}/{id}/complete")
}

/// The URL of 「修正して再提出」 of application `id`.
pub fn edit_url(id: u64) -> String {
    format!("{LIST}/{id}/edit")
}

/// A sent-back application being corrected: its id and the version the
/// form was opened at.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Resubmit {
    pub id: u64,
    pub version: u64,
}

impl Resubmit {
    /// From the hidden inputs (none when absent or not numbers).
    pub fn from_pairs(pairs: &[(String, String)]) -> Option<Resubmit> {
        Some(Resubmit {
            id: pick(pairs, RESUBMIT).trim().parse().ok()?,
            version: pick(pairs, APP_VERSION).trim().parse().ok()?,
        })
    }
}

/// The value posted under `name` (empty when absent).
pub fn pick<'a>(pairs: &'a [(String, String)], name: &str) -> &'a str {
    pairs
        .iter()
        .find(|(k, _)| k == name)
        .map_or("", |(_, v)| v.as_str())
}

/// The hidden inputs naming the application being corrected, if any.
pub fn resubmit_inputs(r: Option<Resubmit>) -> Markup {
    html! {
        @if let Some(r) = r {
            input type="hidden" name=(RESUBMIT) value=(r.id);
            input type="hidden" name=(APP_VERSION) value=(r.version);
        }
    }
}

/// The notice on a form opened to correct a sent-back application.
pub fn resubmit_notice(r: Option<Resubmit>) -> Markup {
    html! {
        @if let Some(r) = r {
            div.helpbox role="status" {
                p { "差戻しされた申請（申請番号 " (r.id) "）を修正しています。確認画面のあと「再提出する」で同じ申請として提出し直します。" }
            }
        }
    }
}

/// The 確認 screen of one procedure.
pub struct Confirm<'a> {
    /// The procedure's name (入会申込, 異動届, 退会届).
    pub title: &'a str,
    /// Where 申請する and 戻る post.
    pub action: &'a str,
    /// Every answer as (label, value), in the form's order.
    pub rows: Vec<(String, String)>,
    /// The form's values, carried to the filing (and back to the form).
    pub hidden: Vec<(String, String)>,
    pub resubmit: Option<Resubmit>,
}

pub fn confirm_page(csrf: &str, c: &Confirm) -> Markup {
    let title = format!("{}の確認", c.title);
    let body = html! {
        section.card aria-labelledby="confirm-title" {
            h1 #confirm-title { "確認" }
            p.lead { (c.title) "の内容をご確認ください。まだ申請されていません。" }
            (resubmit_notice(c.resubmit))
            dl.review {
                @for (label, value) in &c.rows {
                    dt { (label) }
                    dd { @if value.is_empty() { "—" } @else { (value) } }
                }
            }
            form method="post" action=(c.action) {
                (csrf_input(csrf))
                (resubmit_inputs(c.resubmit))
                @for (name, value) in &c.hidden {
                    input type="hidden" name=(name) value=(value);
                }
                div.actions {
                    button type="submit" name=(ACTION) value=(FILE) {
                        @if c.resubmit.is_some() { "再提出する" } @else { "申請する" }
                    }
                    button.secondary type="submit" name=(ACTION) value=(BACK) { "戻る" }
                }
            }
        }
    };
    layout(&title, Some(csrf), body)
}

/// Files `filing` for `person` (or refiles the sent-back application
/// `resubmit`): the application's id, or why not.
pub async fn file_or_resubmit(
    state: &AppState,
    person: u64,
    resubmit: Option<Resubmit>,
    filing: Filing,
) -> poem::Result<Result<u64, Refused>> {
    let who = Filer::Physician(person);
    Ok(match resubmit {
        None => procedures::file(
            &state.store,
            &state.config,
            &state.mail,
            who,
            person,
            filing,
        )
        .await
        .or_internal()?,
        Some(r) => procedures::resubmit(
            &state.store,
            &state.config,
            &state.mail,
            who,
            r.id,
            r.version,
            filing,
        )
        .await
        .or_internal()?
        .map(|()| r.id),
    })
}

/// 申請完了: the application just filed (or refiled), where it waits and
/// what comes next.
#[handler]
pub async fn complete(
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
    let waits_at = match a.status {
        Status::Pending { stage } => v.stage_names.get(stage).cloned(),
        _ => None,
    };
    let title = "申請完了";
    let body = html! {
        section.card aria-labelledby="complete-title" {
            h1 #complete-title { (title) }
            p.lead { "申請番号 " strong { (a.id) } "：" (a.procedure.summary()) " を受け付けました。" }
            h2 { "このあとの流れ" }
            ol {
                @if let Some(w) = &waits_at {
                    li { (w) "の事務局が申請内容を確認します。" }
                }
                @if v.stage_names.len() > 1 {
                    li { "承認されると、" (v.stage_names.join(" → ")) " の順に進みます。" }
                }
                li { "承認・差戻し・完了など、手続きが進むたびに登録メールアドレスにお知らせします。差戻しの場合は、申請状況から修正して再提出できます。" }
                li { "変更は、最後の医師会が承認し、完了した時点で登録情報・所属状況に反映されます。" }
            }
            p.actions { a.button href={ (LIST) "#application-" (a.id) } { "申請状況を見る" } }
        }
    };
    Ok(layout(title, Some(csrf), body).into_response())
}

/// What is wrong with a procedure's answers: each field's message, shown
/// next to the field (`div#m-<id>`) and linked from the summary, in the
/// order they were found (screen order), and the messages about the form
/// as a whole (nothing changed, refused by the service), shown in the
/// summary only.
#[derive(Clone, Debug, Default)]
pub struct ProcErrors {
    notes: Vec<String>,
    fields: FieldErrors,
}

impl ProcErrors {
    /// One message about the whole form.
    pub fn of_form(message: impl Into<String>) -> ProcErrors {
        let mut e = ProcErrors::default();
        e.note(message);
        e
    }

    /// The field errors given (the registration fields' own).
    pub fn of_fields(fields: FieldErrors) -> ProcErrors {
        ProcErrors {
            notes: Vec::new(),
            fields,
        }
    }

    /// Adds a message about the whole form.
    pub fn note(&mut self, message: impl Into<String>) {
        self.notes.push(message.into());
    }

    /// Adds the message of the field with id `id` (its `label` names it in
    /// the summary); a field keeps its first message.
    pub fn insert(&mut self, id: &str, label: &str, message: impl Into<String>) {
        if self.get(id).is_none() {
            self.fields.push(FieldError::new(id, label, message));
        }
    }

    /// Adds `other`'s messages (a field keeps its first message).
    pub fn merge(&mut self, other: ProcErrors) {
        self.notes.extend(other.notes);
        for e in other.fields.iter() {
            self.insert(&e.name, &e.label, e.message.clone());
        }
    }

    /// The message of the field with id `id`.
    pub fn get(&self, id: &str) -> Option<&str> {
        self.fields.message(id)
    }

    /// `aria-invalid` of the control with id `id`.
    pub fn invalid(&self, id: &str) -> Option<&'static str> {
        self.get(id).map(|_| "true")
    }

    /// The field errors, in screen order.
    pub fn fields(&self) -> &FieldErrors {
        &self.fields
    }

    pub fn is_empty(&self) -> bool {
        self.notes.is_empty() && self.fields.is_empty()
    }

    fn len(&self) -> usize {
        self.notes.len() + self.fields.len()
    }
}

/// The message region next to the field with id `id`.
pub fn field_message(errors: &ProcErrors, id: &str) -> Markup {
    message(id, errors.get(id), None, false)
}

/// An optional date answer (希望日, 異動日, 退会日) in the field `desired`;
/// its message joins `errors` when it does not parse.
pub fn optional_date(s: &str, label: &str, errors: &mut ProcErrors) -> Option<time::Date> {
    match s.trim() {
        "" => None,
        s => match crate::domain::Date::parse_as(s, label) {
            Ok(d) => Some(d.get()),
            Err(e) => {
                errors.insert("desired", label, e);
                None
            }
        },
    }
}

/// The 備考 / 理由 answer's (field `reason`) limit; its message joins
/// `errors` when over.
pub fn check_reason(reason: &str, label: &str, errors: &mut ProcErrors) {
    if reason.chars().count() > 1000 {
        errors.insert(
            "reason",
            label,
            format!("{label}は1,000文字以内で入力してください。"),
        );
    }
}

/// The error summary above a procedure's form: the form's messages, then
/// each field's, linking to the field (as the registration's summary).
/// Focused by the page script so screen readers start there.
pub fn errors_markup(errors: &ProcErrors) -> Markup {
    html! {
        @if !errors.is_empty() {
            div.error-summary role="alert" tabindex="-1" aria-labelledby="error-summary-title" {
                h2 #error-summary-title { "入力内容を確認してください。（" (errors.len()) "件）" }
                ul {
                    @for n in &errors.notes { li { (n) } }
                    @for e in &errors.fields {
                        // A message that names its field is shown alone.
                        li { a href={ "#" (e.name) } {
                            @if e.message.contains(e.label.as_str()) { (e.message) } @else { (e.label) "：" (e.message) }
                        } }
                    }
                }
            }
        }
    }
}

/// A date as the forms take it (2026/04/01).
pub fn slash_date(d: time::Date) -> String {
    format!("{:04}/{:02}/{:02}", d.year(), u8::from(d.month()), d.day())
}
