//! The mail outbox: every mail is written here in the same transaction as
//! the change that causes it, then delivered by the mail worker.
//!
//! queued (in `OUTBOX_PENDING` with its next attempt time) → delivered
//! (`sent_at` set, removed from pending). A failed attempt stays pending with
//! a later time, until the mail has failed for `MAMIS_MAIL_GIVE_UP_HOURS`:
//! then it is given up (`given_up_at` set, removed from pending, kept here
//! with its last error). Without SMTP, "delivered" means kept in this local
//! outbox.

use redb::{ReadTransaction, ReadableTable, ReadableTableMetadata as _, WriteTransaction};
use serde::{Deserialize, Serialize};

use super::{
    decode, encode, next_id, now,
    tables::{OUTBOX, OUTBOX_PENDING},
};

/// A mail to send (or sent).
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct Mail {
    pub id: u64,
    pub to: String,
    pub subject: String,
    /// Plain-text body.
    pub body: String,
    pub created_at: i64,
    pub attempts: u32,
    pub last_error: Option<String>,
    pub sent_at: Option<i64>,
    /// When delivery was abandoned for good (records before this field
    /// read as `None`).
    #[serde(default)]
    pub given_up_at: Option<i64>,
}

/// Queues a mail for delivery as soon as possible; returns its id.
pub fn enqueue(
    tx: &WriteTransaction,
    to: &str,
    subject: &str,
    body: String,
) -> anyhow::Result<u64> {
    let id = next_id(tx, "outbox")?;
    let mail = Mail {
        id,
        to: to.to_owned(),
        subject: subject.to_owned(),
        body,
        created_at: now(),
        attempts: 0,
        last_error: None,
        sent_at: None,
        given_up_at: None,
    };
    tx.open_table(OUTBOX)?
        .insert(id, encode(&mail)?.as_slice())?;
    tx.open_table(OUTBOX_PENDING)?.insert(id, mail.created_at)?;
    Ok(id)
}

/// Up to `limit` pending mails whose next attempt is due, oldest first, and
/// the time of the earliest pending attempt (due or not).
pub fn due(tx: &ReadTransaction, limit: usize) -> anyhow::Result<(Vec<Mail>, Option<i64>)> {
    let pending = tx.open_table(OUTBOX_PENDING)?;
    let outbox = tx.open_table(OUTBOX)?;
    let t_now = now();
    let mut out = Vec::new();
    let mut next = None::<i64>;
    for entry in pending.iter()? {
        let (id, at) = entry?;
        let (id, at) = (id.value(), at.value());
        next = Some(next.map_or(at, |n| n.min(at)));
        if at <= t_now
            && out.len() < limit
            && let Some(v) = outbox.get(id)?
        {
            out.push(decode::<Mail>(v.value())?);
        }
    }
    Ok((out, next))
}

/// Records a delivery.
pub fn mark_sent(tx: &WriteTransaction, id: u64) -> anyhow::Result<()> {
    update(tx, id, |m| {
        m.attempts += 1;
        m.sent_at = Some(now());
        m.last_error = None;
    })?;
    tx.open_table(OUTBOX_PENDING)?.remove(id)?;
    Ok(())
}

/// Records a failed attempt and when to try again.
pub fn mark_failed(
    tx: &WriteTransaction,
    id: u64,
    error: &str,
    retry_at: i64,
) -> anyhow::Result<()> {
    update(tx, id, |m| {
        m.attempts += 1;
        m.last_error = Some(error.to_owned());
    })?;
    tx.open_table(OUTBOX_PENDING)?.insert(id, retry_at)?;
    Ok(())
}

/// Records a last failed attempt and gives the mail up: no more attempts.
pub fn give_up(tx: &WriteTransaction, id: u64, error: &str) -> anyhow::Result<()> {
    update(tx, id, |m| {
        m.attempts += 1;
        m.last_error = Some(error.to_owned());
        m.given_up_at = Some(now());
    })?;
    tx.open_table(OUTBOX_PENDING)?.remove(id)?;
    Ok(())
}

fn update(tx: &WriteTransaction, id: u64, f: impl FnOnce(&mut Mail)) -> anyhow::Result<()> {
    let mut t = tx.open_table(OUTBOX)?;
    let mail = t.get(id)?.map(|v| decode::<Mail>(v.value())).transpose()?;
    if let Some(mut mail) = mail {
        f(&mut mail);
        t.insert(id, encode(&mail)?.as_slice())?;
    }
    Ok(())
}

/// The newest mails, newest first.
pub fn recent(tx: &ReadTransaction, limit: usize) -> anyhow::Result<Vec<Mail>> {
    let t = tx.open_table(OUTBOX)?;
    let mut out = Vec::new();
    for entry in t.iter()?.rev().take(limit) {
        let (_, v) = entry?;
        out.push(decode(v.value())?);
    }
    Ok(out)
}

/// One mail by id.
pub fn get(tx: &ReadTransaction, id: u64) -> anyhow::Result<Option<Mail>> {
    let t = tx.open_table(OUTBOX)?;
    let v = t.get(id)?;
    v.map(|v| decode(v.value())).transpose()
}

/// Number of mails not yet delivered.
pub fn pending_count(tx: &ReadTransaction) -> anyhow::Result<u64> {
    Ok(tx.open_table(OUTBOX_PENDING)?.len()?)
}
