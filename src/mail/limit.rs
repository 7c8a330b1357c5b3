//! Mail requests per client address: however many targets one client names
//! (forgotten ID or password, registration, inquiry), it gets at most
//! `MAMIS_MAILS_PER_CLIENT_HOUR` mails queued per hour. IPv6 clients count
//! per /64, the block one subscriber usually holds. Kept in memory: a
//! restart forgives.

use std::{
    collections::HashMap,
    net::IpAddr,
    sync::Mutex,
    time::{Duration, Instant},
};

/// Counts mail requests per client in fixed windows.
pub struct MailLimiter {
    limit: u32,
    window: Duration,
    seen: Mutex<HashMap<IpAddr, (u32, Instant)>>,
}

/// Entries kept before expired ones are swept out.
const SWEEP_ABOVE: usize = 100_000;

impl MailLimiter {
    pub fn new(limit: u32, window: Duration) -> MailLimiter {
        MailLimiter {
            limit,
            window,
            seen: Mutex::default(),
        }
    }

    /// Counts one mail request from `ip`; false when the client has used up
    /// its allowance for the window (nothing may be sent then).
    pub fn allow(&self, ip: IpAddr) -> bool {
        let key = block(ip);
        let mut seen = self
            .seen
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if seen.len() > SWEEP_ABOVE {
            let window = self.window;
            seen.retain(|_, (_, since)| since.elapsed() < window);
        }
        let e = seen.entry(key).or_insert((0, Instant::now()));
        if e.1.elapsed() >= self.window {
            *e = (0, Instant::now());
        }
        if e.0 >= self.limit {
            return false;
        }
        e.0 += 1;
        true
    }
}

/// The address an allowance belongs to: IPv4 as it is, IPv6 by its /64.
fn block(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => {
            let bits = u128::from(v6) & !((1u128 << 64) - 1);
            IpAddr::V6(bits.into())
        }
        v4 => v4,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn allows_the_limit_per_client_and_block() {
        let l = MailLimiter::new(3, Duration::from_secs(3600));
        let a: IpAddr = "192.0.2.1".parse().unwrap();
        let b: IpAddr = "192.0.2.2".parse().unwrap();
        assert!((0..3).all(|_| l.allow(a)));
        assert!(!l.allow(a));
        assert!(l.allow(b));
        let v6a: IpAddr = "2001:db8::1".parse().unwrap();
        let v6b: IpAddr = "2001:db8::ffff:1".parse().unwrap();
        assert!((0..3).all(|_| l.allow(v6a)));
        assert!(!l.allow(v6b), "the same /64 shares one allowance");
    }

    #[test]
    fn a_new_window_starts_afresh() {
        let l = MailLimiter::new(1, Duration::from_millis(20));
        let a: IpAddr = "192.0.2.1".parse().unwrap();
        assert!(l.allow(a));
        assert!(!l.allow(a));
        std::thread::sleep(Duration::from_millis(30));
        assert!(l.allow(a));
    }
}
