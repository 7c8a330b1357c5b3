//! A simple in-memory limit for actions that send mail (registration links,
//! reminders, inquiries): after `limit` uses of one key within a window,
//! further ones are refused until it passes. A restart forgives, which is
//! acceptable for these. Logins are limited by `auth::login_limiter`
//! instead, in redb.

use std::{
    collections::HashMap,
    sync::Mutex,
    time::{Duration, Instant},
};

/// The window.
pub const WINDOW: Duration = Duration::from_secs(15 * 60);

/// Counts recent uses by key.
#[derive(Default)]
pub struct Throttle {
    failures: Mutex<HashMap<String, (u32, Instant)>>,
}

impl Throttle {
    /// True when `key` has used up its `limit` within the window.
    pub fn is_blocked(&self, key: &str, limit: u32) -> bool {
        let Ok(map) = self.failures.lock() else {
            return false;
        };
        map.get(key)
            .is_some_and(|(n, since)| *n >= limit && since.elapsed() < WINDOW)
    }

    /// Records a use of `key`.
    pub fn fail(&self, key: &str) {
        let Ok(mut map) = self.failures.lock() else {
            return;
        };
        if map.len() > 100_000 {
            map.retain(|_, (_, since)| since.elapsed() < WINDOW);
        }
        let e = map.entry(key.to_owned()).or_insert((0, Instant::now()));
        if e.1.elapsed() >= WINDOW {
            *e = (0, Instant::now());
        }
        e.0 += 1;
    }

    /// Forgets `key`.
    pub fn clear(&self, key: &str) {
        if let Ok(mut map) = self.failures.lock() {
            map.remove(key);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_after_the_limit_and_clears() {
        const LIMIT: u32 = 5;
        let t = Throttle::default();
        for _ in 0..LIMIT {
            assert!(!t.is_blocked("mail:a", LIMIT));
            t.fail("mail:a");
        }
        assert!(t.is_blocked("mail:a", LIMIT));
        assert!(!t.is_blocked("mail:b", LIMIT));
        t.clear("mail:a");
        assert!(!t.is_blocked("mail:a", LIMIT));
    }
}
