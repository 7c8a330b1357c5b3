//! Postcard batches: the ID・パスワード通知ハガキ made by one member import
//! (or one re-issue of an initial password), each with the member's login
//! ID and the plaintext initial password until the batch is closed. Closing
//! deletes the passwords for good; the batch stays, listed without them.

use redb::{ReadTransaction, ReadableTable, WriteTransaction};
use serde::{Deserialize, Serialize};

use super::{decode, encode, next_id, tables::POSTCARD_BATCHES};
use crate::domain::AssociationId;

/// How a batch came about.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Origin {
    /// A member import.
    Import,
    /// A new initial password for one member.
    Reissue,
}

/// One postcard: whose, and (until the batch is closed) the password.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Postcard {
    /// The member's person (= account) id.
    pub person_id: u64,
    pub login_id: String,
    /// The plaintext initial password; none once the batch is closed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub initial_password: Option<String>,
}

/// A batch of postcards.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Batch {
    pub id: u64,
    /// The association whose staff made it (its scope sees it).
    pub association: AssociationId,
    pub origin: Origin,
    /// The staff account that made it.
    pub created_by: u64,
    pub created_at: i64,
    /// Until when its initial passwords log in (Unix seconds).
    pub expires_at: i64,
    /// When its print view or CSV was first opened.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub printed_at: Option<i64>,
    /// When it was closed (its passwords deleted).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub closed_at: Option<i64>,
    pub postcards: Vec<Postcard>,
}

/// Where a batch stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum State {
    Unprinted,
    Printed,
    Closed,
}

impl State {
    /// 未印刷 / 印刷済 / 締め済
    pub fn label(self) -> &'static str {
        match self {
            State::Unprinted => "未印刷",
            State::Printed => "印刷済",
            State::Closed => "締め済",
        }
    }
}

impl Batch {
    pub fn state(&self) -> State {
        match (self.closed_at, self.printed_at) {
            (Some(_), _) => State::Closed,
            (None, Some(_)) => State::Printed,
            (None, None) => State::Unprinted,
        }
    }
}

/// Takes the id the next batch will get (inside the transaction that
/// writes it with [`put`]).
pub fn next_batch_id(tx: &WriteTransaction) -> anyhow::Result<u64> {
    next_id(tx, "postcard_batches")
}

/// Writes a batch (new or changed).
pub fn put(tx: &WriteTransaction, batch: &Batch) -> anyhow::Result<()> {
    tx.open_table(POSTCARD_BATCHES)?
        .insert(batch.id, encode(batch)?.as_slice())?;
    Ok(())
}

/// Reads a batch in a read transaction.
pub fn get(tx: &ReadTransaction, id: u64) -> anyhow::Result<Option<Batch>> {
    let t = tx.open_table(POSTCARD_BATCHES)?;
    let v = t.get(id)?;
    v.map(|v| decode(v.value())).transpose()
}

/// Reads a batch inside a write transaction.
pub fn get_in_write(tx: &WriteTransaction, id: u64) -> anyhow::Result<Option<Batch>> {
    let t = tx.open_table(POSTCARD_BATCHES)?;
    let v = t.get(id)?;
    v.map(|v| decode(v.value())).transpose()
}

/// A batch as listed: everything but the postcards, and their number.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Summary {
    pub id: u64,
    pub association: AssociationId,
    pub origin: Origin,
    pub created_at: i64,
    pub expires_at: i64,
    pub count: usize,
    pub state: State,
}

/// The batches of the associations `allows` accepts, newest first.
pub fn list(
    tx: &ReadTransaction,
    allows: impl Fn(AssociationId) -> bool,
) -> anyhow::Result<Vec<Summary>> {
    let t = tx.open_table(POSTCARD_BATCHES)?;
    let mut out = Vec::new();
    for entry in t.iter()?.rev() {
        let (_, v) = entry?;
        let b: Batch = decode(v.value())?;
        if allows(b.association) {
            out.push(Summary {
                id: b.id,
                association: b.association,
                origin: b.origin,
                created_at: b.created_at,
                expires_at: b.expires_at,
                count: b.postcards.len(),
                state: b.state(),
            });
        }
    }
    Ok(out)
}
