//! Announcements with their publication window: the login page's
//! (「システム管理者からのお知らせ」, made by 日本医師会) and each association's
//! own, shown on its members' マイページ.

use redb::{ReadTransaction, ReadableTable, WriteTransaction};
use serde::{Deserialize, Serialize};

use super::{decode, encode, next_id, now, tables::ANNOUNCEMENTS};
use crate::domain::AssociationId;

/// One dated announcement.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct Announcement {
    pub id: u64,
    /// Publication date, `YYYY-MM-DD`.
    pub date: time::Date,
    /// Source or category line, e.g. 「システム停止のお知らせ」.
    pub category: String,
    /// A heading; announcements made before titles existed have none.
    #[serde(default)]
    pub title: Option<String>,
    /// Plain text; shown escaped, line breaks kept.
    pub body: String,
    /// An optional link shown under the body.
    pub link: Option<String>,
    /// Shown from this day on (JST); none: at once.
    #[serde(default)]
    pub publish_from: Option<time::Date>,
    /// Not shown from this day on (JST); none: until deleted.
    #[serde(default)]
    pub withdraw_at: Option<time::Date>,
    pub created_at: i64,
    #[serde(default)]
    pub updated_at: i64,
    /// The association whose members' マイページ shows it; none: the login
    /// page's (made by 日本医師会's 管理者, and every announcement made
    /// before associations had their own).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub association: Option<AssociationId>,
}

impl Announcement {
    /// True when the login page shows it on `today`.
    pub fn is_published(&self, today: time::Date) -> bool {
        self.publish_from.is_none_or(|from| from <= today)
            && self.withdraw_at.is_none_or(|until| today < until)
    }
}

/// Adds an announcement; returns its id.
pub fn add(
    tx: &WriteTransaction,
    date: time::Date,
    category: &str,
    body: &str,
    link: Option<&str>,
) -> anyhow::Result<u64> {
    let at = now();
    insert(
        tx,
        Announcement {
            id: 0,
            date,
            category: category.to_owned(),
            title: None,
            body: body.to_owned(),
            link: link.map(str::to_owned),
            publish_from: None,
            withdraw_at: None,
            created_at: at,
            updated_at: at,
            association: None,
        },
    )
}

/// Stores a new announcement under a new id; returns the id.
pub fn insert(tx: &WriteTransaction, mut a: Announcement) -> anyhow::Result<u64> {
    a.id = next_id(tx, "announcements")?;
    put(tx, &a)?;
    Ok(a.id)
}

/// Writes an announcement under its id (new or replaced).
pub fn put(tx: &WriteTransaction, a: &Announcement) -> anyhow::Result<()> {
    tx.open_table(ANNOUNCEMENTS)?
        .insert(a.id, encode(a)?.as_slice())?;
    Ok(())
}

/// The announcement `id`, if any.
pub fn get(tx: &ReadTransaction, id: u64) -> anyhow::Result<Option<Announcement>> {
    let t = tx.open_table(ANNOUNCEMENTS)?;
    t.get(id)?.map(|v| decode(v.value())).transpose()
}

/// The announcement `id` within a write transaction, if any.
pub fn get_for_update(tx: &WriteTransaction, id: u64) -> anyhow::Result<Option<Announcement>> {
    let t = tx.open_table(ANNOUNCEMENTS)?;
    t.get(id)?.map(|v| decode(v.value())).transpose()
}

/// Removes the announcement `id`; returns it when there was one.
pub fn remove(tx: &WriteTransaction, id: u64) -> anyhow::Result<Option<Announcement>> {
    let mut t = tx.open_table(ANNOUNCEMENTS)?;
    t.remove(id)?.map(|v| decode(v.value())).transpose()
}

/// Every announcement, newest first (by date, then by id).
pub fn all(tx: &ReadTransaction) -> anyhow::Result<Vec<Announcement>> {
    let t = tx.open_table(ANNOUNCEMENTS)?;
    let mut all = Vec::new();
    for entry in t.iter()? {
        let (_, v) = entry?;
        all.push(decode::<Announcement>(v.value())?);
    }
    all.sort_by_key(|a| std::cmp::Reverse((a.date, a.id)));
    Ok(all)
}

/// The newest announcements of the boards `shown_on` accepts (by owning
/// association; none: the login page) published on `today` first (by
/// date, then by id).
pub fn newest(
    tx: &ReadTransaction,
    today: time::Date,
    limit: usize,
    shown_on: impl Fn(Option<AssociationId>) -> bool,
) -> anyhow::Result<Vec<Announcement>> {
    let mut shown: Vec<Announcement> = all(tx)?
        .into_iter()
        .filter(|a| a.is_published(today) && shown_on(a.association))
        .collect();
    shown.truncate(limit);
    Ok(shown)
}

#[cfg(test)]
mod tests {
    use time::macros::date;

    use super::*;

    fn dated(from: Option<time::Date>, until: Option<time::Date>) -> Announcement {
        Announcement {
            id: 1,
            date: date!(2026 - 01 - 01),
            category: "c".into(),
            title: None,
            body: "b".into(),
            link: None,
            publish_from: from,
            withdraw_at: until,
            created_at: 0,
            updated_at: 0,
            association: None,
        }
    }

    #[test]
    fn an_announcement_is_shown_from_its_publish_day_until_the_day_before_withdrawal() {
        let today = date!(2026 - 12 - 02);
        assert!(dated(None, None).is_published(today));
        assert!(dated(Some(today), None).is_published(today));
        assert!(!dated(Some(date!(2026 - 12 - 03)), None).is_published(today));
        assert!(dated(None, Some(date!(2026 - 12 - 03))).is_published(today));
        assert!(!dated(None, Some(today)).is_published(today));
    }

    #[test]
    fn records_stored_before_titles_and_dates_existed_still_read() {
        let old =
            r#"{"id":3,"date":[2026,10],"category":"c","body":"b","link":null,"created_at":5}"#;
        let a: Announcement = serde_json::from_str(old).unwrap();
        assert_eq!(
            (a.title, a.publish_from, a.withdraw_at, a.association),
            (None, None, None, None)
        );
    }
}
