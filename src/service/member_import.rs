//! The member import: staff check an association's CSV of existing members
//! (a dry run: every row created, matched to someone registered, or
//! refused, and why), then import it all or nothing in one write
//! transaction, which also makes the batch of ID・パスワード通知ハガキ.
//!
//! - **Matching**: a row is someone already registered when an account has
//!   its 医籍登録番号, or else its 氏名 and 生年月日 (`store::imports`, through
//!   the `users_by_registry` and `persons_by_name` indexes). A matched row
//!   creates nothing, so importing the same file twice creates nothing new.
//! - **Association**: each member lands in the importing staff member's
//!   association, or in the one its 所属医師会 names, which must be in their
//!   scope (their association or one below it).
//! - **All or nothing**: 「取り込む」 reads the checked file again and checks
//!   every row again inside the write transaction; one refused row and
//!   nothing is written.
//! - **Initial passwords**: 20 random characters without look-alikes
//!   (`office::one_time_password`), stored as a keyed hash
//!   (`auth::password::hash_initial`), valid for the association's
//!   validity days; the plaintext is kept only in the postcard batch until
//!   the batch is closed (`service::postcards`).

use rand::Rng;

use crate::{
    auth::{
        guards::{Scope, Staff},
        password,
    },
    domain::{
        AssociationId, Role,
        association::Association,
        member_csv::{self, Encoding, FileError, Membership, ParsedRow},
    },
    store::{
        Store, associations,
        audit::{self, AuditEntry, AuditKind, Target},
        imports::{self, MatchedBy, Upload},
        now,
        postcards::{self, Batch, Origin, Postcard},
        tokens,
        users::{self, Conflict, UserRecord},
    },
};

pub use crate::store::imports::MatchedBy as Match;

/// The longest file name kept with an upload.
const FILE_NAME_MAX_CHARS: usize = 100;
/// Login IDs of imported members: this letter and 7 digits.
const LOGIN_PREFIX: char = 'm';

/// What would happen to one row.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// A new member of this association (its name).
    Create { association: String },
    /// Someone already registered: nothing is created.
    Matched(MatchedBy),
    /// Refused, with every message.
    Refused(Vec<String>),
}

impl Outcome {
    /// 作成 / 既存と一致 / エラー
    pub fn label(&self) -> &'static str {
        match self {
            Outcome::Create { .. } => "作成",
            Outcome::Matched(_) => "既存と一致",
            Outcome::Refused(_) => "エラー",
        }
    }
}

/// One row of the dry-run table.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RowOutcome {
    /// Line number in the file (the header is line 1).
    pub line: u64,
    /// 氏名 as written.
    pub name: String,
    pub outcome: Outcome,
}

/// A file checked row by row.
#[derive(Clone, Debug)]
pub struct DryRun {
    pub file_name: String,
    pub encoding: Encoding,
    pub rows: Vec<RowOutcome>,
    /// The reference 「取り込む」 posts back; none when the file cannot be
    /// imported (a refused row, or nothing to create).
    pub reference: Option<String>,
}

impl DryRun {
    fn count(&self, label: &str) -> usize {
        self.rows
            .iter()
            .filter(|r| r.outcome.label() == label)
            .count()
    }

    pub fn to_create(&self) -> usize {
        self.count("作成")
    }

    pub fn matched(&self) -> usize {
        self.count("既存と一致")
    }

    pub fn refused(&self) -> usize {
        self.count("エラー")
    }
}

/// What a dry run found.
#[derive(Clone, Debug)]
pub enum Checked {
    Rows(DryRun),
    /// The file as a whole cannot be read (the message).
    Unreadable(String),
}

/// How 「取り込む」 ended.
#[derive(Clone, Debug)]
pub enum Imported {
    /// Written: the members made (and their postcard batch, when any was
    /// made), and the rows matched to someone registered.
    Done {
        batch: Option<u64>,
        created: usize,
        matched: usize,
    },
    /// A row is refused now (something changed since the dry run): nothing
    /// was written; the rows as they stand.
    Refused(Vec<RowOutcome>),
    /// The reference is unknown, too old, or not this staff member's.
    Gone,
}

/// Today in Japan, for the date rules.
fn today() -> time::Date {
    time::OffsetDateTime::now_utc()
        .to_offset(time::macros::offset!(+9))
        .date()
}

/// The message of a 所属医師会 outside the importer's scope (or unknown).
fn association_refused(name: &str) -> String {
    format!(
        "{}「{name}」は取り込める医師会（自医師会とその下部の医師会）ではありません。",
        member_csv::ASSOCIATION_LABEL
    )
}

/// A row checked against the tree and the registered accounts.
struct Resolved {
    outcome: Outcome,
    /// For a row to create: the association it goes to.
    association: Option<AssociationId>,
}

/// Decides every parsed row: refused by its own rules, by its 所属医師会,
/// or matched (`existing`, one per row, from `imports::find_all`).
fn resolve(
    rows: &[ParsedRow],
    existing: &[Option<(u64, MatchedBy)>],
    own: &Association,
    all: &[Association],
    scope: &Scope,
) -> Vec<Resolved> {
    rows.iter()
        .zip(existing)
        .map(|(row, found)| {
            let member = match &row.result {
                Ok(m) => m,
                Err(msgs) => {
                    return Resolved {
                        outcome: Outcome::Refused(msgs.clone()),
                        association: None,
                    };
                }
            };
            let target = match &member.association {
                None => Some(own),
                Some(name) => all.iter().find(|a| a.name == *name && scope.allows(a.id)),
            };
            let Some(target) = target else {
                let name = member.association.as_deref().unwrap_or_default();
                return Resolved {
                    outcome: Outcome::Refused(vec![association_refused(name)]),
                    association: None,
                };
            };
            match found {
                Some((_, by)) => Resolved {
                    outcome: Outcome::Matched(*by),
                    association: None,
                },
                None => Resolved {
                    outcome: Outcome::Create {
                        association: target.name.clone(),
                    },
                    association: Some(target.id),
                },
            }
        })
        .collect()
}

fn outcomes(rows: &[ParsedRow], resolved: &[Resolved]) -> Vec<RowOutcome> {
    rows.iter()
        .zip(resolved)
        .map(|(row, r)| RowOutcome {
            line: row.line,
            name: row.name.clone(),
            outcome: r.outcome.clone(),
        })
        .collect()
}

/// The association tree, the staff member's own association and scope.
async fn tree(
    store: &Store,
    staff: &Staff,
) -> anyhow::Result<(Association, Vec<Association>, Scope)> {
    let all = store.read(associations::all).await?;
    let own = all
        .iter()
        .find(|a| a.id == staff.association)
        .cloned()
        .ok_or_else(|| anyhow::anyhow!("staff association {:?} is gone", staff.association))?;
    let scope = Scope::within(staff.association, &all);
    Ok((own, all, scope))
}

/// The dry run: reads the uploaded file, checks every row and, when it can
/// be imported, keeps it for 「取り込む」 under a new reference.
pub async fn dry_run(
    store: &Store,
    staff: &Staff,
    file_name: &str,
    bytes: &[u8],
) -> anyhow::Result<Checked> {
    let Some((text, encoding)) = member_csv::decode(bytes) else {
        return Ok(Checked::Unreadable(FileError::Encoding.message()));
    };
    let rows = match member_csv::parse(&text, today()) {
        Ok(rows) => rows,
        Err(e) => return Ok(Checked::Unreadable(e.message())),
    };
    let (own, all, scope) = tree(store, staff).await?;
    let (rows, existing) = store
        .read(move |tx| {
            let persons: Vec<_> = rows
                .iter()
                .filter_map(|r| r.result.as_ref().ok().map(|m| &m.person))
                .collect();
            let found = imports::find_all(tx, &persons)?;
            // Back to one entry per row (refused rows were not looked up).
            let mut found = found.into_iter();
            let existing = rows
                .iter()
                .map(|r| match r.result {
                    Ok(_) => found.next().flatten(),
                    Err(_) => None,
                })
                .collect::<Vec<_>>();
            Ok((rows, existing))
        })
        .await?;
    let resolved = resolve(&rows, &existing, &own, &all, &scope);
    let mut dry = DryRun {
        file_name: file_name.chars().take(FILE_NAME_MAX_CHARS).collect(),
        encoding,
        rows: outcomes(&rows, &resolved),
        reference: None,
    };
    if dry.refused() == 0 && dry.to_create() > 0 {
        let (reference, key) = tokens::new_token();
        let upload = Upload {
            staff_id: staff.account.id,
            association: staff.association,
            created_at: now(),
            file_name: dry.file_name.clone(),
            text,
        };
        store
            .write_ok(move |tx| imports::put_upload(tx, &key, &upload, now()))
            .await?;
        dry.reference = Some(reference);
    }
    Ok(Checked::Rows(dry))
}

/// A fresh login ID of an imported member (`m` and 7 digits; the caller
/// makes sure it is free).
fn new_login_id() -> String {
    let n: u32 = rand::thread_rng().gen_range(0..10_000_000);
    format!("{LOGIN_PREFIX}{n:07}")
}

/// 「取り込む」: the checked file imported all or nothing, in one write
/// transaction with an audit entry per member and the postcard batch.
pub async fn import(store: &Store, staff: &Staff, reference: &str) -> anyhow::Result<Imported> {
    let key = tokens::hash(reference);
    let (own, all, scope) = tree(store, staff).await?;
    let secret = imports::initial_key(store).await?;
    let validity = store
        .read({
            let a = staff.association;
            move |tx| imports::settings(tx, a)
        })
        .await?
        .validity_days;
    let (staff_id, association) = (staff.account.id, staff.association);
    let started = now();
    let expires_at = started + i64::from(validity) * 86_400;
    let result = store
        .write(move |tx| {
            let Some(upload) = imports::take_upload(tx, &key, started)? else {
                return Ok(Err(Imported::Gone));
            };
            if upload.staff_id != staff_id || upload.association != association {
                return Ok(Err(Imported::Gone));
            }
            let rows = match member_csv::parse(&upload.text, today()) {
                Ok(rows) => rows,
                Err(_) => return Ok(Err(Imported::Gone)),
            };
            let persons: Vec<_> = rows
                .iter()
                .filter_map(|r| r.result.as_ref().ok().map(|m| &m.person))
                .collect();
            let found = imports::find_all_in_write(tx, &persons)?;
            let mut found = found.into_iter();
            let existing: Vec<_> = rows
                .iter()
                .map(|r| match r.result {
                    Ok(_) => found.next().flatten(),
                    Err(_) => None,
                })
                .collect();
            let resolved = resolve(&rows, &existing, &own, &all, &scope);
            let table = outcomes(&rows, &resolved);
            if table
                .iter()
                .any(|r| matches!(r.outcome, Outcome::Refused(_)))
            {
                return Ok(Err(Imported::Refused(table)));
            }
            let matched = table
                .iter()
                .filter(|r| matches!(r.outcome, Outcome::Matched(_)))
                .count();
            let batch_id = postcards::next_batch_id(tx)?;
            let mut cards = Vec::new();
            for (row, r) in rows.into_iter().zip(&resolved) {
                let (Some(target), Ok(member)) = (r.association, row.result) else {
                    continue;
                };
                let initial = crate::service::office::one_time_password();
                let membership = Membership::default() != member.membership;
                let mut user = UserRecord {
                    id: 0,
                    login_id: String::new(),
                    email: String::new(),
                    registry_number: member.person.registry.number.as_str().to_owned(),
                    password_hash: password::hash_initial(&secret, &initial)?,
                    role: Role::Member,
                    person: Some(member.person),
                    association: Some(target),
                    session_generation: 0,
                    must_change_password: true,
                    initial_password_expires_at: Some(expires_at),
                    membership: membership.then_some(member.membership),
                    staff_name: None,
                    terms_version: String::new(),
                    terms_agreed_at: 0,
                    terms_history: Vec::new(),
                    created_at: started,
                };
                let id = loop {
                    user.login_id = new_login_id();
                    match users::create(tx, user.clone())? {
                        Ok(id) => break id,
                        Err(c) if c == [Conflict::LoginId] => continue,
                        Err(c) => anyhow::bail!("line {}: unexpected conflict {c:?}", row.line),
                    }
                };
                audit::record(
                    tx,
                    AuditEntry::new(AuditKind::MemberImported)
                        .actor(staff_id)
                        .user(id)
                        .login_id(&user.login_id)
                        .target(Target::Person(id), Some(target))
                        .detail(format!("postcard batch {batch_id}, line {}", row.line)),
                )?;
                cards.push(Postcard {
                    person_id: id,
                    login_id: user.login_id,
                    initial_password: Some(initial),
                });
            }
            let created = cards.len();
            let batch = if created > 0 {
                postcards::put(
                    tx,
                    &Batch {
                        id: batch_id,
                        association,
                        origin: Origin::Import,
                        created_by: staff_id,
                        created_at: started,
                        expires_at,
                        printed_at: None,
                        closed_at: None,
                        postcards: cards,
                    },
                )?;
                Some(batch_id)
            } else {
                None
            };
            Ok(Ok(Imported::Done {
                batch,
                created,
                matched,
            }))
        })
        .await?;
    let outcome = match result {
        Ok(done) => done,
        Err(refusal) => refusal,
    };
    if let Imported::Done {
        created, matched, ..
    } = &outcome
    {
        tracing::info!(staff_id, created, matched, "members imported");
    }
    Ok(outcome)
}

/// The association's initial-password validity, in days.
pub async fn validity_days(store: &Store, staff: &Staff) -> anyhow::Result<u32> {
    let a = staff.association;
    Ok(store
        .read(move |tx| imports::settings(tx, a))
        .await?
        .validity_days)
}

/// The shortest and longest validity a 管理者 may set.
pub const VALIDITY_DAYS_RANGE: std::ops::RangeInclusive<u32> = 1..=365;

/// Sets the association's initial-password validity (管理者 only: the
/// screen's guard), audited with old → new.
pub async fn set_validity_days(
    store: &Store,
    staff: &Staff,
    typed: &str,
) -> anyhow::Result<Result<(), String>> {
    let days = crate::text::normalize_halfwidth_field(typed)
        .trim()
        .parse::<u32>()
        .ok()
        .filter(|d| VALIDITY_DAYS_RANGE.contains(d));
    let Some(days) = days else {
        return Ok(Err(format!(
            "有効期間は{}〜{}の日数を半角数字で入力してください。",
            VALIDITY_DAYS_RANGE.start(),
            VALIDITY_DAYS_RANGE.end()
        )));
    };
    let (association, staff_id) = (staff.association, staff.account.id);
    store
        .write_ok(move |tx| {
            let old = imports::settings_in_write(tx, association)?;
            imports::set_settings(
                tx,
                association,
                imports::Settings {
                    validity_days: days,
                },
            )?;
            audit::record(
                tx,
                AuditEntry::new(AuditKind::ImportSettingsChanged)
                    .actor(staff_id)
                    .target(Target::Association(association), Some(association))
                    .changes([audit::FieldChange::new(
                        "初期パスワードの有効期間（日）",
                        old.validity_days.to_string(),
                        days.to_string(),
                    )]),
            )?;
            Ok(())
        })
        .await?;
    Ok(Ok(()))
}
