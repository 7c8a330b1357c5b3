//! The login limiter: how often a login may be tried, per typed login ID,
//! per client address and per known device, counted in redb
//! (`store::login_attempts`) so that a restart forgives nothing.
//!
//! Every attempt is counted when it starts, before its password is checked
//! (reserve, then verify, in one write transaction for all its keys), so a
//! burst of parallel attempts cannot slip past the limit while the first
//! ones are still hashing. A successful attempt is handed back afterwards;
//! a success does not wipe what is held against the address for other IDs.
//!
//! Nothing is locked for good: after the free attempts each further one
//! must wait a delay that doubles up to a cap, and held attempts are
//! forgiven with quiet time. A refused attempt is told how long to wait.
//!
//! A browser that has logged in to an account before carries a signed
//! device cookie naming the account ([`DEVICE_COOKIE`]). For that account
//! it is counted against its own device key and its address, not against
//! the account-wide key: someone guessing passwords for an account cannot
//! lock its owner out of the browser they always use.

use std::{
    collections::HashMap,
    net::IpAddr,
    sync::Mutex,
    time::{Duration, Instant},
};

use base64::{Engine as _, engine::general_purpose::URL_SAFE_NO_PAD};
use hmac::{Hmac, Mac};
use poem::web::cookie::{Cookie, SameSite};
use sha2::{Digest, Sha256};
use tokio::sync::OnceCell;

use crate::store::{
    Store,
    login_attempts::{self, Policy, Refused},
    users::{UserRecord, login_key},
};

/// Per typed login ID (known or not), for browsers without a device cookie
/// for that account: 5 free attempts, then 5 s, 10 s, 20 s, … up to 15 min;
/// one forgiven per 15 quiet minutes. A patient guesser gets about four
/// guesses an hour.
pub const ACCOUNT: Policy = Policy {
    free: 5,
    base_ms: 5_000,
    cap_ms: 15 * 60_000,
    forget_ms: 15 * 60_000,
};

/// Per client address (many people may share one): 20 free attempts, then
/// 5 s, 10 s, … up to 15 min; one forgiven per 3 quiet minutes (an office
/// behind one address mistyping fewer than 20 times an hour never waits).
pub const ADDRESS: Policy = Policy {
    free: 20,
    base_ms: 5_000,
    cap_ms: 15 * 60_000,
    forget_ms: 3 * 60_000,
};

/// Per device cookie (instead of the account's key): as for an account.
pub const DEVICE: Policy = ACCOUNT;

/// The device cookie's name.
pub const DEVICE_COOKIE: &str = "mamis_device";
/// How long a device is remembered after its last login (browsers cap
/// cookie lifetimes near 400 days).
pub const DEVICE_LIFETIME: Duration = Duration::from_secs(400 * 86_400);
/// Accounts one browser remembers (a shared computer in a clinic).
const DEVICES_PER_BROWSER: usize = 4;
/// Throttled attempts are audited and logged at warn level once per key
/// per this period (the rest at debug level), so a flood of refusals cannot
/// flood the log or the database.
const REPORT_EVERY: Duration = Duration::from_secs(60);

const DEVICE_KEY_NAME: &str = "device_cookie_key";

/// Unix time in milliseconds.
pub fn now_ms() -> i64 {
    let d = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

/// The policy of a stored key (by its prefix).
pub fn policy_of(key: &str) -> Policy {
    if key.starts_with("ip:") {
        ADDRESS
    } else if key.starts_with("dev:") {
        DEVICE
    } else {
        ACCOUNT
    }
}

/// The account-wide key of a typed login ID (normalised as for uniqueness;
/// overlong input is hashed so that a key stays short).
pub fn account_key(login_id: &str) -> String {
    let k = login_key(login_id);
    if k.len() <= 64 {
        format!("id:{k}")
    } else {
        format!("id:#{:x}", Sha256::digest(k.as_bytes()))
    }
}

/// The address key: the IP only, never the port.
pub fn address_key(ip: IpAddr) -> String {
    format!("ip:{ip}")
}

/// The keys an attempt is counted against: the address, and either the
/// device (when the browser carries a valid device cookie for the account)
/// or the account-wide key.
pub fn keys_for(ip: IpAddr, login_id: &str, device: Option<&str>) -> Vec<(String, Policy)> {
    let second = match device {
        Some(d) => (format!("dev:{d}"), DEVICE),
        None => (account_key(login_id), ACCOUNT),
    };
    vec![(address_key(ip), ADDRESS), second]
}

/// An attempt that has been counted; hand it back with
/// [`login_attempts::refund`] when it succeeds or never reaches the check.
#[derive(Debug)]
pub struct Reservation {
    pub keys: Vec<String>,
}

/// Why an attempt was not counted: wait this long.
#[derive(Debug, Clone)]
pub struct Throttled {
    /// The key that refused (`ip:…`, `id:…` or `dev:…`).
    pub key: String,
    /// Whole seconds to wait (at least 1), for `Retry-After`.
    pub retry_after_secs: u64,
}

impl Throttled {
    fn from(r: Refused) -> Throttled {
        let secs = (r.wait_ms.max(1) + 999) / 1000;
        Throttled {
            key: r.key,
            retry_after_secs: u64::try_from(secs).unwrap_or(1).max(1),
        }
    }

    /// The wait in Japanese, rounded up (「30秒」, 「2分」).
    pub fn wait_text(&self) -> String {
        let s = self.retry_after_secs;
        if s < 60 {
            format!("{s}秒")
        } else {
            format!("{}分", s.div_ceil(60))
        }
    }
}

/// The limiter of one server.
pub struct LoginLimiter {
    store: Store,
    /// Reservations queue here rather than on redb's write lock: a flood
    /// waits as futures, not as hundreds of blocked threads.
    writing: tokio::sync::Mutex<()>,
    device_key: OnceCell<[u8; 32]>,
    reported: Mutex<HashMap<String, Instant>>,
}

impl LoginLimiter {
    pub fn new(store: Store) -> LoginLimiter {
        LoginLimiter {
            store,
            writing: tokio::sync::Mutex::new(()),
            device_key: OnceCell::new(),
            reported: Mutex::default(),
        }
    }

    /// Counts an attempt against `keys`, or refuses it without counting.
    pub async fn reserve(
        &self,
        keys: Vec<(String, Policy)>,
    ) -> anyhow::Result<Result<Reservation, Throttled>> {
        let now = now_ms();
        // A refusal is decided by a read (no write lock, no disk flush):
        // a flood of refused attempts costs little.
        let probe = keys.clone();
        if let Some(r) = self
            .store
            .read_now(move |tx| login_attempts::check(tx, &probe, now))?
        {
            return Ok(Err(Throttled::from(r)));
        }
        let names: Vec<String> = keys.iter().map(|(k, _)| k.clone()).collect();
        let _turn = self.writing.lock().await;
        let counted = self
            .store
            .write(move |tx| login_attempts::reserve(tx, &keys, now_ms()))
            .await?;
        Ok(counted
            .map(|()| Reservation { keys: names })
            .map_err(Throttled::from))
    }

    /// Hands an attempt back in its own transaction.
    pub async fn refund(&self, r: Reservation) -> anyhow::Result<()> {
        self.store
            .write_ok(move |tx| login_attempts::refund(tx, &r.keys))
            .await
    }

    /// True the first time `key` is throttled in each [`REPORT_EVERY`].
    pub fn should_report(&self, key: &str) -> bool {
        let Ok(mut seen) = self.reported.lock() else {
            return true;
        };
        let now = Instant::now();
        if seen.len() > 10_000 {
            seen.retain(|_, at| now.duration_since(*at) < REPORT_EVERY);
        }
        match seen.get(key) {
            Some(at) if now.duration_since(*at) < REPORT_EVERY => false,
            _ => {
                seen.insert(key.to_owned(), now);
                true
            }
        }
    }

    /// Removes the counters with nothing left to hold; returns how many.
    pub async fn purge(&self) -> anyhow::Result<usize> {
        self.store
            .write_ok(|tx| login_attempts::purge(tx, now_ms(), policy_of))
            .await
    }

    async fn device_key(&self) -> anyhow::Result<[u8; 32]> {
        let store = self.store.clone();
        self.device_key
            .get_or_try_init(|| async move {
                tokio::task::spawn_blocking(move || store.secret(DEVICE_KEY_NAME)).await?
            })
            .await
            .copied()
    }

    /// The device id of a valid device cookie for `user`, if the browser
    /// sent one.
    pub async fn device_for(
        &self,
        cookie: Option<&str>,
        user: &UserRecord,
    ) -> anyhow::Result<Option<String>> {
        let Some(cookie) = cookie else {
            return Ok(None);
        };
        let key = self.device_key().await?;
        Ok(devices(&key, cookie, now_ms() / 1000)
            .into_iter()
            .find(|d| d.user_id == user.id && d.generation == user.session_generation)
            .map(|d| d.id))
    }

    /// The device cookie to set after `user` logged in: this account (its
    /// device id kept when it had one) first, then the others the browser
    /// remembers.
    pub async fn device_cookie(
        &self,
        cookie: Option<&str>,
        user: &UserRecord,
        https: bool,
    ) -> anyhow::Result<Cookie> {
        let key = self.device_key().await?;
        let now = now_ms() / 1000;
        let known = cookie.map(|c| devices(&key, c, now)).unwrap_or_default();
        let id = known
            .iter()
            .find(|d| d.user_id == user.id && d.generation == user.session_generation)
            .map_or_else(
                || URL_SAFE_NO_PAD.encode(rand::random::<[u8; 16]>()),
                |d| d.id.clone(),
            );
        let this = Device {
            user_id: user.id,
            generation: user.session_generation,
            id,
            issued: now,
        };
        let mut entries = vec![this.signed(&key)];
        entries.extend(
            known
                .iter()
                .filter(|d| d.user_id != user.id)
                .take(DEVICES_PER_BROWSER - 1)
                .map(|d| d.signed(&key)),
        );
        let mut c = Cookie::new_with_str(DEVICE_COOKIE, entries.join("~"));
        c.set_http_only(true);
        c.set_secure(https);
        c.set_same_site(SameSite::Lax);
        c.set_path("/");
        c.set_max_age(DEVICE_LIFETIME);
        Ok(c)
    }
}

/// One remembered login of a browser.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Device {
    user_id: u64,
    /// The account's session generation at that login: a password change
    /// forgets every device.
    generation: u64,
    /// Random, names this browser for this account.
    id: String,
    /// Unix seconds of the login.
    issued: i64,
}

type HmacSha256 = Hmac<Sha256>;

impl Device {
    fn payload(&self) -> String {
        format!(
            "{}.{}.{}.{}",
            self.user_id, self.generation, self.id, self.issued
        )
    }

    fn mac(key: &[u8; 32], payload: &str) -> HmacSha256 {
        let mut mac = <HmacSha256 as Mac>::new_from_slice(key).expect("HMAC takes any key length");
        mac.update(b"mamis-device-v1\0");
        mac.update(payload.as_bytes());
        mac
    }

    fn signed(&self, key: &[u8; 32]) -> String {
        let payload = self.payload();
        let tag = Self::mac(key, &payload).finalize().into_bytes();
        format!("{payload}.{}", URL_SAFE_NO_PAD.encode(tag))
    }

    fn parse(key: &[u8; 32], entry: &str, now: i64) -> Option<Device> {
        let (payload, tag) = entry.rsplit_once('.')?;
        let tag = URL_SAFE_NO_PAD.decode(tag).ok()?;
        Self::mac(key, payload).verify_slice(&tag).ok()?;
        let mut parts = payload.split('.');
        let d = Device {
            user_id: parts.next()?.parse().ok()?,
            generation: parts.next()?.parse().ok()?,
            id: parts.next()?.to_owned(),
            issued: parts.next()?.parse().ok()?,
        };
        let lifetime = i64::try_from(DEVICE_LIFETIME.as_secs()).unwrap_or(i64::MAX);
        let fresh = d.issued <= now + 300 && now - d.issued < lifetime;
        (parts.next().is_none() && fresh && !d.id.is_empty()).then_some(d)
    }
}

/// The valid entries of a device cookie (at most a few are read).
fn devices(key: &[u8; 32], cookie: &str, now: i64) -> Vec<Device> {
    cookie
        .split('~')
        .take(DEVICES_PER_BROWSER * 2)
        .filter_map(|e| Device::parse(key, e, now))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user(id: u64, generation: u64) -> UserRecord {
        UserRecord {
            initial_password_expires_at: None,
            membership: None,
            association: None,
            id,
            login_id: format!("doctor{id:04}"),
            email: format!("d{id}@example.jp"),
            registry_number: format!("{}", 300_000 + id),
            password_hash: String::new(),
            role: crate::store::users::Role::Physician,
            person: None,
            session_generation: generation,
            must_change_password: false,
            staff_name: None,
            terms_version: "t".into(),
            terms_agreed_at: 0,
            terms_history: Vec::new(),
            created_at: 0,
        }
    }

    #[tokio::test]
    async fn a_device_cookie_names_its_account_and_cannot_be_forged() {
        let dir = tempfile::tempdir().unwrap();
        let limiter = LoginLimiter::new(Store::open(dir.path()).unwrap());
        let (a, b) = (user(1, 0), user(2, 0));
        let c = limiter.device_cookie(None, &a, false).await.unwrap();
        let value = c.value_str().to_owned();
        let dev = limiter.device_for(Some(&value), &a).await.unwrap();
        assert!(dev.is_some());
        assert_eq!(limiter.device_for(Some(&value), &b).await.unwrap(), None);
        // Logging in to another account keeps the first one's device id.
        let c2 = limiter
            .device_cookie(Some(&value), &b, false)
            .await
            .unwrap();
        let v2 = c2.value_str().to_owned();
        assert_eq!(limiter.device_for(Some(&v2), &a).await.unwrap(), dev);
        assert!(limiter.device_for(Some(&v2), &b).await.unwrap().is_some());
        // A changed account id, or a password change since, does not pass.
        let forged = value.replacen("1.", "2.", 1);
        assert_eq!(limiter.device_for(Some(&forged), &b).await.unwrap(), None);
        assert_eq!(
            limiter.device_for(Some(&value), &user(1, 1)).await.unwrap(),
            None
        );
        assert_eq!(limiter.device_for(Some("garbage"), &a).await.unwrap(), None);
        let s = c.to_string().to_ascii_lowercase();
        assert!(s.contains("httponly") && s.contains("samesite=lax"), "{s}");
        assert!(s.contains("max-age=34560000"), "{s}");
    }

    #[test]
    fn keys_are_normalised_and_bounded() {
        assert_eq!(account_key("Doctor01"), "id:doctor01");
        assert!(account_key(&"x".repeat(5000)).len() < 80);
        assert_eq!(
            address_key(
                "::ffff:192.0.2.1"
                    .parse::<std::net::Ipv6Addr>()
                    .unwrap()
                    .to_canonical()
            ),
            "ip:192.0.2.1"
        );
        let k = keys_for("192.0.2.1".parse().unwrap(), "Doctor01", Some("abc"));
        assert_eq!(k[1].0, "dev:abc");
        assert_eq!(policy_of("dev:abc"), DEVICE);
        assert_eq!(policy_of("ip:1.2.3.4"), ADDRESS);
    }

    #[test]
    fn waits_are_told_in_seconds_or_minutes() {
        let t = |ms| {
            Throttled::from(Refused {
                key: "k".into(),
                wait_ms: ms,
            })
        };
        assert_eq!(t(1).retry_after_secs, 1);
        assert_eq!(t(1_001).wait_text(), "2秒");
        assert_eq!(t(61_000).wait_text(), "2分");
    }
}
