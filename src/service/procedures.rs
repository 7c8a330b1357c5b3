//! The membership procedures (入会・異動・退会) as use cases: filing (by the
//! physician, or by staff on their behalf from a paper form or at the
//! counter), 取下げ and 再提出 by the applicant, the decisions of each
//! level's staff (承認 with the date, 差戻し with a comment, 却下 with a
//! reason; bulk 承認 with one date), the office queues and the 確認依頼
//! inbox, the counts of 事務局TOP, and the applicant's own applications.
//!
//! Every transition is one write transaction: the application re-read and
//! checked against the version the screen showed (a double click or a
//! second staff member gets `Refusal::Stale`, nothing is applied twice),
//! its queue entries moved, the audit entry, the mail to the applicant and,
//! on completion, the memberships, class history, the person's record and
//! the account's district.
//!
//! What staff see: an application is shown to the association of a stage
//! it has reached (or of a 確認依頼 it raised), never to a level it has not
//! reached yet nor to another district: such an application is answered as
//! missing (404). The staff of the queue an application enters (and of a
//! 確認依頼) who gave a 連絡用メールアドレス are mailed in the same
//! transaction, number, kind and link only (`staff_mail`); the others find
//! it in their queue and its count on 事務局TOP.

use time::Date;

use crate::{
    auth::guards::Staff,
    config::Config,
    domain::{
        AssociationId, Role,
        application::{Application, Decision, Filing, Outcome, Refusal, Status, TimelineStep},
        association::Association,
        completion,
        membership::MemberFile,
        procedure::{self, ApplicationKind, Intake},
        routing,
    },
    mail::{
        procedure_mails::{self, Event},
        worker::MailSignal,
    },
    store::{
        Store, applications, associations,
        audit::{self, AuditEntry, AuditKind, FieldChange, Target},
        memberships, now, outbox,
        users::{self, UserRecord},
    },
};

/// Who files or withdraws.
#[derive(Clone, Debug)]
pub enum Filer {
    /// The physician themself, on マイページ (Web).
    Physician(u64),
    /// Staff entering it for the physician (代行入力), from paper or at the
    /// counter.
    Staff(Staff, Intake),
}

impl Filer {
    fn actor(&self) -> Option<u64> {
        match self {
            Filer::Physician(_) => None,
            Filer::Staff(s, _) => Some(s.account.id),
        }
    }

    fn intake(&self) -> Intake {
        match self {
            Filer::Physician(_) => Intake::Web,
            Filer::Staff(_, intake) => *intake,
        }
    }
}

/// Why something was not done.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Refused {
    /// No such application or person for this user (answer 404).
    NotFound,
    /// A transition the state machine refuses.
    Transition(Refusal),
    /// A rule of the memberships, with its message.
    Rule(String),
}

impl Refused {
    /// The message to show (empty for `NotFound`, which is a 404).
    pub fn message(&self) -> String {
        match self {
            Refused::NotFound => String::new(),
            Refused::Transition(r) => r.message().to_owned(),
            Refused::Rule(m) => m.clone(),
        }
    }
}

/// The message when an application of the same kind is still open.
pub const ALREADY_OPEN: &str =
    "同じ種類の申請が処理中です。処理が終わるか、取り下げてから申請してください。";

fn name_of(id: AssociationId, all: &[Association]) -> String {
    all.iter()
        .find(|a| a.id == id)
        .map_or_else(|| format!("医師会 #{}", id.0), |a| a.name.clone())
}

/// True when the staff of `association` may see `app`: a stage it has
/// reached is theirs, or a 確認依頼 to them.
fn visible_to(app: &Application, association: AssociationId) -> bool {
    let reached = match app.status {
        Status::Pending { stage } | Status::SentBack { stage } => stage,
        _ => app.steps.iter().filter_map(|s| s.stage).max().unwrap_or(0),
    };
    app.stages
        .iter()
        .take(reached + 1)
        .any(|s| s.association == association)
        || app.notices.iter().any(|n| n.association == association)
}

/// The physician's account `id`, when it is a physician's with a person.
fn physician(user: Option<UserRecord>) -> Option<(UserRecord, crate::domain::person::Person)> {
    let user = user?;
    if matches!(user.role, Role::Staff { .. }) {
        return None;
    }
    let person = user.person.clone()?;
    Some((user, person))
}

/// Queues the applicant's mail (none when the account has no address).
fn mail_applicant(
    tx: &redb::WriteTransaction,
    config: &Config,
    user: &UserRecord,
    app: &Application,
    event: &Event,
) -> anyhow::Result<bool> {
    if user.email.trim().is_empty() {
        return Ok(false);
    }
    let (subject, body) = procedure_mails::to_applicant(
        config,
        &user.display_name(),
        app.id,
        &app.procedure.summary(),
        event,
    );
    outbox::enqueue(tx, &user.email, &subject, body)?;
    Ok(true)
}

fn waits_at(app: &Application, all: &[Association]) -> String {
    app.current_stage()
        .map(|s| name_of(s.association, all))
        .unwrap_or_default()
}

fn entry(kind: AuditKind, app: &Application, actor: Option<u64>, user: &UserRecord) -> AuditEntry {
    let mut e = AuditEntry::new(kind)
        .user(app.person)
        .target(Target::Person(app.person), user.association)
        .detail(format!("申請 #{} {}", app.id, app.procedure.summary()));
    if let Some(a) = actor {
        e = e.actor(a);
    }
    e
}

/// Whether staff `staff` (of scope within their association) may enter an
/// application for `user`: a join only into their own association or one
/// below it; anything else only for a person theirs to see.
fn staff_may_file(staff: &Staff, all: &[Association], user: &UserRecord, filing: &Filing) -> bool {
    let scope = staff.scope(all);
    match &filing.procedure {
        procedure::Procedure::Join(j) => scope.allows(j.district),
        _ => scope.sees(user.association),
    }
}

/// Files `filing` for person `person`; the new application's id.
pub async fn file(
    store: &Store,
    config: &Config,
    mail: &MailSignal,
    who: Filer,
    person: u64,
    filing: Filing,
) -> anyhow::Result<Result<u64, Refused>> {
    let all = store.read(associations::all).await?;
    let config = config.clone();
    let outcome = store
        .write(move |tx| {
            let Some((user, current)) = physician(users::get_for_update(tx, person)?) else {
                return Ok(Err(Refused::NotFound));
            };
            match &who {
                Filer::Physician(id) if *id != person => return Ok(Err(Refused::NotFound)),
                Filer::Staff(staff, _) if !staff_may_file(staff, &all, &user, &filing) => {
                    return Ok(Err(Refused::NotFound));
                }
                _ => {}
            }
            let file = memberships::get_for_update(tx, person)?;
            if let Err(m) = procedure::check(&filing.procedure, &file, &all) {
                return Ok(Err(Refused::Rule(m)));
            }
            if let Err(m) = procedure::check_person(&filing.procedure, &current) {
                return Ok(Err(Refused::Rule(m)));
            }
            let stages = match routing::stages(&filing.procedure, &file, &all) {
                Ok(s) if !s.is_empty() => s,
                Ok(_) => return Ok(Err(Refused::Rule("申請先が見つかりません。".into()))),
                Err(m) => return Ok(Err(Refused::Rule(m))),
            };
            let app = Application::file(person, filing, who.intake(), who.actor(), stages, now());
            let id = match applications::insert(tx, app.clone())? {
                Ok(id) => id,
                Err(_) => return Ok(Err(Refused::Rule(ALREADY_OPEN.into()))),
            };
            let app = Application { id, ..app };
            audit::record(
                tx,
                entry(AuditKind::ApplicationFiled, &app, who.actor(), &user)
                    .changes([FieldChange::new("受付方法", "", app.intake.label())]),
            )?;
            let event = Event::Filed {
                waits_at: waits_at(&app, &all),
            };
            mail_applicant(tx, &config, &user, &app, &event)?;
            staff_mail::mail_queue(tx, &config, &app)?;
            Ok(Ok(id))
        })
        .await?;
    if let Ok(id) = outcome {
        mail.wake();
        tracing::info!(application = id, person, "application filed");
    }
    Ok(outcome)
}

/// 取下げ of application `id` (at `version`) by the applicant, or by staff
/// for them.
pub async fn withdraw(
    store: &Store,
    config: &Config,
    mail: &MailSignal,
    who: Filer,
    id: u64,
    version: u64,
) -> anyhow::Result<Result<(), Refused>> {
    let config = config.clone();
    let outcome = store
        .write(move |tx| {
            let Some(old) = applications::get_for_update(tx, id)? else {
                return Ok(Err(Refused::NotFound));
            };
            let allowed = match &who {
                Filer::Physician(p) => *p == old.person,
                Filer::Staff(staff, _) => visible_to(&old, staff.association),
            };
            let Some((user, _)) =
                physician(users::get_for_update(tx, old.person)?).filter(|_| allowed)
            else {
                return Ok(Err(Refused::NotFound));
            };
            let mut app = old.clone();
            if let Err(r) = app.withdraw(old.person, who.actor(), version, now()) {
                return Ok(Err(Refused::Transition(r)));
            }
            applications::update(tx, &old, &app)?;
            audit::record(
                tx,
                entry(AuditKind::ApplicationWithdrawn, &app, who.actor(), &user),
            )?;
            mail_applicant(tx, &config, &user, &app, &Event::Withdrawn)?;
            Ok(Ok(()))
        })
        .await?;
    if outcome.is_ok() {
        mail.wake();
        tracing::info!(application = id, "application withdrawn");
    }
    Ok(outcome)
}

/// 再提出 of the sent-back application `id` (at `version`), edited to
/// `filing`: checked and routed again; back at the stage that sent it
/// back, or at the first stage when the route changed.
pub async fn resubmit(
    store: &Store,
    config: &Config,
    mail: &MailSignal,
    who: Filer,
    id: u64,
    version: u64,
    filing: Filing,
) -> anyhow::Result<Result<(), Refused>> {
    let all = store.read(associations::all).await?;
    let config = config.clone();
    let outcome = store
        .write(move |tx| {
            let Some(old) = applications::get_for_update(tx, id)? else {
                return Ok(Err(Refused::NotFound));
            };
            let allowed = match &who {
                Filer::Physician(p) => *p == old.person,
                Filer::Staff(staff, _) => visible_to(&old, staff.association),
            };
            let Some((user, current)) =
                physician(users::get_for_update(tx, old.person)?).filter(|_| allowed)
            else {
                return Ok(Err(Refused::NotFound));
            };
            if filing.procedure.kind() != old.procedure.kind() {
                return Ok(Err(Refused::Rule(
                    "申請の種類は変えられません。取り下げてから申請してください。".into(),
                )));
            }
            let file = memberships::get_for_update(tx, old.person)?;
            if let Err(m) = procedure::check(&filing.procedure, &file, &all) {
                return Ok(Err(Refused::Rule(m)));
            }
            if let Err(m) = procedure::check_person(&filing.procedure, &current) {
                return Ok(Err(Refused::Rule(m)));
            }
            let stages = match routing::stages(&filing.procedure, &file, &all) {
                Ok(s) if !s.is_empty() => s,
                Ok(_) => return Ok(Err(Refused::Rule("申請先が見つかりません。".into()))),
                Err(m) => return Ok(Err(Refused::Rule(m))),
            };
            let mut app = old.clone();
            if let Err(r) = app.resubmit(old.person, who.actor(), version, filing, stages, now()) {
                return Ok(Err(Refused::Transition(r)));
            }
            applications::update(tx, &old, &app)?;
            audit::record(
                tx,
                entry(AuditKind::ApplicationResubmitted, &app, who.actor(), &user),
            )?;
            let event = Event::Filed {
                waits_at: waits_at(&app, &all),
            };
            mail_applicant(tx, &config, &user, &app, &event)?;
            staff_mail::mail_queue(tx, &config, &app)?;
            Ok(Ok(()))
        })
        .await?;
    if outcome.is_ok() {
        mail.wake();
        tracing::info!(application = id, "application resubmitted");
    }
    Ok(outcome)
}

/// Applies `decision` of `staff` to application `id` inside `tx`.
fn decide_in(
    tx: &redb::WriteTransaction,
    config: &Config,
    all: &[Association],
    staff: &Staff,
    id: u64,
    version: u64,
    decision: Decision,
) -> anyhow::Result<Result<Outcome, Refused>> {
    let Some(old) = applications::get_for_update(tx, id)? else {
        return Ok(Err(Refused::NotFound));
    };
    if !visible_to(&old, staff.association) {
        return Ok(Err(Refused::NotFound));
    }
    let Some((user, person)) = physician(users::get_for_update(tx, old.person)?) else {
        return Ok(Err(Refused::NotFound));
    };
    let actor = staff.account.id;
    let mut app = old.clone();
    let outcome = match app.decide(staff.association, actor, version, decision, now()) {
        Ok(o) => o,
        Err(r) => return Ok(Err(Refused::Transition(r))),
    };
    let by = name_of(staff.association, all);
    let (kind, event) = match outcome {
        Outcome::Advanced { .. } => (
            AuditKind::ApplicationApproved,
            Event::Advanced {
                by,
                waits_at: waits_at(&app, all),
            },
        ),
        Outcome::Completed(date) => {
            let mut file = memberships::get_for_update(tx, app.person)?;
            let before = file.clone();
            let done = match completion::complete(&app.procedure, date, &mut file, &person, all) {
                Ok(d) => d,
                Err(m) => return Ok(Err(Refused::Rule(m))),
            };
            memberships::put(tx, app.person, &file)?;
            if let Some(p) = done.person.clone()
                && users::replace_person(tx, app.person, p)?.is_none()
            {
                return Ok(Err(Refused::NotFound));
            }
            let mut changes: Vec<FieldChange> = done
                .changes
                .iter()
                .map(|(l, o, n)| FieldChange::new(l.clone(), o.clone(), n.clone()))
                .collect();
            let mut association = user.association;
            if let Some(d) = done.district
                && user.association != Some(d)
            {
                memberships::set_account_district(tx, app.person, d)?;
                changes.push(FieldChange::new(
                    "所属医師会",
                    user.association
                        .map(|a| name_of(a, all))
                        .unwrap_or_default(),
                    name_of(d, all),
                ));
                association = Some(d);
            }
            let notices = routing::notices(&app.procedure, &before, all);
            app.raise_notices(&notices, now());
            audit::record(
                tx,
                AuditEntry::new(AuditKind::MembershipChanged)
                    .actor(actor)
                    .user(app.person)
                    .target(Target::Person(app.person), association)
                    .detail(format!(
                        "申請 #{} {} {date}",
                        app.id,
                        app.procedure.summary()
                    ))
                    .changes(changes),
            )?;
            (
                AuditKind::ApplicationApproved,
                Event::Completed {
                    date: date.to_string(),
                },
            )
        }
        Outcome::SentBack => (
            AuditKind::ApplicationSentBack,
            Event::SentBack {
                by,
                comment: app.steps.last().map(|s| s.text.clone()).unwrap_or_default(),
            },
        ),
        Outcome::Rejected => (
            AuditKind::ApplicationRejected,
            Event::Rejected {
                by,
                reason: app.steps.last().map(|s| s.text.clone()).unwrap_or_default(),
            },
        ),
    };
    applications::update(tx, &old, &app)?;
    audit::record(tx, entry(kind, &app, Some(actor), &user))?;
    mail_applicant(tx, config, &user, &app, &event)?;
    staff_mail::mail_queue(tx, config, &app)?;
    staff_mail::mail_notices(tx, config, &app)?;
    Ok(Ok(outcome))
}

/// A decision of `staff` on application `id`, shown at `version`.
pub async fn decide(
    store: &Store,
    config: &Config,
    mail: &MailSignal,
    staff: &Staff,
    id: u64,
    version: u64,
    decision: Decision,
) -> anyhow::Result<Result<Outcome, Refused>> {
    let all = store.read(associations::all).await?;
    let (config, staff_c) = (config.clone(), staff.clone());
    let outcome = store
        .write(move |tx| {
            match decide_in(tx, &config, &all, &staff_c, id, version, decision)? {
                Ok(o) => Ok(Ok(o)),
                // Refused: the transaction is aborted, nothing written.
                Err(r) => Ok(Err(r)),
            }
        })
        .await?;
    if let Ok(o) = &outcome {
        mail.wake();
        tracing::info!(application = id, staff_id = staff.account.id, outcome = ?o, "application decided");
    }
    Ok(outcome)
}

/// One row of an office queue.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct QueueRow {
    pub id: u64,
    pub version: u64,
    pub kind: ApplicationKind,
    pub summary: String,
    pub person: u64,
    pub person_name: String,
    pub intake: Intake,
    /// Unix seconds it was first filed.
    pub filed_at: i64,
    /// Unix seconds it has waited here since.
    pub waiting_since: i64,
    /// Where it waits (the association's name), or the state when done.
    pub status: String,
}

fn row(
    tx: &redb::ReadTransaction,
    app: &Application,
    all: &[Association],
) -> anyhow::Result<QueueRow> {
    let person_name = users::get(tx, app.person)?.map_or_else(String::new, |u| u.display_name());
    let status = match app.current_stage() {
        Some(s) => format!("{}（{}）", app.status.label(), name_of(s.association, all)),
        None => app.status.label().to_owned(),
    };
    Ok(QueueRow {
        id: app.id,
        version: app.version,
        kind: app.procedure.kind(),
        summary: app.procedure.summary(),
        person: app.person,
        person_name,
        intake: app.intake,
        filed_at: app.steps.first().map_or(0, |s| s.at),
        waiting_since: app.waiting_since(),
        status,
    })
}

/// The applications waiting for the decision of `staff`'s association,
/// oldest first (of `kind` only, when given).
pub async fn queue(
    store: &Store,
    staff: &Staff,
    kind: Option<ApplicationKind>,
) -> anyhow::Result<Vec<QueueRow>> {
    let association = staff.association;
    store
        .read(move |tx| {
            let all = associations::all(tx)?;
            applications::queue(tx, association, applications::WAITING)?
                .iter()
                .filter(|a| kind.is_none_or(|k| a.procedure.kind() == k))
                .map(|a| row(tx, a, &all))
                .collect()
        })
        .await
}

/// The open 確認依頼 of `staff`'s association, oldest first.
pub async fn notices(store: &Store, staff: &Staff) -> anyhow::Result<Vec<QueueRow>> {
    let association = staff.association;
    store
        .read(move |tx| {
            let all = associations::all(tx)?;
            applications::queue(tx, association, applications::NOTICES)?
                .iter()
                .map(|a| row(tx, a, &all))
                .collect()
        })
        .await
}

/// Confirms the 確認依頼 of `staff`'s association on application `id`.
pub async fn confirm_notice(
    store: &Store,
    staff: &Staff,
    id: u64,
) -> anyhow::Result<Result<(), Refused>> {
    let (association, actor) = (staff.association, staff.account.id);
    store
        .write(move |tx| {
            let Some(old) = applications::get_for_update(tx, id)? else {
                return Ok(Err(Refused::NotFound));
            };
            let mut app = old.clone();
            if !app.confirm_notice(association, actor, now()) {
                return Ok(Err(Refused::NotFound));
            }
            applications::update(tx, &old, &app)?;
            let user_association =
                users::get_for_update(tx, app.person)?.and_then(|u| u.association);
            audit::record(
                tx,
                AuditEntry::new(AuditKind::NoticeConfirmed)
                    .actor(actor)
                    .user(app.person)
                    .target(Target::Person(app.person), user_association)
                    .detail(format!("申請 #{} {}", app.id, app.procedure.summary())),
            )?;
            Ok(Ok(()))
        })
        .await
}

/// The size of one queue and how long its oldest item has waited.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct QueueCount {
    pub count: usize,
    /// Seconds the oldest item has waited; none when the queue is empty.
    pub oldest_secs: Option<i64>,
}

impl QueueCount {
    fn add(&mut self, since: i64, now: i64) {
        self.count += 1;
        let age = (now - since).max(0);
        self.oldest_secs = Some(self.oldest_secs.map_or(age, |o| o.max(age)));
    }
}

/// The queues of 事務局TOP.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct QueueCounts {
    pub join: QueueCount,
    pub change: QueueCount,
    pub withdraw: QueueCount,
    pub notices: QueueCount,
}

/// The counts and oldest waiting ages of `staff`'s queues, at `at` (Unix
/// seconds).
pub async fn counts(store: &Store, staff: &Staff, at: i64) -> anyhow::Result<QueueCounts> {
    let association = staff.association;
    store
        .read(move |tx| {
            let mut c = QueueCounts::default();
            for a in applications::queue(tx, association, applications::WAITING)? {
                let q = match a.procedure.kind() {
                    ApplicationKind::Join => &mut c.join,
                    ApplicationKind::Change => &mut c.change,
                    ApplicationKind::Withdraw => &mut c.withdraw,
                };
                q.add(a.waiting_since(), at);
            }
            for a in applications::queue(tx, association, applications::NOTICES)? {
                for n in a
                    .notices
                    .iter()
                    .filter(|n| n.association == association && n.confirmed.is_none())
                {
                    c.notices.add(n.at, at);
                }
            }
            Ok(c)
        })
        .await
}

/// An application as its detail page shows it.
#[derive(Clone, Debug)]
pub struct ApplicationView {
    pub application: Application,
    pub person_name: String,
    /// The stages' association names, in order.
    pub stage_names: Vec<String>,
    pub timeline: Vec<TimelineStep>,
    /// True when the viewer's association decides it now.
    pub decides_now: bool,
    /// The applicant's memberships now (before the application completes).
    pub memberships: MemberFile,
}

fn view(
    tx: &redb::ReadTransaction,
    app: Application,
    all: &[Association],
    viewer: Option<AssociationId>,
) -> anyhow::Result<ApplicationView> {
    let person_name = users::get(tx, app.person)?.map_or_else(String::new, |u| u.display_name());
    Ok(ApplicationView {
        person_name,
        stage_names: app
            .stages
            .iter()
            .map(|s| name_of(s.association, all))
            .collect(),
        timeline: app.timeline(),
        decides_now: viewer.is_some() && app.current_stage().map(|s| s.association) == viewer,
        memberships: memberships::get(tx, app.person)?,
        application: app,
    })
}

/// Application `id` for `staff`; none when it has not reached their
/// association (answer 404).
pub async fn open_for_staff(
    store: &Store,
    staff: &Staff,
    id: u64,
) -> anyhow::Result<Option<ApplicationView>> {
    let association = staff.association;
    store
        .read(move |tx| {
            let Some(app) = applications::get(tx, id)? else {
                return Ok(None);
            };
            if !visible_to(&app, association) {
                return Ok(None);
            }
            let all = associations::all(tx)?;
            view(tx, app, &all, Some(association)).map(Some)
        })
        .await
}

/// The applications of `person`, newest first, with their timelines.
pub async fn mine(store: &Store, person: u64) -> anyhow::Result<Vec<ApplicationView>> {
    store
        .read(move |tx| {
            let all = associations::all(tx)?;
            let mut out = applications::of_person(tx, person)?
                .into_iter()
                .map(|a| view(tx, a, &all, None))
                .collect::<anyhow::Result<Vec<_>>>()?;
            out.reverse();
            Ok(out)
        })
        .await
}

/// What the system flags for a member on a given day (it does not bill).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct MemberFlags {
    /// JMA dues are reduced (up to the 5th year after graduation).
    pub dues_reduced: bool,
    /// A 研修医 class member (A②(C), C) whose 2-year training has ended,
    /// to be reminded to file the class change; the training is taken to
    /// begin on the 医籍登録日.
    pub class_change_due: bool,
}

/// The flags of `person` on `today`; none when there is no such physician.
pub async fn flags(store: &Store, person: u64, today: Date) -> anyhow::Result<Option<MemberFlags>> {
    store
        .read(move |tx| {
            let Some((_, p)) = physician(users::get(tx, person)?) else {
                return Ok(None);
            };
            let file = memberships::get(tx, person)?;
            let graduation = p.education.graduation;
            let jma = file
                .current(crate::domain::membership::Level::National)
                .and_then(|m| m.jma_class);
            Ok(Some(MemberFlags {
                // An imported member's graduation may be unknown: no flag.
                dues_reduced: graduation.is_some_and(|g| {
                    crate::domain::membership::dues_reduced(g.year(), g.month(), today)
                }),
                class_change_due: jma.is_some_and(|c| {
                    crate::domain::membership::class_change_reminder_due(
                        c,
                        p.registry.date.get(),
                        today,
                    )
                }),
            }))
        })
        .await
}

/// A 郡市区・大学・職域医師会 to choose on 入会申込.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LocalChoice {
    pub id: AssociationId,
    pub name: String,
    /// The prefectural association above it.
    pub prefecture: String,
}

/// Every association a district membership may be held at, by prefecture
/// then name.
pub async fn local_associations(store: &Store) -> anyhow::Result<Vec<LocalChoice>> {
    let all = store.read(associations::all).await?;
    let mut out: Vec<(AssociationId, LocalChoice)> = all
        .iter()
        .filter(|a| procedure::is_local(a.id, &all))
        .map(|a| {
            let pref = procedure::prefecture_of(a.id, &all).unwrap_or(a.id);
            (
                pref,
                LocalChoice {
                    id: a.id,
                    name: a.name.clone(),
                    prefecture: name_of(pref, &all),
                },
            )
        })
        .collect();
    out.sort_by(|a, b| (a.0, &a.1.name).cmp(&(b.0, &b.1.name)));
    Ok(out.into_iter().map(|(_, c)| c).collect())
}

/// The memberships of `person` (所属状況).
pub async fn memberships_of(store: &Store, person: u64) -> anyhow::Result<MemberFile> {
    store.read(move |tx| memberships::get(tx, person)).await
}

pub mod classes;
pub mod compare;
pub mod listing;
mod staff_mail;

#[cfg(test)]
mod tests;
