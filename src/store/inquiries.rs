//! Messages sent with the inquiry form (お問合せフォーム), kept for staff.

use redb::WriteTransaction;
use serde::{Deserialize, Serialize};

use super::{encode, next_id, now, tables::INQUIRIES};

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct Inquiry {
    pub id: u64,
    pub name: String,
    pub email: String,
    pub subject: String,
    pub message: String,
    pub created_at: i64,
}

/// Stores an inquiry; returns it with its id.
pub fn add(
    tx: &WriteTransaction,
    name: &str,
    email: &str,
    subject: &str,
    message: &str,
) -> anyhow::Result<Inquiry> {
    let q = Inquiry {
        id: next_id(tx, "inquiries")?,
        name: name.to_owned(),
        email: email.to_owned(),
        subject: subject.to_owned(),
        message: message.to_owned(),
        created_at: now(),
    };
    tx.open_table(INQUIRIES)?
        .insert(q.id, encode(&q)?.as_slice())?;
    Ok(q)
}
