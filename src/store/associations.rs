//! The association tree (日本医師会 → 都道府県医師会 → 郡市区等医師会): records, unique names, the seed.

use redb::{ReadTransaction, ReadableTable, WriteTransaction};

use super::{
    decode, encode, next_id,
    tables::{ASSOCIATIONS, ASSOCIATIONS_BY_NAME},
};
use crate::domain::{
    AssociationId,
    association::{self, Association, AssociationKind, Contact, NATIONAL},
};

/// Why an association was not added.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AddRefusal {
    /// No association has the parent's name.
    UnknownParent,
    /// The name is taken.
    Duplicate,
    /// This kind cannot be placed under the parent's kind.
    WrongLevel { parent: AssociationKind },
}

fn insert(
    tx: &WriteTransaction,
    name: &str,
    kind: AssociationKind,
    parent: Option<AssociationId>,
    contact: Contact,
) -> anyhow::Result<Association> {
    let id = AssociationId(next_id(tx, "associations")?);
    let mut record = Association {
        id,
        name: name.to_owned(),
        kind,
        parent,
        postal_code: None,
        address: None,
        phone: None,
        classes: Vec::new(),
    };
    record.set_contact(contact);
    tx.open_table(ASSOCIATIONS)?
        .insert(id.0, encode(&record)?.as_slice())?;
    tx.open_table(ASSOCIATIONS_BY_NAME)?.insert(name, id.0)?;
    Ok(record)
}

fn id_in_write(tx: &WriteTransaction, name: &str) -> anyhow::Result<Option<AssociationId>> {
    Ok(tx
        .open_table(ASSOCIATIONS_BY_NAME)?
        .get(name)?
        .map(|v| AssociationId(v.value())))
}

/// Adds 日本医師会 and the 47 prefectural associations that are missing
/// (by name), inside the caller's transaction; returns how many it added.
/// An instance holding only part of the tree keeps what it has: a
/// prefectural association that exists is left as it is.
pub fn seed(tx: &WriteTransaction) -> anyhow::Result<usize> {
    let mut added = 0;
    let national = match id_in_write(tx, NATIONAL)? {
        Some(id) => id,
        None => {
            added += 1;
            insert(
                tx,
                NATIONAL,
                AssociationKind::National,
                None,
                Contact::default(),
            )?
            .id
        }
    };
    for name in association::prefectural_names() {
        if id_in_write(tx, &name)?.is_none() {
            insert(
                tx,
                &name,
                AssociationKind::Prefectural,
                Some(national),
                Contact::default(),
            )?;
            added += 1;
        }
    }
    Ok(added)
}

/// Adds an association below the one named `parent`.
pub fn add(
    tx: &WriteTransaction,
    parent: &str,
    name: &str,
    kind: AssociationKind,
) -> anyhow::Result<Result<Association, AddRefusal>> {
    let Some(parent_id) = id_in_write(tx, parent)? else {
        return Ok(Err(AddRefusal::UnknownParent));
    };
    add_under(tx, parent_id, name, kind, Contact::default())
}

/// Adds an association with its contact details below `parent_id`.
pub fn add_under(
    tx: &WriteTransaction,
    parent_id: AssociationId,
    name: &str,
    kind: AssociationKind,
    contact: Contact,
) -> anyhow::Result<Result<Association, AddRefusal>> {
    if id_in_write(tx, name)?.is_some() {
        return Ok(Err(AddRefusal::Duplicate));
    }
    let parent_kind = {
        let t = tx.open_table(ASSOCIATIONS)?;
        let v = t.get(parent_id.0)?;
        v.map(|v| decode::<Association>(v.value()))
            .transpose()?
            .map(|a| a.kind)
    };
    let Some(parent_kind) = parent_kind else {
        return Ok(Err(AddRefusal::UnknownParent));
    };
    if !kind.fits_under(parent_kind) {
        return Ok(Err(AddRefusal::WrongLevel {
            parent: parent_kind,
        }));
    }
    Ok(Ok(insert(tx, name, kind, Some(parent_id), contact)?))
}

/// Replaces the contact details of association `id`; the record before
/// and after, or `None` when there is no such association.
pub fn set_contact(
    tx: &WriteTransaction,
    id: AssociationId,
    contact: Contact,
) -> anyhow::Result<Option<(Association, Association)>> {
    let mut t = tx.open_table(ASSOCIATIONS)?;
    let old: Option<Association> = t.get(id.0)?.map(|v| decode(v.value())).transpose()?;
    let Some(old) = old else {
        return Ok(None);
    };
    let mut new = old.clone();
    new.set_contact(contact);
    t.insert(id.0, encode(&new)?.as_slice())?;
    Ok(Some((old, new)))
}

/// Replaces the class list of association `id`; the record before and
/// after, or `None` when there is no such association.
pub fn set_classes(
    tx: &WriteTransaction,
    id: AssociationId,
    classes: Vec<String>,
) -> anyhow::Result<Option<(Association, Association)>> {
    let mut t = tx.open_table(ASSOCIATIONS)?;
    let old: Option<Association> = t.get(id.0)?.map(|v| decode(v.value())).transpose()?;
    let Some(old) = old else {
        return Ok(None);
    };
    let new = Association {
        classes,
        ..old.clone()
    };
    t.insert(id.0, encode(&new)?.as_slice())?;
    Ok(Some((old, new)))
}

/// Every association, in id order, read in a write transaction (so that
/// a change and the scope it is checked against agree).
pub fn all_in_write(tx: &WriteTransaction) -> anyhow::Result<Vec<Association>> {
    let t = tx.open_table(ASSOCIATIONS)?;
    let mut out = Vec::new();
    for entry in t.iter()? {
        let (_, v) = entry?;
        out.push(decode(v.value())?);
    }
    Ok(out)
}

/// The association of this name.
pub fn by_name(tx: &ReadTransaction, name: &str) -> anyhow::Result<Option<Association>> {
    let id = tx
        .open_table(ASSOCIATIONS_BY_NAME)?
        .get(name)?
        .map(|v| v.value());
    match id {
        Some(id) => get(tx, AssociationId(id)),
        None => Ok(None),
    }
}

/// The association of this id.
pub fn get(tx: &ReadTransaction, id: AssociationId) -> anyhow::Result<Option<Association>> {
    let t = tx.open_table(ASSOCIATIONS)?;
    let v = t.get(id.0)?;
    v.map(|v| decode(v.value())).transpose()
}

/// Every association, in id order.
pub fn all(tx: &ReadTransaction) -> anyhow::Result<Vec<Association>> {
    let t = tx.open_table(ASSOCIATIONS)?;
    let mut out = Vec::new();
    for entry in t.iter()? {
        let (_, v) = entry?;
        out.push(decode(v.value())?);
    }
    Ok(out)
}

/// True when `id` is the root of the tree (日本医師会), read in a write
/// transaction so that a change and the check it depends on agree.
pub fn is_root_for_update(tx: &WriteTransaction, id: AssociationId) -> anyhow::Result<bool> {
    let t = tx.open_table(ASSOCIATIONS)?;
    let found: Option<Association> = t.get(id.0)?.map(|v| decode(v.value())).transpose()?;
    Ok(found.is_some_and(|a| a.parent.is_none()))
}

/// True when `id` is the root of the tree (日本医師会).
pub fn is_root(tx: &ReadTransaction, id: AssociationId) -> anyhow::Result<bool> {
    Ok(get(tx, id)?.is_some_and(|a| a.parent.is_none()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Store;

    #[tokio::test]
    async fn the_nation_and_its_47_prefectures_are_there_from_the_start_once() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        drop(store);
        // Opened again: nothing is added twice.
        let store = Store::open(dir.path()).unwrap();
        let all = store.read(all).await.unwrap();
        assert_eq!(all.len(), 48);
        let national = &all[0];
        assert_eq!((national.name.as_str(), national.parent), (NATIONAL, None));
        let tokyo = store
            .read(|tx| by_name(tx, "東京都医師会"))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(tokyo.parent, Some(national.id));
        assert_eq!(tokyo.kind, AssociationKind::Prefectural);
    }

    #[tokio::test]
    async fn a_district_goes_under_a_known_prefecture_with_a_new_name_only() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let results = store
            .write_ok(|tx| {
                Ok([
                    add(
                        tx,
                        "東京都医師会",
                        "新宿区医師会",
                        AssociationKind::District,
                    )?
                    .map(|a| a.name),
                    add(
                        tx,
                        "東京都医師会",
                        "新宿区医師会",
                        AssociationKind::District,
                    )?
                    .map(|a| a.name),
                    add(
                        tx,
                        "東京都医師界",
                        "渋谷区医師会",
                        AssociationKind::District,
                    )?
                    .map(|a| a.name),
                    add(tx, "日本医師会", "渋谷区医師会", AssociationKind::District)?
                        .map(|a| a.name),
                ])
            })
            .await
            .unwrap();
        assert_eq!(results[0], Ok("新宿区医師会".to_owned()));
        assert_eq!(results[1], Err(AddRefusal::Duplicate));
        assert_eq!(results[2], Err(AddRefusal::UnknownParent));
        assert_eq!(
            results[3],
            Err(AddRefusal::WrongLevel {
                parent: AssociationKind::National
            })
        );
        assert_eq!(store.read(all).await.unwrap().len(), 49);
    }
}
