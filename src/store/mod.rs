//! The redb store: one file in the data folder, opened by one process.
//!
//! Every call runs on a blocking thread (`spawn_blocking`), never holding a
//! transaction across an `.await`. Writes commit with redb's default
//! `Immediate` durability: what a user was told is saved survives a crash.
//! Records are JSON values in typed tables (`tables.rs`), under a schema
//! version that `open` brings up to date (`migrations.rs`).

pub mod announcements;
pub mod applications;
pub mod associations;
pub mod audit;
pub mod backup;
pub mod email_changes;
pub mod imports;
pub mod inquiries;
pub mod last_logins;
pub mod login_attempts;
pub mod memberships;
pub mod migrations;
pub mod outbox;
pub mod person_index;
pub mod postcards;
pub mod resets;
pub mod staff;
pub mod tables;
pub mod tokens;
pub mod users;

use std::{path::Path, sync::Arc};

use anyhow::{Context, bail};
use redb::{
    Database, ReadTransaction, ReadableDatabase, ReadableTable, TableError, WriteTransaction,
};
use serde::{Serialize, de::DeserializeOwned};

use tables::{COUNTERS, META, SCHEMA_VERSION};

/// The database file's name inside the data folder.
pub const DB_FILE: &str = "mamis.redb";

/// redb's page cache: small, the whole database of an association fits.
const CACHE_BYTES: usize = 16 * 1024 * 1024;

/// A cheap-to-clone handle on the open database.
#[derive(Clone)]
pub struct Store {
    db: Arc<Database>,
    /// The people search's facets held in memory (`person_index`).
    facets: Arc<person_index::FacetCache>,
}

impl Store {
    /// Opens (or creates) `<data_dir>/mamis.redb`, checks that it is a redb
    /// file of a schema this binary knows, compacts it, migrates it to the
    /// current schema and creates any missing tables. A database of a newer
    /// schema is refused before anything is written to it.
    pub fn open(data_dir: &Path) -> anyhow::Result<Store> {
        create_private_dir(data_dir)?;
        let path = data_dir.join(DB_FILE);
        if path.exists() {
            check_magic(&path)?;
            warn_if_shared(&path);
        } else {
            create_private_file(&path)?;
        }
        let mut db = Database::builder()
            .set_cache_size(CACHE_BYTES)
            .create(&path)
            .map_err(|e| match e {
                redb::DatabaseError::DatabaseAlreadyOpen => anyhow::anyhow!(
                    "{} is already open in another process (is `mamis serve` running?)",
                    path.display()
                ),
                other => {
                    anyhow::Error::new(other).context(format!("cannot open {}", path.display()))
                }
            })?;
        refuse_newer(&db)?;
        if let Err(e) = db.compact() {
            tracing::warn!(error = %e, "compaction skipped");
        }
        let store = Store {
            db: Arc::new(db),
            facets: Arc::default(),
        };
        store.init_schema()?;
        Ok(store)
    }

    /// Creates the missing tables and brings the schema to
    /// [`SCHEMA_VERSION`], all in one write transaction.
    fn init_schema(&self) -> anyhow::Result<()> {
        let tx = self.db.begin_write()?;
        let found = {
            let meta = tx.open_table(META)?;
            let v = meta.get("schema_version")?;
            v.map(|v| version_of(v.value())).transpose()?
        };
        if let Some(v) = found {
            check_not_newer(v)?;
        }
        tables::create_all(&tx)?;
        let seeded = associations::seed(&tx)?;
        let report = match found {
            Some(v) if v < SCHEMA_VERSION => Some(migrations::run(&tx, v)?),
            _ => None,
        };
        if found != Some(SCHEMA_VERSION) {
            tx.open_table(META)?
                .insert("schema_version", SCHEMA_VERSION.to_be_bytes().as_slice())?;
        }
        tx.commit().context("commit the schema")?;
        if seeded > 0 {
            tracing::info!(
                seeded,
                "associations added: 日本医師会 and the prefectural associations"
            );
        }
        if let Some(r) = report {
            tracing::info!(
                from = r.from,
                to = r.to,
                accounts = r.accounts,
                persons = r.persons,
                index_entries = r.index_entries,
                "database migrated"
            );
        }
        Ok(())
    }

    /// The people search's in-memory facets, to take into a read.
    pub fn facet_cache(&self) -> Arc<person_index::FacetCache> {
        self.facets.clone()
    }

    /// Runs `f` in a read transaction on a blocking thread.
    pub async fn read<T, F>(&self, f: F) -> anyhow::Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&ReadTransaction) -> anyhow::Result<T> + Send + 'static,
    {
        let db = self.db.clone();
        tokio::task::spawn_blocking(move || {
            let tx = db.begin_read().context("begin read")?;
            f(&tx)
        })
        .await
        .context("store task failed")?
    }

    /// Runs a short read (a key or two) on the calling thread. redb reads
    /// never wait for writers and these touch cached pages only, so handing
    /// them to a blocking thread would cost more than the read itself. Use
    /// `read` for anything that scans.
    pub fn read_now<T>(
        &self,
        f: impl FnOnce(&ReadTransaction) -> anyhow::Result<T>,
    ) -> anyhow::Result<T> {
        let tx = self.db.begin_read().context("begin read")?;
        f(&tx)
    }

    /// Runs `f` in a write transaction on a blocking thread and commits it
    /// when `f` returns `Ok(Ok(_))`. `Ok(Err(_))` is a refusal decided inside
    /// the transaction (nothing is written); `Err` is an internal failure.
    pub async fn write<T, R, F>(&self, f: F) -> anyhow::Result<Result<T, R>>
    where
        T: Send + 'static,
        R: Send + 'static,
        F: FnOnce(&WriteTransaction) -> anyhow::Result<Result<T, R>> + Send + 'static,
    {
        let db = self.db.clone();
        tokio::task::spawn_blocking(move || {
            let tx = db.begin_write().context("begin write")?;
            match f(&tx)? {
                Ok(v) => {
                    tx.commit().context("commit")?;
                    Ok(Ok(v))
                }
                Err(r) => {
                    tx.abort().context("abort")?;
                    Ok(Err(r))
                }
            }
        })
        .await
        .context("store task failed")?
    }

    /// Like `write`, for changes that cannot be refused.
    pub async fn write_ok<T, F>(&self, f: F) -> anyhow::Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&WriteTransaction) -> anyhow::Result<T> + Send + 'static,
    {
        self.write(move |tx| f(tx).map(Ok::<T, ()>))
            .await?
            .map_err(|()| anyhow::anyhow!("unreachable refusal"))
    }

    /// Appends one entry to the audit log in its own transaction (for events
    /// that change nothing else, such as a failed login).
    pub async fn audit(&self, entry: audit::AuditEntry) -> anyhow::Result<()> {
        self.write_ok(move |tx| audit::record(tx, entry).map(|_| ()))
            .await
    }

    /// Reads or creates a random 32-byte secret kept in the database (the
    /// CSRF key), so that it survives restarts.
    pub fn secret(&self, name: &'static str) -> anyhow::Result<[u8; 32]> {
        let tx = self.db.begin_write()?;
        let key = {
            let mut meta = tx.open_table(META)?;
            let existing = meta.get(name)?.map(|v| v.value().to_vec());
            match existing.and_then(|v| <[u8; 32]>::try_from(v.as_slice()).ok()) {
                Some(k) => k,
                None => {
                    let k: [u8; 32] = rand::random();
                    meta.insert(name, k.as_slice())?;
                    k
                }
            }
        };
        tx.commit()?;
        Ok(key)
    }
}

/// Reads a stored schema version.
fn version_of(bytes: &[u8]) -> anyhow::Result<u32> {
    <[u8; 4]>::try_from(bytes)
        .map(u32::from_be_bytes)
        .map_err(|_| anyhow::anyhow!("unreadable database schema version {bytes:?}"))
}

/// Refuses a database written by a newer MAMIS.
fn check_not_newer(version: u32) -> anyhow::Result<()> {
    if version > SCHEMA_VERSION {
        bail!(
            "database schema version {version} is newer than this MAMIS (schema \
             {SCHEMA_VERSION}): run a newer MAMIS on it; nothing was changed"
        );
    }
    Ok(())
}

/// Refuses a database of a newer schema before compaction may rewrite it.
fn refuse_newer(db: &Database) -> anyhow::Result<()> {
    let tx = db.begin_read()?;
    let meta = match tx.open_table(META) {
        Ok(t) => t,
        Err(TableError::TableDoesNotExist(_)) => return Ok(()),
        Err(e) => return Err(e.into()),
    };
    match meta.get("schema_version")? {
        Some(v) => check_not_newer(version_of(v.value())?),
        None => Ok(()),
    }
}

/// Takes the next number of a named sequence inside a write transaction.
pub fn next_id(tx: &WriteTransaction, sequence: &str) -> anyhow::Result<u64> {
    let mut counters = tx.open_table(COUNTERS)?;
    let next = counters.get(sequence)?.map_or(1, |v| v.value() + 1);
    counters.insert(sequence, next)?;
    Ok(next)
}

/// Encodes a record for a table value.
pub fn encode<T: Serialize>(value: &T) -> anyhow::Result<Vec<u8>> {
    serde_json::to_vec(value).context("encode record")
}

/// Decodes a record read from a table.
pub fn decode<T: DeserializeOwned>(bytes: &[u8]) -> anyhow::Result<T> {
    serde_json::from_slice(bytes).context("decode record")
}

/// Creates the data folder readable by its owner only (0700); a folder that
/// exists keeps its mode, with a warning when others may read it.
pub fn create_private_dir(dir: &Path) -> anyhow::Result<()> {
    if dir.is_dir() {
        warn_if_shared(dir);
        return Ok(());
    }
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder
        .create(dir)
        .with_context(|| format!("cannot create the data folder {}", dir.display()))
}

/// Creates an empty database file readable by its owner only (0600); redb
/// then initialises it.
fn create_private_file(path: &Path) -> anyhow::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options
        .open(path)
        .map(drop)
        .with_context(|| format!("cannot create {}", path.display()))
}

/// Warns when group or others may read or enter `path` (the database holds
/// password hashes and personal data).
fn warn_if_shared(path: &Path) {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        if let Ok(meta) = std::fs::metadata(path) {
            let mode = meta.permissions().mode() & 0o777;
            if mode & 0o077 != 0 {
                tracing::warn!(
                    path = %path.display(),
                    mode = format!("{mode:o}"),
                    "other users of this machine may read MAMIS data: chmod go-rwx"
                );
            }
        }
    }
    #[cfg(not(unix))]
    let _ = path;
}

/// Refuses to open a file that is not a redb database (opening one can
/// damage it).
fn check_magic(path: &Path) -> anyhow::Result<()> {
    use std::io::Read;
    let mut head = [0u8; 9];
    let mut f =
        std::fs::File::open(path).with_context(|| format!("cannot read {}", path.display()))?;
    let n = f.read(&mut head)?;
    if n == 0 {
        return Ok(());
    }
    if n < head.len() || &head != b"redb\x1A\x0A\xA9\x0D\x0A" {
        bail!(
            "{} is not a MAMIS database (not a redb file)",
            path.display()
        );
    }
    Ok(())
}

/// Current time as Unix seconds.
pub fn now() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}
