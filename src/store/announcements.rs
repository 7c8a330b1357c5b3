//! Announcements on the login page (「システム管理者からのお知らせ」).

use redb::{ReadTransaction, ReadableTable, WriteTransaction};
use serde::{Deserialize, Serialize};

use super::{decode, encode, next_id, now, tables::ANNOUNCEMENTS};

/// One dated announcement.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct Announcement {
    pub id: u64,
    /// Publication date, `YYYY-MM-DD`.
    pub date: time::Date,
    /// Source or category line, e.g. 「システム停止のお知らせ」.
    pub category: String,
    /// Plain text; shown escaped, line breaks kept.
    pub body: String,
    /// An optional link shown under the body.
    pub link: Option<String>,
    pub created_at: i64,
}

/// Adds an announcement; returns its id.
pub fn add(
    tx: &WriteTransaction,
    date: time::Date,
    category: &str,
    body: &str,
    link: Option<&str>,
) -> anyhow::Result<u64> {
    let id = next_id(tx, "announcements")?;
    let a = Announcement {
        id,
        date,
        category: category.to_owned(),
        body: body.to_owned(),
        link: link.map(str::to_owned),
        created_at: now(),
    };
    tx.open_table(ANNOUNCEMENTS)?
        .insert(id, encode(&a)?.as_slice())?;
    Ok(id)
}

/// The newest announcements first (by date, then by id).
pub fn newest(tx: &ReadTransaction, limit: usize) -> anyhow::Result<Vec<Announcement>> {
    let t = tx.open_table(ANNOUNCEMENTS)?;
    let mut all = Vec::new();
    for entry in t.iter()? {
        let (_, v) = entry?;
        all.push(decode::<Announcement>(v.value())?);
    }
    all.sort_by_key(|a| std::cmp::Reverse((a.date, a.id)));
    all.truncate(limit);
    Ok(all)
}
