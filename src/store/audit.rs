//! The audit log: security-relevant events (logins, throttling, password
//! resets, registrations, mailed links opened), each with the login ID or
//! account and the client address. Written in the same transaction as the
//! change it records where there is one; kept for `MAMIS_AUDIT_KEEP_DAYS`.
//! Read with `mamis admin audit`; the 事務局 console will show it.

use redb::{ReadTransaction, ReadableTable, WriteTransaction};
use serde::{Deserialize, Serialize};

use super::{decode, encode, next_id, now, tables::AUDIT};

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
    /// An association added to the tree (`mamis admin association add`).
    AssociationAdded,
    /// A staff account made (`mamis admin staff add`).
    StaffAdded,
    /// An inquiry's status or note changed in the office's inbox.
    InquiryUpdated,
    /// A reply mailed to an inquiry's sender from the inbox.
    InquiryReplied,
    /// An announcement made, changed or deleted in the office.
    AnnouncementAdded,
    AnnouncementChanged,
    AnnouncementDeleted,
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
        }
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
    Ok(id)
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

/// Removes entries older than `cutoff` (Unix seconds); returns how many.
pub fn purge_before(tx: &WriteTransaction, cutoff: i64) -> anyhow::Result<usize> {
    let mut t = tx.open_table(AUDIT)?;
    let mut old = Vec::new();
    for row in t.iter()? {
        let (k, v) = row?;
        let e: AuditEntry = decode(v.value())?;
        if e.at >= cutoff {
            break;
        }
        old.push(k.value());
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
}
