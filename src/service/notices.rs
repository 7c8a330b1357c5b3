//! The announcements shown on the login page (システム管理者からのお知らせ).

use crate::store::{Store, announcements};

pub use crate::store::announcements::Announcement;

/// Announcements shown at most.
const SHOWN: usize = 20;

/// The newest announcements first (by date, then by the order they were added).
pub async fn newest(store: &Store) -> anyhow::Result<Vec<Announcement>> {
    store.read(|tx| announcements::newest(tx, SHOWN)).await
}
