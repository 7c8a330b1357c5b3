//! Staff accounts read as a group: every 事務局 account, for the staff list and the count per association.

use redb::{ReadTransaction, ReadableTable};

use super::{decode, tables::USERS, users::UserRecord};

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
