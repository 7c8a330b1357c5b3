//! The mailed registration link: sending it from the e-mail step, opening it, and reading its state while the form is filled in.
//!
//! The e-mail step answers alike for every address: a new address gets a
//! 24-hour link (its token stored hashed), a registered one a pointer to
//! the password reset, and an address or client over its mail limit gets
//! nothing; each case writes its audit entry.

use std::net::IpAddr;

use serde::{Deserialize, Serialize};

use crate::{
    domain::Email,
    mail::templates,
    service::Mailing,
    store::{
        Store,
        audit::{self, AuditEntry, AuditKind},
        now, outbox,
        tokens::{self, TOKEN_TTL_SECS, TokenRecord, TokenState},
        users,
    },
};

/// The path of the mailed link (the screen that opens it is routed here).
pub const LINK_PATH: &str = "/register/verify";
/// Mails one address may be sent within the throttle window.
const MAILS_PER_ADDRESS: u32 = 5;
/// The longest token read from a link.
const TOKEN_MAX_BYTES: usize = 100;

/// Which terms were agreed to, and when (kept in the session between the
/// terms and the e-mail step, and stored with the link).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct TermsAgreement {
    pub version: String,
    pub agreed_at: i64,
}

impl TermsAgreement {
    /// The terms of `version`, agreed to now.
    pub fn now(version: String) -> TermsAgreement {
        TermsAgreement {
            version,
            agreed_at: now(),
        }
    }
}

/// The SHA-256 of a link's token: what the browser's session keeps.
pub type LinkKey = [u8; 32];

/// A link that still opens the registration form: what the screens need
/// of it.
#[derive(Clone, Debug)]
pub struct ValidLink {
    pub key: LinkKey,
    /// The verified address.
    pub email: String,
    /// The login ID (as `users::login_key`) looked up last with this link,
    /// free to ask about again.
    pub last_lookup: Option<String>,
}

/// What a link turned out to be.
#[derive(Clone, Debug)]
pub enum LinkState {
    Valid(ValidLink),
    Expired,
    /// Its registration was completed.
    Used,
    Unknown,
}

impl LinkState {
    fn of(key: LinkKey, state: TokenState) -> LinkState {
        match state {
            TokenState::Valid(rec) => LinkState::Valid(ValidLink {
                key,
                email: rec.email,
                last_lookup: rec.last_lookup,
            }),
            TokenState::Expired => LinkState::Expired,
            TokenState::Consumed { .. } => LinkState::Used,
            TokenState::Unknown => LinkState::Unknown,
        }
    }
}

/// メールアドレスの入力: mails a registration link to a new address, or a
/// pointer to the password reset to a registered one, unless the address or
/// the client has asked for too many mails (then nothing is sent). Every
/// case is audited; the caller shows the same page whatever happened.
pub async fn send_link(
    m: &Mailing<'_>,
    email: &Email,
    terms: TermsAgreement,
    ip: IpAddr,
) -> anyhow::Result<()> {
    let email = email.as_str().to_owned();
    let throttle_key = format!("mail:{}", users::email_key(&email));
    if m.throttle.is_blocked(&throttle_key, MAILS_PER_ADDRESS) {
        tracing::warn!("registration mail not sent: too many for one address");
        let entry = AuditEntry::new(AuditKind::RegistrationLinkSent)
            .login_id(email)
            .addr(ip)
            .detail("not sent: too many mails to this address");
        m.store.audit(entry).await?;
    } else if !m.mail_limit.allow(ip) {
        tracing::warn!(client = %ip, "registration mail not sent: too many mail requests from one client");
        let entry = AuditEntry::new(AuditKind::RegistrationLinkSent)
            .login_id(email)
            .addr(ip)
            .detail("not sent: too many mail requests from this client");
        m.store.audit(entry).await?;
    } else {
        m.throttle.fail(&throttle_key);
        queue_link(m, email, terms, ip).await?;
    }
    Ok(())
}

/// Writes the token (for a new address), its mail and the audit entry in one
/// transaction.
async fn queue_link(
    m: &Mailing<'_>,
    email: String,
    terms: TermsAgreement,
    ip: IpAddr,
) -> anyhow::Result<()> {
    let (token, hash) = tokens::new_token();
    let link = format!("{}{LINK_PATH}?token={token}", m.config.base_url);
    let (subject, body) = templates::registration_link(m.config, &link);
    let (known_subject, known_body) = templates::already_registered(m.config);
    let created_at = now();
    let rec = TokenRecord {
        email: email.clone(),
        created_at,
        expires_at: created_at + TOKEN_TTL_SECS,
        terms_version: terms.version,
        terms_agreed_at: terms.agreed_at,
        consumed_by: None,
        ..TokenRecord::default()
    };
    m.store
        .write_ok(move |tx| {
            let entry = AuditEntry::new(AuditKind::RegistrationLinkSent)
                .login_id(email.clone())
                .addr(ip);
            if users::email_taken_in_write(tx, &email)? {
                outbox::enqueue(tx, &email, &known_subject, known_body)?;
                audit::record(
                    tx,
                    entry.detail("already registered: sent a pointer to the password reset"),
                )?;
            } else {
                tokens::insert(tx, &hash, &rec)?;
                outbox::enqueue(tx, &email, &subject, body)?;
                audit::record(tx, entry.detail("registration link"))?;
            }
            Ok(())
        })
        .await?;
    m.mail.wake();
    Ok(())
}

/// The mailed link was opened: what its token is, the opening audited when
/// it is still valid.
pub async fn open_link(store: &Store, token: &str, ip: IpAddr) -> anyhow::Result<LinkState> {
    if token.is_empty() || token.len() > TOKEN_MAX_BYTES {
        return Ok(LinkState::Unknown);
    }
    let state = link_state(store, tokens::hash(token)).await?;
    if let LinkState::Valid(link) = &state {
        let entry = AuditEntry::new(AuditKind::RegistrationLinkOpened)
            .login_id(link.email.clone())
            .addr(ip);
        store.audit(entry).await?;
    }
    Ok(state)
}

/// The state of the link whose token hashes to `key` (the one this
/// session opened).
pub async fn link_state(store: &Store, key: LinkKey) -> anyhow::Result<LinkState> {
    let state = store.read(move |tx| tokens::state(tx, &key)).await?;
    Ok(LinkState::of(key, state))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::service::mailing::tests::Parts;

    fn ip() -> IpAddr {
        "192.0.2.1".parse().unwrap()
    }

    fn terms() -> TermsAgreement {
        TermsAgreement::now("t1".into())
    }

    /// The token of the link in a mail body.
    fn token_in(body: &str) -> String {
        body.split_once("?token=")
            .and_then(|(_, rest)| rest.lines().next())
            .unwrap()
            .to_owned()
    }

    #[tokio::test]
    async fn a_mailed_link_opens_audited_and_keeps_its_address() {
        let p = Parts::new(100);
        let email = Email::parse("new@example.jp").unwrap();
        send_link(&p.mailing(), &email, terms(), ip())
            .await
            .unwrap();
        let mail = p.mails().await.pop().unwrap();
        assert_eq!(mail.to, "new@example.jp");
        let token = token_in(&mail.body);
        let LinkState::Valid(link) = open_link(&p.store, &token, ip()).await.unwrap() else {
            panic!("the link is not valid");
        };
        assert_eq!(link.email, "new@example.jp");
        assert_eq!(link.key, tokens::hash(&token));
        assert!(matches!(
            link_state(&p.store, link.key).await.unwrap(),
            LinkState::Valid(_)
        ));
        for bad in [String::new(), "x".repeat(101), "unknown".into()] {
            assert!(matches!(
                open_link(&p.store, &bad, ip()).await.unwrap(),
                LinkState::Unknown
            ));
        }
        let kinds: Vec<_> = p.audit().await.into_iter().map(|e| e.kind).collect();
        assert_eq!(
            kinds,
            [
                AuditKind::RegistrationLinkSent,
                AuditKind::RegistrationLinkOpened
            ]
        );
    }

    #[tokio::test]
    async fn an_address_gets_five_mails_and_a_client_its_allowance() {
        let p = Parts::new(7);
        let email = Email::parse("new@example.jp").unwrap();
        for _ in 0..=MAILS_PER_ADDRESS {
            send_link(&p.mailing(), &email, terms(), ip())
                .await
                .unwrap();
        }
        assert_eq!(p.mails().await.len(), 5);
        for other in ["a@example.jp", "b@example.jp", "c@example.jp"] {
            let email = Email::parse(other).unwrap();
            send_link(&p.mailing(), &email, terms(), ip())
                .await
                .unwrap();
        }
        assert_eq!(p.mails().await.len(), 7, "the client's allowance is 7");
        let details: Vec<_> = p
            .audit()
            .await
            .into_iter()
            .filter_map(|e| e.detail)
            .collect();
        assert_eq!(details.len(), 9, "every request is audited");
        assert_eq!(details[5], "not sent: too many mails to this address");
        assert_eq!(
            details[8],
            "not sent: too many mail requests from this client"
        );
    }
}
