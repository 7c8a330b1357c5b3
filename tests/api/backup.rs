//! Backups and restore: a backup taken while people register holds every
//! account acknowledged before it began, and a restore of it brings them
//! back; the operator commands on the real binary (`mamis admin backup`
//! through the socket while it serves, `mamis restore` refused while it
//! runs and accepted after it stops); the daily schedule keeping N files;
//! and restores refused without a change when the file is not one MAMIS
//! can read.

use std::{
    os::unix::fs::PermissionsExt as _,
    path::{Path, PathBuf},
    process::Output,
    sync::{
        Arc, Mutex,
        atomic::{AtomicBool, AtomicUsize, Ordering},
    },
    time::{Duration, Instant},
};

use mamis::store::{
    DB_FILE, Store, announcements,
    backup::{self, BackupReport},
    tables, users,
};
use redb::{ReadableDatabase, ReadableTableMetadata, TableDefinition};
use reqwest::StatusCode;

use crate::helpers::*;

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .permissions()
        .mode()
        & 0o777
}

/// File names in a folder, sorted.
fn names_in(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| {
            e.expect("dir entry")
                .file_name()
                .to_string_lossy()
                .into_owned()
        })
        .collect();
    v.sort();
    v
}

// ---------------------------------------------------------------------------
// A backup during registrations, restored
// ---------------------------------------------------------------------------

/// One registration of the stream, with when it was confirmed and when its
/// completion page came back.
struct Done {
    who: Applicant,
    confirm_sent: Instant,
    acknowledged: Instant,
}

/// Registrations running at the same time.
const STREAMS: u32 = 3;
/// Completion pages received before the backup starts.
const ACKS_BEFORE_BACKUP: usize = 4;
/// Registrations each stream still completes after the backup ended.
const AFTER_BACKUP: u32 = 2;

#[tokio::test]
async fn a_backup_taken_during_registrations_restores_every_account_acknowledged_before_it() {
    let app = Arc::new(spawn_app_with(|c| c.mails_per_client_hour = 100_000).await);
    let backups = tempfile::tempdir().expect("temp dir");
    let file = backups.path().join("during.redb");

    let done: Arc<Mutex<Vec<Done>>> = Arc::default();
    let acks = Arc::new(AtomicUsize::new(0));
    let backup_over = Arc::new(AtomicBool::new(false));
    let mut streams = Vec::new();
    for s in 0..STREAMS {
        let (app, done, acks, backup_over) =
            (app.clone(), done.clone(), acks.clone(), backup_over.clone());
        streams.push(tokio::spawn(async move {
            let mut after = 0;
            for i in 0..40u32 {
                if after >= AFTER_BACKUP {
                    break;
                }
                let over_before = backup_over.load(Ordering::SeqCst);
                let who = Applicant::numbered(s * 100 + i);
                let b = app.browser();
                b.start_registration(&who.email).await;
                let link = app.registration_link(&who.email).await;
                let confirm_sent = Instant::now();
                b.finish_registration(&link, &who.fields()).await;
                let acknowledged = Instant::now();
                acks.fetch_add(1, Ordering::SeqCst);
                done.lock().expect("lock").push(Done {
                    who,
                    confirm_sent,
                    acknowledged,
                });
                if over_before {
                    after += 1;
                }
            }
        }));
    }

    // The backup, on the app's own store, while the streams go on.
    let started = Instant::now();
    while acks.load(Ordering::SeqCst) < ACKS_BEFORE_BACKUP {
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "registrations do not complete"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let began = Instant::now();
    let report: BackupReport = app.store.backup_to(&file).await.expect("backup");
    let ended = Instant::now();
    backup_over.store(true, Ordering::SeqCst);
    for s in streams {
        s.await.expect("registration stream");
    }

    assert_eq!(report.path, file);
    assert_eq!(mode(&file), 0o600, "backup file mode");
    assert_eq!(report.bytes, std::fs::metadata(&file).expect("size").len());
    let summary = report.summary();
    assert!(
        summary.contains(&file.display().to_string()) && summary.contains("users"),
        "{summary}"
    );
    // No temporary file is left beside it.
    assert_eq!(names_in(backups.path()), vec!["during.redb".to_owned()]);

    let done = std::mem::take(&mut *done.lock().expect("lock"));
    let before: Vec<&Done> = done.iter().filter(|d| d.acknowledged < began).collect();
    let after: Vec<&Done> = done.iter().filter(|d| d.confirm_sent > ended).collect();
    assert!(
        before.len() >= ACKS_BEFORE_BACKUP,
        "{} before",
        before.len()
    );
    assert!(!after.is_empty(), "no registration after the backup");

    // Restored into a new data folder, served by a new app.
    let target = tempfile::tempdir().expect("temp dir");
    let data = target.path().join("data");
    let restored = backup::restore(&file, &data).await.expect("restore");
    assert_eq!(restored.database, data.join(DB_FILE));
    assert!(restored.previous.is_none());
    assert_eq!(restored.users, report.rows_of("users"));
    assert_eq!(mode(&data.join(DB_FILE)), 0o600);
    let again = spawn_app_with(|c| c.data_dir = data.clone()).await;

    // Everyone acknowledged before the backup began is there and logs in.
    for d in &before {
        again
            .browser()
            .log_in(&d.who.login_id, PASSWORD)
            .await
            .assert_redirect_to("/mypage");
    }
    // Accounts confirmed after it ended are not: the copy is a snapshot.
    for d in &after {
        let login = d.who.login_id.clone();
        let there = again
            .store
            .read(move |tx| users::login_id_taken(tx, &login))
            .await
            .expect("read");
        assert!(!there, "{} registered after the backup", d.who.login_id);
    }
    // Every account is whole: one entry in each index per user.
    let counts = again
        .store
        .read(|tx| {
            Ok([
                table_len(tx, tables::USERS)?,
                table_len(tx, tables::USERS_BY_LOGIN)?,
                table_len(tx, tables::USERS_BY_EMAIL)?,
                table_len(tx, tables::USERS_BY_REGISTRY)?,
            ])
        })
        .await
        .expect("counts");
    assert!(counts.iter().all(|&n| n == counts[0]), "{counts:?}");
    assert_eq!(counts[0], report.rows_of("users"));
}

// ---------------------------------------------------------------------------
// The operator commands on the real binary
// ---------------------------------------------------------------------------

/// The login page of a running binary.
async fn login_page(server: &Binary) -> String {
    let page = reqwest::get(server.url("/login"))
        .await
        .expect("GET /login");
    assert_eq!(page.status(), StatusCode::OK);
    page.text().await.expect("body")
}

fn text(o: &Output) -> String {
    format!(
        "status {}\nstdout: {}\nstderr: {}",
        o.status,
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

#[tokio::test]
async fn backup_through_the_socket_while_serving_then_restore_once_stopped() {
    let dir = tempfile::tempdir().expect("temp dir");
    let data = dir.path().join("data");
    let mut server = Binary::start(&data, dir.path().join("first.log"), None, &[]);
    server.wait_ready().await;

    let announce = |body: &str| {
        let o = run_mamis(
            dir.path(),
            &data,
            &["admin", "announce", "--category", "保守", "--body", body],
        );
        assert!(o.status.success(), "{}", text(&o));
    };
    announce("バックアップ前のお知らせ");

    // A relative FILE is taken from the command's working folder; the
    // server writes it.
    let o = run_mamis(dir.path(), &data, &["admin", "backup", "nightly.redb"]);
    assert!(o.status.success(), "{}", text(&o));
    let file = dir.path().join("nightly.redb");
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(out.contains(&file.display().to_string()), "{out}");
    assert!(
        out.contains("bytes") && out.contains("announcements 1"),
        "{out}"
    );
    assert_eq!(mode(&file), 0o600);
    let size = std::fs::metadata(&file).expect("backup").len();

    // Never over an existing file.
    let o = run_mamis(dir.path(), &data, &["admin", "backup", "nightly.redb"]);
    assert!(!o.status.success(), "{}", text(&o));
    assert!(text(&o).contains("already exists"), "{}", text(&o));
    assert_eq!(std::fs::metadata(&file).expect("backup").len(), size);

    announce("バックアップ後のお知らせ");

    // Refused while the server runs, with nothing changed.
    let o = run_mamis(dir.path(), &data, &["restore", "nightly.redb"]);
    assert!(!o.status.success(), "{}", text(&o));
    assert!(text(&o).contains("stop it first"), "{}", text(&o));
    assert_eq!(names_in(&data), vec!["admin.sock", DB_FILE]);
    assert!(
        login_page(&server)
            .await
            .contains("バックアップ後のお知らせ")
    );

    // Accepted once it has stopped; the replaced database is kept.
    server.stop();
    let o = run_mamis(dir.path(), &data, &["restore", "nightly.redb"]);
    assert!(o.status.success(), "{}", text(&o));
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(out.contains("before-restore"), "{out}");
    let names = names_in(&data);
    let aside: Vec<&String> = names
        .iter()
        .filter(|n| n.starts_with("mamis.redb.before-restore-"))
        .collect();
    assert_eq!(aside.len(), 1, "{names:?}");
    assert_eq!(names.len(), 3, "{names:?}");
    assert_eq!(mode(&data.join(DB_FILE)), 0o600);

    let mut again = Binary::start(&data, dir.path().join("second.log"), None, &[]);
    again.wait_ready().await;
    let page = login_page(&again).await;
    assert!(
        page.contains("バックアップ前のお知らせ"),
        "restored data missing"
    );
    assert!(
        !page.contains("バックアップ後のお知らせ"),
        "not the backup's state"
    );
    again.stop();

    // The kept database is the one from before the restore.
    assert_eq!(announcements_in(&data.join(aside[0])), 2);

    // With the server stopped, the command opens the database itself.
    let o = run_mamis(dir.path(), &data, &["admin", "backup", "offline.redb"]);
    assert!(o.status.success(), "{}", text(&o));
    assert_eq!(announcements_in(&dir.path().join("offline.redb")), 1);
    // A data folder without a database is named, not created.
    let nowhere = dir.path().join("nowhere");
    let o = run_mamis(dir.path(), &nowhere, &["admin", "backup", "x.redb"]);
    assert!(!o.status.success(), "{}", text(&o));
    assert!(text(&o).contains("no database at"), "{}", text(&o));
    assert!(!nowhere.exists() && !dir.path().join("x.redb").exists());
}

/// Announcements in a database file (opened read-only, not as a store).
fn announcements_in(path: &Path) -> u64 {
    let db = redb::Database::builder()
        .open_read_only(path)
        .expect("open the kept database");
    let tx = db.begin_read().expect("read");
    tx.open_table(tables::ANNOUNCEMENTS)
        .expect("announcements")
        .len()
        .expect("len")
}

/// Rows of one table.
fn table_len<K: redb::Key + 'static, V: redb::Value + 'static>(
    tx: &redb::ReadTransaction,
    t: TableDefinition<K, V>,
) -> anyhow::Result<u64> {
    Ok(tx.open_table(t)?.len()?)
}

// ---------------------------------------------------------------------------
// The schedule
// ---------------------------------------------------------------------------

#[tokio::test]
async fn the_schedule_writes_a_backup_every_interval_and_keeps_the_newest() {
    let dir = tempfile::tempdir().expect("temp dir");
    let folder = dir.path().join("backups");
    std::fs::create_dir(&folder).expect("mkdir");
    // An old scheduled backup is removed in turn; other files are not.
    std::fs::write(folder.join("mamis-20000101-000000.redb"), b"old").expect("old");
    std::fs::write(folder.join("notes.txt"), b"keep me").expect("notes");
    const KEEP: usize = 2;
    let app = spawn_app_with(|c| {
        c.backup_dir = Some(folder.clone());
        c.backup_keep = KEEP;
        c.backup_interval = Duration::from_secs(1);
    })
    .await;
    app.store
        .write_ok(|tx| {
            announcements::add(
                tx,
                time::macros::date!(2026 - 12 - 01),
                "保守",
                "定期バックアップ",
                None,
            )
        })
        .await
        .expect("announce");

    let mut seen = std::collections::BTreeSet::new();
    let started = Instant::now();
    while seen.len() < KEEP + 2 {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "only {seen:?} written in 30 s"
        );
        for p in backup::scheduled_backups(&folder).expect("list") {
            let name = p.file_name().expect("name").to_string_lossy().into_owned();
            if name != "mamis-20000101-000000.redb" {
                seen.insert(name);
            }
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // Between a write and the removal there may be one more for a moment.
    let started = Instant::now();
    let kept = loop {
        let kept = backup::scheduled_backups(&folder).expect("list");
        if kept.len() == KEEP || started.elapsed() > Duration::from_secs(2) {
            break kept;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    assert_eq!(kept.len(), KEEP, "{kept:?}");
    let names = names_in(&folder);
    assert!(!names.contains(&"mamis-20000101-000000.redb".to_owned()));
    assert!(names.contains(&"notes.txt".to_owned()), "{names:?}");
    // The newest ones stay, and each is a database a restore accepts.
    let kept_names: Vec<String> = kept
        .iter()
        .map(|p| p.file_name().expect("name").to_string_lossy().into_owned())
        .collect();
    seen.extend(kept_names.iter().cloned());
    let newest: Vec<String> = seen.iter().rev().take(KEEP).rev().cloned().collect();
    assert_eq!(kept_names, newest);
    for p in &kept {
        assert_eq!(mode(p), 0o600);
        let (version, _) = backup::inspect(p).expect("a readable backup");
        assert_eq!(version, tables::SCHEMA_VERSION);
    }
}

// ---------------------------------------------------------------------------
// Refused restores
// ---------------------------------------------------------------------------

/// A data folder with a database holding one announcement (closed).
async fn data_folder_with_a_database(root: &Path) -> PathBuf {
    let data = root.join("data");
    let store = Store::open(&data).expect("open");
    store
        .write_ok(|tx| {
            announcements::add(
                tx,
                time::macros::date!(2026 - 12 - 01),
                "保守",
                "元のデータ",
                None,
            )
        })
        .await
        .expect("announce");
    drop(store);
    data
}

#[tokio::test]
async fn a_restore_of_a_file_mamis_cannot_read_changes_nothing() {
    let dir = tempfile::tempdir().expect("temp dir");
    let data = data_folder_with_a_database(dir.path()).await;
    let db = data.join(DB_FILE);
    let original = std::fs::read(&db).expect("database");

    let refused = |file: PathBuf, why: &'static str| {
        let data = data.clone();
        async move {
            let err = backup::restore(&file, &data)
                .await
                .expect_err("restore must be refused");
            let msg = format!("{err:#}");
            assert!(msg.contains(&file.display().to_string()), "{msg}");
            assert!(msg.contains(why), "{msg}");
        }
    };

    // Not a redb file at all.
    let text = dir.path().join("notes.redb");
    std::fs::write(&text, "会員名簿のメモ: this is not a database\n").expect("write");
    refused(text.clone(), "not a redb file").await;
    assert_eq!(
        std::fs::read(&text).expect("read"),
        "会員名簿のメモ: this is not a database\n".as_bytes(),
        "the file given was changed"
    );

    // Empty.
    let empty = dir.path().join("empty.redb");
    std::fs::write(&empty, b"").expect("write");
    refused(empty, "empty").await;

    // A redb file of something else.
    let other = dir.path().join("other.redb");
    {
        let odb = redb::Database::create(&other).expect("create");
        let tx = odb.begin_write().expect("write");
        tx.open_table(TableDefinition::<u64, u64>::new("things"))
            .expect("table");
        tx.commit().expect("commit");
    }
    refused(other, "not a MAMIS database").await;

    // A MAMIS database of a newer schema.
    let newer = dir.path().join("newer.redb");
    {
        let store = Store::open(&dir.path().join("newer-data")).expect("open");
        store.backup_to(&newer).await.expect("backup");
        drop(store);
        let ndb = redb::Database::open(&newer).expect("open");
        let tx = ndb.begin_write().expect("write");
        tx.open_table(tables::META)
            .expect("meta")
            .insert(
                "schema_version",
                (tables::SCHEMA_VERSION + 1).to_be_bytes().as_slice(),
            )
            .expect("insert");
        tx.commit().expect("commit");
    }
    refused(newer, "newer than this MAMIS reads").await;

    // A missing file.
    refused(dir.path().join("missing.redb"), "not a file").await;

    // Nothing changed in the data folder.
    assert_eq!(names_in(&data), vec![DB_FILE.to_owned()]);
    assert_eq!(std::fs::read(&db).expect("database"), original);
    let store = Store::open(&data).expect("the database still opens");
    let n = store.read(announcements::all).await.expect("read").len();
    assert_eq!(n, 1);
    drop(store);

    // A good backup is accepted once nothing holds the database open.
    let good = dir.path().join("good.redb");
    {
        let store = Store::open(&data).expect("open");
        store.backup_to(&good).await.expect("backup");
        // While the database is open (here, in this process), refused.
        let err = backup::restore(&good, &data)
            .await
            .expect_err("restore while open");
        assert!(
            format!("{err:#}").contains("open in another process"),
            "{err:#}"
        );
        assert_eq!(names_in(&data), vec![DB_FILE.to_owned()]);
    }
    let report = backup::restore(&good, &data).await.expect("restore");
    assert!(report.previous.is_some());
}

#[tokio::test]
async fn a_raw_copy_of_a_database_in_use_is_restored_like_after_a_power_cut() {
    let dir = tempfile::tempdir().expect("temp dir");
    let data = data_folder_with_a_database(dir.path()).await;
    // The file copied while a store has it open, as `cp` or a file-system
    // snapshot would: redb sees it as not closed cleanly.
    let store = Store::open(&data).expect("open");
    store
        .write_ok(|tx| {
            announcements::add(
                tx,
                time::macros::date!(2026 - 12 - 02),
                "保守",
                "二件目",
                None,
            )
        })
        .await
        .expect("announce");
    let raw = dir.path().join("raw.redb");
    std::fs::copy(data.join(DB_FILE), &raw).expect("copy");
    drop(store);

    let target = dir.path().join("restored");
    let report = backup::restore(&raw, &target).await.expect("restore");
    assert!(report.previous.is_none());
    let store = Store::open(&target).expect("the restored database opens");
    let n = store.read(announcements::all).await.expect("read").len();
    assert_eq!(n, 2);
}

#[tokio::test]
async fn a_backup_of_an_older_schema_is_restored_and_upgraded_at_the_next_start() {
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/schema-v1.redb");
    let original = std::fs::read(&fixture).expect("fixture");
    let dir = tempfile::tempdir().expect("temp dir");
    let data = dir.path().join("data");
    let report = backup::restore(&fixture, &data).await.expect("restore");
    assert_eq!(report.schema_version, 1);
    assert_eq!(report.users, 3);
    assert_eq!(
        std::fs::read(&fixture).expect("fixture"),
        original,
        "the backup given was changed"
    );
    let app = spawn_app_with(|c| c.data_dir = data.clone()).await;
    app.browser()
        .log_in("tanaka1ichiro", "Byouin!2025z")
        .await
        .assert_redirect_to("/mypage");
    // Backed up again, the upgraded database is of the current schema with
    // its person indexes.
    let again = dir.path().join("again.redb");
    let report = app.store.backup_to(&again).await.expect("backup");
    assert!(
        report.rows_of("persons_by_kana") >= 3,
        "{}",
        report.summary()
    );
    assert_eq!(
        backup::inspect(&again).expect("inspect"),
        (tables::SCHEMA_VERSION, 3)
    );
}
