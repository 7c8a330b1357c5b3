//! Staff accounts as a group and the changes a 管理者 makes to one: every 事務局 account (the staff list, the count per association), a new role, a new one-time password.

use redb::{ReadTransaction, ReadableTable, WriteTransaction};

use super::{
    decode,
    tables::USERS,
    users::{self, UserRecord},
};
use crate::domain::{Role, StaffRole};

/// Every staff account, in id order.
pub fn all(tx: &ReadTransaction) -> anyhow::Result<Vec<UserRecord>> {
    let t = tx.open_table(USERS)?;
    let mut out = Vec::new();
    for entry in t.iter()? {
        let (_, v) = entry?;
        let user: UserRecord = decode(v.value())?;
        if user.role.staff().is_some() {
            out.push(user);
        }
    }
    Ok(out)
}

/// The staff account `id` read in a write transaction; `None` when there
/// is no such account or it is not a staff account.
pub fn get_in_write(tx: &WriteTransaction, id: u64) -> anyhow::Result<Option<UserRecord>> {
    let t = tx.open_table(USERS)?;
    let user: Option<UserRecord> = t.get(id)?.map(|v| decode(v.value())).transpose()?;
    Ok(user.filter(|u| u.role.staff().is_some()))
}

/// Gives staff account `id` the role `role` (read from the account at
/// every request, so it holds at once). `None` when there is no such
/// staff account.
pub fn set_role(
    tx: &WriteTransaction,
    id: u64,
    role: StaffRole,
) -> anyhow::Result<Option<UserRecord>> {
    users::update(tx, id, |user| match user.role {
        Role::Staff { association, .. } => {
            user.role = Role::Staff { association, role };
            true
        }
        Role::Physician | Role::Member => false,
    })
}

/// Replaces the password of staff account `id` with a new one-time
/// password (`password_hash`) to be changed at the next login, and ends
/// its sessions. `None` when there is no such staff account.
pub fn reissue_one_time_password(
    tx: &WriteTransaction,
    id: u64,
    password_hash: String,
) -> anyhow::Result<Option<UserRecord>> {
    users::update(tx, id, |user| {
        if user.role.staff().is_none() {
            return false;
        }
        user.password_hash = password_hash;
        user.must_change_password = true;
        user.session_generation = user.session_generation.saturating_add(1);
        true
    })
}
