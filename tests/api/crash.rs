//! The real `mamis` binary killed with SIGKILL in the middle of a stream of
//! registrations, then started again on the same data folder: it opens the
//! database cleanly and every registration whose completion page was sent
//! can log in.

use std::{
    path::{Path, PathBuf},
    sync::{Arc, Mutex},
    time::{Duration, Instant, SystemTime, UNIX_EPOCH},
};

use anyhow::{Context, ensure};
use mamis::store::{Store, users};
use reqwest::StatusCode;

use crate::helpers::{Applicant, Binary, Browser, PASSWORD, link_in};

/// Registrations completed before the kill.
const COMPLETIONS_BEFORE_KILL: usize = 8;
/// Registrations running at the same time.
const STREAMS: u32 = 3;

/// `mamis serve` on `data_dir`, mailing as much as asked: every registration
/// comes from this one client.
fn start_server(data_dir: &Path, log: PathBuf) -> Binary {
    Binary::start(
        data_dir,
        log,
        None,
        &[
            ("MAMIS_MAILS_PER_CLIENT_HOUR", "100000"),
            ("RUST_LOG", "info"),
        ],
    )
}

/// The confirmation link mailed to `email`, read from the local outbox pages.
async fn link_from_outbox(b: &Browser, key: &str, email: &str) -> anyhow::Result<String> {
    b.try_get(&format!("/dev/outbox?key={key}"))
        .await?
        .expect_redirect_to("/dev/outbox")?;
    let list = b.try_get("/dev/outbox").await?;
    let at = list
        .body
        .find(&format!(">{email}<"))
        .with_context(|| format!("no mail to {email} in the outbox"))?;
    let href = "href=\"/dev/outbox/";
    let start = list.body[at..].find(href).context("no mail link")? + at + "href=\"".len();
    let end = list.body[start..].find('"').context("unclosed href")? + start;
    let mail = b.try_get(&list.body[start..end]).await?;
    link_in(&mail.body).context("no registration link in the mail")
}

/// One whole registration; returns when its completion page was received.
async fn register(base: &str, key: &str, who: &Applicant) -> anyhow::Result<()> {
    let b = Browser::new(base);
    b.try_get("/register").await?;
    b.try_post_form("/register", &[("agree", "yes")])
        .await?
        .expect_redirect_to("/register/email")?;
    let email = who.email.as_str();
    b.try_post_form(
        "/register/email",
        &[("email", email), ("email_confirm", email)],
    )
    .await?
    .expect_redirect_to("/register/email/sent")?;
    let link = link_from_outbox(&b, key, email).await?;
    b.try_get(&link)
        .await?
        .expect_redirect_to("/register/form")?;
    b.try_post_form("/register/form", &who.fields())
        .await?
        .expect_redirect_to("/register/confirm")?;
    b.try_post_form("/register/confirm", &[] as &[(&str, &str)])
        .await?
        .expect_redirect_to("/register/complete")?;
    let done = b.try_get("/register/complete").await?;
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
    let mut first = start_server(&data, dir.path().join("first.log"));
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
    let mut second = start_server(&data, dir.path().join("second.log"));
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
