//! Messages sent with the inquiry form (お問合せフォーム), kept for staff with
//! where their handling stands (未対応 → 対応中 → 完了) and a note.

use redb::{ReadTransaction, ReadableTable, WriteTransaction};
use serde::{Deserialize, Serialize};

use super::{decode, encode, next_id, now, tables::INQUIRIES};
use crate::domain::InquiryStatus;

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct Inquiry {
    pub id: u64,
    pub name: String,
    pub email: String,
    pub subject: String,
    pub message: String,
    pub created_at: i64,
    /// Where the office's handling stands; inquiries stored before the
    /// inbox existed read as 未対応.
    #[serde(default)]
    pub status: InquiryStatus,
    /// The office's own note (not sent to the sender).
    #[serde(default)]
    pub note: String,
    /// Replies mailed from the inbox.
    #[serde(default)]
    pub replies: u32,
    #[serde(default)]
    pub updated_at: i64,
}

/// Stores an inquiry; returns it with its id.
pub fn add(
    tx: &WriteTransaction,
    name: &str,
    email: &str,
    subject: &str,
    message: &str,
) -> anyhow::Result<Inquiry> {
    let at = now();
    let q = Inquiry {
        id: next_id(tx, "inquiries")?,
        name: name.to_owned(),
        email: email.to_owned(),
        subject: subject.to_owned(),
        message: message.to_owned(),
        created_at: at,
        status: InquiryStatus::Open,
        note: String::new(),
        replies: 0,
        updated_at: at,
    };
    put(tx, &q)?;
    Ok(q)
}

/// Writes an inquiry under its id.
pub fn put(tx: &WriteTransaction, q: &Inquiry) -> anyhow::Result<()> {
    tx.open_table(INQUIRIES)?
        .insert(q.id, encode(q)?.as_slice())?;
    Ok(())
}

/// The inquiry `id`, if any.
pub fn get(tx: &ReadTransaction, id: u64) -> anyhow::Result<Option<Inquiry>> {
    let t = tx.open_table(INQUIRIES)?;
    t.get(id)?.map(|v| decode(v.value())).transpose()
}

/// The inquiry `id` within a write transaction, if any.
pub fn get_for_update(tx: &WriteTransaction, id: u64) -> anyhow::Result<Option<Inquiry>> {
    let t = tx.open_table(INQUIRIES)?;
    t.get(id)?.map(|v| decode(v.value())).transpose()
}

/// Inquiries newest first, only those of `status` when given.
pub fn newest(tx: &ReadTransaction, status: Option<InquiryStatus>) -> anyhow::Result<Vec<Inquiry>> {
    let t = tx.open_table(INQUIRIES)?;
    let mut out = Vec::new();
    for row in t.iter()?.rev() {
        let (_, v) = row?;
        let q: Inquiry = decode(v.value())?;
        if status.is_none_or(|s| q.status == s) {
            out.push(q);
        }
    }
    Ok(out)
}

/// How many inquiries are in `status`.
pub fn count(tx: &ReadTransaction, status: InquiryStatus) -> anyhow::Result<u64> {
    Ok(newest(tx, Some(status))?.len() as u64)
}
