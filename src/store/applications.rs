//! Membership applications (入会・異動・退会) with their indexes: the office
//! queues by (association, queue), a person's applications, and the one
//! open application per person and kind, claimed in the write transaction
//! that files it and released by the one that closes it.

use redb::{ReadTransaction, ReadableTable, WriteTransaction};

use super::{
    decode, encode, next_id,
    tables::{APPLICATIONS, APPLICATIONS_BY_PERSON, APPLICATIONS_BY_QUEUE, OPEN_APPLICATIONS},
};
use crate::domain::{AssociationId, application::Application};

/// The queue of applications waiting for an association's decision.
pub const WAITING: u8 = 1;
/// The queue of an association's open 確認依頼.
pub const NOTICES: u8 = 2;

/// The queue keys an application is listed under.
fn queue_keys(app: &Application) -> Vec<(u64, u8)> {
    let mut keys = Vec::new();
    if let Some(stage) = app.current_stage() {
        keys.push((stage.association.0, WAITING));
    }
    for n in app.notices.iter().filter(|n| n.confirmed.is_none()) {
        keys.push((n.association.0, NOTICES));
    }
    keys.sort_unstable();
    keys.dedup();
    keys
}

fn open_key(app: &Application) -> (u64, u8) {
    (app.person, app.procedure.kind().code())
}

/// Files a new application: its id, or the id of the open application of
/// the same person and kind that stops it (nothing is written then).
pub fn insert(tx: &WriteTransaction, mut app: Application) -> anyhow::Result<Result<u64, u64>> {
    let mut open = tx.open_table(OPEN_APPLICATIONS)?;
    if let Some(existing) = open.get(open_key(&app))?.map(|v| v.value()) {
        return Ok(Err(existing));
    }
    let id = next_id(tx, "applications")?;
    app.id = id;
    open.insert(open_key(&app), id)?;
    tx.open_table(APPLICATIONS)?
        .insert(id, encode(&app)?.as_slice())?;
    tx.open_multimap_table(APPLICATIONS_BY_PERSON)?
        .insert(app.person, id)?;
    let mut queues = tx.open_multimap_table(APPLICATIONS_BY_QUEUE)?;
    for key in queue_keys(&app) {
        queues.insert(key, id)?;
    }
    Ok(Ok(id))
}

/// Writes `new` over `old` (the same application read in this
/// transaction), moving its queue entries and releasing the open slot when
/// it is finished.
pub fn update(tx: &WriteTransaction, old: &Application, new: &Application) -> anyhow::Result<()> {
    let id = new.id;
    let mut queues = tx.open_multimap_table(APPLICATIONS_BY_QUEUE)?;
    for key in queue_keys(old) {
        queues.remove(key, id)?;
    }
    for key in queue_keys(new) {
        queues.insert(key, id)?;
    }
    if !new.status.is_open() {
        let mut open = tx.open_table(OPEN_APPLICATIONS)?;
        let holds = open.get(open_key(new))?.is_some_and(|v| v.value() == id);
        if holds {
            open.remove(open_key(new))?;
        }
    }
    tx.open_table(APPLICATIONS)?
        .insert(id, encode(new)?.as_slice())?;
    Ok(())
}

/// The application of this id.
pub fn get(tx: &ReadTransaction, id: u64) -> anyhow::Result<Option<Application>> {
    let t = tx.open_table(APPLICATIONS)?;
    let v = t.get(id)?;
    v.map(|v| decode(v.value())).transpose()
}

/// The application of this id, read in a write transaction to change it.
pub fn get_for_update(tx: &WriteTransaction, id: u64) -> anyhow::Result<Option<Application>> {
    let t = tx.open_table(APPLICATIONS)?;
    let v = t.get(id)?;
    v.map(|v| decode(v.value())).transpose()
}

/// The applications in `association`'s `queue` (`WAITING` or `NOTICES`),
/// oldest first.
pub fn queue(
    tx: &ReadTransaction,
    association: AssociationId,
    queue: u8,
) -> anyhow::Result<Vec<Application>> {
    let ids = tx.open_multimap_table(APPLICATIONS_BY_QUEUE)?;
    let t = tx.open_table(APPLICATIONS)?;
    let mut out = Vec::new();
    for id in ids.get((association.0, queue))? {
        if let Some(v) = t.get(id?.value())? {
            out.push(decode(v.value())?);
        }
    }
    Ok(out)
}

/// Every application of `person`, oldest first.
pub fn of_person(tx: &ReadTransaction, person: u64) -> anyhow::Result<Vec<Application>> {
    let ids = tx.open_multimap_table(APPLICATIONS_BY_PERSON)?;
    let t = tx.open_table(APPLICATIONS)?;
    let mut out = Vec::new();
    for id in ids.get(person)? {
        if let Some(v) = t.get(id?.value())? {
            out.push(decode(v.value())?);
        }
    }
    Ok(out)
}

/// Every application, oldest first (the office's filtered list reads them
/// all and keeps those the staff member may see).
pub fn all(tx: &ReadTransaction) -> anyhow::Result<Vec<Application>> {
    let t = tx.open_table(APPLICATIONS)?;
    let mut out = Vec::new();
    for entry in t.iter()? {
        let (_, v) = entry?;
        out.push(decode(v.value())?);
    }
    Ok(out)
}
