//! Backups and restore of the database.
//!
//! A backup is a new redb file holding every table as one read
//! transaction saw it (a consistent snapshot, taken while the server keeps
//! serving): it is written under a temporary name next to the target,
//! committed with `Immediate` durability, synced, then linked into place
//! (never over an existing file), mode 0600. Every table of the source must
//! be one the copy knows: a table added to `tables.rs` but not here makes
//! the backup fail instead of being silently left out.
//!
//! A restore (server stopped) checks that the file is a MAMIS database of a
//! schema version this binary reads, copies it into the data folder under a
//! temporary name, opens the copy (redb repairs it if it was taken from a
//! crashed file), keeps the current database as
//! `mamis.redb.before-restore-<time>`, and renames the copy over
//! `mamis.redb`.
//!
//! The schedule (`MAMIS_BACKUP_DIR`) writes `mamis-YYYYMMDD-HHMMSS.redb` (JST)
//! once per `Config::backup_interval` and keeps the newest
//! `MAMIS_BACKUP_KEEP`.

use std::{
    collections::BTreeSet,
    fmt::Write as _,
    path::{Path, PathBuf},
    sync::Arc,
    time::{Duration, SystemTime},
};

use anyhow::{Context, bail};
use redb::{
    Database, Key, MultimapTableDefinition, MultimapTableHandle, ReadTransaction, ReadableDatabase,
    ReadableMultimapTable, ReadableTable, TableDefinition, TableError, TableHandle, Value,
    WriteTransaction,
};

use super::{DB_FILE, Store, tables};
use crate::config::Config;

/// redb's page cache for a backup or restore copy.
const COPY_CACHE_BYTES: usize = 4 * 1024 * 1024;

/// File names the schedule writes: `mamis-YYYYMMDD-HHMMSS.redb`.
const SCHEDULED_PREFIX: &str = "mamis-";
const SCHEDULED_SUFFIX: &str = ".redb";

/// The first scheduled backup after a start waits at most this long (when
/// the newest one is older than the interval).
const FIRST_DELAY: Duration = Duration::from_secs(60);

/// After a failed scheduled backup, the next try waits at most this long.
const RETRY_DELAY: Duration = Duration::from_secs(3600);

/// What a backup wrote.
#[derive(Clone, Debug)]
pub struct BackupReport {
    pub path: PathBuf,
    pub bytes: u64,
    /// Table name → rows copied, in copy order.
    pub tables: Vec<(String, u64)>,
}

impl BackupReport {
    /// Rows copied, all tables together.
    pub fn rows(&self) -> u64 {
        self.tables.iter().map(|(_, n)| n).sum()
    }

    /// Rows of one table (0 when absent).
    pub fn rows_of(&self, table: &str) -> u64 {
        self.tables
            .iter()
            .find(|(t, _)| t == table)
            .map_or(0, |(_, n)| *n)
    }

    /// Two lines for the operator: the file and its size, then the counts.
    pub fn summary(&self) -> String {
        let mut s = format!(
            "backup written to {} ({} bytes)\n{} tables, {} rows:",
            self.path.display(),
            self.bytes,
            self.tables.len(),
            self.rows()
        );
        for (t, n) in &self.tables {
            let _ = write!(s, " {t} {n},");
        }
        s.pop();
        s
    }
}

/// What a restore did.
#[derive(Clone, Debug)]
pub struct RestoreReport {
    /// The database now in place.
    pub database: PathBuf,
    /// Where the database it replaced was kept (none when there was none).
    pub previous: Option<PathBuf>,
    pub schema_version: u32,
    pub users: u64,
}

impl RestoreReport {
    pub fn summary(&self, from: &Path) -> String {
        let mut s = format!(
            "restored {} into {} (schema version {}, {} accounts)",
            from.display(),
            self.database.display(),
            self.schema_version,
            self.users
        );
        match &self.previous {
            Some(p) => {
                let _ = write!(s, "\nthe previous database is kept as {}", p.display());
            }
            None => s.push_str("\nthere was no previous database"),
        }
        s
    }
}

impl Store {
    /// Writes a consistent copy of the database to `dest` (a new file; an
    /// existing one is never replaced). Runs on a blocking thread.
    pub async fn backup_to(&self, dest: &Path) -> anyhow::Result<BackupReport> {
        let db = self.db.clone();
        let dest = dest.to_owned();
        tokio::task::spawn_blocking(move || backup_database(&db, &dest))
            .await
            .context("backup task failed")?
    }
}

/// Copies one snapshot of `db` into a new redb file at `dest`.
pub fn backup_database(db: &Database, dest: &Path) -> anyhow::Result<BackupReport> {
    let (dir, name) = split_target(dest)?;
    if dest.exists() {
        bail!(
            "{} already exists: a backup never replaces a file, choose a new name",
            dest.display()
        );
    }
    if !dir.is_dir() {
        bail!(
            "cannot write {}: the folder {} does not exist",
            dest.display(),
            dir.display()
        );
    }
    let tmp = dir.join(format!(
        ".{name}.{}-{:08x}.tmp",
        std::process::id(),
        rand::random::<u32>()
    ));
    let result = write_copy(db, &tmp)
        .with_context(|| format!("cannot write {}", dest.display()))
        .and_then(|tables| {
            link_new(&tmp, dest)?;
            sync_dir(&dir);
            let bytes = std::fs::metadata(dest)
                .with_context(|| format!("cannot read {}", dest.display()))?
                .len();
            Ok(BackupReport {
                path: dest.to_owned(),
                bytes,
                tables,
            })
        });
    let _ = std::fs::remove_file(&tmp);
    result
}

/// The folder and file name of a target path.
fn split_target(dest: &Path) -> anyhow::Result<(PathBuf, String)> {
    let name = dest
        .file_name()
        .and_then(|n| n.to_str())
        .with_context(|| format!("{}: not a file name", dest.display()))?
        .to_owned();
    let dir = match dest.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_owned(),
        _ => PathBuf::from("."),
    };
    Ok((dir, name))
}

/// Creates `tmp` (0600), copies every table of one read transaction of `db`
/// into it in one write transaction, commits and syncs it.
fn write_copy(db: &Database, tmp: &Path) -> anyhow::Result<Vec<(String, u64)>> {
    super::create_private_file(tmp)?;
    let mut copy = Database::builder()
        .set_cache_size(COPY_CACHE_BYTES)
        .create(tmp)
        .with_context(|| format!("cannot create {}", tmp.display()))?;
    let src = db.begin_read().context("begin read")?;
    let dst = copy.begin_write().context("begin write of the copy")?;
    let tables = copy_all(&src, &dst)?;
    dst.commit().context("commit the copy")?;
    drop(src);
    // Only makes the file smaller; the copy is complete without it.
    if let Err(e) = copy.compact() {
        tracing::warn!(error = %e, "compaction of the backup skipped");
    }
    drop(copy);
    sync_file(tmp)?;
    Ok(tables)
}

/// Copies every table of `src` into `dst`; fails when `src` holds a table
/// this function does not know.
fn copy_all(src: &ReadTransaction, dst: &WriteTransaction) -> anyhow::Result<Vec<(String, u64)>> {
    let mut copied: Vec<(String, u64)> = Vec::new();
    macro_rules! copy {
        ($($table:ident),* $(,)?) => {
            $(
                if let Some(n) = copy_table(src, dst, tables::$table)? {
                    copied.push((tables::$table.name().to_owned(), n));
                }
            )*
        };
    }
    // Every `TableDefinition` of `tables.rs`, with its types.
    copy!(
        META,
        COUNTERS,
        USERS,
        USERS_BY_LOGIN,
        USERS_BY_EMAIL,
        USERS_BY_REGISTRY,
        EMAIL_TOKENS,
        EMAIL_CHANGES,
        OUTBOX,
        OUTBOX_PENDING,
        SESSIONS,
        PASSWORD_RESETS,
        INQUIRIES,
        ANNOUNCEMENTS,
        AUDIT,
        LOGIN_ATTEMPTS,
        LAST_LOGINS,
        ASSOCIATIONS,
        ASSOCIATIONS_BY_NAME,
        POSTCARD_BATCHES,
        IMPORT_UPLOADS,
        IMPORT_SETTINGS,
        APPLICATIONS,
        OPEN_APPLICATIONS,
        MEMBERSHIPS,
        PERSON_FACETS,
        STAFF_CONTACTS,
    );
    macro_rules! copy_multimap {
        ($($table:ident),* $(,)?) => {
            $(
                if let Some(n) = copy_multimap_table(src, dst, tables::$table)? {
                    copied.push((tables::$table.name().to_owned(), n));
                }
            )*
        };
    }
    // Every `MultimapTableDefinition` of `tables.rs`.
    copy_multimap!(
        PERSONS_BY_KANA,
        PERSONS_BY_NAME,
        PERSONS_BY_PHONE,
        AUDIT_BY_TARGET,
        APPLICATIONS_BY_QUEUE,
        APPLICATIONS_BY_PERSON,
        PERSONS_BY_BIRTH,
        AUDIT_BY_TARGET
    );
    let known: BTreeSet<&str> = copied.iter().map(|(t, _)| t.as_str()).collect();
    let mut missing: Vec<String> = src
        .list_tables()
        .context("list tables")?
        .map(|t| t.name().to_owned())
        .filter(|t| !known.contains(t.as_str()))
        .collect();
    missing.extend(
        src.list_multimap_tables()
            .context("list multimap tables")?
            .map(|t| t.name().to_owned())
            .filter(|t| !known.contains(t.as_str())),
    );
    if !missing.is_empty() {
        bail!(
            "the database holds tables the backup does not know ({}): nothing was written; \
             this MAMIS build must list them in src/store/backup.rs",
            missing.join(", ")
        );
    }
    Ok(copied)
}

/// Copies one table row by row; `None` when the source does not have it.
fn copy_table<K: Key + 'static, V: Value + 'static>(
    src: &ReadTransaction,
    dst: &WriteTransaction,
    def: TableDefinition<K, V>,
) -> anyhow::Result<Option<u64>> {
    let from = match src.open_table(def) {
        Ok(t) => t,
        Err(TableError::TableDoesNotExist(_)) => return Ok(None),
        Err(e) => {
            return Err(anyhow::Error::new(e).context(format!("open table {}", def.name())));
        }
    };
    let mut to = dst
        .open_table(def)
        .with_context(|| format!("create table {} in the copy", def.name()))?;
    let mut n = 0u64;
    for row in from
        .iter()
        .with_context(|| format!("read table {}", def.name()))?
    {
        let (k, v) = row.with_context(|| format!("read table {}", def.name()))?;
        to.insert(k.value(), v.value())
            .with_context(|| format!("write table {} in the copy", def.name()))?;
        n += 1;
    }
    Ok(Some(n))
}

/// Copies one multimap table; `None` when the source does not have it.
/// Counts one row per key and value.
fn copy_multimap_table<K: Key + 'static, V: Key + 'static>(
    src: &ReadTransaction,
    dst: &WriteTransaction,
    def: MultimapTableDefinition<K, V>,
) -> anyhow::Result<Option<u64>> {
    let from = match src.open_multimap_table(def) {
        Ok(t) => t,
        Err(TableError::TableDoesNotExist(_)) => return Ok(None),
        Err(e) => {
            return Err(anyhow::Error::new(e).context(format!("open table {}", def.name())));
        }
    };
    let mut to = dst
        .open_multimap_table(def)
        .with_context(|| format!("create table {} in the copy", def.name()))?;
    let mut n = 0u64;
    for row in from
        .iter()
        .with_context(|| format!("read table {}", def.name()))?
    {
        let (k, values) = row.with_context(|| format!("read table {}", def.name()))?;
        for v in values {
            let v = v.with_context(|| format!("read table {}", def.name()))?;
            to.insert(k.value(), v.value())
                .with_context(|| format!("write table {} in the copy", def.name()))?;
            n += 1;
        }
    }
    Ok(Some(n))
}

/// Puts `tmp` at `dest` unless `dest` exists (a hard link fails rather than
/// replace; where links are not supported, a checked rename).
fn link_new(tmp: &Path, dest: &Path) -> anyhow::Result<()> {
    match std::fs::hard_link(tmp, dest) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => bail!(
            "{} already exists: a backup never replaces a file, choose a new name",
            dest.display()
        ),
        Err(_) if !dest.exists() => {
            std::fs::rename(tmp, dest).with_context(|| format!("cannot write {}", dest.display()))
        }
        Err(e) => Err(anyhow::Error::new(e).context(format!("cannot write {}", dest.display()))),
    }
}

fn sync_file(path: &Path) -> anyhow::Result<()> {
    std::fs::File::open(path)
        .and_then(|f| f.sync_all())
        .with_context(|| format!("cannot sync {}", path.display()))
}

/// Makes a rename or link in `dir` durable (best effort).
fn sync_dir(dir: &Path) {
    #[cfg(unix)]
    if let Ok(d) = std::fs::File::open(dir) {
        let _ = d.sync_all();
    }
    #[cfg(not(unix))]
    let _ = dir;
}

// ---------------------------------------------------------------------------
// Restore
// ---------------------------------------------------------------------------

/// Checks a backup without changing it: a redb file, holding a MAMIS
/// database of a schema version this binary can read. Returns the schema
/// version and the number of accounts. Opens it read-only; a file that
/// needs repair (a copy of a crashed database) is reported as such.
pub fn inspect(file: &Path) -> anyhow::Result<(u32, u64)> {
    super::check_magic(file)?;
    if std::fs::metadata(file)
        .with_context(|| format!("cannot read {}", file.display()))?
        .len()
        == 0
    {
        bail!("{} is empty, not a MAMIS database", file.display());
    }
    let db = Database::builder()
        .set_cache_size(COPY_CACHE_BYTES)
        .open_read_only(file)
        .map_err(|e| open_error(file, e))?;
    let tx = db.begin_read().context("begin read")?;
    check_contents(file, &tx)
}

/// The schema version and account count of an open database, or why it is
/// not a MAMIS database this binary can read.
fn check_contents(file: &Path, tx: &ReadTransaction) -> anyhow::Result<(u32, u64)> {
    let not_mamis =
        || anyhow::anyhow!("{} is a redb file but not a MAMIS database", file.display());
    let meta = match tx.open_table(tables::META) {
        Ok(t) => t,
        Err(TableError::TableDoesNotExist(_)) => return Err(not_mamis()),
        Err(e) => return Err(anyhow::Error::new(e).context(format!("read {}", file.display()))),
    };
    let version = meta
        .get("schema_version")
        .with_context(|| format!("read {}", file.display()))?
        .and_then(|v| <[u8; 4]>::try_from(v.value()).ok())
        .map(u32::from_be_bytes)
        .ok_or_else(not_mamis)?;
    if version > tables::SCHEMA_VERSION {
        bail!(
            "{} has schema version {version}, newer than this MAMIS reads ({}): \
             restore it with the newer mamis that wrote it",
            file.display(),
            tables::SCHEMA_VERSION
        );
    }
    if version == 0 {
        return Err(not_mamis());
    }
    let users = match tx.open_table(tables::USERS) {
        Ok(t) => redb::ReadableTableMetadata::len(&t)
            .with_context(|| format!("read {}", file.display()))?,
        Err(TableError::TableDoesNotExist(_)) => 0,
        Err(e) => return Err(anyhow::Error::new(e).context(format!("read {}", file.display()))),
    };
    Ok((version, users))
}

fn open_error(file: &Path, e: redb::DatabaseError) -> anyhow::Error {
    match e {
        redb::DatabaseError::DatabaseAlreadyOpen => anyhow::anyhow!(
            "{} is open in another process (a running `mamis serve`?)",
            file.display()
        ),
        other => anyhow::Error::new(other).context(format!(
            "{} cannot be opened as a redb database",
            file.display()
        )),
    }
}

/// Restores `file` as the database of `data_dir` (the server must be
/// stopped: `admin::restore` also asks the operator socket). Nothing in the
/// data folder changes unless the file is a MAMIS database this binary can
/// read and no other process has the database open.
pub async fn restore(file: &Path, data_dir: &Path) -> anyhow::Result<RestoreReport> {
    let file = file.to_owned();
    let data_dir = data_dir.to_owned();
    tokio::task::spawn_blocking(move || restore_blocking(&file, &data_dir))
        .await
        .context("restore task failed")?
}

fn restore_blocking(file: &Path, data_dir: &Path) -> anyhow::Result<RestoreReport> {
    if !file.is_file() {
        bail!("{} is not a file", file.display());
    }
    super::check_magic(file)?;
    if std::fs::metadata(file)
        .with_context(|| format!("cannot read {}", file.display()))?
        .len()
        == 0
    {
        bail!("{} is empty, not a MAMIS database", file.display());
    }
    super::create_private_dir(data_dir)?;
    let current = data_dir.join(DB_FILE);
    if current.exists() {
        // Refuses while another process (a server) has it open.
        match Database::builder()
            .set_cache_size(COPY_CACHE_BYTES)
            .open_read_only(&current)
        {
            Err(redb::DatabaseError::DatabaseAlreadyOpen) => bail!(
                "{} is open in another process (is `mamis serve` running?): stop the \
                 server first; nothing was changed",
                current.display()
            ),
            Ok(db) => drop(db),
            // A database left by a crash, or damaged: it is kept aside anyway.
            Err(_) => {}
        }
    }
    let tmp = data_dir.join(format!(
        ".{DB_FILE}.restore-{}-{:08x}.tmp",
        std::process::id(),
        rand::random::<u32>()
    ));
    let result = prepare_copy(file, &tmp).and_then(|(version, users)| {
        let owner = if current.exists() { &current } else { data_dir };
        match_owner(&tmp, owner)?;
        let previous = put_in_place(&tmp, &current)?;
        sync_dir(data_dir);
        Ok(RestoreReport {
            database: current.clone(),
            previous,
            schema_version: version,
            users,
        })
    });
    let _ = std::fs::remove_file(&tmp);
    result
}

/// Copies `file` to `tmp` (0600), opens the copy read-write (redb repairs a
/// copy of a crashed database), checks it, and syncs it.
fn prepare_copy(file: &Path, tmp: &Path) -> anyhow::Result<(u32, u64)> {
    super::create_private_file(tmp)?;
    {
        let mut from =
            std::fs::File::open(file).with_context(|| format!("cannot read {}", file.display()))?;
        let mut to = std::fs::OpenOptions::new()
            .write(true)
            .open(tmp)
            .with_context(|| format!("cannot write {}", tmp.display()))?;
        std::io::copy(&mut from, &mut to)
            .with_context(|| format!("cannot copy {} to {}", file.display(), tmp.display()))?;
        to.sync_all()
            .with_context(|| format!("cannot sync {}", tmp.display()))?;
    }
    let found = {
        let mut db = Database::builder()
            .set_cache_size(COPY_CACHE_BYTES)
            .open(tmp)
            .map_err(|e| open_error(file, e))?;
        db.check_integrity()
            .with_context(|| format!("{} is damaged", file.display()))?;
        let tx = db.begin_read().context("begin read")?;
        check_contents(file, &tx)?
    };
    sync_file(tmp)?;
    Ok(found)
}

/// Gives the restored copy the owner of the database it replaces (or of the
/// data folder), so that a restore run as root leaves a file the server's
/// user can open.
#[cfg(unix)]
fn match_owner(tmp: &Path, like: &Path) -> anyhow::Result<()> {
    use std::os::unix::fs::MetadataExt as _;
    let want =
        std::fs::metadata(like).with_context(|| format!("cannot read {}", like.display()))?;
    let have = std::fs::metadata(tmp).with_context(|| format!("cannot read {}", tmp.display()))?;
    if want.uid() != have.uid() {
        std::os::unix::fs::chown(tmp, Some(want.uid()), Some(want.gid())).with_context(|| {
            format!(
                "cannot give the restored database to the owner of {} (uid {}): run the \
                 restore as that user or as root; nothing was changed",
                like.display(),
                want.uid()
            )
        })?;
    } else if want.gid() != have.gid() {
        let _ = std::os::unix::fs::chown(tmp, None, Some(want.gid()));
    }
    Ok(())
}

#[cfg(not(unix))]
fn match_owner(_tmp: &Path, _like: &Path) -> anyhow::Result<()> {
    Ok(())
}

/// Keeps the current database (if any) as `mamis.redb.before-restore-<time>`
/// and renames `tmp` over it. The current file is linked aside first, so
/// that `mamis.redb` is at every moment either the old or the new database.
fn put_in_place(tmp: &Path, current: &Path) -> anyhow::Result<Option<PathBuf>> {
    let previous = if current.exists() {
        let aside = current.with_file_name(format!(
            "{DB_FILE}.before-restore-{}",
            timestamp(SystemTime::now())
        ));
        match std::fs::hard_link(current, &aside) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => bail!(
                "{} already exists (two restores in one second?); nothing was changed",
                aside.display()
            ),
            Err(_) => std::fs::rename(current, &aside).with_context(|| {
                format!(
                    "cannot move {} aside to {}; nothing was changed",
                    current.display(),
                    aside.display()
                )
            })?,
        }
        Some(aside)
    } else {
        None
    };
    std::fs::rename(tmp, current)
        .with_context(|| format!("cannot put the restored copy at {}", current.display()))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        std::fs::set_permissions(current, std::fs::Permissions::from_mode(0o600))
            .with_context(|| format!("cannot chmod 0600 {}", current.display()))?;
    }
    Ok(previous)
}

/// `YYYYMMDD-HHMMSS` in JST.
pub fn timestamp(t: SystemTime) -> String {
    let t = time::OffsetDateTime::from(t).to_offset(time::macros::offset!(+9));
    format!(
        "{:04}{:02}{:02}-{:02}{:02}{:02}",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    )
}

// ---------------------------------------------------------------------------
// Schedule
// ---------------------------------------------------------------------------

/// True for the names the schedule writes.
pub fn is_scheduled_name(name: &str) -> bool {
    let Some(stamp) = name
        .strip_prefix(SCHEDULED_PREFIX)
        .and_then(|s| s.strip_suffix(SCHEDULED_SUFFIX))
    else {
        return false;
    };
    let b = stamp.as_bytes();
    b.len() == 15
        && b[8] == b'-'
        && b.iter()
            .enumerate()
            .all(|(i, c)| i == 8 || c.is_ascii_digit())
}

/// Scheduled backups in `dir`, oldest first (their names sort by time).
pub fn scheduled_backups(dir: &Path) -> anyhow::Result<Vec<PathBuf>> {
    let mut found: Vec<PathBuf> = std::fs::read_dir(dir)
        .with_context(|| format!("cannot read the backup folder {}", dir.display()))?
        .filter_map(Result::ok)
        .filter(|e| e.file_name().to_str().is_some_and(is_scheduled_name))
        .map(|e| e.path())
        .collect();
    found.sort();
    Ok(found)
}

/// How long to wait for the first backup after a start, given the age of
/// the newest one.
pub fn first_wait(newest_age: Option<Duration>, interval: Duration) -> Duration {
    let soon = FIRST_DELAY.min(interval);
    match newest_age {
        Some(age) if age < interval => (interval - age).max(soon),
        _ => soon,
    }
}

/// Writes one scheduled backup into `dir` and removes the oldest beyond
/// `keep`; returns what was written.
pub async fn scheduled_backup(
    store: &Store,
    dir: &Path,
    keep: usize,
) -> anyhow::Result<BackupReport> {
    {
        let dir = dir.to_owned();
        tokio::task::spawn_blocking(move || super::create_private_dir(&dir))
            .await
            .context("backup task failed")??;
    }
    let name = format!(
        "{SCHEDULED_PREFIX}{}{SCHEDULED_SUFFIX}",
        timestamp(SystemTime::now())
    );
    let report = store.backup_to(&dir.join(name)).await?;
    let dir = dir.to_owned();
    let removed = tokio::task::spawn_blocking(move || prune(&dir, keep))
        .await
        .context("backup task failed")??;
    for p in removed {
        tracing::info!(path = %p.display(), "old backup removed");
    }
    Ok(report)
}

/// Removes the oldest scheduled backups beyond `keep`; returns them.
fn prune(dir: &Path, keep: usize) -> anyhow::Result<Vec<PathBuf>> {
    let all = scheduled_backups(dir)?;
    let excess = all.len().saturating_sub(keep.max(1));
    let mut removed = Vec::new();
    for p in all.into_iter().take(excess) {
        match std::fs::remove_file(&p) {
            Ok(()) => removed.push(p),
            Err(e) => {
                tracing::error!(path = %p.display(), error = %e, "cannot remove an old backup")
            }
        }
    }
    Ok(removed)
}

/// Removes temporary files a backup interrupted by a crash left in `dir`.
fn remove_stale_temporaries(dir: &Path) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.filter_map(Result::ok) {
        let stale = e
            .file_name()
            .to_str()
            .is_some_and(|n| n.starts_with(&format!(".{SCHEDULED_PREFIX}")) && n.ends_with(".tmp"));
        if stale {
            let _ = std::fs::remove_file(e.path());
        }
    }
}

/// The backup schedule: nothing without `MAMIS_BACKUP_DIR`; otherwise one
/// backup shortly after start when the newest is older than the interval,
/// then one per interval.
pub async fn schedule(store: Store, config: Arc<Config>) {
    let Some(dir) = config.backup_dir.clone() else {
        return;
    };
    let interval = config.backup_interval.max(Duration::from_secs(1));
    let keep = config.backup_keep;
    let newest_age = {
        let dir = dir.clone();
        tokio::task::spawn_blocking(move || {
            remove_stale_temporaries(&dir);
            let newest = scheduled_backups(&dir).ok()?.pop()?;
            let modified = std::fs::metadata(newest).ok()?.modified().ok()?;
            Some(
                SystemTime::now()
                    .duration_since(modified)
                    .unwrap_or_default(),
            )
        })
        .await
        .ok()
        .flatten()
    };
    let mut wait = first_wait(newest_age, interval);
    tracing::info!(
        folder = %dir.display(),
        keep,
        first_in_seconds = wait.as_secs(),
        "backup schedule on"
    );
    loop {
        tokio::time::sleep(wait).await;
        match scheduled_backup(&store, &dir, keep).await {
            Ok(r) => {
                tracing::info!(
                    path = %r.path.display(),
                    bytes = r.bytes,
                    tables = r.tables.len(),
                    rows = r.rows(),
                    "backup written"
                );
                wait = interval;
            }
            Err(e) => {
                tracing::error!(folder = %dir.display(), error = format!("{e:#}"), "scheduled backup failed");
                wait = interval.min(RETRY_DELAY);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_table_of_the_schema_is_copied() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("data")).unwrap();
        let src = store.db.begin_read().unwrap();
        let copy_path = dir.path().join("copy.redb");
        let copy = Database::create(&copy_path).unwrap();
        let dst = copy.begin_write().unwrap();
        let copied = copy_all(&src, &dst).unwrap();
        let mut names: BTreeSet<String> = src
            .list_tables()
            .unwrap()
            .map(|t| t.name().to_owned())
            .collect();
        names.extend(
            src.list_multimap_tables()
                .unwrap()
                .map(|t| t.name().to_owned()),
        );
        let copied_names: BTreeSet<String> = copied.into_iter().map(|(t, _)| t).collect();
        assert_eq!(
            names, copied_names,
            "a table of tables::create_all is not copied"
        );
    }

    #[test]
    fn an_unknown_table_makes_the_backup_fail() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("data")).unwrap();
        {
            let tx = store.db.begin_write().unwrap();
            tx.open_table(TableDefinition::<u64, u64>::new("added_later"))
                .unwrap();
            tx.commit().unwrap();
        }
        let dest = dir.path().join("b.redb");
        let err = backup_database(&store.db, &dest).unwrap_err();
        assert!(format!("{err:#}").contains("added_later"), "{err:#}");
        assert!(!dest.exists());
        let left: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
        assert_eq!(left.len(), 1, "a temporary file was left: {left:?}");
    }

    /// The cost of a backup of a large database (`cargo test --release --lib
    /// backup_cost -- --ignored --nocapture`): time, size, peak memory.
    #[test]
    #[ignore = "measurement"]
    fn backup_cost() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("data")).unwrap();
        let rows: u64 = std::env::var("ROWS")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(200_000);
        let record = vec![b'x'; 400];
        for chunk in 0..rows / 10_000 {
            let tx = store.db.begin_write().unwrap();
            {
                let mut t = tx.open_table(tables::AUDIT).unwrap();
                for i in 0..10_000 {
                    t.insert(chunk * 10_000 + i, record.as_slice()).unwrap();
                }
            }
            tx.commit().unwrap();
        }
        let db_bytes = std::fs::metadata(dir.path().join("data").join(DB_FILE))
            .unwrap()
            .len();
        let _ = std::fs::write("/proc/self/clear_refs", "5");
        let started = std::time::Instant::now();
        let report = backup_database(&store.db, &dir.path().join("b.redb")).unwrap();
        let took = started.elapsed();
        let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
        let peak = status
            .lines()
            .find(|l| l.starts_with("VmHWM"))
            .unwrap_or("")
            .to_owned();
        let rss = status
            .lines()
            .find(|l| l.starts_with("VmRSS"))
            .unwrap_or("")
            .to_owned();
        println!(
            "rows {} db {db_bytes} bytes, backup {} bytes in {took:?}; {peak}; {rss}",
            report.rows(),
            report.bytes
        );
    }

    #[test]
    fn scheduled_names() {
        assert!(is_scheduled_name("mamis-20261202-153000.redb"));
        assert!(!is_scheduled_name("mamis-20261202-1530.redb"));
        assert!(!is_scheduled_name("mamis-2026120x-153000.redb"));
        assert!(!is_scheduled_name(".mamis-20261202-153000.redb.1-0.tmp"));
        assert!(!is_scheduled_name("mamis.redb"));
        let t = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        // 2023-11-14 22:13:20 UTC is 2023-11-15 07:13:20 JST.
        assert_eq!(timestamp(t), "20231115-071320");
    }

    #[test]
    fn the_first_backup_comes_soon_unless_a_recent_one_exists() {
        let day = Duration::from_secs(86400);
        assert_eq!(first_wait(None, day), FIRST_DELAY);
        assert_eq!(first_wait(Some(day * 2), day), FIRST_DELAY);
        assert_eq!(
            first_wait(Some(day - Duration::from_secs(3600)), day),
            Duration::from_secs(3600)
        );
        assert_eq!(
            first_wait(Some(day - Duration::from_secs(1)), day),
            FIRST_DELAY
        );
        let short = Duration::from_millis(500);
        assert_eq!(first_wait(None, short), short);
    }
}
