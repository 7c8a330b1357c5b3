//! Server-side sessions in redb, for poem's `ServerSession`.
//!
//! The cookie carries a random id; the table is keyed by its SHA-256, so a
//! copy of the database does not hand out live session ids. Expired sessions
//! are ignored on load and removed by `purge_expired`.

use std::{collections::BTreeMap, time::Duration};

use anyhow::Context;
use poem::session::SessionStorage;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};

use super::{Store, decode, encode, now, tables::SESSIONS};
use crate::error::InternalError;

/// Sessions without an explicit lifetime live this long after their last change.
pub const DEFAULT_TTL: Duration = Duration::from_secs(24 * 3600);

#[derive(Serialize, Deserialize)]
struct SessionRecord {
    expires_at: i64,
    entries: BTreeMap<String, Value>,
}

/// The redb-backed session storage.
#[derive(Clone)]
pub struct RedbSessions {
    store: Store,
}

impl RedbSessions {
    pub fn new(store: Store) -> Self {
        RedbSessions { store }
    }

    /// Deletes every expired session; returns how many.
    pub async fn purge_expired(&self) -> anyhow::Result<usize> {
        self.store
            .write_ok(|tx| {
                let mut t = tx.open_table(SESSIONS)?;
                let t_now = now();
                let mut removed = 0usize;
                t.retain(|_, v| {
                    let keep = decode::<SessionRecord>(v).is_ok_and(|r| r.expires_at > t_now);
                    if !keep {
                        removed += 1;
                    }
                    keep
                })?;
                Ok(removed)
            })
            .await
    }
}

/// Ends every session whose entry `entry` holds `user_id` (after a password
/// reset, so a stolen session does not outlive the old password).
pub fn remove_for_user(
    tx: &redb::WriteTransaction,
    entry: &str,
    user_id: u64,
) -> anyhow::Result<usize> {
    let mut removed = 0usize;
    tx.open_table(SESSIONS)?.retain(|_, v| {
        let theirs = decode::<SessionRecord>(v)
            .ok()
            .and_then(|r| r.entries.get(entry).and_then(Value::as_u64))
            == Some(user_id);
        if theirs {
            removed += 1;
        }
        !theirs
    })?;
    Ok(removed)
}

fn key(session_id: &str) -> [u8; 32] {
    Sha256::digest(session_id.as_bytes()).into()
}

fn internal(e: anyhow::Error) -> poem::Error {
    InternalError(e.context("session storage")).into()
}

impl SessionStorage for RedbSessions {
    async fn load_session<'a>(
        &'a self,
        session_id: &'a str,
    ) -> poem::Result<Option<BTreeMap<String, Value>>> {
        let k = key(session_id);
        self.store
            .read_now(|tx| {
                let t = tx.open_table(SESSIONS)?;
                let Some(v) = t.get(&k)? else {
                    return Ok(None);
                };
                let rec: SessionRecord = decode(v.value())?;
                Ok((rec.expires_at > now()).then_some(rec.entries))
            })
            .map_err(internal)
    }

    async fn update_session<'a>(
        &'a self,
        session_id: &'a str,
        entries: &'a BTreeMap<String, Value>,
        expires: Option<Duration>,
    ) -> poem::Result<()> {
        let k = key(session_id);
        let ttl = expires.unwrap_or(DEFAULT_TTL);
        let rec = SessionRecord {
            expires_at: now() + i64::try_from(ttl.as_secs()).unwrap_or(i64::MAX / 2),
            entries: entries.clone(),
        };
        let bytes = encode(&rec).map_err(internal)?;
        self.store
            .write_ok(move |tx| {
                tx.open_table(SESSIONS)?
                    .insert(&k, bytes.as_slice())
                    .context("insert session")?;
                Ok(())
            })
            .await
            .map_err(internal)
    }

    async fn remove_session<'a>(&'a self, session_id: &'a str) -> poem::Result<()> {
        let k = key(session_id);
        self.store
            .write_ok(move |tx| {
                tx.open_table(SESSIONS)?.remove(&k)?;
                Ok(())
            })
            .await
            .map_err(internal)
    }
}
