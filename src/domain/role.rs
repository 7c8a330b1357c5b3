//! What a signed-in account is: a physician who registered themself (医師),
//! a member of an association (会員), or 事務局 staff of one association with
//! a staff role (管理者 or 担当者).
//!
//! Serde: stored with the account. `physician` and `member` are the plain
//! strings accounts have always been stored with; staff is
//! `{"staff":{"association":1,"role":"admin"}}` (no staff account was ever
//! stored before staff had an association).

use serde::{Deserialize, Serialize};

/// An association (医師会), as stored in `store::associations`; the id is
/// what staff accounts and the scope of their reads refer to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct AssociationId(pub u64);

/// What a 事務局 staff member may do in their association.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StaffRole {
    /// 管理者: everything, including managing the staff accounts.
    Admin,
    /// 担当者: the daily work (members, procedures).
    Clerk,
}

impl StaffRole {
    /// The role named on the command line (`管理者` or `担当者`).
    pub fn from_label(label: &str) -> Option<StaffRole> {
        match label.trim() {
            "管理者" => Some(StaffRole::Admin),
            "担当者" => Some(StaffRole::Clerk),
            _ => None,
        }
    }

    /// The name shown on screens.
    pub fn label(self) -> &'static str {
        match self {
            StaffRole::Admin => "管理者",
            StaffRole::Clerk => "担当者",
        }
    }
}

/// Who an account belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// 医師: a physician who registered themself (未登録 → 利用者).
    Physician,
    /// 会員: a pre-provisioned member of an association.
    Member,
    /// 事務局: office staff of one association.
    Staff {
        association: AssociationId,
        role: StaffRole,
    },
}

impl Role {
    /// The name shown on screens.
    pub fn label(self) -> &'static str {
        match self {
            Role::Physician => "医師",
            Role::Member => "会員",
            Role::Staff { .. } => "事務局",
        }
    }

    /// The association and staff role of a staff account.
    pub fn staff(self) -> Option<(AssociationId, StaffRole)> {
        match self {
            Role::Staff { association, role } => Some((association, role)),
            Role::Physician | Role::Member => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stored_roles_keep_their_names() {
        let read = |json: &str| serde_json::from_str::<Role>(json).unwrap();
        assert_eq!(read(r#""physician""#), Role::Physician);
        assert_eq!(read(r#""member""#), Role::Member);
        assert_eq!(
            serde_json::to_string(&Role::Physician).unwrap(),
            r#""physician""#
        );
        let staff = Role::Staff {
            association: AssociationId(3),
            role: StaffRole::Admin,
        };
        let json = serde_json::to_string(&staff).unwrap();
        assert_eq!(json, r#"{"staff":{"association":3,"role":"admin"}}"#);
        assert_eq!(read(&json), staff);
    }

    #[test]
    fn only_staff_have_an_association() {
        assert_eq!(Role::Member.staff(), None);
        let clerk = Role::Staff {
            association: AssociationId(1),
            role: StaffRole::Clerk,
        };
        assert_eq!(clerk.staff(), Some((AssociationId(1), StaffRole::Clerk)));
        assert_eq!(clerk.label(), "事務局");
    }
}
