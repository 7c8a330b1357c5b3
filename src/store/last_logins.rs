//! When each account last logged in: one row per account, written with the
//! login's audit entry, so that a person's page reads it by key instead of
//! searching the audit log.

use redb::{ReadTransaction, WriteTransaction};

use super::tables::LAST_LOGINS;

/// Notes that account `user_id` logged in at `at` (Unix seconds).
pub fn set(tx: &WriteTransaction, user_id: u64, at: i64) -> anyhow::Result<()> {
    tx.open_table(LAST_LOGINS)?.insert(user_id, at)?;
    Ok(())
}

/// When account `user_id` last logged in (Unix seconds), if ever since this
/// was kept.
pub fn get(tx: &ReadTransaction, user_id: u64) -> anyhow::Result<Option<i64>> {
    Ok(tx.open_table(LAST_LOGINS)?.get(user_id)?.map(|v| v.value()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_last_login_is_kept_per_account() {
        let dir = tempfile::tempdir().unwrap();
        let store = crate::store::Store::open(dir.path()).unwrap();
        store
            .write_ok(|tx| {
                set(tx, 3, 100)?;
                set(tx, 3, 200)
            })
            .await
            .unwrap();
        let got = store
            .read(|tx| Ok((get(tx, 3)?, get(tx, 4)?)))
            .await
            .unwrap();
        assert_eq!(got, (Some(200), None));
    }
}
