//! The real `mamis` binary killed with SIGKILL in the middle of a stream of
//! registrations, then started again on the same data folder: it opens the
//! database cleanly and every registration whose completion page was sent
//! can log in.

use std::{
    fs::File,
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    sync::{Arc, Mutex},
    time::{Duration, Instant, SystemTime, UNIX_EPOCH},
};

use anyhow::{Context, ensure};
use mamis::store::{Store, users};
use reqwest::StatusCode;

use crate::helpers::{Applicant, Browser, PASSWORD, Page, free_port, link_in};

/// Registrations completed before the kill.
const COMPLETIONS_BEFORE_KILL: usize = 8;
/// Registrations running at the same time.
const STREAMS: u32 = 3;

/// A `mamis serve` process on a free loopback port.
struct Server {
    child: Child,
    base: String,
    log: PathBuf,
}

impl Server {
    fn start(data_dir: &Path, log: PathBuf) -> Server {
        let port = free_port();
        let out = File::create(&log).expect("log file");
        let err = out.try_clone().expect("log file");
        let child = Command::new(env!("CARGO_BIN_EXE_mamis"))
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("MAMIS_DATA_DIR", data_dir)
            .env("MAMIS_ADDR", format!("127.0.0.1:{port}"))
            .env("MAMIS_ARGON2_MEMORY_KIB", "64")
            .env("MAMIS_ARGON2_ITERATIONS", "1")
            // Every registration comes from this one client.
            .env("MAMIS_MAILS_PER_CLIENT_HOUR", "100000")
            .env("RUST_LOG", "info")
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err)
            .spawn()
            .expect("start the mamis binary");
        Server {
            child,
            base: format!("http://127.0.0.1:{port}"),
            log,
        }
    }

    /// Waits until the server answers its health check.
    async fn wait_ready(&mut self) {
        let client = reqwest::Client::new();
        let started = Instant::now();
        loop {
            if let Some(status) = self.child.try_wait().expect("process status") {
                panic!("mamis exited with {status} at start:\n{}", self.log_text());
            }
            let ok = client
                .get(format!("{}/healthz", self.base))
                .send()
                .await
                .is_ok_and(|r| r.status() == StatusCode::OK);
            if ok {
                return;
            }
            assert!(
                started.elapsed() < Duration::from_secs(20),
                "mamis did not answer within 20 s:\n{}",
                self.log_text()
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// SIGKILL (what `Child::kill` sends on unix), and reap.
    fn kill(&mut self) {
        self.child.kill().expect("kill mamis");
        self.child.wait().expect("reap mamis");
    }

    fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// The key of `/dev/outbox`, from the URL in the start-up log.
    fn outbox_key(&self) -> String {
        outbox_key_in(&self.log_text())
            .unwrap_or_else(|| panic!("no outbox URL in the log:\n{}", self.log_text()))
    }
}

/// The key of the `…/dev/outbox?key=…` URL in a server's log.
pub fn outbox_key_in(log: &str) -> Option<String> {
    let marker = "/dev/outbox?key=";
    let at = log.find(marker)? + marker.len();
    let key: String = log[at..]
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
        .collect();
    (!key.is_empty()).then_some(key)
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One request that may fail (the server may be gone).
async fn try_send(req: reqwest::RequestBuilder) -> anyhow::Result<Page> {
    let resp = req.send().await.context("request")?;
    let status = resp.status();
    let headers = resp.headers().clone();
    let body = resp.text().await.context("body")?;
    Ok(Page {
        status,
        headers,
        body,
    })
}

async fn get(b: &Browser, path: &str) -> anyhow::Result<Page> {
    try_send(b.client().get(b.url(path))).await
}

/// Posts a form with the token of the browser's CSRF cookie.
async fn post(
    b: &Browser,
    token: &str,
    path: &str,
    pairs: &[(String, String)],
) -> anyhow::Result<Page> {
    let mut body = vec![("csrf_token".to_owned(), token.to_owned())];
    body.extend(pairs.iter().cloned());
    try_send(b.client().post(b.url(path)).form(&body)).await
}

fn expect_redirect(p: &Page, to: &str) -> anyhow::Result<()> {
    ensure!(
        p.status == StatusCode::SEE_OTHER && p.location() == Some(to),
        "expected 303 to {to}, got {} {:?}: {}",
        p.status,
        p.location(),
        p.excerpt()
    );
    Ok(())
}

fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
    list.iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

/// The confirmation link mailed to `email`, read from the local outbox pages.
async fn link_from_outbox(b: &Browser, key: &str, email: &str) -> anyhow::Result<String> {
    expect_redirect(
        &get(b, &format!("/dev/outbox?key={key}")).await?,
        "/dev/outbox",
    )?;
    let list = get(b, "/dev/outbox").await?;
    let at = list
        .body
        .find(&format!(">{email}<"))
        .with_context(|| format!("no mail to {email} in the outbox"))?;
    let href = "href=\"/dev/outbox/";
    let start = list.body[at..].find(href).context("no mail link")? + at + "href=\"".len();
    let end = list.body[start..].find('"').context("unclosed href")? + start;
    let mail = get(b, &list.body[start..end]).await?;
    link_in(&mail.body).context("no registration link in the mail")
}

/// One whole registration; returns when its completion page was received.
async fn register(base: &str, key: &str, who: &Applicant) -> anyhow::Result<()> {
    let b = Browser::new(base);
    let terms = get(&b, "/register").await?;
    let token = crate::helpers::csrf_from(&terms.body).context("no CSRF token")?;
    expect_redirect(
        &post(&b, &token, "/register", &pairs(&[("agree", "yes")])).await?,
        "/register/email",
    )?;
    let email = who.email.as_str();
    expect_redirect(
        &post(
            &b,
            &token,
            "/register/email",
            &pairs(&[("email", email), ("email_confirm", email)]),
        )
        .await?,
        "/register/email/sent",
    )?;
    let link = link_from_outbox(&b, key, email).await?;
    expect_redirect(&get(&b, &link).await?, "/register/form")?;
    expect_redirect(
        &post(&b, &token, "/register/form", &who.fields()).await?,
        "/register/confirm",
    )?;
    expect_redirect(
        &post(&b, &token, "/register/confirm", &[]).await?,
        "/register/complete",
    )?;
    let done = get(&b, "/register/complete").await?;
    ensure!(
        done.status == StatusCode::OK && done.body.contains("利用者登録が完了しました"),
        "no completion page: {} {}",
        done.status,
        done.excerpt()
    );
    Ok(())
}

/// Registers one applicant after another until an error (the kill).
async fn stream(
    base: String,
    key: String,
    n: u32,
    completed: Arc<Mutex<Vec<String>>>,
) -> anyhow::Error {
    for i in 0.. {
        let who = Applicant::numbered(n * 1000 + i);
        if let Err(e) = register(&base, &key, &who).await {
            return e;
        }
        completed
            .lock()
            .expect("lock poisoned")
            .push(who.login_id.clone());
    }
    unreachable!()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_registration_whose_completion_page_was_sent_survives_a_sigkill() {
    let dir = tempfile::tempdir().expect("temp dir");
    let data = dir.path().join("data");
    let mut first = Server::start(&data, dir.path().join("first.log"));
    first.wait_ready().await;

    let key = first.outbox_key();
    let completed = Arc::new(Mutex::new(Vec::<String>::new()));
    let mut streams = tokio::task::JoinSet::new();
    for n in 1..=STREAMS {
        streams.spawn(stream(
            first.base.clone(),
            key.clone(),
            n,
            completed.clone(),
        ));
    }
    let started = Instant::now();
    while completed.lock().expect("lock poisoned").len() < COMPLETIONS_BEFORE_KILL {
        if let Some(ended) = streams.try_join_next() {
            panic!(
                "a registration failed before the kill: {:#}\n{}",
                ended.expect("stream task"),
                first.log_text()
            );
        }
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "too slow: {} registrations in 60 s",
            completed.lock().expect("lock poisoned").len()
        );
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    // Somewhere in the middle of the next registrations' requests.
    let jitter = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos() % 25);
    tokio::time::sleep(Duration::from_millis(u64::from(jitter))).await;
    first.kill();
    let recorded = completed.lock().expect("lock poisoned").clone();
    while let Some(ended) = streams.join_next().await {
        // Every stream ends with the connection lost.
        let _ = ended.expect("stream task");
    }
    let recorded_after = completed.lock().expect("lock poisoned").clone();
    assert!(recorded.len() >= COMPLETIONS_BEFORE_KILL);

    // Started again on the same folder: it opens and answers.
    let mut second = Server::start(&data, dir.path().join("second.log"));
    second.wait_ready().await;
    let b = Browser::new(&second.base);
    for login_id in &recorded_after {
        let page = b.log_in(login_id, PASSWORD).await;
        assert_eq!(
            (page.status, page.location()),
            (StatusCode::SEE_OTHER, Some("/mypage")),
            "{login_id} was shown its completion page but cannot log in \
             (recorded {} before the kill)",
            recorded_after.len()
        );
        let mypage = b.get("/mypage").await;
        mypage.assert_contains(login_id);
    }
    // It still takes registrations.
    let late = Applicant::numbered(9999);
    register(&second.base, &second.outbox_key(), &late)
        .await
        .expect("registration after the restart");
    second.kill();

    // The file, opened directly, holds them all.
    let store = tokio::task::spawn_blocking(move || Store::open(&data))
        .await
        .expect("open task")
        .expect("the database opens");
    let ids = recorded_after.clone();
    let (count, missing) = store
        .read(move |tx| {
            let missing: Vec<String> = ids
                .iter()
                .filter(|id| matches!(users::by_login_id(tx, id), Ok(None)))
                .cloned()
                .collect();
            Ok((users::count(tx)?, missing))
        })
        .await
        .expect("read the store");
    assert!(missing.is_empty(), "missing accounts: {missing:?}");
    assert!(count as usize > recorded_after.len(), "count {count}");
    println!(
        "crash test: killed after {} completions ({} recorded in all), {count} accounts after restart",
        recorded.len(),
        recorded_after.len()
    );
}
