//! Staff accounts as a group and the changes a 管理者 makes to one: every 事務局 account (the staff list, the count per association), a new role, a new one-time password, the 連絡用メールアドレス (kept beside the account, in its own table: several staff may share one office address, and it is never a way to log in).

use redb::{ReadTransaction, ReadableTable, WriteTransaction};

use super::{
    decode,
    tables::{STAFF_CONTACTS, USERS},
    users::{self, UserRecord},
};
use crate::domain::{AssociationId, Role, StaffRole};

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

/// The 連絡用メールアドレス of staff account `id`, if any.
pub fn contact_email(tx: &ReadTransaction, id: u64) -> anyhow::Result<Option<String>> {
    let t = tx.open_table(STAFF_CONTACTS)?;
    let v = t.get(id)?;
    Ok(v.map(|v| v.value().to_owned()))
}

/// Sets (or, with none, removes) the 連絡用メールアドレス of staff account
/// `id`; the address it had.
pub fn set_contact_email(
    tx: &WriteTransaction,
    id: u64,
    email: Option<&str>,
) -> anyhow::Result<Option<String>> {
    let mut t = tx.open_table(STAFF_CONTACTS)?;
    let old = match email {
        Some(e) => t.insert(id, e)?.map(|v| v.value().to_owned()),
        None => t.remove(id)?.map(|v| v.value().to_owned()),
    };
    Ok(old)
}

/// The 連絡用メールアドレス of the staff of `association` (each address
/// once), read in the write transaction that queues their mail.
pub fn contact_emails_of(
    tx: &WriteTransaction,
    association: AssociationId,
) -> anyhow::Result<Vec<String>> {
    let contacts = tx.open_table(STAFF_CONTACTS)?;
    let mut out: Vec<String> = Vec::new();
    for entry in contacts.iter()? {
        let (id, email) = entry?;
        let Some(user) = get_in_write(tx, id.value())? else {
            continue;
        };
        let email = email.value().to_owned();
        if user.role.staff().map(|(a, _)| a) == Some(association)
            && !out.iter().any(|e| e.eq_ignore_ascii_case(&email))
        {
            out.push(email);
        }
    }
    Ok(out)
}
