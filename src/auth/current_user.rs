//! Who is asking: signing in, the signed-in account of a session (also as
//! the `CurrentUser` extractor), signing out.
//!
//! The session store (`auth::sessions`) already ends a session that is idle,
//! too old, or of an older generation than its account before any handler
//! sees it; `signed_in` checks the generation once more against the account
//! it reads, which also covers a password change committed while this very
//! request was running.
//!
//! The extractor reads the `Store` from the request data (`app` puts it
//! there) and the session from poem's session middleware.

use std::net::IpAddr;

use poem::{FromRequest, Request, RequestBody, session::Session};
use serde::{Deserialize, Serialize};

use crate::{
    auth::session_keys,
    domain::Role,
    error::{InternalError, OrInternal},
    store::{
        Store,
        audit::{AuditEntry, AuditKind},
        now, users,
    },
};

/// A step the account must take after logging in before any other page
/// opens (see `service::first_login::pending`), in this order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PendingStep {
    /// Agree to the current version of the terms (利用規約).
    Terms,
    /// Give an e-mail address and open the link mailed to it.
    Email,
    /// Replace the one-time password with one's own.
    Password,
}

/// Signs `user` in on this session: a new session id (so an id planted
/// before the login is worthless), the account, its session generation and
/// the time of the login (for the absolute lifetime), and the first step it
/// must take before anything else, if any.
pub fn sign_in(session: &Session, user: &users::UserRecord, pending: Option<PendingStep>) {
    session.renew();
    session.set(session_keys::USER, user.id);
    session.set(session_keys::GENERATION, user.session_generation);
    session.set(session_keys::LOGIN_AT, now());
    set_pending(session, pending);
}

/// Records the step the session's account must take next (none: done).
pub fn set_pending(session: &Session, pending: Option<PendingStep>) {
    match pending {
        Some(step) => session.set(session_keys::PENDING, step),
        None => session.remove(session_keys::PENDING),
    }
}

/// The step the session's account must take before anything else, if any.
pub fn pending(session: &Session) -> Option<PendingStep> {
    session.get::<PendingStep>(session_keys::PENDING)
}

/// The account signed in on this session, if any. A session whose account
/// is gone or whose generation is not the account's is purged.
pub async fn signed_in(
    store: &Store,
    session: &Session,
) -> poem::Result<Option<users::UserRecord>> {
    let Some(id) = session.get::<u64>(session_keys::USER) else {
        return Ok(None);
    };
    let user = store
        .read(move |tx| users::get(tx, id))
        .await
        .or_internal()?;
    let generation = session.get::<u64>(session_keys::GENERATION).unwrap_or(0);
    match user {
        Some(u) if generation == u.session_generation => Ok(Some(u)),
        _ => {
            session.purge();
            Ok(None)
        }
    }
}

/// Ends the session and records the logout of the account it held.
pub async fn log_out(store: &Store, session: &Session, ip: IpAddr) {
    let user = session.get::<u64>(session_keys::USER);
    session.purge();
    if let Some(id) = user {
        tracing::info!(user_id = id, "logged out");
        let entry = AuditEntry::new(AuditKind::Logout).user(id).addr(ip);
        if let Err(e) = store.audit(entry).await {
            tracing::warn!(error = ?e, "logout not recorded in the audit log");
        }
    }
}

/// A signed-in account: what the guards and the application layer need to
/// know about who is asking.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Account {
    pub id: u64,
    pub login_id: String,
    pub role: Role,
}

impl From<&users::UserRecord> for Account {
    fn from(user: &users::UserRecord) -> Account {
        Account {
            id: user.id,
            login_id: user.login_id.clone(),
            role: user.role,
        }
    }
}

/// Who is asking: nobody in particular, or a signed-in account. As an
/// extractor it never refuses; the guards in `auth::guards` do.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CurrentUser {
    Anonymous,
    SignedIn(Account),
}

impl CurrentUser {
    /// The signed-in account of this session (see `signed_in`).
    pub async fn of_session(store: &Store, session: &Session) -> poem::Result<CurrentUser> {
        Ok(match signed_in(store, session).await? {
            Some(user) => CurrentUser::SignedIn(Account::from(&user)),
            None => CurrentUser::Anonymous,
        })
    }

    /// The account, when signed in.
    pub fn account(&self) -> Option<&Account> {
        match self {
            CurrentUser::SignedIn(account) => Some(account),
            CurrentUser::Anonymous => None,
        }
    }
}

impl<'a> FromRequest<'a> for CurrentUser {
    async fn from_request(req: &'a Request, _body: &mut RequestBody) -> poem::Result<Self> {
        let store = req.data::<Store>().ok_or_else(|| {
            InternalError(anyhow::anyhow!("the store is not in the request data"))
        })?;
        let session = req.extensions().get::<Session>().ok_or_else(|| {
            InternalError(anyhow::anyhow!(
                "no session: the session middleware is missing"
            ))
        })?;
        CurrentUser::of_session(store, session).await
    }
}
