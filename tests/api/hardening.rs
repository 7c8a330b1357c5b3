//! The server under abuse: idle and slow connections, the local outbox
//! behind a proxy, the forgotten-credential flows as an oracle, one client
//! mailing many addresses, mail that never goes through, and the data
//! files' permissions. Each test performs the attack and shows it fail.

use std::{
    os::unix::fs::PermissionsExt as _,
    path::Path,
    time::{Duration, Instant},
};

use mamis::{
    mail::templates,
    store::{
        audit::{self, AuditEntry, AuditKind},
        outbox,
    },
};
use reqwest::StatusCode;
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::TcpStream,
};

use crate::helpers::*;

/// The permission bits of a file.
fn mode(path: &Path) -> u32 {
    std::fs::metadata(path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .permissions()
        .mode()
        & 0o777
}

// ---------------------------------------------------------------------------
// Connections (finding 8)
// ---------------------------------------------------------------------------

/// Connections an attacker holds open without a word.
const IDLE_CONNECTIONS: usize = 1_100;

/// True when the server has closed our end's connection (EOF or reset).
fn closed_by_server(s: &TcpStream) -> bool {
    let mut buf = [0u8; 64];
    !matches!(s.try_read(&mut buf), Err(e) if e.kind() == std::io::ErrorKind::WouldBlock)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn eleven_hundred_idle_connections_do_not_keep_a_visitor_out() {
    // Our own ends of the connections need descriptors too.
    let _ = rlimit::increase_nofile_limit(8 * 1024);
    let dir = tempfile::tempdir().expect("temp dir");
    // The default limit of a small VM, which the server cannot raise; the
    // production header timeout (10 s).
    let mut server = Binary::start(
        &dir.path().join("data"),
        dir.path().join("log"),
        Some(1024),
        &[],
    );
    server.wait_ready().await;

    let mut idle = Vec::with_capacity(IDLE_CONNECTIONS);
    for _ in 0..IDLE_CONNECTIONS {
        let s = tokio::time::timeout(Duration::from_secs(10), TcpStream::connect(&server.addr))
            .await
            .expect("connect took more than 10 s")
            .expect("connect");
        idle.push(s);
    }
    // Someone else wants a page now.
    let started = Instant::now();
    let answer = tokio::time::timeout(
        Duration::from_secs(5),
        reqwest::Client::new().get(server.url("/healthz")).send(),
    )
    .await
    .unwrap_or_else(|_| {
        panic!(
            "/healthz did not answer within 5 s behind {IDLE_CONNECTIONS} idle connections\n{}",
            server.log_text()
        )
    })
    .expect("healthz request");
    assert_eq!(answer.status(), StatusCode::OK);
    let waited = started.elapsed();
    assert!(
        waited < Duration::from_secs(2),
        "/healthz took {waited:?} behind idle connections"
    );
    // The idle connections were closed to make room.
    tokio::time::sleep(Duration::from_millis(200)).await;
    let closed = idle.iter().filter(|s| closed_by_server(s)).count();
    assert!(
        closed >= IDLE_CONNECTIONS - 512,
        "only {closed} of {IDLE_CONNECTIONS} idle connections were closed"
    );
    let log = server.log_text();
    assert!(log.contains("connection limit reached"), "{log}");
    assert!(
        !log.contains("Too many open files"),
        "the server ran out of descriptors:\n{log}"
    );
    println!("healthz behind {IDLE_CONNECTIONS} idle connections: {waited:?}, {closed} closed");
}

/// Reads an HTTP answer to its end (`Content-Length` bodies only).
async fn read_answer(s: &mut TcpStream) -> String {
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        let n = tokio::time::timeout(Duration::from_secs(5), s.read(&mut buf))
            .await
            .expect("no answer within 5 s")
            .expect("read");
        assert!(n > 0, "closed before the answer ended");
        got.extend_from_slice(&buf[..n]);
        let text = String::from_utf8_lossy(&got).into_owned();
        if let Some(end) = text.find("\r\n\r\n") {
            let len = text[..end]
                .lines()
                .find_map(|l| {
                    l.to_ascii_lowercase()
                        .strip_prefix("content-length:")
                        .map(|v| v.trim().parse::<usize>().expect("length"))
                })
                .unwrap_or(0);
            if got.len() >= end + 4 + len {
                return text;
            }
        }
    }
}

/// Waits until the server closes `s`; returns how long that took.
async fn time_to_close(s: &mut TcpStream, limit: Duration) -> Duration {
    let started = Instant::now();
    let mut buf = [0u8; 1024];
    loop {
        match tokio::time::timeout(limit, s.read(&mut buf)).await {
            Err(_) => panic!("the connection was still open after {limit:?}"),
            Ok(Ok(0) | Err(_)) => return started.elapsed(),
            Ok(Ok(_)) => {}
        }
    }
}

const HEALTHZ: &[u8] = b"GET /healthz HTTP/1.1\r\nHost: mamis\r\n\r\n";

#[tokio::test]
async fn silent_slow_and_idle_connections_are_closed_in_time() {
    let header = Duration::from_millis(400);
    let idle = Duration::from_millis(1500);
    let app = spawn_app_with(|c| {
        c.header_timeout = header;
        c.idle_timeout = idle;
    })
    .await;

    // Connects and says nothing.
    let mut silent = TcpStream::connect(app.addr).await.expect("connect");
    let took = time_to_close(&mut silent, Duration::from_secs(5)).await;
    assert!(
        took >= header - Duration::from_millis(50) && took < idle,
        "a silent connection was closed after {took:?}"
    );

    // Sends its headers a line at a time, never finishing them.
    let mut slow = TcpStream::connect(app.addr).await.expect("connect");
    slow.write_all(b"GET /healthz HTTP/1.1\r\n")
        .await
        .expect("write");
    let started = Instant::now();
    let mut buf = [0u8; 1024];
    let took = loop {
        tokio::time::sleep(Duration::from_millis(100)).await;
        if slow.write_all(b"X-Slow: 1\r\n").await.is_err() {
            break started.elapsed();
        }
        match tokio::time::timeout(Duration::from_millis(1), slow.read(&mut buf)).await {
            Ok(Ok(0) | Err(_)) => break started.elapsed(),
            Ok(Ok(n)) => panic!(
                "answered unfinished headers: {}",
                String::from_utf8_lossy(&buf[..n])
            ),
            Err(_) => {}
        }
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "trickled headers kept the connection open for 5 s"
        );
    };
    assert!(
        took < idle,
        "trickled headers kept the connection for {took:?}"
    );

    // A browser's keep-alive connection outlives the header timeout between
    // requests, and is closed after the idle timeout.
    let mut kept = TcpStream::connect(app.addr).await.expect("connect");
    kept.write_all(HEALTHZ).await.expect("write");
    assert!(read_answer(&mut kept).await.starts_with("HTTP/1.1 200"));
    tokio::time::sleep(header * 2).await;
    kept.write_all(HEALTHZ).await.expect("write");
    assert!(
        read_answer(&mut kept).await.starts_with("HTTP/1.1 200"),
        "a keep-alive connection was closed after the header timeout"
    );
    let took = time_to_close(&mut kept, Duration::from_secs(5)).await;
    assert!(
        took >= idle - Duration::from_millis(100),
        "an idle keep-alive connection was closed after {took:?}"
    );
}

#[tokio::test]
async fn a_full_server_closes_idle_connections_for_a_new_visitor() {
    let app = spawn_app_with(|c| c.max_connections = 8).await;
    let mut idle = Vec::new();
    for _ in 0..7 {
        idle.push(TcpStream::connect(app.addr).await.expect("connect"));
    }
    // The eighth is in the middle of a request (its body is on the way).
    let mut busy = TcpStream::connect(app.addr).await.expect("connect");
    busy.write_all(
        b"POST /inquiry HTTP/1.1\r\nHost: mamis\r\n\
          Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 5\r\n\r\nab",
    )
    .await
    .expect("write");
    tokio::time::sleep(Duration::from_millis(200)).await;
    // All places are taken; a visitor still gets an answer at once (the
    // header timeout is 10 s).
    let started = Instant::now();
    app.get("/healthz").await.assert_status(StatusCode::OK);
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "waited {:?} for a place",
        started.elapsed()
    );
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert!(
        idle.iter().all(closed_by_server),
        "idle connections were kept"
    );
    // The request in progress was not cut short (403: it has no CSRF token).
    busy.write_all(b"cde").await.expect("write");
    let answer = read_answer(&mut busy).await;
    assert!(answer.starts_with("HTTP/1.1 403"), "{answer}");
}

// ---------------------------------------------------------------------------
// The local outbox (finding 9)
// ---------------------------------------------------------------------------

#[tokio::test]
async fn the_local_outbox_opens_only_with_the_key_from_the_start_up_log() {
    let app = spawn_app_with_smtp(None).await;
    app.start_registration("yamada@example.jp").await;

    // From this very machine (as through a proxy on it), with no key.
    let stranger = app.browser();
    stranger
        .get("/dev/outbox")
        .await
        .assert_status(StatusCode::NOT_FOUND);
    stranger
        .get("/dev/outbox/1")
        .await
        .assert_status(StatusCode::NOT_FOUND);
    let wrong = format!("/dev/outbox?key={}x", app.dev_outbox_key);
    stranger
        .get(&wrong)
        .await
        .assert_status(StatusCode::NOT_FOUND);
    let forged = stranger
        .client()
        .get(stranger.url("/dev/outbox"))
        .header("Cookie", "mamis_outbox=AAAAAAAAAAAAAAAAAAAAAA");
    stranger
        .send(forged)
        .await
        .assert_status(StatusCode::NOT_FOUND);

    // The operator follows the logged URL: the key moves into a cookie
    // limited to /dev/ and leaves the address bar.
    let operator = app.browser();
    let first = operator
        .get(&format!("/dev/outbox?key={}", app.dev_outbox_key))
        .await;
    first.assert_redirect_to("/dev/outbox");
    let cookie = first
        .set_cookies()
        .into_iter()
        .find(|c| c.starts_with("mamis_outbox="))
        .expect("no outbox cookie");
    for attribute in ["HttpOnly", "SameSite=Strict", "Path=/dev/"] {
        assert!(cookie.contains(attribute), "{cookie}");
    }
    let list = operator.get("/dev/outbox").await;
    list.assert_status(StatusCode::OK);
    list.assert_contains("yamada@example.jp");
    operator
        .get("/dev/outbox/1")
        .await
        .assert_contains("/register/verify?token=");
}

#[tokio::test]
async fn the_start_up_log_names_the_outbox_url_with_its_key() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut server = Binary::start(&dir.path().join("data"), dir.path().join("log"), None, &[]);
    server.wait_ready().await;
    let key = outbox_key_in(&server.log_text()).expect("no outbox URL in the log");
    let b = Browser::new(&server.url(""));
    b.get("/dev/outbox")
        .await
        .assert_status(StatusCode::NOT_FOUND);
    b.get(&format!("/dev/outbox?key={key}"))
        .await
        .assert_redirect_to("/dev/outbox");
    b.get("/dev/outbox").await.assert_status(StatusCode::OK);
}

// ---------------------------------------------------------------------------
// Forgotten login ID and password (finding 10)
// ---------------------------------------------------------------------------

/// The page without its per-request CSRF token.
fn strip_tokens(html: &str) -> String {
    html.split('"')
        .filter(|part| part.len() < 60)
        .collect::<Vec<_>>()
        .join("\"")
}

async fn audit_entries(app: &TestApp) -> Vec<AuditEntry> {
    app.store
        .read(|tx| audit::since(tx, 0, 10_000))
        .await
        .expect("read the audit log")
}

#[tokio::test]
async fn forgotten_credentials_answer_and_work_alike_for_known_and_unknown_accounts() {
    let app = spawn_app().await;
    let who = Applicant::yamada();
    app.register(&who).await;

    let b = app.browser();
    let known = b
        .post_form("/forgot/login-id", &[("email", who.email.as_str())])
        .await;
    let unknown = b
        .post_form("/forgot/login-id", &[("email", "nobody@example.jp")])
        .await;
    assert_eq!(known.status, unknown.status);
    assert_eq!(strip_tokens(&known.body), strip_tokens(&unknown.body));

    let known = b
        .post_form("/forgot/password", &[("login", who.login_id.as_str())])
        .await;
    let unknown = b
        .post_form("/forgot/password", &[("login", "nobody0001")])
        .await;
    assert_eq!(known.status, unknown.status);
    assert_eq!(strip_tokens(&known.body), strip_tokens(&unknown.body));

    // Both took a write: each left an audit entry with what was typed and
    // the client's address.
    let entries = audit_entries(&app).await;
    for (kind, typed) in [
        (AuditKind::LoginIdReminderRequested, who.email.as_str()),
        (AuditKind::LoginIdReminderRequested, "nobody@example.jp"),
        (AuditKind::PasswordResetRequested, who.login_id.as_str()),
        (AuditKind::PasswordResetRequested, "nobody0001"),
    ] {
        let e = entries
            .iter()
            .find(|e| e.kind == kind && e.login_id.as_deref() == Some(typed))
            .unwrap_or_else(|| panic!("no {kind:?} entry for {typed}: {entries:#?}"));
        assert_eq!(e.addr.as_deref(), Some("127.0.0.1"));
    }
    // Mail went to the registered address only.
    app.smtp()
        .wait_for(&who.email, templates::LOGIN_ID_SUBJECT, MAIL_WAIT)
        .await;
    assert!(app.smtp().mails_to("nobody@example.jp").is_empty());
}

// ---------------------------------------------------------------------------
// Mail per client address (finding 13)
// ---------------------------------------------------------------------------

#[tokio::test]
async fn one_client_cannot_have_registration_mail_sent_to_twenty_addresses() {
    let app = spawn_app().await;
    let b = app.browser();
    for i in 1..=20 {
        // The same answer every time, sent or not.
        b.start_registration(&format!("target{i:02}@example.jp"))
            .await;
    }
    app.smtp().wait_for_mail(10, MAIL_WAIT).await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let sent = app.smtp().received().len();
    assert_eq!(sent, 10, "one client had {sent} mails sent");
}

#[tokio::test]
async fn one_client_cannot_have_reminders_sent_beyond_its_allowance() {
    let app = spawn_app_with(|c| c.mails_per_client_hour = 4).await;
    let who = Applicant::yamada();
    // One mail request: the registration link (the completion mail that
    // follows is no request of the client's).
    app.register(&who).await;
    let b = app.browser();
    let mut answers = Vec::new();
    for _ in 0..3 {
        answers.push(
            b.post_form("/forgot/password", &[("login", who.login_id.as_str())])
                .await,
        );
    }
    // Over the allowance: the same page, nothing sent.
    let over = b
        .post_form("/forgot/login-id", &[("email", who.email.as_str())])
        .await;
    over.assert_status(StatusCode::OK);
    assert_eq!(strip_tokens(&over.body), {
        let unknown = b
            .post_form("/forgot/login-id", &[("email", "nobody@example.jp")])
            .await;
        strip_tokens(&unknown.body)
    });
    for a in &answers {
        a.assert_status(StatusCode::OK);
    }
    app.smtp().wait_for_mail(5, MAIL_WAIT).await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let subjects: Vec<String> = app
        .smtp()
        .mails_to(&who.email)
        .into_iter()
        .map(|m| m.subject)
        .collect();
    assert_eq!(
        subjects
            .iter()
            .filter(|s| s.as_str() == templates::RESET_SUBJECT)
            .count(),
        3,
        "{subjects:?}"
    );
    assert!(
        !subjects
            .iter()
            .any(|s| s.as_str() == templates::LOGIN_ID_SUBJECT),
        "{subjects:?}"
    );
    let entries = audit_entries(&app).await;
    assert!(
        entries.iter().any(|e| {
            e.kind == AuditKind::LoginIdReminderRequested
                && e.detail.as_deref() == Some("not sent: too many from this client")
        }),
        "{entries:#?}"
    );
}

// ---------------------------------------------------------------------------
// Mail given up (finding 13)
// ---------------------------------------------------------------------------

#[tokio::test]
async fn mail_that_keeps_failing_is_given_up_and_recorded() {
    // Nothing listens on this port: every attempt is refused.
    let refused = smtp_settings(free_port());
    let app = spawn_app_configured(Some(refused), |c| {
        c.mail_give_up = Duration::from_secs(1);
    })
    .await;
    app.post_form(
        "/inquiry",
        &[
            ("name", "山田 太郎"),
            ("email", "yamada@example.jp"),
            ("subject", "登録について"),
            ("message", "旧姓の扱いを教えてください。"),
        ],
    )
    .await
    .assert_status(StatusCode::OK);

    let started = Instant::now();
    let mail = loop {
        let mail = app.outbox().await.into_iter().next().expect("no mail");
        if mail.given_up_at.is_some() {
            break mail;
        }
        assert!(
            started.elapsed() < Duration::from_secs(15),
            "still retrying after 15 s: {mail:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert!(mail.sent_at.is_none());
    assert!(mail.last_error.is_some());
    let pending = app
        .store
        .read(outbox::pending_count)
        .await
        .expect("pending");
    assert_eq!(pending, 0, "a given-up mail is still pending");
    let entries = audit_entries(&app).await;
    let e = entries
        .iter()
        .find(|e| e.kind == AuditKind::MailGivenUp)
        .expect("no mail_given_up audit entry");
    assert_eq!(e.login_id.as_deref(), Some("inquiry@mamis.test"));
    // No attempt after giving up.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let again = app.outbox().await.into_iter().next().expect("no mail");
    assert_eq!(again.attempts, mail.attempts);
}

// ---------------------------------------------------------------------------
// File modes (finding 13)
// ---------------------------------------------------------------------------

#[tokio::test]
async fn the_data_folder_and_database_are_private_to_the_server_user() {
    let dir = tempfile::tempdir().expect("temp dir");
    let data = dir.path().join("data");
    let mut server = Binary::start(&data, dir.path().join("first.log"), None, &[]);
    server.wait_ready().await;
    assert_eq!(mode(&data), 0o700, "data folder");
    assert_eq!(mode(&data.join(mamis::store::DB_FILE)), 0o600, "database");
    assert_eq!(
        mode(&data.join(mamis::admin::SOCKET)),
        0o600,
        "admin socket"
    );
    server.stop();

    // A folder someone opened up is left as it is, with a warning.
    std::fs::set_permissions(&data, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    let mut again = Binary::start(&data, dir.path().join("second.log"), None, &[]);
    again.wait_ready().await;
    assert_eq!(mode(&data), 0o755);
    let log = again.log_text();
    assert!(
        log.contains("other users of this machine may read"),
        "{log}"
    );
    assert_eq!(mode(&data.join(mamis::store::DB_FILE)), 0o600);
}
