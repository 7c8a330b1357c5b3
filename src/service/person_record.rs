//! A person's record for the office: what staff see of a registered
//! physician (the registration's fields, the account's state, the record's
//! history), the corrections they make, and the password-reset mail they
//! may send. Every read and write checks the staff member's scope
//! (`Scope::sees`) on the record it reads: a record outside it is answered
//! as missing.
//!
//! A correction is one write transaction: the record read again, refused if
//! it changed since the form was shown (its version), the person replaced
//! (moving its index entries and, for a corrected 医籍登録番号, its unique
//! key) and the audit entry with every changed field old → new.

use sha2::{Digest, Sha256};

use crate::{
    auth::{
        guards::{Scope, Staff, StaffAdmin},
        login_limiter::{self, ACCOUNT},
    },
    config::Config,
    domain::{Role, membership::Level, person::Person, person_form},
    mail::{templates, worker::MailSignal},
    store::{
        Store, associations,
        audit::{self, AuditEntry, Target},
        last_logins, login_attempts, memberships, outbox, resets, tokens,
        users::{self, UserRecord},
    },
};

pub use crate::store::audit::{AuditKind, FieldChange};

/// The most history entries a person's page shows.
const HISTORY_MAX: usize = 200;

/// What a person's page shows.
#[derive(Clone, Debug)]
pub struct PersonRecord {
    pub id: u64,
    pub login_id: String,
    pub email: String,
    pub person: Person,
    /// The association's name; none when the person belongs to none yet.
    pub association: Option<String>,
    pub created_at: i64,
    /// Unix seconds of the last login, if one was recorded.
    pub last_login_at: Option<i64>,
    /// Seconds until the login ID may be tried again, when it is throttled.
    pub throttled_secs: Option<u64>,
    /// The one-time password has not been replaced yet (初回ログイン待ち).
    pub must_change_password: bool,
    /// The person's version: a correction made from an older one is refused.
    pub version: String,
    /// The record's history, newest first.
    pub history: Vec<HistoryRow>,
    /// Every membership ever held, in the order they began.
    pub memberships: Vec<MembershipRow>,
}

/// One membership as staff read it.
#[derive(Clone, Debug)]
pub struct MembershipRow {
    pub level: Level,
    /// The association's name (empty if it no longer exists).
    pub association: String,
    /// The current class's label.
    pub class: String,
    pub joined: time::Date,
    pub left: Option<time::Date>,
}

/// The memberships of person `id`, with their associations' names.
fn membership_rows(tx: &redb::ReadTransaction, id: u64) -> anyhow::Result<Vec<MembershipRow>> {
    memberships::get(tx, id)?
        .memberships
        .into_iter()
        .map(|m| {
            let association =
                associations::get(tx, m.association)?.map_or_else(String::new, |a| a.name);
            let class = m.class().to_owned();
            Ok(MembershipRow {
                level: m.level,
                association,
                class,
                joined: m.joined,
                left: m.left,
            })
        })
        .collect()
}

/// One audit entry as staff read it.
#[derive(Clone, Debug)]
pub struct HistoryRow {
    pub id: u64,
    pub at: i64,
    pub kind: AuditKind,
    /// The staff member who made the change (「名前（医師会）」), or the login
    /// ID or account the entry names when no staff member made it.
    pub who: String,
    /// The person the entry is about: id and name.
    pub person: Option<(u64, String)>,
    pub changes: Vec<FieldChange>,
}

/// The version of a person as stored: a short hash of its stored form.
pub fn version_of(person: &Person) -> anyhow::Result<String> {
    let bytes = serde_json::to_vec(person)?;
    let digest = Sha256::digest(&bytes);
    Ok(digest.iter().take(12).map(|b| format!("{b:02x}")).collect())
}

/// The person of account `id`, when it is a physician's account within
/// `scope`.
fn person_in_scope(user: Option<UserRecord>, scope: &Scope) -> Option<(UserRecord, Person)> {
    let user = user?;
    if matches!(user.role, Role::Staff { .. }) || !scope.sees(user.association) {
        return None;
    }
    let person = user.person.clone()?;
    Some((user, person))
}

/// The scope of `staff`, read from the tree now.
async fn scope(store: &Store, staff: &Staff) -> anyhow::Result<Scope> {
    crate::service::office::scope_of(store, staff.association).await
}

/// Said for the actor of an entry the person made about their own record.
pub const SELF_ACTOR: &str = "本人";

/// Every row changed between `old` and `new`, old → new, as audited.
pub fn field_changes(old: &Person, new: &Person) -> Vec<FieldChange> {
    person_form::changed_rows(old, new)
        .into_iter()
        .map(|(label, o, n)| FieldChange::new(label, o, n))
        .collect()
}

/// Who an audit entry names: 「本人」 for the person themself, a staff actor
/// as 「名前（医師会）」, otherwise the login ID or account it was about.
fn who(tx: &redb::ReadTransaction, e: &audit::AuditEntry) -> anyhow::Result<String> {
    if let Some(actor) = e.actor {
        if e.target == Some(Target::Person(actor)) {
            return Ok(SELF_ACTOR.to_owned());
        }
        let Some(user) = users::get(tx, actor)? else {
            return Ok(format!("職員 #{actor}"));
        };
        let association = match user.role {
            Role::Staff { association, .. } => associations::get(tx, association)?.map(|a| a.name),
            Role::Physician | Role::Member => None,
        };
        let name = match user.display_name() {
            n if n.is_empty() => user.login_id.clone(),
            n => n,
        };
        return Ok(match association {
            Some(a) => format!("{name}（{a}）"),
            None => name,
        });
    }
    Ok(match (&e.login_id, e.user_id) {
        (Some(login), _) => login.clone(),
        (None, Some(id)) => format!("アカウント #{id}"),
        (None, None) => "-".to_owned(),
    })
}

/// An audit entry as staff read it.
fn history_row(tx: &redb::ReadTransaction, e: audit::AuditEntry) -> anyhow::Result<HistoryRow> {
    let person = match e.target {
        Some(Target::Person(id)) => Some((
            id,
            users::get(tx, id)?.map_or_else(String::new, |u| u.display_name()),
        )),
        _ => None,
    };
    Ok(HistoryRow {
        id: e.id,
        at: e.at,
        kind: e.kind,
        who: who(tx, &e)?,
        person,
        changes: e.changes,
    })
}

/// The record of person `id` for `staff`; `None` when there is no such
/// person or it is outside their scope.
pub async fn open(store: &Store, staff: &Staff, id: u64) -> anyhow::Result<Option<PersonRecord>> {
    let scope = scope(store, staff).await?;
    store
        .read(move |tx| {
            let Some((user, person)) = person_in_scope(users::get(tx, id)?, &scope) else {
                return Ok(None);
            };
            let association = match user.association {
                Some(a) => associations::get(tx, a)?.map(|a| a.name),
                None => None,
            };
            let key = login_limiter::account_key(&user.login_id);
            let throttled = login_attempts::check(tx, &[(key, ACCOUNT)], login_limiter::now_ms())?;
            let history = audit::of_target(tx, Target::Person(id), HISTORY_MAX)?
                .into_iter()
                .map(|e| history_row(tx, e))
                .collect::<anyhow::Result<Vec<_>>>()?;
            Ok(Some(PersonRecord {
                id,
                version: version_of(&person)?,
                last_login_at: last_logins::get(tx, id)?,
                throttled_secs: throttled
                    .map(|r| u64::try_from((r.wait_ms.max(1) + 999) / 1000).unwrap_or(1)),
                login_id: user.login_id,
                email: user.email,
                person,
                association,
                created_at: user.created_at,
                must_change_password: user.must_change_password,
                history,
                memberships: membership_rows(tx, id)?,
            }))
        })
        .await
}

/// How a correction ended.
#[derive(Debug, PartialEq, Eq)]
pub enum Correction {
    /// No such person in the staff member's scope.
    NotFound,
    /// The record changed after the form was shown: nothing was written.
    Stale,
    /// Another account holds the corrected 医籍登録番号: nothing was written.
    RegistryNumberTaken,
    /// Nothing differed: nothing was written.
    Unchanged,
    /// Written, with the number of rows changed.
    Saved(usize),
}

/// Corrects person `id` to `person`, if it is still at `version`: the
/// person replaced and its audit entry (every changed row old → new) in one
/// transaction.
pub async fn correct(
    store: &Store,
    staff: &Staff,
    id: u64,
    version: String,
    person: Person,
) -> anyhow::Result<Correction> {
    let scope = scope(store, staff).await?;
    let actor = staff.account.id;
    let outcome = store
        .write_ok(move |tx| {
            let Some((user, old)) = person_in_scope(users::get_for_update(tx, id)?, &scope) else {
                return Ok(Correction::NotFound);
            };
            if version_of(&old)? != version {
                return Ok(Correction::Stale);
            }
            let changes = field_changes(&old, &person);
            if changes.is_empty() {
                return Ok(Correction::Unchanged);
            }
            let number = person.registry.number.to_string();
            if number != user.registry_number && !users::set_registry_number(tx, id, &number)? {
                return Ok(Correction::RegistryNumberTaken);
            }
            if users::replace_person(tx, id, person)?.is_none() {
                return Ok(Correction::NotFound);
            }
            let n = changes.len();
            audit::record(
                tx,
                AuditEntry::new(AuditKind::PersonCorrected)
                    .actor(actor)
                    .user(id)
                    .target(Target::Person(id), user.association)
                    .changes(changes),
            )?;
            Ok(Correction::Saved(n))
        })
        .await?;
    if let Correction::Saved(n) = outcome {
        tracing::info!(
            person_id = id,
            staff_id = actor,
            fields = n,
            "person corrected"
        );
    }
    Ok(outcome)
}

/// How a staff member's password-reset request ended.
#[derive(Debug, PartialEq, Eq)]
pub enum ResetMail {
    NotFound,
    /// The account has no e-mail address to send to.
    NoAddress,
    Sent,
}

/// Mails the standard password-reset link to person `id`'s address: the
/// reset token, the mail and the audit entry (who asked, for whom) in one
/// transaction. Staff never see the link or any password.
pub async fn send_password_reset(
    store: &Store,
    config: &Config,
    mail: &MailSignal,
    staff: &Staff,
    id: u64,
) -> anyhow::Result<ResetMail> {
    let scope = scope(store, staff).await?;
    let actor = staff.account.id;
    let (token, h) = tokens::new_token();
    let link = format!(
        "{}{}?token={token}",
        config.base_url,
        crate::service::accounts::RESET_LINK
    );
    let (subject, body) = templates::password_reset(config, &link);
    let outcome = store
        .write_ok(move |tx| {
            let Some((user, _)) = person_in_scope(users::get_for_update(tx, id)?, &scope) else {
                return Ok(ResetMail::NotFound);
            };
            if user.email.trim().is_empty() {
                return Ok(ResetMail::NoAddress);
            }
            resets::insert(tx, &h, id)?;
            outbox::enqueue(tx, &user.email, &subject, body)?;
            audit::record(
                tx,
                AuditEntry::new(AuditKind::PasswordResetSentByStaff)
                    .actor(actor)
                    .user(id)
                    .login_id(&user.login_id)
                    .target(Target::Person(id), user.association),
            )?;
            Ok(ResetMail::Sent)
        })
        .await?;
    if outcome == ResetMail::Sent {
        mail.wake();
        tracing::info!(
            person_id = id,
            staff_id = actor,
            "password reset mailed by staff"
        );
    }
    Ok(outcome)
}

/// What the 管理者's audit search asks for.
#[derive(Clone, Debug, Default)]
pub struct AuditQuery {
    pub kind: Option<AuditKind>,
    /// Unix seconds, inclusive.
    pub from: Option<i64>,
    /// Unix seconds, exclusive.
    pub until: Option<i64>,
    /// A login ID or a person id.
    pub target: Option<String>,
    /// Continue with entries older than this audit id.
    pub before: Option<u64>,
}

/// One page of the audit search.
#[derive(Clone, Debug, Default)]
pub struct AuditPage {
    pub rows: Vec<HistoryRow>,
    /// The audit id to continue before, when there may be more.
    pub next: Option<u64>,
}

/// Entries per page, and the most read for one page.
const PAGE_SIZE: usize = 50;
const SCAN_MAX: usize = 20_000;

/// The audit log of the records within the 管理者's scope, newest first,
/// as `q` filters it: entries about a record of an association in the scope
/// (a person of no association: the root's only), and entries about no
/// record (logins and other security events) for the root's 管理者 only.
pub async fn search_audit(
    store: &Store,
    admin: &StaffAdmin,
    q: AuditQuery,
) -> anyhow::Result<AuditPage> {
    let scope = scope(store, &admin.0).await?;
    store
        .read(move |tx| {
            let root = scope.allows_unaffiliated();
            let person = match q.target.as_deref().map(str::trim) {
                None | Some("") => None,
                Some(t) => match t.parse::<u64>() {
                    Ok(id) => Some(id),
                    Err(_) => match users::by_login_id(tx, t)? {
                        Some(u) => Some(u.id),
                        None => return Ok(AuditPage::default()),
                    },
                },
            };
            let keep = |e: &audit::AuditEntry| {
                let in_scope = match e.target {
                    Some(_) => scope.sees(e.association),
                    None => root,
                };
                in_scope
                    && q.kind.is_none_or(|k| e.kind == k)
                    && q.from.is_none_or(|f| e.at >= f)
                    && q.until.is_none_or(|u| e.at < u)
                    && person.is_none_or(|p| {
                        e.target == Some(Target::Person(p))
                            || (e.target.is_none() && e.user_id == Some(p))
                    })
            };
            let (entries, next) =
                audit::search(tx, q.before.unwrap_or(u64::MAX), PAGE_SIZE, SCAN_MAX, keep)?;
            let rows = entries
                .into_iter()
                .map(|e| history_row(tx, e))
                .collect::<anyhow::Result<Vec<_>>>()?;
            Ok(AuditPage { rows, next })
        })
        .await
}
