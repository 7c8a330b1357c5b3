//! A person's memberships (`domain::membership::MemberFile`), and the
//! district their account belongs to, changed together when an
//! application completes.

use redb::{ReadTransaction, ReadableTable, WriteTransaction};

use super::{
    decode, encode,
    tables::MEMBERSHIPS,
    users::{self, UserRecord},
};
use crate::domain::{AssociationId, membership::MemberFile};

/// The memberships of `person` (empty when none was ever held).
pub fn get(tx: &ReadTransaction, person: u64) -> anyhow::Result<MemberFile> {
    let t = tx.open_table(MEMBERSHIPS)?;
    let v = t.get(person)?;
    Ok(v.map(|v| decode(v.value()))
        .transpose()?
        .unwrap_or_default())
}

/// The memberships of `person`, read in a write transaction to change them.
pub fn get_for_update(tx: &WriteTransaction, person: u64) -> anyhow::Result<MemberFile> {
    let t = tx.open_table(MEMBERSHIPS)?;
    let v = t.get(person)?;
    Ok(v.map(|v| decode(v.value()))
        .transpose()?
        .unwrap_or_default())
}

/// Stores the memberships of `person`.
pub fn put(tx: &WriteTransaction, person: u64, file: &MemberFile) -> anyhow::Result<()> {
    tx.open_table(MEMBERSHIPS)?
        .insert(person, encode(file)?.as_slice())?;
    Ok(())
}

/// Makes account `id` belong to `association` (its district); the account
/// as it was, or none when there is no such account.
pub fn set_account_district(
    tx: &WriteTransaction,
    id: u64,
    association: AssociationId,
) -> anyhow::Result<Option<UserRecord>> {
    let Some(mut user) = users::get_for_update(tx, id)? else {
        return Ok(None);
    };
    let before = user.clone();
    user.association = Some(association);
    // Through `users::put`, so the people search's facet moves with it.
    users::put(tx, &user)?;
    Ok(Some(before))
}
