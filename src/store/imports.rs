//! Member-import files waiting between the dry run and 「取り込む」, and each
//! association's import settings (how long initial passwords last).
//!
//! An upload is kept under the SHA-256 of a random reference that only the
//! staff member's browser holds (a hidden field of the dry-run page), with
//! the decoded text of the file, so that 「取り込む」 needs no second upload
//! and imports exactly the file that was checked. It is deleted by the
//! import, and uploads older than [`UPLOAD_KEEP_SECS`] are deleted at the
//! next upload.

use redb::{ReadTransaction, ReadableTable, WriteTransaction};
use serde::{Deserialize, Serialize};

use super::{
    decode, encode,
    tables::{IMPORT_SETTINGS, IMPORT_UPLOADS},
};
use crate::domain::AssociationId;

/// An upload waits this long for 「取り込む」.
pub const UPLOAD_KEEP_SECS: i64 = 24 * 3600;
/// Initial passwords last this many days unless the association set
/// otherwise.
pub const DEFAULT_VALIDITY_DAYS: u32 = 90;

/// A checked file waiting to be imported.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Upload {
    /// The staff account that uploaded it (only it may import it).
    pub staff_id: u64,
    pub association: AssociationId,
    pub created_at: i64,
    pub file_name: String,
    /// The file, decoded.
    pub text: String,
}

/// Keeps an upload under `key` (the SHA-256 of its reference) and deletes
/// those older than [`UPLOAD_KEEP_SECS`].
pub fn put_upload(
    tx: &WriteTransaction,
    key: &[u8; 32],
    upload: &Upload,
    now: i64,
) -> anyhow::Result<()> {
    let mut t = tx.open_table(IMPORT_UPLOADS)?;
    let mut stale = Vec::new();
    for entry in t.iter()? {
        let (k, v) = entry?;
        let old: Upload = decode(v.value())?;
        if now - old.created_at > UPLOAD_KEEP_SECS {
            stale.push(*k.value());
        }
    }
    for k in stale {
        t.remove(&k)?;
    }
    t.insert(key, encode(upload)?.as_slice())?;
    Ok(())
}

/// Takes the upload under `key` out (it is deleted when the transaction
/// commits); `None` when there is none or it is too old.
pub fn take_upload(
    tx: &WriteTransaction,
    key: &[u8; 32],
    now: i64,
) -> anyhow::Result<Option<Upload>> {
    let mut t = tx.open_table(IMPORT_UPLOADS)?;
    let found = t
        .remove(key)?
        .map(|v| decode::<Upload>(v.value()))
        .transpose()?;
    Ok(found.filter(|u| now - u.created_at <= UPLOAD_KEEP_SECS))
}

/// An association's import settings.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Settings {
    /// Days an initial password logs in after its batch is made.
    pub validity_days: u32,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            validity_days: DEFAULT_VALIDITY_DAYS,
        }
    }
}

fn read_settings(
    t: &impl ReadableTable<u64, &'static [u8]>,
    association: AssociationId,
) -> anyhow::Result<Settings> {
    let v = t.get(association.0)?;
    Ok(v.map(|v| decode(v.value()))
        .transpose()?
        .unwrap_or_default())
}

/// The settings of `association` (the defaults when it has none).
pub fn settings(tx: &ReadTransaction, association: AssociationId) -> anyhow::Result<Settings> {
    read_settings(&tx.open_table(IMPORT_SETTINGS)?, association)
}

/// The same, inside a write transaction.
pub fn settings_in_write(
    tx: &WriteTransaction,
    association: AssociationId,
) -> anyhow::Result<Settings> {
    read_settings(&tx.open_table(IMPORT_SETTINGS)?, association)
}

/// Replaces the settings of `association`.
pub fn set_settings(
    tx: &WriteTransaction,
    association: AssociationId,
    settings: Settings,
) -> anyhow::Result<()> {
    tx.open_table(IMPORT_SETTINGS)?
        .insert(association.0, encode(&settings)?.as_slice())?;
    Ok(())
}

/// The name of the initial-password key in `meta`.
pub const INITIAL_KEY: &str = "initial_password_key";

/// The server key of initial-password hashes (`auth::password::hash_initial`),
/// made at its first use and kept in `meta` like the CSRF key.
pub async fn initial_key(store: &super::Store) -> anyhow::Result<[u8; 32]> {
    let found = store.read_now(|tx| {
        let meta = tx.open_table(super::tables::META)?;
        let v = meta.get(INITIAL_KEY)?;
        Ok(v.and_then(|v| <[u8; 32]>::try_from(v.value()).ok()))
    })?;
    if let Some(k) = found {
        return Ok(k);
    }
    let store = store.clone();
    tokio::task::spawn_blocking(move || store.secret(INITIAL_KEY))
        .await
        .map_err(|e| anyhow::anyhow!("initial key task: {e}"))?
}

/// How an imported row was found to be someone already registered.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MatchedBy {
    /// The same 医籍登録番号.
    RegistryNumber,
    /// The same 氏名 and 生年月日 (under another 医籍登録番号).
    NameAndBirth,
}

/// The account a person is already registered as, if any: by 医籍登録番号,
/// else by 氏名 (the `persons_by_name` key) and 生年月日.
fn find_existing(
    registry: &impl ReadableTable<&'static str, u64>,
    names: &impl redb::ReadableMultimapTable<&'static str, u64>,
    users: &impl ReadableTable<u64, &'static [u8]>,
    person: &crate::domain::person::Person,
) -> anyhow::Result<Option<(u64, MatchedBy)>> {
    if let Some(id) = registry.get(person.registry.number.as_str())? {
        return Ok(Some((id.value(), MatchedBy::RegistryNumber)));
    }
    let key = crate::domain::person::name_key(&format!(
        "{}{}",
        person.name.last.as_str(),
        person.name.first.as_str()
    ));
    for id in names.get(key.as_str())? {
        let id = id?.value();
        let Some(v) = users.get(id)? else { continue };
        let user: super::users::UserRecord = decode(v.value())?;
        if user
            .person
            .is_some_and(|p| p.birth_date == person.birth_date)
        {
            return Ok(Some((id, MatchedBy::NameAndBirth)));
        }
    }
    Ok(None)
}

/// [`find_existing`] for every person, in a read transaction.
pub fn find_all(
    tx: &ReadTransaction,
    persons: &[&crate::domain::person::Person],
) -> anyhow::Result<Vec<Option<(u64, MatchedBy)>>> {
    let registry = tx.open_table(super::tables::USERS_BY_REGISTRY)?;
    let names = tx.open_multimap_table(super::tables::PERSONS_BY_NAME)?;
    let users = tx.open_table(super::tables::USERS)?;
    persons
        .iter()
        .map(|p| find_existing(&registry, &names, &users, p))
        .collect()
}

/// [`find_all`] inside a write transaction (its tables are closed again
/// before it returns).
pub fn find_all_in_write(
    tx: &WriteTransaction,
    persons: &[&crate::domain::person::Person],
) -> anyhow::Result<Vec<Option<(u64, MatchedBy)>>> {
    let registry = tx.open_table(super::tables::USERS_BY_REGISTRY)?;
    let names = tx.open_multimap_table(super::tables::PERSONS_BY_NAME)?;
    let users = tx.open_table(super::tables::USERS)?;
    persons
        .iter()
        .map(|p| find_existing(&registry, &names, &users, p))
        .collect()
}
