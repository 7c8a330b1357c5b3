//! Login attempts counted per key (a login ID, a client address, a device),
//! kept in redb so that a restart forgives nothing.
//!
//! A key's record is the number of attempts still held against it and the
//! time of the last one. An attempt is counted when it starts, before the
//! password is checked ([`reserve`]); a successful one is handed back
//! ([`refund`]). Held attempts are forgiven one per `forget_ms` of quiet,
//! and [`purge`] drops records with nothing left to hold.
//!
//! The [`Policy`] of a key says how many attempts are free and how long the
//! next one must wait after that: `base_ms`, doubling with every further
//! attempt, up to `cap_ms`. No key is ever locked for good.

use redb::{ReadTransaction, ReadableTable, WriteTransaction};
use serde::{Deserialize, Serialize};

use super::{decode, encode, tables::LOGIN_ATTEMPTS};

/// What is held against one key.
#[derive(Clone, Copy, Debug, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct Attempts {
    /// Attempts counted (before forgiveness since `last_ms`).
    pub count: u32,
    /// Unix milliseconds of the last counted attempt.
    pub last_ms: i64,
}

/// How attempts against one kind of key are spaced.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Policy {
    /// Attempts allowed without waiting.
    pub free: u32,
    /// Wait before the first attempt beyond `free`; doubles with each further one.
    pub base_ms: i64,
    /// Longest wait.
    pub cap_ms: i64,
    /// One held attempt is forgiven per this much time without attempts.
    pub forget_ms: i64,
}

impl Policy {
    /// Attempts still held at `now`.
    pub fn held(&self, a: &Attempts, now_ms: i64) -> u32 {
        let quiet = (now_ms - a.last_ms).max(0) / self.forget_ms.max(1);
        a.count
            .saturating_sub(u32::try_from(quiet).unwrap_or(u32::MAX))
    }

    /// The wait before attempt number `free + k` (k ≥ 1).
    pub fn delay_ms(&self, k: u32) -> i64 {
        let doublings = k.saturating_sub(1).min(40);
        self.base_ms
            .saturating_mul(1_i64 << doublings)
            .min(self.cap_ms)
    }

    /// Milliseconds from `now` until the next attempt is allowed; 0 when it
    /// is allowed now.
    pub fn wait_ms(&self, a: &Attempts, now_ms: i64) -> i64 {
        let forget = self.forget_ms.max(1);
        let elapsed = (now_ms - a.last_ms).max(0);
        // While `j` attempts have been forgiven (elapsed in
        // [j·forget, (j+1)·forget)), `count - j` are held; find the first
        // moment at which they allow one more.
        let mut j = elapsed / forget;
        loop {
            let held = a.count.saturating_sub(u32::try_from(j).unwrap_or(u32::MAX));
            let start = elapsed.max(j.saturating_mul(forget));
            if held < self.free {
                return start - elapsed;
            }
            let ready = start.max(self.delay_ms(held - self.free + 1));
            if ready < (j + 1).saturating_mul(forget) {
                return ready - elapsed;
            }
            j += 1;
        }
    }

    /// True when nothing is held at `now` (the record can go).
    pub fn is_spent(&self, a: &Attempts, now_ms: i64) -> bool {
        self.held(a, now_ms) == 0
    }
}

/// The first key that refused an attempt, and for how long.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Refused {
    pub key: String,
    pub wait_ms: i64,
}

/// Reads a key's record.
pub fn get(tx: &ReadTransaction, key: &str) -> anyhow::Result<Option<Attempts>> {
    let t = tx.open_table(LOGIN_ATTEMPTS)?;
    let v = t.get(key)?;
    v.map(|v| decode(v.value())).transpose()
}

/// Reads a key's record in a write transaction.
pub fn get_in_write(tx: &WriteTransaction, key: &str) -> anyhow::Result<Option<Attempts>> {
    let t = tx.open_table(LOGIN_ATTEMPTS)?;
    let v = t.get(key)?;
    v.map(|v| decode(v.value())).transpose()
}

/// Writes a key's record as it is (for tests and repairs).
pub fn put(tx: &WriteTransaction, key: &str, a: &Attempts) -> anyhow::Result<()> {
    tx.open_table(LOGIN_ATTEMPTS)?
        .insert(key, encode(a)?.as_slice())?;
    Ok(())
}

/// Whether every key would allow an attempt at `now`, without writing: the
/// longest wait among those that refuse.
pub fn check(
    tx: &ReadTransaction,
    keys: &[(String, Policy)],
    now_ms: i64,
) -> anyhow::Result<Option<Refused>> {
    let t = tx.open_table(LOGIN_ATTEMPTS)?;
    let mut refused: Option<Refused> = None;
    for (key, policy) in keys {
        if let Some(v) = t.get(key.as_str())? {
            let a: Attempts = decode(v.value())?;
            let wait_ms = policy.wait_ms(&a, now_ms);
            if wait_ms > 0 && refused.as_ref().is_none_or(|r| r.wait_ms < wait_ms) {
                refused = Some(Refused {
                    key: key.clone(),
                    wait_ms,
                });
            }
        }
    }
    Ok(refused)
}

/// Counts one attempt against every key, or against none when any of them
/// refuses it (then the longest wait is returned). One transaction: attempts
/// in flight at the same time are counted one after the other.
pub fn reserve(
    tx: &WriteTransaction,
    keys: &[(String, Policy)],
    now_ms: i64,
) -> anyhow::Result<Result<(), Refused>> {
    let mut t = tx.open_table(LOGIN_ATTEMPTS)?;
    let mut updated = Vec::with_capacity(keys.len());
    let mut refused: Option<Refused> = None;
    for (key, policy) in keys {
        let a: Attempts = match t.get(key.as_str())? {
            Some(v) => decode(v.value())?,
            None => Attempts::default(),
        };
        let wait_ms = policy.wait_ms(&a, now_ms);
        if wait_ms > 0 {
            if refused.as_ref().is_none_or(|r| r.wait_ms < wait_ms) {
                refused = Some(Refused {
                    key: key.clone(),
                    wait_ms,
                });
            }
            continue;
        }
        updated.push((
            key,
            Attempts {
                count: policy.held(&a, now_ms).saturating_add(1),
                last_ms: now_ms,
            },
        ));
    }
    if let Some(r) = refused {
        return Ok(Err(r));
    }
    for (key, a) in updated {
        t.insert(key.as_str(), encode(&a)?.as_slice())?;
    }
    Ok(Ok(()))
}

/// Hands back one attempt counted by [`reserve`] (a successful login, or
/// one that never reached the password check).
pub fn refund(tx: &WriteTransaction, keys: &[String]) -> anyhow::Result<()> {
    let mut t = tx.open_table(LOGIN_ATTEMPTS)?;
    for key in keys {
        let a: Option<Attempts> = t
            .get(key.as_str())?
            .map(|v| decode(v.value()))
            .transpose()?;
        if let Some(mut a) = a {
            a.count = a.count.saturating_sub(1);
            if a.count == 0 {
                t.remove(key.as_str())?;
            } else {
                t.insert(key.as_str(), encode(&a)?.as_slice())?;
            }
        }
    }
    Ok(())
}

/// Removes the records that hold nothing any more (`policy_of` gives each
/// key's policy); returns how many.
pub fn purge(
    tx: &WriteTransaction,
    now_ms: i64,
    policy_of: impl Fn(&str) -> Policy,
) -> anyhow::Result<usize> {
    let mut t = tx.open_table(LOGIN_ATTEMPTS)?;
    let mut spent = Vec::new();
    for row in t.iter()? {
        let (k, v) = row?;
        let key = k.value();
        // An unreadable record is as good as spent.
        let done =
            decode::<Attempts>(v.value()).map_or(true, |a| policy_of(key).is_spent(&a, now_ms));
        if done {
            spent.push(key.to_owned());
        }
    }
    for k in &spent {
        t.remove(k.as_str())?;
    }
    Ok(spent.len())
}

/// Number of records (for tests and the benchmark's curiosity).
pub fn count(tx: &ReadTransaction) -> anyhow::Result<u64> {
    use redb::ReadableTableMetadata as _;
    Ok(tx.open_table(LOGIN_ATTEMPTS)?.len()?)
}

#[cfg(test)]
mod tests {
    use super::*;

    const P: Policy = Policy {
        free: 3,
        base_ms: 1_000,
        cap_ms: 8_000,
        forget_ms: 60_000,
    };

    fn at(count: u32, last_ms: i64) -> Attempts {
        Attempts { count, last_ms }
    }

    #[test]
    fn free_attempts_then_doubling_waits_up_to_the_cap() {
        assert_eq!(P.wait_ms(&at(0, 0), 0), 0);
        assert_eq!(P.wait_ms(&at(2, 0), 0), 0);
        assert_eq!(P.wait_ms(&at(3, 0), 0), 1_000);
        assert_eq!(P.wait_ms(&at(3, 0), 400), 600);
        assert_eq!(P.wait_ms(&at(3, 0), 1_000), 0);
        assert_eq!(P.wait_ms(&at(4, 0), 0), 2_000);
        assert_eq!(P.wait_ms(&at(5, 0), 0), 4_000);
        assert_eq!(P.wait_ms(&at(6, 0), 0), 8_000);
        assert_eq!(P.wait_ms(&at(60, 0), 0), 8_000, "capped");
    }

    #[test]
    fn quiet_time_forgives_held_attempts() {
        assert_eq!(P.held(&at(5, 0), 59_999), 5);
        assert_eq!(P.held(&at(5, 0), 60_000), 4);
        assert_eq!(P.held(&at(5, 0), 10 * 60_000), 0);
        assert!(P.is_spent(&at(5, 0), 5 * 60_000));
        // With a cap longer than the forgiveness period, waiting one period
        // forgives one attempt, which may be enough.
        let long = Policy {
            cap_ms: 600_000,
            ..P
        };
        let a = at(12, 0); // the wait for 9 beyond the free ones is capped
        assert_eq!(long.delay_ms(12 - 3 + 1), 512_000);
        let w = long.wait_ms(&a, 0);
        assert!((60_000..=512_000).contains(&w), "{w}");
        assert_eq!(long.wait_ms(&a, w), 0);
        assert!(long.wait_ms(&a, w - 1) > 0);
    }

    #[tokio::test]
    async fn reserve_counts_all_or_nothing_and_refund_hands_back() {
        let dir = tempfile::tempdir().unwrap();
        let store = crate::store::Store::open(dir.path()).unwrap();
        let loose = Policy { free: 10, ..P };
        let keys = vec![("id:a".to_owned(), P), ("ip:1".to_owned(), loose)];
        for _ in 0..3 {
            let k = keys.clone();
            store
                .write(move |tx| reserve(tx, &k, 0))
                .await
                .unwrap()
                .unwrap();
        }
        let k = keys.clone();
        let refused = store.write(move |tx| reserve(tx, &k, 10)).await.unwrap();
        assert_eq!(
            refused,
            Err(Refused {
                key: "id:a".into(),
                wait_ms: 990
            })
        );
        // Nothing was counted for the refused attempt.
        let ip = store.read(|tx| get(tx, "ip:1")).await.unwrap().unwrap();
        assert_eq!(ip.count, 3);
        let k = keys.clone();
        assert_eq!(
            store.read(move |tx| check(tx, &k, 10)).await.unwrap(),
            Some(Refused {
                key: "id:a".into(),
                wait_ms: 990
            })
        );
        store
            .write_ok(|tx| refund(tx, &["id:a".to_owned()]))
            .await
            .unwrap();
        let k = keys.clone();
        assert_eq!(store.read(move |tx| check(tx, &k, 10)).await.unwrap(), None);
        let purged = store
            .write_ok(|tx| purge(tx, 10 * 60_000, |_| P))
            .await
            .unwrap();
        assert_eq!(purged, 2);
        assert_eq!(store.read(count).await.unwrap(), 0);
    }
}
