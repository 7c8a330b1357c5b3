//! E-mail confirmation tokens of an existing account: the address a member
//! gives at first login, or a new address given on マイページ. Random,
//! mailed to the address they confirm, stored as SHA-256 only, valid for
//! 24 hours, used once, and tied to the account's session generation (a
//! password change ends every link issued before it).

use redb::{ReadTransaction, ReadableTable, WriteTransaction};
use serde::{Deserialize, Serialize};

use super::{decode, encode, now, tables::EMAIL_CHANGES, users};

/// How long a confirmation link stays valid.
pub const EMAIL_CHANGE_TTL_SECS: i64 = 24 * 3600;

/// Why an address is being confirmed.
#[derive(Clone, Copy, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum Purpose {
    /// The first address of a member who logged in with a postcard.
    FirstLogin,
    /// A new address replacing the account's current one.
    Change,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct EmailChange {
    pub user_id: u64,
    /// The address the link was mailed to.
    pub email: String,
    pub purpose: Purpose,
    pub expires_at: i64,
    pub used: bool,
    /// The account's session generation when the link was issued.
    pub generation: u64,
}

/// Stores a new confirmation token for `user_id` and `email`.
pub fn insert(
    tx: &WriteTransaction,
    h: &[u8; 32],
    user_id: u64,
    email: &str,
    purpose: Purpose,
) -> anyhow::Result<()> {
    let generation = users::generation_in_write(tx, user_id)?.unwrap_or_default();
    let rec = EmailChange {
        user_id,
        email: email.to_owned(),
        purpose,
        expires_at: now() + EMAIL_CHANGE_TTL_SECS,
        used: false,
        generation,
    };
    tx.open_table(EMAIL_CHANGES)?
        .insert(h, encode(&rec)?.as_slice())?;
    Ok(())
}

/// The record if it is unused, unexpired and of the account's current
/// generation.
fn usable(
    bytes: Option<&[u8]>,
    current: impl FnOnce(u64) -> anyhow::Result<Option<u64>>,
) -> anyhow::Result<Option<EmailChange>> {
    let Some(bytes) = bytes else { return Ok(None) };
    let rec: EmailChange = decode(bytes)?;
    if rec.used || rec.expires_at <= now() {
        return Ok(None);
    }
    Ok((current(rec.user_id)? == Some(rec.generation)).then_some(rec))
}

/// A still-usable token's record.
pub fn valid(tx: &ReadTransaction, h: &[u8; 32]) -> anyhow::Result<Option<EmailChange>> {
    let t = tx.open_table(EMAIL_CHANGES)?;
    let v = t.get(h)?;
    usable(v.as_ref().map(|v| v.value()), |id| {
        users::generation(tx, id)
    })
}

/// Marks a usable token as used and returns its record, inside the write
/// that sets the address.
pub fn consume(tx: &WriteTransaction, h: &[u8; 32]) -> anyhow::Result<Option<EmailChange>> {
    let mut t = tx.open_table(EMAIL_CHANGES)?;
    let rec = {
        let v = t.get(h)?;
        usable(v.as_ref().map(|v| v.value()), |id| {
            users::generation_in_write(tx, id)
        })?
    };
    let Some(mut rec) = rec else { return Ok(None) };
    rec.used = true;
    t.insert(h, encode(&rec)?.as_slice())?;
    Ok(Some(rec))
}

/// Removes tokens that expired more than a week ago.
pub fn purge_stale(tx: &WriteTransaction) -> anyhow::Result<usize> {
    let cutoff = now() - 7 * 24 * 3600;
    let mut removed = 0;
    tx.open_table(EMAIL_CHANGES)?.retain(|_, v| {
        let stale = decode::<EmailChange>(v)
            .map(|r| r.expires_at < cutoff)
            .unwrap_or(false);
        if stale {
            removed += 1;
        }
        !stale
    })?;
    Ok(removed)
}
