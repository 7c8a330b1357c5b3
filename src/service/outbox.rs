//! The local outbox as the development page shows it: the newest mails and one mail.

use crate::store::{Store, outbox};

pub use crate::store::outbox::Mail;

/// Mails listed at most.
const LISTED: usize = 100;

/// The newest mails first.
pub async fn recent(store: &Store) -> anyhow::Result<Vec<Mail>> {
    store.read(|tx| outbox::recent(tx, LISTED)).await
}

/// The mail with this id, if there is one.
pub async fn get(store: &Store, id: u64) -> anyhow::Result<Option<Mail>> {
    store.read(move |tx| outbox::get(tx, id)).await
}
