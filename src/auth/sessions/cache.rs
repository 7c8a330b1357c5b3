//! The last record this process read or wrote for each session, so that a
//! request need not read redb to load its session.
//!
//! Every write of a session goes through `RedbSessions` in this one process
//! (the server holds the database file), and every record carries a version
//! that each write raises by one inside its transaction. An entry is only
//! ever replaced by a higher version, so writers whose cache updates land out
//! of order, or a request that read an older snapshot, cannot put an older
//! record back. Entries leave only when their record is dead ([`purge`]);
//! while the cache is full, no new session is added (the ones there are
//! still replaced), and the sessions left out are read from redb as before.
//!
//! [`purge`]: SessionCache::purge

use std::{
    collections::HashMap,
    sync::{Arc, Mutex, PoisonError},
};

/// A record that knows its write count.
pub trait Versioned {
    fn version(&self) -> u64;
}

pub struct SessionCache<R> {
    entries: Mutex<HashMap<[u8; 32], Arc<R>>>,
    capacity: usize,
}

impl<R: Versioned> SessionCache<R> {
    pub fn new(capacity: usize) -> SessionCache<R> {
        SessionCache {
            entries: Mutex::new(HashMap::new()),
            capacity,
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<[u8; 32], Arc<R>>> {
        // The map stays consistent even if a holder panicked: every change
        // is a single insert or retain.
        self.entries.lock().unwrap_or_else(PoisonError::into_inner)
    }

    pub fn get(&self, key: &[u8; 32]) -> Option<Arc<R>> {
        self.lock().get(key).cloned()
    }

    /// Keeps `record` for `key` unless the entry there is as new or newer,
    /// or the cache is full and has no entry for `key`.
    pub fn offer(&self, key: [u8; 32], record: Arc<R>) {
        let mut entries = self.lock();
        let len = entries.len();
        match entries.get_mut(&key) {
            Some(kept) if kept.version() >= record.version() => {}
            Some(kept) => *kept = record,
            None if len < self.capacity => {
                entries.insert(key, record);
            }
            None => {}
        }
    }

    /// Drops the entries whose record `dead` says is over.
    pub fn purge(&self, dead: impl Fn(&R) -> bool) {
        self.lock().retain(|_, r| !dead(r));
    }

    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.lock().len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Rec(u64, &'static str);
    impl Versioned for Rec {
        fn version(&self) -> u64 {
            self.0
        }
    }

    #[test]
    fn an_entry_is_replaced_only_by_a_newer_version() {
        let cache = SessionCache::new(10);
        let k = [1; 32];
        cache.offer(k, Arc::new(Rec(2, "second write")));
        cache.offer(k, Arc::new(Rec(1, "older snapshot")));
        assert_eq!(cache.get(&k).map(|r| r.1), Some("second write"));
        cache.offer(k, Arc::new(Rec(2, "same version")));
        assert_eq!(cache.get(&k).map(|r| r.1), Some("second write"));
        cache.offer(k, Arc::new(Rec(3, "third write")));
        assert_eq!(cache.get(&k).map(|r| r.1), Some("third write"));
    }

    #[test]
    fn a_full_cache_adds_nothing_but_still_replaces() {
        let cache = SessionCache::new(2);
        cache.offer([1; 32], Arc::new(Rec(0, "a")));
        cache.offer([2; 32], Arc::new(Rec(0, "b")));
        cache.offer([3; 32], Arc::new(Rec(0, "c")));
        assert_eq!(cache.len(), 2);
        assert!(cache.get(&[3; 32]).is_none());
        cache.offer([2; 32], Arc::new(Rec(1, "b2")));
        assert_eq!(cache.get(&[2; 32]).map(|r| r.1), Some("b2"));
        cache.purge(|r| r.1 == "a");
        assert!(cache.get(&[1; 32]).is_none());
        cache.offer([3; 32], Arc::new(Rec(0, "c")));
        assert_eq!(cache.get(&[3; 32]).map(|r| r.1), Some("c"));
    }
}
