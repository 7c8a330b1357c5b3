//! What a person must do after logging in before anything else opens, in
//! order: agree to the current terms (a new version is agreed again), give
//! an e-mail address and confirm it by its link (members who came from a
//! postcard have none), replace a one-time password with their own. Staff
//! accounts only replace their one-time password.

use std::net::IpAddr;

pub use crate::auth::current_user::PendingStep;
use crate::{
    domain::Role,
    store::{
        Store,
        audit::{self, AuditEntry, AuditKind},
        now,
        users::{self, UserRecord},
    },
};

/// The first step `user` must still take, with `terms_version` the version
/// of the terms now in force.
pub fn pending(user: &UserRecord, terms_version: &str) -> Option<PendingStep> {
    let person = !matches!(user.role, Role::Staff { .. });
    if person && user.terms_version != terms_version {
        Some(PendingStep::Terms)
    } else if person && user.email.trim().is_empty() {
        Some(PendingStep::Email)
    } else if user.must_change_password {
        Some(PendingStep::Password)
    } else {
        None
    }
}

/// The role of account `user_id` and the step it must take next (`None`:
/// no such account).
pub async fn next_step(
    store: &Store,
    user_id: u64,
    terms_version: &str,
) -> anyhow::Result<Option<(Role, Option<PendingStep>)>> {
    let user = store.read(move |tx| users::get(tx, user_id)).await?;
    Ok(user.map(|u| (u.role, pending(&u, terms_version))))
}

/// Records that account `user_id` agreed to terms `version` now, with its
/// audit entry; returns the account (`None`: no such account).
pub async fn agree_terms(
    store: &Store,
    user_id: u64,
    version: &str,
    ip: IpAddr,
) -> anyhow::Result<Option<UserRecord>> {
    let version = version.to_owned();
    store
        .write_ok(move |tx| {
            let Some(user) = users::agree_terms(tx, user_id, &version, now())? else {
                return Ok(None);
            };
            audit::record(
                tx,
                AuditEntry::new(AuditKind::TermsAgreed)
                    .user(user_id)
                    .login_id(&user.login_id)
                    .addr(ip)
                    .detail(format!("terms version {version}")),
            )?;
            Ok(Some(user))
        })
        .await
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{AssociationId, StaffRole};

    fn account(role: Role, email: &str, must_change: bool, terms: &str) -> UserRecord {
        UserRecord {
            initial_password_expires_at: None,
            membership: None,
            id: 1,
            login_id: "m0000001".into(),
            email: email.into(),
            registry_number: String::new(),
            password_hash: String::new(),
            role,
            person: None,
            association: None,
            session_generation: 0,
            must_change_password: must_change,
            staff_name: None,
            terms_version: terms.into(),
            terms_agreed_at: 0,
            created_at: 0,
            terms_history: Vec::new(),
        }
    }

    #[test]
    fn terms_come_first_then_the_address_then_the_password() {
        use PendingStep::*;
        let member = |email, must, terms| pending(&account(Role::Member, email, must, terms), "v2");
        assert_eq!(member("", true, ""), Some(Terms));
        assert_eq!(member("", true, "v1"), Some(Terms), "a new version");
        assert_eq!(member("", true, "v2"), Some(Email));
        assert_eq!(member("a@example.jp", true, "v2"), Some(Password));
        assert_eq!(member("a@example.jp", false, "v2"), None);
        let physician = account(Role::Physician, "a@example.jp", false, "v1");
        assert_eq!(pending(&physician, "v2"), Some(Terms));
        let staff = Role::Staff {
            association: AssociationId(1),
            role: StaffRole::Clerk,
        };
        assert_eq!(pending(&account(staff, "", true, ""), "v2"), Some(Password));
        assert_eq!(pending(&account(staff, "", false, ""), "v2"), None);
    }
}
