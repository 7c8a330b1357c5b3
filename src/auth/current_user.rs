//! The signed-in account of a session: signing in, finding who is signed in,
//! signing out.
//!
//! The session store (`store::sessions`) already ends a session that is idle,
//! too old, or of an older generation than its account before any handler
//! sees it; `signed_in` checks the generation once more against the account
//! it reads, which also covers a password change committed while this very
//! request was running.

use std::net::IpAddr;

use poem::session::Session;

use crate::{
    app::AppState,
    auth::session_keys,
    error::OrInternal,
    store::{
        audit::{AuditEntry, AuditKind},
        now, users,
    },
};

/// Signs `user` in on this session: a new session id (so an id planted
/// before the login is worthless), the account, its session generation and
/// the time of the login (for the absolute lifetime).
pub fn sign_in(session: &Session, user: &users::UserRecord) {
    session.renew();
    session.set(session_keys::USER, user.id);
    session.set(session_keys::GENERATION, user.session_generation);
    session.set(session_keys::LOGIN_AT, now());
}

/// The account signed in on this session, if any. A session whose account
/// is gone or whose generation is not the account's is purged.
pub async fn signed_in(
    state: &AppState,
    session: &Session,
) -> poem::Result<Option<users::UserRecord>> {
    let Some(id) = session.get::<u64>(session_keys::USER) else {
        return Ok(None);
    };
    let user = state
        .store
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
pub async fn log_out(state: &AppState, session: &Session, ip: IpAddr) {
    let user = session.get::<u64>(session_keys::USER);
    session.purge();
    if let Some(id) = user {
        tracing::info!(user_id = id, "logged out");
        let entry = AuditEntry::new(AuditKind::Logout).user(id).addr(ip);
        if let Err(e) = state.store.audit(entry).await {
            tracing::warn!(error = ?e, "logout not recorded in the audit log");
        }
    }
}
