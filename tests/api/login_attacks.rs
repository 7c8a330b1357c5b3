//! Attacks on the login, performed against the real app: a burst of
//! parallel guesses, guesses spread over new connections, an attacker
//! locking an owner out (and a restart in between), and a flood that would
//! make the server hash passwords until it runs out of memory or CPU.

use std::{
    path::Path,
    sync::Arc,
    time::{Duration, Instant},
};

use mamis::{
    app::Application,
    auth::{login_limiter, password},
    config::{Argon2Params, Config},
    store::{
        Store,
        audit::{self, AuditEntry, AuditKind},
        login_attempts, now,
        users::{self, Role, UserRecord},
    },
};
use reqwest::StatusCode;
use tokio::sync::{Barrier, oneshot};

use crate::helpers::{Applicant, Browser, PASSWORD, Page, spawn_app, spawn_app_with};

const WRONG: &str = "Wrong123!x";

/// Posts the login form from `b` (with its CSRF token), as the client at
/// `forwarded_for` when given (believed only from a trusted proxy).
async fn attempt(b: &Browser, login_id: &str, pw: &str, forwarded_for: Option<&str>) -> Page {
    let token = b.csrf_token().await;
    let mut req = b.client().post(b.url("/login")).form(&[
        ("csrf_token", token.as_str()),
        ("login_id", login_id),
        ("password", pw),
    ]);
    if let Some(ip) = forwarded_for {
        req = req.header("X-Forwarded-For", ip);
    }
    b.send(req).await
}

/// `n` login attempts sent at the same moment; `what(i)` gives the i-th
/// attempt's login ID, password and forwarded address.
async fn burst(
    b: &Browser,
    n: usize,
    what: impl Fn(usize) -> (String, String, Option<String>),
) -> Vec<(usize, Page)> {
    let token = b.csrf_token().await;
    let barrier = Arc::new(Barrier::new(n));
    let mut set = tokio::task::JoinSet::new();
    for i in 0..n {
        let (login_id, pw, xff) = what(i);
        let (b, token, barrier) = (b.clone(), token.clone(), barrier.clone());
        set.spawn(async move {
            let mut req = b.client().post(b.url("/login")).form(&[
                ("csrf_token", token.as_str()),
                ("login_id", login_id.as_str()),
                ("password", pw.as_str()),
            ]);
            if let Some(ip) = xff {
                req = req.header("X-Forwarded-For", ip);
            }
            barrier.wait().await;
            (i, b.send(req).await)
        });
    }
    let mut out = Vec::with_capacity(n);
    while let Some(r) = set.join_next().await {
        out.push(r.expect("attempt task"));
    }
    out.sort_by_key(|(i, _)| *i);
    out
}

fn count(pages: &[(usize, Page)], status: StatusCode) -> usize {
    pages.iter().filter(|(_, p)| p.status == status).count()
}

async fn audit_log(store: &Store) -> Vec<AuditEntry> {
    store
        .read(|tx| audit::since(tx, 0, 100_000))
        .await
        .expect("read the audit log")
}

fn entries<'a>(log: &'a [AuditEntry], kind: AuditKind, login_id: &str) -> Vec<&'a AuditEntry> {
    log.iter()
        .filter(|e| e.kind == kind && e.login_id.as_deref() == Some(login_id))
        .collect()
}

fn retry_after(p: &Page) -> u64 {
    p.header("retry-after")
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("no Retry-After on a {}: {:?}", p.status, p.headers))
}

fn trusting_loopback(c: &mut Config) {
    c.trusted_proxies = vec!["127.0.0.1/32".parse().expect("CIDR")];
}

// ---------------------------------------------------------------------------
// (1) A burst of parallel guesses with the right password among them
// ---------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_burst_of_parallel_guesses_cannot_carry_the_right_password_past_the_limit() {
    let app = spawn_app().await;
    let who = Applicant::yamada();
    app.register(&who).await;

    let attacker = app.browser();
    let right_at = 63;
    let pages = burst(&attacker, 100, |i| {
        let pw = if i == right_at { PASSWORD } else { WRONG };
        (who.login_id.clone(), pw.to_owned(), None)
    })
    .await;
    let (ok, failed, throttled) = (
        count(&pages, StatusCode::SEE_OTHER),
        count(&pages, StatusCode::UNAUTHORIZED),
        count(&pages, StatusCode::TOO_MANY_REQUESTS),
    );
    eprintln!("burst of 100: {ok} × 303, {failed} × 401, {throttled} × 429");
    assert_eq!(ok + failed + throttled, 100, "other answers in the burst");
    // Every attempt was counted when it started, so no more than the free
    // ones reached the password check; a success hands its own back, which
    // may let one more in after it, never a wrong guess beyond the five.
    assert!(
        failed <= login_limiter::ACCOUNT.free as usize,
        "{failed} wrong guesses checked"
    );
    assert!(ok + failed <= login_limiter::ACCOUNT.free as usize + ok);
    let right = &pages[right_at].1;
    if right.status != StatusCode::SEE_OTHER {
        right.assert_status(StatusCode::TOO_MANY_REQUESTS);
        right.assert_contains("しばらくの間ログインできません");
    }
    // The audit log shows exactly the attempts whose password was checked.
    let log = audit_log(&app.store).await;
    assert_eq!(
        entries(&log, AuditKind::LoginFailed, &who.login_id).len(),
        failed
    );
    assert_eq!(
        entries(&log, AuditKind::LoginSucceeded, &who.login_id).len(),
        ok
    );
    let reported = entries(&log, AuditKind::LoginThrottled, &who.login_id);
    assert!(!reported.is_empty(), "throttling not audited");
    assert!(
        reported.len() < throttled,
        "every refusal of a flood was written to the audit log"
    );

    // The wrong guesses are spent: right now the right password waits too,
    // from any browser without a device cookie.
    let later = attempt(&app.browser(), &who.login_id, PASSWORD, None).await;
    if failed == login_limiter::ACCOUNT.free as usize {
        later.assert_status(StatusCode::TOO_MANY_REQUESTS);
        assert!((1..=5).contains(&retry_after(&later)));
    }
}

// ---------------------------------------------------------------------------
// (2) Guesses spread over new connections, with and without a proxy
// ---------------------------------------------------------------------------

#[tokio::test]
async fn guesses_on_new_connections_from_one_address_are_throttled_by_address() {
    let app = spawn_app().await;
    let free = login_limiter::ADDRESS.free as usize;
    let mut answers = Vec::new();
    for i in 0..30 {
        // A new client: a new TCP connection from a new port, a new cookie
        // jar; a different login ID each time; a forged forwarded address,
        // which must be ignored since no proxy is trusted.
        let b = app.browser();
        let forged = format!("198.51.100.{i}");
        let page = attempt(&b, &format!("guess{i:04}x"), WRONG, Some(&forged)).await;
        answers.push(page.status);
        if i >= free {
            page.assert_status(StatusCode::TOO_MANY_REQUESTS);
            assert!(retry_after(&page) >= 1);
            page.assert_contains("ほど待ってから再度お試しください");
        } else {
            page.assert_status(StatusCode::UNAUTHORIZED);
        }
    }
    eprintln!("30 guesses on new connections: {answers:?}");
    let log = audit_log(&app.store).await;
    let failed: Vec<_> = log
        .iter()
        .filter(|e| e.kind == AuditKind::LoginFailed)
        .collect();
    assert_eq!(failed.len(), free);
    assert!(
        failed
            .iter()
            .all(|e| e.addr.as_deref() == Some("127.0.0.1")),
        "the address is the peer's, without its port: {failed:?}"
    );
    assert!(
        log.iter()
            .any(|e| e.kind == AuditKind::LoginThrottled && e.addr.as_deref() == Some("127.0.0.1"))
    );
}

#[tokio::test]
async fn behind_a_trusted_proxy_each_client_address_is_counted_on_its_own() {
    let app = spawn_app_with(trusting_loopback).await;
    let who = Applicant::yamada();
    app.register(&who).await;
    let free = login_limiter::ADDRESS.free;

    // Many clients behind the proxy, one guess each: nobody is throttled.
    for i in 0..30 {
        let b = app.browser();
        let client = format!("198.51.100.{i}");
        attempt(&b, &format!("guess{i:04}x"), WRONG, Some(&client))
            .await
            .assert_status(StatusCode::UNAUTHORIZED);
    }

    // One client guessing: its own address runs out. Its one success in
    // between hands back only that attempt, not the evidence of the others.
    let client = "203.0.113.7";
    let b = app.browser();
    for i in 0..free - 1 {
        attempt(&b, &format!("other{i:04}x"), WRONG, Some(client))
            .await
            .assert_status(StatusCode::UNAUTHORIZED);
    }
    attempt(&b, &who.login_id, PASSWORD, Some(client))
        .await
        .assert_redirect_to("/mypage");
    let b = app.browser();
    attempt(&b, "onemore001", WRONG, Some(client))
        .await
        .assert_status(StatusCode::UNAUTHORIZED);
    let refused = attempt(&b, "onemore002", WRONG, Some(client)).await;
    refused.assert_status(StatusCode::TOO_MANY_REQUESTS);
    // Someone else behind the same proxy is not affected.
    attempt(&b, "onemore003", WRONG, Some("203.0.113.8"))
        .await
        .assert_status(StatusCode::UNAUTHORIZED);

    let log = audit_log(&app.store).await;
    let throttled = entries(&log, AuditKind::LoginThrottled, "onemore002");
    assert_eq!(throttled.len(), 1);
    assert_eq!(throttled[0].addr.as_deref(), Some(client));
    let ok = entries(&log, AuditKind::LoginSucceeded, &who.login_id);
    assert_eq!(ok[0].addr.as_deref(), Some(client));
}

// ---------------------------------------------------------------------------
// (5) An attacker cannot lock the owner out of their own browser; a restart
//     forgives nothing
// ---------------------------------------------------------------------------

/// A server with a runtime of its own, so that stopping it closes its
/// database and another can open the same data folder.
struct Instance {
    base: String,
    stop: Option<oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Instance {
    async fn start(config: Config) -> Instance {
        let (addr_tx, addr_rx) = oneshot::channel();
        let (stop_tx, stop_rx) = oneshot::channel::<()>();
        let thread = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .expect("runtime");
            rt.block_on(async move {
                let app = Application::build(config).await.expect("app did not build");
                let _ = addr_tx.send(app.addr);
                let server = app.spawn();
                let _ = stop_rx.await;
                server.abort();
            });
            // Dropping the runtime drops the app's background tasks, and
            // with them the last handles on the database.
            rt.shutdown_timeout(Duration::from_secs(10));
        });
        let addr = addr_rx.await.expect("the instance did not start");
        Instance {
            base: format!("http://{addr}"),
            stop: Some(stop_tx),
            thread: Some(thread),
        }
    }

    async fn stop(mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
        if let Some(t) = self.thread.take() {
            tokio::task::spawn_blocking(move || t.join())
                .await
                .expect("join task")
                .expect("instance thread panicked");
        }
    }
}

impl Drop for Instance {
    fn drop(&mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
    }
}

/// Writes an account straight into a closed data folder.
async fn create_account(data_dir: &Path, login_id: &str) {
    let dir = data_dir.to_owned();
    let login_id = login_id.to_owned();
    tokio::task::spawn_blocking(move || {
        let store = Store::open(&dir)?;
        let hash = password::hash_blocking(PASSWORD, Argon2Params::TESTING)?;
        let tx_store = store.clone();
        tokio::runtime::Handle::current()
            .block_on(tx_store.write(move |tx| {
                users::create(
                    tx,
                    UserRecord {
                        initial_password_expires_at: None,
                        membership: None,
                        association: None,
                        id: 0,
                        login_id,
                        email: "owner@example.jp".into(),
                        registry_number: "123456".into(),
                        password_hash: hash,
                        role: Role::Physician,
                        person: None,
                        session_generation: 0,
                        must_change_password: false,
                        staff_name: None,
                        // The built-in terms, agreed: the login lands on マイページ.
                        terms_version: mamis::texts::TERMS_VERSION.into(),
                        terms_agreed_at: now(),
                        terms_history: Vec::new(),
                        created_at: now(),
                    },
                )
            }))?
            .map_err(|c| anyhow::anyhow!("conflicts: {c:?}"))?;
        anyhow::Ok(())
    })
    .await
    .expect("task")
    .expect("create the account");
}

fn cookie_named<'a>(page: &'a Page, name: &str) -> Option<&'a str> {
    page.headers
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|c| c.starts_with(&format!("{name}=")))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_attacker_cannot_lock_the_owner_out_of_their_browser_and_a_restart_forgives_nothing() {
    let dir = tempfile::tempdir().expect("temp dir");
    let data = dir.path().join("data");
    let owner_id = "doctor01";
    create_account(&data, owner_id).await;
    let config = || {
        let mut c = Config::for_tests(data.clone(), None);
        trusting_loopback(&mut c);
        c
    };

    let server = Instance::start(config()).await;
    // The owner logs in from their browser, which remembers the account.
    let mut owner = Browser::new(&server.base);
    let page = owner.log_in(owner_id, PASSWORD).await;
    page.assert_redirect_to("/mypage");
    let device = cookie_named(&page, login_limiter::DEVICE_COOKIE)
        .expect("no device cookie after the login")
        .to_ascii_lowercase();
    for attr in ["httponly", "samesite=lax", "path=/", "max-age="] {
        assert!(
            device.contains(attr),
            "device cookie without {attr}: {device}"
        );
    }
    assert!(!device.contains("secure"), "Secure over http: {device}");
    owner.get("/mypage").await.assert_status(StatusCode::OK);
    owner
        .post_form("/logout", &[] as &[(&str, &str)])
        .await
        .assert_redirect_to("/login");

    // Someone guesses the owner's password from many addresses.
    let attacker = Browser::new(&server.base);
    for i in 0..10 {
        let from = format!("198.51.100.{i}");
        let page = attempt(&attacker, owner_id, WRONG, Some(&from)).await;
        let expected = if i < login_limiter::ACCOUNT.free {
            StatusCode::UNAUTHORIZED
        } else {
            StatusCode::TOO_MANY_REQUESTS
        };
        page.assert_status(expected);
    }
    // A browser the account has never used waits, even with the password…
    let stranger = Browser::new(&server.base);
    let page = attempt(&stranger, owner_id, PASSWORD, Some("192.0.2.50")).await;
    page.assert_status(StatusCode::TOO_MANY_REQUESTS);
    assert!(retry_after(&page) >= 1);
    // …the owner's own browser does not.
    owner
        .log_in(owner_id, PASSWORD)
        .await
        .assert_redirect_to("/mypage");
    owner.get("/mypage").await.assert_status(StatusCode::OK);

    // A restart on the same data folder.
    server.stop().await;
    let server = Instance::start(config()).await;
    owner.base = server.base.clone();
    let attacker = Browser::new(&server.base);
    attempt(&attacker, owner_id, WRONG, Some("198.51.100.99"))
        .await
        .assert_status(StatusCode::TOO_MANY_REQUESTS);
    let stranger = Browser::new(&server.base);
    attempt(&stranger, owner_id, PASSWORD, Some("192.0.2.51"))
        .await
        .assert_status(StatusCode::TOO_MANY_REQUESTS);
    owner
        .post_form("/logout", &[] as &[(&str, &str)])
        .await
        .assert_redirect_to("/login");
    owner
        .log_in(owner_id, PASSWORD)
        .await
        .assert_redirect_to("/mypage");
    server.stop().await;

    let store = Store::open(&data).expect("reopen");
    let log = audit_log(&store).await;
    let ok = entries(&log, AuditKind::LoginSucceeded, owner_id);
    assert_eq!(ok.len(), 3);
    assert_eq!(ok[1].detail.as_deref(), Some("known device"));
    assert_eq!(entries(&log, AuditKind::LoginFailed, owner_id).len(), 5);
}

// ---------------------------------------------------------------------------
// (3) Hashing behind a bound; old hashes made again
// ---------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_flood_of_logins_gets_503_beyond_the_hashing_bound_and_the_server_keeps_answering() {
    let app = spawn_app_with(|c| {
        trusting_loopback(c);
        c.hash_concurrency = 1;
        c.argon2 = Argon2Params::PRODUCTION;
    })
    .await;
    let who = Applicant::yamada();
    app.register(&who).await;

    // Clients from many addresses, each guessing another ID: nothing is
    // throttled, every attempt wants a hash.
    let flood = app.browser();
    flood.csrf_token().await;
    let health = app.browser();
    let probing = Arc::new(std::sync::atomic::AtomicBool::new(true));
    let probe = {
        let (health, probing) = (health.clone(), probing.clone());
        tokio::spawn(async move {
            let mut worst = Duration::ZERO;
            let mut n = 0;
            while probing.load(std::sync::atomic::Ordering::Relaxed) {
                let t = Instant::now();
                health.get("/healthz").await.assert_status(StatusCode::OK);
                worst = worst.max(t.elapsed());
                n += 1;
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            (n, worst)
        })
    };
    let started = Instant::now();
    let pages = burst(&flood, 40, |i| {
        (
            format!("flood{i:04}x"),
            WRONG.to_owned(),
            Some(format!("198.51.100.{i}")),
        )
    })
    .await;
    let took = started.elapsed();
    probing.store(false, std::sync::atomic::Ordering::Relaxed);
    let (probes, worst) = probe.await.expect("probe task");
    let (failed, busy) = (
        count(&pages, StatusCode::UNAUTHORIZED),
        count(&pages, StatusCode::SERVICE_UNAVAILABLE),
    );
    eprintln!(
        "40 parallel logins, one hashing slot: {failed} × 401, {busy} × 503 in {took:?}; \
         /healthz answered {probes} times meanwhile, slowest {worst:?}"
    );
    assert_eq!(failed + busy, 40, "other answers in the flood");
    assert!(busy > 0, "nothing was refused: the bound did not hold");
    assert!(failed > 0, "nothing was checked");
    for (_, p) in pages
        .iter()
        .filter(|(_, p)| p.status == StatusCode::SERVICE_UNAVAILABLE)
    {
        assert_eq!(retry_after(p), password::BUSY_RETRY_AFTER_SECS);
        p.assert_contains("アクセスが集中");
    }
    assert!(probes > 0);
    assert!(worst < Duration::from_secs(1), "/healthz took {worst:?}");
    // Refused for load, not for guessing: the attempt was handed back.
    let (i, _) = pages
        .iter()
        .find(|(_, p)| p.status == StatusCode::SERVICE_UNAVAILABLE)
        .expect("a 503");
    let refused_key =
        login_limiter::address_key(format!("198.51.100.{i}").parse().expect("an address"));
    let refunded = app
        .store
        .read(move |tx| login_attempts::get(tx, &refused_key))
        .await
        .expect("read counters");
    assert_eq!(refunded, None, "a 503 attempt stayed counted");

    // Once the flood is over, logins go through.
    app.browser()
        .log_in(&who.login_id, PASSWORD)
        .await
        .assert_redirect_to("/mypage");
}

#[tokio::test]
async fn a_hash_with_older_parameters_is_made_again_at_the_next_login() {
    let app = spawn_app().await;
    let who = Applicant::yamada();
    app.register(&who).await;
    let current = Argon2Params::TESTING;
    let older = Argon2Params {
        memory_kib: 32,
        iterations: 1,
    };
    let old_hash = password::hash_blocking(PASSWORD, older).expect("hash");
    assert!(old_hash.starts_with("$argon2id$v=19$m=32,t=1,p=1$"));
    let read = |store: Store, login_id: String| async move {
        store
            .read(move |tx| users::by_login_id(tx, &login_id))
            .await
            .expect("read")
            .expect("the account")
    };
    let login_id = who.login_id.clone();
    let id = read(app.store.clone(), login_id.clone()).await.id;
    let stored = old_hash.clone();
    app.store
        .write_ok(move |tx| users::set_password(tx, id, stored))
        .await
        .expect("store the old hash");
    let read =
        |store: Store, login_id: String| async move { read(store, login_id).await.password_hash };

    // A wrong password changes nothing.
    app.browser()
        .log_in(&who.login_id, WRONG)
        .await
        .assert_status(StatusCode::UNAUTHORIZED);
    assert_eq!(read(app.store.clone(), login_id.clone()).await, old_hash);

    app.browser()
        .log_in(&who.login_id, PASSWORD)
        .await
        .assert_redirect_to("/mypage");
    let new_hash = read(app.store.clone(), login_id.clone()).await;
    assert_ne!(new_hash, old_hash);
    let prefix = format!(
        "$argon2id$v=19$m={},t={},p=1$",
        current.memory_kib, current.iterations
    );
    assert!(new_hash.starts_with(&prefix), "{new_hash}");
    assert!(password::verify_blocking(PASSWORD, &new_hash).expect("verify"));
    let log = audit_log(&app.store).await;
    let ok = entries(&log, AuditKind::LoginSucceeded, &who.login_id);
    assert_eq!(ok.len(), 1);
    assert_eq!(ok[0].detail.as_deref(), Some("password re-hashed"));

    // The next login leaves the current hash alone.
    app.browser()
        .log_in(&who.login_id, PASSWORD)
        .await
        .assert_redirect_to("/mypage");
    assert_eq!(read(app.store.clone(), login_id).await, new_hash);
}

// ---------------------------------------------------------------------------
// What a login changes in the browser
// ---------------------------------------------------------------------------

#[tokio::test]
async fn a_login_renews_the_session_and_the_csrf_token() {
    let app = spawn_app().await;
    let who = Applicant::yamada();
    app.register(&who).await;
    let b = app.browser();
    let before = b.get("/login").await;
    let old_token = b.csrf_token().await;
    let old_session = cookie_named(&before, "mamis_session").map(str::to_owned);

    let page = b.log_in(&who.login_id, PASSWORD).await;
    page.assert_redirect_to("/mypage");
    let session = cookie_named(&page, "mamis_session").expect("no new session cookie");
    assert_ne!(Some(session.to_owned()), old_session);
    let csrf = cookie_named(&page, "mamis_csrf")
        .expect("the CSRF cookie was not renewed")
        .to_ascii_lowercase();
    assert!(csrf.contains("max-age=0"), "{csrf}");

    // The token of the login page is worth nothing now…
    let req = b
        .client()
        .post(b.url("/logout"))
        .form(&[("csrf_token", old_token.as_str())]);
    b.send(req).await.assert_status(StatusCode::FORBIDDEN);
    // …the signed-in page carries a new one.
    let mypage = b.get("/mypage").await;
    mypage.assert_status(StatusCode::OK);
    let new_token = b.csrf_token().await;
    assert_ne!(new_token, old_token);
    b.post_form("/logout", &[] as &[(&str, &str)])
        .await
        .assert_redirect_to("/login");
    b.get("/mypage").await.assert_redirect_to("/login");
}
