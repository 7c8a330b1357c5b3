//! Login throttling: after too many failures for one login ID or from one
//! address within a window, further attempts are refused until it passes.
//! Kept in memory: a restart forgives, which is acceptable for one small VM.

use std::{
    collections::HashMap,
    sync::Mutex,
    time::{Duration, Instant},
};

/// Failures allowed per login ID within the window.
pub const PER_ACCOUNT: u32 = 5;
/// Failures allowed per client address within the window.
pub const PER_ADDRESS: u32 = 20;
/// The window.
pub const WINDOW: Duration = Duration::from_secs(15 * 60);

/// Counts recent failures by key.
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

    /// Records a failure for `key`.
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

    /// Forgets `key` (after a successful login).
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
        let t = Throttle::default();
        for _ in 0..PER_ACCOUNT {
            assert!(!t.is_blocked("id:a", PER_ACCOUNT));
            t.fail("id:a");
        }
        assert!(t.is_blocked("id:a", PER_ACCOUNT));
        assert!(!t.is_blocked("id:b", PER_ACCOUNT));
        t.clear("id:a");
        assert!(!t.is_blocked("id:a", PER_ACCOUNT));
    }
}
