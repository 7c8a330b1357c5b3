//! E-mail verification tokens: pending → verified (link opened) → consumed.
//!
//! A token is 32 random bytes sent in the mailed URL, base64url-encoded; only
//! its SHA-256 is stored. It opens the registration form until it expires
//! (24 hours after it was sent) or until the account it led to is created,
//! which consumes it in the same transaction.

use base64::{Engine as _, engine::general_purpose::URL_SAFE_NO_PAD};
use redb::{ReadTransaction, ReadableTable, WriteTransaction};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::{decode, encode, now, tables::EMAIL_TOKENS};

/// How long a mailed link stays valid.
pub const TOKEN_TTL_SECS: i64 = 24 * 3600;

/// What was asked for with the token.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct TokenRecord {
    pub email: String,
    pub created_at: i64,
    pub expires_at: i64,
    /// Version of the terms agreed to before the address was entered.
    pub terms_version: String,
    pub terms_agreed_at: i64,
    /// The account this token created, once consumed.
    pub consumed_by: Option<u64>,
    /// Login-ID availability look-ups answered for this link (limited, so
    /// that one verified address cannot list the accounts).
    #[serde(default)]
    pub lookups: u32,
    /// The login ID (as `users::login_key`) looked up last: asking about it
    /// again costs nothing.
    #[serde(default)]
    pub last_lookup: Option<String>,
    /// Confirmations refused for a 医籍登録番号 already registered.
    #[serde(default)]
    pub registry_refusals: u32,
}

/// What a presented token turned out to be.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TokenState {
    Valid(TokenRecord),
    Expired,
    Consumed { user_id: u64 },
    Unknown,
}

/// A new random token: what to mail, and what to store.
pub fn new_token() -> (String, [u8; 32]) {
    let raw: [u8; 32] = rand::random();
    let text = URL_SAFE_NO_PAD.encode(raw);
    let h = hash(&text);
    (text, h)
}

/// The stored form of a token.
pub fn hash(token: &str) -> [u8; 32] {
    Sha256::digest(token.as_bytes()).into()
}

/// Stores a new token record.
pub fn insert(tx: &WriteTransaction, h: &[u8; 32], rec: &TokenRecord) -> anyhow::Result<()> {
    let bytes = encode(rec)?;
    tx.open_table(EMAIL_TOKENS)?.insert(h, bytes.as_slice())?;
    Ok(())
}

fn state_of(bytes: Option<&[u8]>) -> anyhow::Result<TokenState> {
    let Some(bytes) = bytes else {
        return Ok(TokenState::Unknown);
    };
    let rec: TokenRecord = decode(bytes)?;
    Ok(match rec.consumed_by {
        Some(user_id) => TokenState::Consumed { user_id },
        None if rec.expires_at <= now() => TokenState::Expired,
        None => TokenState::Valid(rec),
    })
}

/// Looks a token up in a read transaction.
pub fn state(tx: &ReadTransaction, h: &[u8; 32]) -> anyhow::Result<TokenState> {
    let t = tx.open_table(EMAIL_TOKENS)?;
    let v = t.get(h)?;
    state_of(v.as_ref().map(|v| v.value()))
}

/// Looks a token up inside a write transaction (for the final check).
pub fn state_in_write(tx: &WriteTransaction, h: &[u8; 32]) -> anyhow::Result<TokenState> {
    let t = tx.open_table(EMAIL_TOKENS)?;
    let v = t.get(h)?;
    state_of(v.as_ref().map(|v| v.value()))
}

/// Marks a valid token as consumed by `user_id`.
pub fn consume(
    tx: &WriteTransaction,
    h: &[u8; 32],
    mut rec: TokenRecord,
    user_id: u64,
) -> anyhow::Result<()> {
    rec.consumed_by = Some(user_id);
    insert(tx, h, &rec)
}

/// Counts a look-up of `key` against the link's budget of `max`; false when
/// the budget is spent or the link can no longer be used.
pub fn take_lookup(
    tx: &WriteTransaction,
    h: &[u8; 32],
    key: &str,
    max: u32,
) -> anyhow::Result<bool> {
    let TokenState::Valid(mut rec) = state_in_write(tx, h)? else {
        return Ok(false);
    };
    if rec.last_lookup.as_deref() == Some(key) {
        return Ok(true);
    }
    if rec.lookups >= max {
        return Ok(false);
    }
    rec.lookups += 1;
    rec.last_lookup = Some(key.to_owned());
    insert(tx, h, &rec)?;
    Ok(true)
}

/// Counts a confirmation refused for a 医籍登録番号 already registered.
pub fn count_registry_refusal(
    tx: &WriteTransaction,
    h: &[u8; 32],
    mut rec: TokenRecord,
) -> anyhow::Result<()> {
    rec.registry_refusals = rec.registry_refusals.saturating_add(1);
    insert(tx, h, &rec)
}

/// Removes tokens that expired more than a week ago and were never used.
pub fn purge_stale(tx: &WriteTransaction) -> anyhow::Result<usize> {
    let cutoff = now() - 7 * 24 * 3600;
    let mut removed = 0;
    tx.open_table(EMAIL_TOKENS)?.retain(|_, v| {
        let stale = decode::<TokenRecord>(v)
            .map(|r| r.consumed_by.is_none() && r.expires_at < cutoff)
            .unwrap_or(false);
        if stale {
            removed += 1;
        }
        !stale
    })?;
    Ok(removed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_long_random_and_hashed() {
        let (a, ha) = new_token();
        let (b, hb) = new_token();
        assert_ne!(a, b);
        assert_ne!(ha, hb);
        assert!(a.len() >= 43, "256 bits in base64url");
        assert_eq!(hash(&a), ha);
        assert!(!a.contains('+') && !a.contains('/') && !a.contains('='));
    }

    #[tokio::test]
    async fn look_ups_are_counted_per_link_and_repeats_are_free() {
        let dir = tempfile::tempdir().unwrap();
        let store = crate::store::Store::open(dir.path()).unwrap();
        let (_, h) = new_token();
        let rec = TokenRecord {
            email: "a@example.jp".into(),
            created_at: now(),
            expires_at: now() + 3600,
            ..TokenRecord::default()
        };
        store
            .write_ok(move |tx| insert(tx, &h, &rec))
            .await
            .unwrap();
        let ask = |key: &'static str| {
            let store = store.clone();
            async move {
                store
                    .write_ok(move |tx| take_lookup(tx, &h, key, 2))
                    .await
                    .unwrap()
            }
        };
        assert!(ask("one").await);
        assert!(ask("one").await, "asking again is free");
        assert!(ask("two").await);
        assert!(!ask("three").await, "the budget of 2 is spent");
        assert!(ask("two").await, "the last one may still be asked again");
        assert!(!ask("one").await);
        let Ok(TokenState::Valid(rec)) = store.read(move |tx| state(tx, &h)).await else {
            panic!("token gone");
        };
        assert_eq!(rec.lookups, 2);
    }
}
