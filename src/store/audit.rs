//! The audit log: security-relevant events (logins, throttling, password
//! resets, registrations, mailed links opened), each with the login ID or
//! account and the client address. Written in the same transaction as the
//! change it records where there is one; kept for `MAMIS_AUDIT_KEEP_DAYS`.
//! Read with `mamis admin audit`; the 事務局 console will show it.
//!
//! A change staff make to a record also names the record (`Target`), the
//! association it belongs to (for the 管理者's search within their scope),
//! who made it (`actor`) and each field's old → new value. Such entries are
//! the record's history: they are indexed by target and are not purged.

use redb::{ReadTransaction, ReadableTable, WriteTransaction};
use serde::{Deserialize, Serialize};

use super::{
    decode, encode, next_id, now,
    tables::{AUDIT, AUDIT_BY_TARGET},
};
use crate::domain::AssociationId;

/// What happened.
#[derive(Clone, Copy, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum AuditKind {
    LoginSucceeded,
    LoginFailed,
    LoginThrottled,
    Logout,
    PasswordResetRequested,
    PasswordResetLinkOpened,
    PasswordChanged,
    LoginIdReminderRequested,
    RegistrationLinkSent,
    RegistrationLinkOpened,
    RegistrationCompleted,
    /// 「登録する」 refused because the 医籍登録番号 is already registered.
    RegistrationRefused,
    MailGivenUp,
    /// An association added to the tree (`mamis admin association add`, the
    /// office console, the CSV import).
    AssociationAdded,
    /// A staff account made (`mamis admin staff add`, the office console).
    StaffAdded,
    /// An inquiry's status or note changed in the office's inbox.
    InquiryUpdated,
    /// A reply mailed to an inquiry's sender from the inbox.
    InquiryReplied,
    /// An announcement made, changed or deleted in the office.
    AnnouncementAdded,
    AnnouncementChanged,
    AnnouncementDeleted,
    /// A person agreed to a (new) version of the terms at login.
    TermsAgreed,
    /// A link confirming an account's address was mailed to it.
    EmailConfirmationSent,
    /// An account's address was confirmed by its link (set or changed).
    EmailChanged,
    /// A person's registered fields corrected by staff (old → new).
    PersonCorrected,
    /// A password-reset link mailed to a person at a staff member's request.
    PasswordResetSentByStaff,
    /// An association's contact details changed in the office console.
    AssociationChanged,
    /// A staff account's role changed by a 管理者 in the office console.
    StaffChanged,
    /// A new one-time password issued for a staff account by a 管理者.
    StaffPasswordReissued,
    /// A person changed their own contact details on マイページ (old → new).
    ContactChanged,
    /// A member created by a member import (with a postcard batch).
    MemberImported,
    /// A postcard batch closed: its initial passwords deleted.
    PostcardBatchClosed,
    /// A new initial password issued to a member (a batch of one).
    InitialPasswordReissued,
    /// An association's member-import settings changed.
    ImportSettingsChanged,
    /// A membership application (入会・異動・退会) filed, by the physician or
    /// by staff on their behalf (代行入力).
    ApplicationFiled,
    /// A sent-back application edited and filed again.
    ApplicationResubmitted,
    /// An application withdrawn (取下げ).
    ApplicationWithdrawn,
    /// An application approved at a stage (the last approval completes it).
    ApplicationApproved,
    /// An application sent back to the applicant (差戻し).
    ApplicationSentBack,
    /// An application rejected (却下).
    ApplicationRejected,
    /// Memberships (and the record) changed by a completed application,
    /// old → new.
    MembershipChanged,
    /// A 確認依頼 confirmed by an association's staff.
    NoticeConfirmed,
    /// The office's people search exported as CSV (the search and the
    /// number of rows in `detail`).
    PeopleExported,
    /// The office's 申請一覧 exported as CSV (the filter and the number of
    /// rows in `detail`).
    ApplicationsExported,
}

impl AuditKind {
    /// The name printed by `mamis admin audit`.
    pub fn as_str(self) -> &'static str {
        match self {
            AuditKind::LoginSucceeded => "login_succeeded",
            AuditKind::LoginFailed => "login_failed",
            AuditKind::LoginThrottled => "login_throttled",
            AuditKind::Logout => "logout",
            AuditKind::PasswordResetRequested => "password_reset_requested",
            AuditKind::PasswordResetLinkOpened => "password_reset_link_opened",
            AuditKind::PasswordChanged => "password_changed",
            AuditKind::LoginIdReminderRequested => "login_id_reminder_requested",
            AuditKind::RegistrationLinkSent => "registration_link_sent",
            AuditKind::RegistrationLinkOpened => "registration_link_opened",
            AuditKind::RegistrationCompleted => "registration_completed",
            AuditKind::RegistrationRefused => "registration_refused",
            AuditKind::MailGivenUp => "mail_given_up",
            AuditKind::AssociationAdded => "association_added",
            AuditKind::StaffAdded => "staff_added",
            AuditKind::InquiryUpdated => "inquiry_updated",
            AuditKind::InquiryReplied => "inquiry_replied",
            AuditKind::AnnouncementAdded => "announcement_added",
            AuditKind::AnnouncementChanged => "announcement_changed",
            AuditKind::AnnouncementDeleted => "announcement_deleted",
            AuditKind::TermsAgreed => "terms_agreed",
            AuditKind::EmailConfirmationSent => "email_confirmation_sent",
            AuditKind::EmailChanged => "email_changed",
            AuditKind::PersonCorrected => "person_corrected",
            AuditKind::PasswordResetSentByStaff => "password_reset_sent_by_staff",
            AuditKind::AssociationChanged => "association_changed",
            AuditKind::StaffChanged => "staff_changed",
            AuditKind::StaffPasswordReissued => "staff_password_reissued",
            AuditKind::ContactChanged => "contact_changed",
            AuditKind::MemberImported => "member_imported",
            AuditKind::PostcardBatchClosed => "postcard_batch_closed",
            AuditKind::InitialPasswordReissued => "initial_password_reissued",
            AuditKind::ImportSettingsChanged => "import_settings_changed",
            AuditKind::ApplicationFiled => "application_filed",
            AuditKind::ApplicationResubmitted => "application_resubmitted",
            AuditKind::ApplicationWithdrawn => "application_withdrawn",
            AuditKind::ApplicationApproved => "application_approved",
            AuditKind::ApplicationSentBack => "application_sent_back",
            AuditKind::ApplicationRejected => "application_rejected",
            AuditKind::MembershipChanged => "membership_changed",
            AuditKind::NoticeConfirmed => "notice_confirmed",
            AuditKind::PeopleExported => "people_exported",
            AuditKind::ApplicationsExported => "applications_exported",
        }
    }
}

/// One entry of the log.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct AuditEntry {
    pub id: u64,
    /// Unix seconds.
    pub at: i64,
    pub kind: AuditKind,
    /// The account concerned, when known.
    pub user_id: Option<u64>,
    /// The login ID (or address) as typed, when there was one.
    pub login_id: Option<String>,
    /// The client's IP address (see `auth::client`).
    pub addr: Option<String>,
    /// Anything else worth knowing (kept short).
    pub detail: Option<String>,
    /// The staff account that made the change, when staff made it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub actor: Option<u64>,
    /// The record the entry is about, when it is about one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target: Option<Target>,
    /// The association the record belongs to (none: of no association).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub association: Option<AssociationId>,
    /// The fields changed, old → new.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub changes: Vec<FieldChange>,
}

/// A record an audit entry is about.
#[derive(Clone, Copy, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum Target {
    /// A person (and their account): the user id.
    Person(u64),
    /// A staff account: the user id.
    Staff(u64),
    Association(AssociationId),
}

impl Target {
    /// The key of the record's history in `AUDIT_BY_TARGET`.
    pub fn key(self) -> String {
        match self {
            Target::Person(id) => format!("person:{id}"),
            Target::Staff(id) => format!("staff:{id}"),
            Target::Association(AssociationId(id)) => format!("association:{id}"),
        }
    }
}

/// One field's change: its label as shown on screen, the value before and
/// after (as shown on screen; empty when there was none).
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct FieldChange {
    pub field: String,
    pub old: String,
    pub new: String,
}

impl FieldChange {
    pub fn new(field: impl Into<String>, old: impl Into<String>, new: impl Into<String>) -> Self {
        FieldChange {
            field: field.into(),
            old: old.into(),
            new: new.into(),
        }
    }
}

impl AuditEntry {
    /// A new entry of `kind`, now; fill in what is known with the setters.
    pub fn new(kind: AuditKind) -> AuditEntry {
        AuditEntry {
            id: 0,
            at: now(),
            kind,
            user_id: None,
            login_id: None,
            addr: None,
            detail: None,
            actor: None,
            target: None,
            association: None,
            changes: Vec::new(),
        }
    }

    /// The staff account that made the change.
    pub fn actor(mut self, staff: u64) -> Self {
        self.actor = Some(staff);
        self
    }

    /// The record the entry is about, and the association it belongs to.
    pub fn target(mut self, target: Target, association: Option<AssociationId>) -> Self {
        self.target = Some(target);
        self.association = association;
        self
    }

    /// The fields changed; a change whose old and new values are equal is
    /// left out.
    pub fn changes(mut self, changes: impl IntoIterator<Item = FieldChange>) -> Self {
        self.changes = changes.into_iter().filter(|c| c.old != c.new).collect();
        self
    }

    pub fn user(mut self, id: u64) -> Self {
        self.user_id = Some(id);
        self
    }

    pub fn login_id(mut self, login_id: impl Into<String>) -> Self {
        let mut s: String = login_id.into();
        truncate(&mut s, 120);
        self.login_id = Some(s);
        self
    }

    pub fn addr(mut self, addr: impl std::fmt::Display) -> Self {
        self.addr = Some(addr.to_string());
        self
    }

    pub fn detail(mut self, detail: impl Into<String>) -> Self {
        let mut s: String = detail.into();
        truncate(&mut s, 300);
        self.detail = Some(s);
        self
    }

    /// One line for `mamis admin audit` (tab-separated, times in JST).
    pub fn to_line(&self) -> String {
        let when = time::OffsetDateTime::from_unix_timestamp(self.at)
            .map(|t| t.to_offset(time::macros::offset!(+9)))
            .ok()
            .and_then(|t| {
                t.format(time::macros::format_description!(
                    "[year]-[month]-[day] [hour]:[minute]:[second]+09:00"
                ))
                .ok()
            })
            .unwrap_or_else(|| self.at.to_string());
        // What was typed (a login ID) may hold control characters: shown
        // escaped, so that no terminal reading the log obeys them.
        let opt = |v: &Option<String>| {
            v.as_deref().map_or_else(
                || "-".to_owned(),
                |s| {
                    s.chars()
                        .map(|c| {
                            if c.is_control() {
                                c.escape_unicode().to_string()
                            } else {
                                c.to_string()
                            }
                        })
                        .collect()
                },
            )
        };
        format!(
            "{when}\t{}\tuser={}\tlogin_id={}\taddr={}\t{}",
            self.kind.as_str(),
            self.user_id
                .map_or_else(|| "-".to_owned(), |v| v.to_string()),
            opt(&self.login_id),
            opt(&self.addr),
            opt(&self.detail)
        )
        .replace(['\n', '\r'], " ")
    }
}

fn truncate(s: &mut String, max_chars: usize) {
    if let Some((i, _)) = s.char_indices().nth(max_chars) {
        s.truncate(i);
    }
}

/// Appends an entry; returns its id.
pub fn record(tx: &WriteTransaction, mut entry: AuditEntry) -> anyhow::Result<u64> {
    let id = next_id(tx, "audit")?;
    entry.id = id;
    tx.open_table(AUDIT)?
        .insert(id, encode(&entry)?.as_slice())?;
    if let Some(target) = entry.target {
        tx.open_multimap_table(AUDIT_BY_TARGET)?
            .insert(target.key().as_str(), id)?;
    }
    Ok(id)
}

/// The history of one record, newest first, at most `limit` entries.
pub fn of_target(
    tx: &ReadTransaction,
    target: Target,
    limit: usize,
) -> anyhow::Result<Vec<AuditEntry>> {
    let ids = tx.open_multimap_table(AUDIT_BY_TARGET)?;
    let entries = tx.open_table(AUDIT)?;
    let mut out = Vec::new();
    for id in ids.get(target.key().as_str())?.rev().take(limit) {
        let id = id?.value();
        if let Some(v) = entries.get(id)? {
            out.push(decode(v.value())?);
        }
    }
    Ok(out)
}

/// Entries older than `before` (an audit id; `u64::MAX` for the newest),
/// newest first, that `keep` accepts, at most `limit`; reads at most
/// `max_scanned` entries (a search over a long log answers in bounded time
/// and says where it stopped: the id to continue before, if any).
pub fn search(
    tx: &ReadTransaction,
    before: u64,
    limit: usize,
    max_scanned: usize,
    keep: impl Fn(&AuditEntry) -> bool,
) -> anyhow::Result<(Vec<AuditEntry>, Option<u64>)> {
    let t = tx.open_table(AUDIT)?;
    let mut out = Vec::new();
    let mut last = None;
    for (scanned, row) in t.range(..before)?.rev().enumerate() {
        let (k, v) = row?;
        if scanned >= max_scanned || out.len() >= limit {
            return Ok((out, last));
        }
        last = Some(k.value());
        let e: AuditEntry = decode(v.value())?;
        if keep(&e) {
            out.push(e);
        }
    }
    Ok((out, None))
}

/// Entries at or after `since` (Unix seconds), oldest first, at most `limit`
/// (the newest ones when there are more).
pub fn since(tx: &ReadTransaction, since: i64, limit: usize) -> anyhow::Result<Vec<AuditEntry>> {
    let t = tx.open_table(AUDIT)?;
    let mut out = Vec::new();
    for row in t.iter()?.rev() {
        let (_, v) = row?;
        let e: AuditEntry = decode(v.value())?;
        if e.at < since || out.len() >= limit {
            break;
        }
        out.push(e);
    }
    out.reverse();
    Ok(out)
}

/// Removes entries older than `cutoff` (Unix seconds) that are not a
/// record's history; returns how many.
pub fn purge_before(tx: &WriteTransaction, cutoff: i64) -> anyhow::Result<usize> {
    let mut t = tx.open_table(AUDIT)?;
    let mut old = Vec::new();
    for row in t.iter()? {
        let (k, v) = row?;
        let e: AuditEntry = decode(v.value())?;
        if e.at >= cutoff {
            break;
        }
        if e.target.is_none() {
            old.push(k.value());
        }
    }
    for k in &old {
        t.remove(k)?;
    }
    Ok(old.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn entries_are_read_back_in_order_and_purged_by_age() {
        let dir = tempfile::tempdir().unwrap();
        let store = crate::store::Store::open(dir.path()).unwrap();
        store
            .write_ok(|tx| {
                let mut old = AuditEntry::new(AuditKind::LoginFailed).login_id("taro");
                old.at = 1_000;
                record(tx, old)?;
                record(
                    tx,
                    AuditEntry::new(AuditKind::LoginSucceeded)
                        .user(7)
                        .addr("192.0.2.1"),
                )
            })
            .await
            .unwrap();
        assert_eq!(store.read(|tx| since(tx, 0, 10)).await.unwrap().len(), 2);
        let recent = store.read(|tx| since(tx, 2_000, 10)).await.unwrap();
        assert_eq!(recent.len(), 1);
        assert!(recent[0].to_line().contains("login_succeeded\tuser=7"));
        let typed = AuditEntry::new(AuditKind::LoginFailed).login_id("a\u{1b}[2J\tb\nc");
        assert!(
            typed
                .to_line()
                .contains("login_id=a\\u{1b}[2J\\u{9}b\\u{a}c\taddr=-"),
            "{}",
            typed.to_line()
        );
        let purged = store.write_ok(|tx| purge_before(tx, 2_000)).await.unwrap();
        assert_eq!(purged, 1);
        assert_eq!(store.read(|tx| since(tx, 0, 10)).await.unwrap().len(), 1);
    }

    #[tokio::test]
    async fn a_record_history_is_indexed_kept_and_searched() {
        let dir = tempfile::tempdir().unwrap();
        let store = crate::store::Store::open(dir.path()).unwrap();
        store
            .write_ok(|tx| {
                let mut change = AuditEntry::new(AuditKind::LoginFailed)
                    .actor(3)
                    .target(Target::Person(12), Some(AssociationId(5)))
                    .changes([
                        FieldChange::new("携帯電話", "090-1111-2222", "090-3333-4444"),
                        FieldChange::new("氏名", "山田", "山田"),
                    ]);
                change.at = 1_000;
                record(tx, change)?;
                record(tx, AuditEntry::new(AuditKind::LoginFailed))?;
                record(
                    tx,
                    AuditEntry::new(AuditKind::LoginFailed).target(Target::Person(13), None),
                )
            })
            .await
            .unwrap();
        let history = store
            .read(|tx| of_target(tx, Target::Person(12), 10))
            .await
            .unwrap();
        assert_eq!(history.len(), 1);
        assert_eq!(history[0].changes.len(), 1, "unchanged fields are left out");
        assert_eq!(history[0].actor, Some(3));
        assert_eq!(
            store.write_ok(|tx| purge_before(tx, 2_000)).await.unwrap(),
            0
        );
        let (found, more) = store
            .read(|tx| search(tx, u64::MAX, 10, 100, |e| e.target.is_some()))
            .await
            .unwrap();
        assert_eq!((found.len(), more), (2, None));
        let (found, more) = store
            .read(|tx| search(tx, u64::MAX, 10, 1, |e| e.target.is_some()))
            .await
            .unwrap();
        assert_eq!(found.len(), 1);
        assert!(more.is_some(), "a bounded search says where it stopped");
    }
}
