//! Password-reset tokens: random, mailed, stored as SHA-256 only, valid for
//! one hour, consumed when the new password is saved.
//!
//! A token records the account's session generation when it was issued. A
//! password change bumps the generation (`users::set_password`), so every
//! link issued before it — not only the one used — stops working with it.

use redb::{ReadTransaction, ReadableTable, WriteTransaction};
use serde::{Deserialize, Serialize};

use super::{decode, encode, now, tables::PASSWORD_RESETS, users};

/// How long a reset link stays valid.
pub const RESET_TTL_SECS: i64 = 3600;

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct ResetRecord {
    pub user_id: u64,
    pub expires_at: i64,
    pub used: bool,
    /// The account's session generation when the link was issued (0 for
    /// links issued before generations existed).
    #[serde(default)]
    pub generation: u64,
}

/// Stores a new reset token for `user_id`, tied to the account's current
/// session generation.
pub fn insert(tx: &WriteTransaction, h: &[u8; 32], user_id: u64) -> anyhow::Result<()> {
    let generation = users::generation_in_write(tx, user_id)?.unwrap_or_default();
    let rec = ResetRecord {
        user_id,
        expires_at: now() + RESET_TTL_SECS,
        used: false,
        generation,
    };
    tx.open_table(PASSWORD_RESETS)?
        .insert(h, encode(&rec)?.as_slice())?;
    Ok(())
}

/// The record if it is unused, unexpired, and issued at the account's
/// current generation (`current` is `None` when the account is gone).
fn usable(
    bytes: Option<&[u8]>,
    current: impl FnOnce(u64) -> anyhow::Result<Option<u64>>,
) -> anyhow::Result<Option<ResetRecord>> {
    let Some(bytes) = bytes else { return Ok(None) };
    let rec: ResetRecord = decode(bytes)?;
    if rec.used || rec.expires_at <= now() {
        return Ok(None);
    }
    Ok((current(rec.user_id)? == Some(rec.generation)).then_some(rec))
}

/// The account a still-usable token resets.
pub fn valid(tx: &ReadTransaction, h: &[u8; 32]) -> anyhow::Result<Option<u64>> {
    let t = tx.open_table(PASSWORD_RESETS)?;
    let v = t.get(h)?;
    Ok(usable(v.as_ref().map(|v| v.value()), |id| {
        users::generation(tx, id)
    })?
    .map(|r| r.user_id))
}

/// Marks a usable token as used and returns its account, inside the write
/// that saves the new password.
pub fn consume(tx: &WriteTransaction, h: &[u8; 32]) -> anyhow::Result<Option<u64>> {
    let mut t = tx.open_table(PASSWORD_RESETS)?;
    let rec = {
        let v = t.get(h)?;
        usable(v.as_ref().map(|v| v.value()), |id| {
            users::generation_in_write(tx, id)
        })?
    };
    let Some(mut rec) = rec else { return Ok(None) };
    rec.used = true;
    t.insert(h, encode(&rec)?.as_slice())?;
    Ok(Some(rec.user_id))
}
