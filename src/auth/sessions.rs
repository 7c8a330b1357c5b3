//! Server-side sessions in redb, for poem's `ServerSession`.
//!
//! The cookie carries a random id; the table is keyed by its SHA-256, so a
//! copy of the database does not hand out live session ids.
//!
//! A session is *signed in* while it holds `session_keys::USER`, otherwise
//! *anonymous* (a registration in progress, a password reset in progress).
//! Every load decides whether the session still stands:
//!
//! - idle: no request for longer than the idle lifetime (signed in:
//!   `MAMIS_SESSION_IDLE_MINUTES`; anonymous: 24 hours). The time of the last
//!   request is refreshed on load, at most every minute, so idleness is
//!   measured from the last request, not the last change;
//! - absolute: older than the maximum lifetime (signed in:
//!   `MAMIS_SESSION_MAX_HOURS` from `session_keys::LOGIN_AT`, or from the
//!   record's creation without it; anonymous: 7 days), however busy;
//! - generation: a signed-in session whose `session_keys::GENERATION`
//!   (missing = 0) is not the account's `session_generation` (bumped by
//!   every password change), or whose account is gone.
//!
//! A session that fails one of these is treated as empty and ended. An ended
//! session leaves a tombstone for an hour, so a request that loaded it
//! before it ended (logout, password change, expiry) cannot write it back;
//! `update_session` also refuses to store signed-in entries of an older
//! generation. Expired records and old tombstones are removed by
//! `purge_expired`.
//!
//! The records last read or written are kept in memory ([`cache`]), so
//! loading an anonymous session reads nothing from redb; a signed-in one
//! still reads its account's generation.

mod cache;

use std::{collections::BTreeMap, sync::Arc, time::Duration};

use anyhow::Context;
use poem::session::SessionStorage;
use redb::{ReadableTable, WriteTransaction};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};

use self::cache::{SessionCache, Versioned};
use super::session_keys;
use crate::{
    config::Config,
    error::InternalError,
    store::{Store, decode, encode, now, tables::SESSIONS, users},
};

/// Idle lifetime of an anonymous session (a registration in progress).
pub const ANONYMOUS_IDLE: Duration = Duration::from_secs(24 * 3600);
/// Absolute lifetime of an anonymous session.
pub const ANONYMOUS_MAX: Duration = Duration::from_secs(7 * 24 * 3600);
/// How long an ended session's tombstone is kept.
const TOMBSTONE: Duration = Duration::from_secs(3600);
/// The time of the last request is written at most this often.
const TOUCH_EVERY: Duration = Duration::from_secs(60);
/// Sessions kept in memory at most (a few hundred bytes each).
const CACHED_SESSIONS: usize = 10_000;

/// How long sessions live.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Lifetimes {
    pub signed_in_idle: Duration,
    pub signed_in_max: Duration,
    pub anonymous_idle: Duration,
    pub anonymous_max: Duration,
}

impl Lifetimes {
    /// The configured lifetimes of signed-in sessions, the fixed ones of
    /// anonymous sessions.
    pub fn from_config(config: &Config) -> Lifetimes {
        Lifetimes {
            signed_in_idle: config.session_idle,
            signed_in_max: config.session_max,
            anonymous_idle: ANONYMOUS_IDLE,
            anonymous_max: ANONYMOUS_MAX,
        }
    }
}

fn millis(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX / 4)
}

fn now_ms() -> i64 {
    i64::try_from(time::OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000)
        .unwrap_or(i64::MAX / 4)
}

#[derive(Serialize, Deserialize)]
struct SessionRecord {
    /// Unix seconds after which the record is certainly dead (for
    /// `purge_expired`; `judge` decides the rest).
    expires_at: i64,
    entries: BTreeMap<String, Value>,
    /// Unix milliseconds of the record's creation (0 in records written
    /// before it was kept).
    #[serde(default)]
    created_ms: i64,
    /// Unix milliseconds of the last request seen.
    #[serde(default)]
    seen_ms: i64,
    /// An ended session: never loaded, never written again.
    #[serde(default)]
    ended: bool,
    /// How many times the record was written (0 in records written before
    /// it was counted): orders the versions of the in-memory cache.
    #[serde(default)]
    version: u64,
}

impl Versioned for SessionRecord {
    fn version(&self) -> u64 {
        self.version
    }
}

impl SessionRecord {
    /// The record written over one of `version` (0: none before).
    fn new(
        entries: BTreeMap<String, Value>,
        created_ms: i64,
        at_ms: i64,
        l: &Lifetimes,
        version: u64,
    ) -> Self {
        let mut rec = SessionRecord {
            expires_at: 0,
            entries,
            created_ms,
            seen_ms: at_ms,
            ended: false,
            version: version + 1,
        };
        rec.expires_at = rec.deadline_ms(l).div_euclid(1000) + 1;
        rec
    }

    /// The tombstone written over a record of `version` (0: none before).
    fn tombstone(version: u64) -> Self {
        SessionRecord {
            expires_at: now() + i64::try_from(TOMBSTONE.as_secs()).unwrap_or(3600),
            entries: BTreeMap::new(),
            created_ms: 0,
            seen_ms: 0,
            ended: true,
            version: version + 1,
        }
    }

    /// A record written before creation and last-request times were kept
    /// counts from 24 hours before its expiry (its old lifetime).
    fn upgraded(mut self) -> Self {
        if self.created_ms == 0 && !self.ended {
            self.created_ms = (self.expires_at - 24 * 3600).saturating_mul(1000);
            self.seen_ms = self.created_ms;
        }
        self
    }

    fn user(&self) -> Option<u64> {
        entry_user(&self.entries)
    }

    /// When the session started counting towards its absolute lifetime: the
    /// login, or the record's creation when that is earlier (a login time
    /// in the future is not believed).
    fn started_ms(&self) -> i64 {
        let login_ms = self
            .user()
            .and_then(|_| self.entries.get(session_keys::LOGIN_AT))
            .and_then(Value::as_i64)
            .map(|s| s.saturating_mul(1000));
        login_ms.map_or(self.created_ms, |l| l.min(self.created_ms))
    }

    fn idle_and_max(&self, l: &Lifetimes) -> (Duration, Duration) {
        if self.user().is_some() {
            (l.signed_in_idle, l.signed_in_max)
        } else {
            (l.anonymous_idle, l.anonymous_max)
        }
    }

    /// The instant (Unix ms) at which the session ends unless used again.
    fn deadline_ms(&self, l: &Lifetimes) -> i64 {
        let (idle, max) = self.idle_and_max(l);
        (self.seen_ms.saturating_add(millis(idle)))
            .min(self.started_ms().saturating_add(millis(max)))
    }
}

fn entry_user(entries: &BTreeMap<String, Value>) -> Option<u64> {
    entries.get(session_keys::USER).and_then(Value::as_u64)
}

fn entry_generation(entries: &BTreeMap<String, Value>) -> u64 {
    entries
        .get(session_keys::GENERATION)
        .and_then(Value::as_u64)
        .unwrap_or(0)
}

/// True when signed-in entries belong to an account that is gone or whose
/// generation differs (a password change since the login; or a database
/// restored from an older backup); anonymous entries are never stale.
fn stale(
    entries: &BTreeMap<String, Value>,
    current: impl FnOnce(u64) -> anyhow::Result<Option<u64>>,
) -> anyhow::Result<bool> {
    let Some(user) = entry_user(entries) else {
        return Ok(false);
    };
    Ok(current(user)?.is_none_or(|g| entry_generation(entries) != g))
}

/// What a load found.
enum Verdict {
    Missing,
    Live {
        entries: BTreeMap<String, Value>,
        touch: bool,
    },
    /// Expired or stale: ended now.
    End,
}

/// The redb-backed session storage. Clones share one cache: make one per
/// database and clone it.
#[derive(Clone)]
pub struct RedbSessions {
    store: Store,
    lifetimes: Lifetimes,
    cache: Arc<SessionCache<SessionRecord>>,
}

impl RedbSessions {
    pub fn new(store: Store, lifetimes: Lifetimes) -> Self {
        RedbSessions {
            store,
            lifetimes,
            cache: Arc::new(SessionCache::new(CACHED_SESSIONS)),
        }
    }

    /// Keeps what a write transaction stored, once it is committed.
    fn written(&self, k: [u8; 32], rec: Option<SessionRecord>) {
        if let Some(rec) = rec {
            self.cache.offer(k, Arc::new(rec));
        }
    }

    /// Deletes every expired session and old tombstone; returns how many.
    pub async fn purge_expired(&self) -> anyhow::Result<usize> {
        let t_now = now();
        self.cache.purge(|r| r.expires_at <= t_now);
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

    fn judge(&self, session_id: &str) -> anyhow::Result<Verdict> {
        let k = key(session_id);
        let l = self.lifetimes;
        let rec = match self.cache.get(&k) {
            Some(rec) => rec,
            None => {
                let read = self.store.read_now(|tx| {
                    let t = tx.open_table(SESSIONS)?;
                    t.get(&k)?
                        .map(|v| decode::<SessionRecord>(v.value()))
                        .transpose()
                })?;
                let Some(rec) = read else {
                    return Ok(Verdict::Missing);
                };
                let rec = Arc::new(rec.upgraded());
                self.cache.offer(k, rec.clone());
                rec
            }
        };
        if rec.ended {
            return Ok(Verdict::Missing);
        }
        let at = now_ms();
        if rec.deadline_ms(&l) <= at {
            return Ok(Verdict::End);
        }
        if rec.user().is_some()
            && self
                .store
                .read_now(|tx| stale(&rec.entries, |id| users::generation(tx, id)))?
        {
            return Ok(Verdict::End);
        }
        let (idle, _) = rec.idle_and_max(&l);
        let touch = at - rec.seen_ms >= millis(TOUCH_EVERY.min(idle / 4));
        Ok(Verdict::Live {
            entries: rec.entries.clone(),
            touch,
        })
    }
}

/// Ends the session stored under `k`, leaving its tombstone (returned).
fn end(tx: &WriteTransaction, k: &[u8; 32]) -> anyhow::Result<Option<SessionRecord>> {
    let mut t = tx.open_table(SESSIONS)?;
    let version = t
        .get(k)?
        .map(|v| decode::<SessionRecord>(v.value()))
        .transpose()?
        .map_or(0, |r| r.version);
    let rec = SessionRecord::tombstone(version);
    t.insert(k, encode(&rec)?.as_slice())?;
    Ok(Some(rec))
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
        match self.judge(session_id).map_err(internal)? {
            Verdict::Missing => Ok(None),
            Verdict::End => {
                let k = key(session_id);
                let rec = self
                    .store
                    .write_ok(move |tx| end(tx, &k))
                    .await
                    .map_err(internal)?;
                self.written(k, rec);
                Ok(None)
            }
            Verdict::Live { entries, touch } => {
                if touch {
                    let k = key(session_id);
                    let l = self.lifetimes;
                    let rec = self
                        .store
                        .write_ok(move |tx| {
                            let mut t = tx.open_table(SESSIONS)?;
                            let rec = t
                                .get(&k)?
                                .map(|v| decode::<SessionRecord>(v.value()))
                                .transpose()?;
                            // Only a live record is refreshed: one ended
                            // meanwhile stays ended.
                            let Some(rec) = rec.map(SessionRecord::upgraded) else {
                                return Ok(None);
                            };
                            if rec.ended {
                                return Ok(None);
                            }
                            let rec = SessionRecord::new(
                                rec.entries,
                                rec.created_ms,
                                now_ms(),
                                &l,
                                rec.version,
                            );
                            t.insert(&k, encode(&rec)?.as_slice())?;
                            Ok(Some(rec))
                        })
                        .await
                        .map_err(internal)?;
                    self.written(k, rec);
                }
                Ok(Some(entries))
            }
        }
    }

    async fn update_session<'a>(
        &'a self,
        session_id: &'a str,
        entries: &'a BTreeMap<String, Value>,
        _expires: Option<Duration>,
    ) -> poem::Result<()> {
        let k = key(session_id);
        let l = self.lifetimes;
        let entries = entries.clone();
        let rec = self
            .store
            .write_ok(move |tx| {
                let existing = {
                    let t = tx.open_table(SESSIONS)?;
                    t.get(&k)?
                        .map(|v| decode::<SessionRecord>(v.value()))
                        .transpose()?
                        .map(SessionRecord::upgraded)
                };
                let (created_ms, version) = match &existing {
                    // Ended while this request ran: it stays ended.
                    Some(rec) if rec.ended => return Ok(None),
                    Some(rec) => (rec.created_ms, rec.version),
                    None => (now_ms(), 0),
                };
                if stale(&entries, |id| users::generation_in_write(tx, id))? {
                    return end(tx, &k);
                }
                let rec = SessionRecord::new(entries, created_ms, now_ms(), &l, version);
                tx.open_table(SESSIONS)?
                    .insert(&k, encode(&rec)?.as_slice())
                    .context("insert session")?;
                Ok(Some(rec))
            })
            .await
            .map_err(internal)?;
        self.written(k, rec);
        Ok(())
    }

    async fn remove_session<'a>(&'a self, session_id: &'a str) -> poem::Result<()> {
        let k = key(session_id);
        let rec = self
            .store
            .write_ok(move |tx| end(tx, &k))
            .await
            .map_err(internal)?;
        self.written(k, rec);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lifetimes() -> Lifetimes {
        Lifetimes {
            signed_in_idle: Duration::from_secs(30 * 60),
            signed_in_max: Duration::from_secs(12 * 3600),
            anonymous_idle: ANONYMOUS_IDLE,
            anonymous_max: ANONYMOUS_MAX,
        }
    }

    fn signed_in(login_at: i64) -> BTreeMap<String, Value> {
        BTreeMap::from([
            (session_keys::USER.to_owned(), Value::from(7u64)),
            (session_keys::LOGIN_AT.to_owned(), Value::from(login_at)),
        ])
    }

    #[test]
    fn a_signed_in_session_ends_after_the_idle_time_or_the_maximum_whichever_first() {
        let l = lifetimes();
        let t0 = 1_700_000_000_000i64;
        let rec = SessionRecord::new(signed_in(t0 / 1000), t0, t0, &l, 0);
        assert_eq!(rec.deadline_ms(&l), t0 + 30 * 60 * 1000);
        // Used an hour before the twelve hours are up: the maximum decides.
        let late = t0 + 12 * 3600 * 1000 - 10 * 60 * 1000;
        let rec = SessionRecord::new(signed_in(t0 / 1000), t0, late, &l, 0);
        assert_eq!(rec.deadline_ms(&l), t0 + 12 * 3600 * 1000);
    }

    #[test]
    fn the_maximum_counts_from_the_login_or_the_creation_whichever_is_earlier() {
        let l = lifetimes();
        let t0 = 1_700_000_000_000i64;
        let max = 12 * 3600 * 1000;
        let logged_in_earlier = SessionRecord::new(signed_in(t0 / 1000 - 60), t0, t0, &l, 0);
        assert_eq!(logged_in_earlier.started_ms(), t0 - 60_000);
        let future_login = SessionRecord::new(signed_in(t0), t0, t0 + max - 1, &l, 0);
        assert_eq!(future_login.deadline_ms(&l), t0 + max);
    }

    #[test]
    fn an_anonymous_session_lives_a_day_after_its_last_request() {
        let l = lifetimes();
        let t0 = 1_700_000_000_000i64;
        let rec = SessionRecord::new(BTreeMap::new(), t0, t0, &l, 0);
        assert_eq!(rec.deadline_ms(&l), t0 + 24 * 3600 * 1000);
    }

    #[test]
    fn records_written_before_the_lifetimes_count_from_their_old_expiry() {
        let l = lifetimes();
        let old: SessionRecord =
            decode(br#"{"expires_at":1700086400,"entries":{"user_id":7}}"#.as_slice()).unwrap();
        let old = old.upgraded();
        assert_eq!(old.created_ms, 1_700_000_000_000);
        assert_eq!(old.deadline_ms(&l), 1_700_000_000_000 + 30 * 60 * 1000);
    }

    #[test]
    fn a_signed_in_session_of_an_older_generation_or_a_gone_account_is_stale() {
        let mut e = signed_in(0);
        assert!(!stale(&e, |_| Ok(Some(0))).unwrap());
        assert!(
            stale(&e, |_| Ok(Some(1))).unwrap(),
            "missing generation = 0"
        );
        assert!(stale(&e, |_| Ok(None)).unwrap(), "account gone");
        e.insert(session_keys::GENERATION.to_owned(), Value::from(1u64));
        assert!(!stale(&e, |_| Ok(Some(1))).unwrap());
        assert!(
            stale(&e, |_| Ok(Some(0))).unwrap(),
            "restored older database"
        );
        assert!(!stale(&BTreeMap::new(), |_| Ok(None)).unwrap(), "anonymous");
    }
}
