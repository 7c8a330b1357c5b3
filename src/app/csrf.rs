//! The CSRF cookie and its token (signed double submit).
//!
//! The cookie holds a random secret, the time it was issued and an HMAC of
//! both under the key kept in the database; the token a page puts in its
//! forms (and htmx in `X-CSRF-Token`) is an HMAC of the secret. A request
//! proves itself by a token that matches the secret of a genuine, unexpired
//! cookie. The cookie is set only when it is missing, forged or expired (a
//! new secret), or when half its lifetime has passed (the same secret with a
//! new time, so pages already open keep working); any other response sets
//! no cookie. Requests for assets and `/healthz` never reach this layer.
//!
//! Handlers read the token through poem's `CsrfToken` extractor; the guard
//! in `app` asks [`CsrfCheck::is_valid`].

use std::{
    sync::Arc,
    time::{Duration, SystemTime, UNIX_EPOCH},
};

use base64::{Engine as _, engine::general_purpose::URL_SAFE_NO_PAD};
use hmac::{Hmac, Mac};
use poem::{
    Endpoint, IntoResponse, Middleware, Request, Response, Result,
    http::{HeaderValue, header},
    web::CsrfToken,
};
use sha2::Sha256;
use subtle::ConstantTimeEq;

type HmacSha256 = Hmac<Sha256>;

const SECRET_LEN: usize = 16;
const MAC_LEN: usize = 16;
const COOKIE_LEN: usize = SECRET_LEN + 8 + MAC_LEN;

/// The middleware: key, cookie name and attributes, lifetime.
#[derive(Clone)]
pub struct Csrf {
    /// HMAC-SHA256 keyed with the database's CSRF key, cloned per use.
    keyed: Arc<HmacSha256>,
    cookie_name: &'static str,
    secure: bool,
    lifetime: Duration,
}

impl Csrf {
    pub fn new(
        key: [u8; 32],
        cookie_name: &'static str,
        secure: bool,
        lifetime: Duration,
    ) -> anyhow::Result<Csrf> {
        let keyed = <HmacSha256 as Mac>::new_from_slice(&key)
            .map_err(|e| anyhow::anyhow!("CSRF key: {e}"))?;
        Ok(Csrf {
            keyed: Arc::new(keyed),
            cookie_name,
            secure,
            lifetime,
        })
    }

    fn mac(&self, label: &[u8], parts: &[&[u8]]) -> [u8; 32] {
        let mut mac = HmacSha256::clone(&self.keyed);
        mac.update(label);
        for part in parts {
            mac.update(part);
        }
        mac.finalize().into_bytes().into()
    }

    /// The cookie value for `secret` issued at `issued` (seconds).
    fn cookie_value(&self, secret: &[u8; SECRET_LEN], issued: u64) -> String {
        let time = issued.to_be_bytes();
        let mac = self.mac(b"cookie", &[secret, &time]);
        let mut raw = [0u8; COOKIE_LEN];
        raw[..SECRET_LEN].copy_from_slice(secret);
        raw[SECRET_LEN..SECRET_LEN + 8].copy_from_slice(&time);
        raw[SECRET_LEN + 8..].copy_from_slice(&mac[..MAC_LEN]);
        URL_SAFE_NO_PAD.encode(raw)
    }

    /// The secret and issue time of a genuine cookie value.
    fn read_cookie(&self, value: &str) -> Option<([u8; SECRET_LEN], u64)> {
        let raw = URL_SAFE_NO_PAD.decode(value).ok()?;
        if raw.len() != COOKIE_LEN {
            return None;
        }
        let secret: [u8; SECRET_LEN] = raw[..SECRET_LEN].try_into().ok()?;
        let time: [u8; 8] = raw[SECRET_LEN..SECRET_LEN + 8].try_into().ok()?;
        let mac = self.mac(b"cookie", &[&secret, &time]);
        bool::from(mac[..MAC_LEN].ct_eq(&raw[SECRET_LEN + 8..]))
            .then(|| (secret, u64::from_be_bytes(time)))
    }

    /// The token of the pages of `secret`.
    fn token(&self, secret: &[u8; SECRET_LEN]) -> String {
        URL_SAFE_NO_PAD.encode(self.mac(b"token", &[secret]))
    }

    /// What the request's cookie says at `now`: the secret to use and
    /// whether a cookie must be (re)issued.
    fn state(&self, cookie: Option<&str>, now: u64) -> Cookie {
        let life = self.lifetime.as_secs().max(1);
        match cookie.and_then(|value| self.read_cookie(value)) {
            // Issued in the future by more than a minute: not ours to trust.
            Some((_, issued)) if issued > now.saturating_add(60) => Cookie::fresh(),
            Some((_, issued)) if now >= issued.saturating_add(life) => Cookie::fresh(),
            Some((secret, issued)) => Cookie {
                secret,
                valid: true,
                renew: now.saturating_sub(issued) >= life / 2,
            },
            None => Cookie::fresh(),
        }
    }

    fn set_cookie(&self, secret: &[u8; SECRET_LEN], now: u64) -> Option<HeaderValue> {
        let secure = if self.secure { "; Secure" } else { "" };
        HeaderValue::from_str(&format!(
            "{}={}; Path=/; Max-Age={}; HttpOnly; SameSite=Lax{secure}",
            self.cookie_name,
            self.cookie_value(secret, now),
            self.lifetime.as_secs().max(1),
        ))
        .ok()
    }
}

/// The secret a request works with.
struct Cookie {
    secret: [u8; SECRET_LEN],
    /// The request brought this secret in a genuine, unexpired cookie.
    valid: bool,
    /// Set a cookie on the response.
    renew: bool,
}

impl Cookie {
    fn fresh() -> Cookie {
        Cookie {
            secret: rand::random(),
            valid: false,
            renew: true,
        }
    }
}

/// What the CSRF guard asks: does a token match this request's cookie?
#[derive(Clone)]
pub struct CsrfCheck {
    expected: Option<String>,
}

impl CsrfCheck {
    /// True when `token` is the token of the secret in the request's valid
    /// cookie (compared in constant time).
    pub fn is_valid(&self, token: &str) -> bool {
        self.expected
            .as_deref()
            .is_some_and(|e| bool::from(e.as_bytes().ct_eq(token.as_bytes())))
    }
}

/// The value of cookie `name` in the request's `Cookie` headers.
fn cookie_value<'a>(req: &'a Request, name: &str) -> Option<&'a str> {
    req.headers()
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.trim_matches('"'))
}

fn now_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

impl<E: Endpoint> Middleware<E> for Csrf {
    type Output = CsrfEndpoint<E>;

    fn transform(&self, inner: E) -> Self::Output {
        CsrfEndpoint {
            inner,
            csrf: self.clone(),
        }
    }
}

/// The endpoint wrapped by [`Csrf`].
pub struct CsrfEndpoint<E> {
    inner: E,
    csrf: Csrf,
}

impl<E: Endpoint> Endpoint for CsrfEndpoint<E> {
    type Output = Response;

    async fn call(&self, mut req: Request) -> Result<Response> {
        let now = now_secs();
        let cookie = self
            .csrf
            .state(cookie_value(&req, self.csrf.cookie_name), now);
        let token = self.csrf.token(&cookie.secret);
        req.extensions_mut().insert(CsrfCheck {
            expected: cookie.valid.then(|| token.clone()),
        });
        req.extensions_mut().insert(CsrfToken(token));
        // On the heap: see `app::next`.
        let mut resp = Box::pin(self.inner.call(req)).await?.into_response();
        if cookie.renew
            && let Some(v) = self.csrf.set_cookie(&cookie.secret, now)
        {
            resp.headers_mut().append(header::SET_COOKIE, v);
        }
        Ok(resp)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn csrf() -> Csrf {
        Csrf::new([7; 32], "c", false, Duration::from_secs(100)).unwrap()
    }

    #[test]
    fn a_genuine_cookie_is_kept_until_half_its_life_then_renewed_with_its_secret() {
        let c = csrf();
        let secret = [1; SECRET_LEN];
        let value = c.cookie_value(&secret, 1000);
        let young = c.state(Some(&value), 1049);
        assert!(young.valid && !young.renew && young.secret == secret);
        let older = c.state(Some(&value), 1050);
        assert!(older.valid && older.renew && older.secret == secret);
        let expired = c.state(Some(&value), 1100);
        assert!(!expired.valid && expired.renew && expired.secret != secret);
    }

    #[test]
    fn forged_or_foreign_cookies_are_replaced() {
        let c = csrf();
        let other = Csrf::new([8; 32], "c", false, Duration::from_secs(100)).unwrap();
        let foreign = other.cookie_value(&[1; SECRET_LEN], 1000);
        for value in [foreign.as_str(), "", "AAAA", "not base64!"] {
            let state = c.state(Some(value), 1001);
            assert!(!state.valid && state.renew, "{value:?}");
        }
        let future = c.cookie_value(&[1; SECRET_LEN], 5000);
        assert!(!c.state(Some(&future), 1000).valid);
        assert!(!c.state(None, 1000).valid);
    }

    #[test]
    fn a_token_matches_only_its_own_secret() {
        let c = csrf();
        let check = |secret: &[u8; SECRET_LEN]| CsrfCheck {
            expected: Some(c.token(secret)),
        };
        let mine = c.token(&[1; SECRET_LEN]);
        assert!(check(&[1; SECRET_LEN]).is_valid(&mine));
        assert!(!check(&[2; SECRET_LEN]).is_valid(&mine));
        assert!(!check(&[1; SECRET_LEN]).is_valid(""));
        assert!(!CsrfCheck { expected: None }.is_valid(&mine));
    }
}
