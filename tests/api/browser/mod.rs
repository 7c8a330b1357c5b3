//! The browser test: the whole self-registration journey in real headless
//! Chromium, driven from Rust through chromedriver (WebDriver) with fantoccini.
//!
//! What it proves (issue 2, "Proof"): a bad login ID gets its message without
//! a page load; a school and a society are picked from the suggestions with
//! the keyboard; kana and 和暦 are normalised when a field is left; the
//! registration completes. On every screen it injects axe-core (vendored in
//! `tests/axe/`) and fails on any serious or critical violation, checks that a
//! 360 px wide phone needs no horizontal scrolling, and saves a full-page
//! screenshot (phone, and desktop for the main screens) under
//! `target/screenshots/`.
//!
//! Without chromedriver on PATH the test prints that it skipped, unless
//! `MAMIS_REQUIRE_BROWSER=1` (set by `.ci/run`), where that is a failure.
//! `MAMIS_CHROMEDRIVER` and `MAMIS_CHROME` name other binaries.
//!
//! The app is the one every story starts (`spawn_app_with_smtp(None)`: no
//! SMTP server, mail kept in the local outbox). Parts: `steps` (the story,
//! screen by screen), `chromium` (driving the browser), `checks` (what is
//! checked on every screen), `driver` (chromedriver and the session).

mod checks;
mod chromium;
mod driver;
mod steps;

use std::{
    io::Write,
    path::PathBuf,
    time::{Duration, Instant},
};

use anyhow::{Result, bail, ensure};

use self::{
    chromium::Chromium,
    driver::{Chromedriver, chromedriver_path},
    steps::*,
};
use crate::helpers::spawn_app_with_smtp;

/// A small phone: every screen is checked at this size.
const PHONE: (u32, u32) = (360, 800);

/// How long to wait for anything the page does by itself.
const WAIT: Duration = Duration::from_secs(10);

/// What is typed into the form.
const EMAIL: &str = "yamada.taro@example.jp";
const LOGIN_ID: &str = "yamada2024";
const PASSWORD: &str = "Sakura#2024x";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn registration_in_headless_chromium() -> Result<()> {
    let Some(driver_bin) = chromedriver_or_skip()? else {
        return Ok(());
    };
    let started = Instant::now();
    let app = spawn_app_with_smtp(None).await;
    let tmp = tempfile::tempdir()?;
    let driver = Chromedriver::start(&driver_bin, &tmp.path().join("chromedriver.log"))?;
    let mut b = Chromium::open(&driver, tmp.path(), &app.base, &app.dev_outbox_key).await?;

    let outcome = journey(&mut b).await;
    if outcome.is_err() {
        b.leave_evidence().await;
    }
    b.close().await;
    drop(driver);
    drop(app);

    outcome?;
    println!(
        "browser test: {} screens checked in {:.1} s, screenshots in {}",
        b.screens,
        started.elapsed().as_secs_f64(),
        b.shots.display()
    );
    ensure!(
        b.problems.is_empty(),
        "browser test found {} problem(s):\n- {}",
        b.problems.len(),
        b.problems.join("\n- ")
    );
    Ok(())
}

/// The story, step by step (each step in `steps`).
async fn journey(b: &mut Chromium) -> Result<()> {
    b.set_size(PHONE).await?;
    start_at_the_login_page(b).await?;
    open_terms_and_agree(b).await?;
    enter_email_twice(b).await?;
    follow_the_mailed_link(b).await?;
    bad_login_id_is_told_inline(b).await?;
    submit_too_early_and_see_every_error(b).await?;
    fill_the_form_with_live_checks(b).await?;
    pick_school_from_suggestions(b).await?;
    pick_society_from_suggestions(b).await?;
    no_message_is_left_on_the_form(b).await?;
    confirm_and_register(b).await
}

/// chromedriver's path; `None` (the test is skipped, said on stderr) when
/// it is missing, an error when `MAMIS_REQUIRE_BROWSER=1`.
fn chromedriver_or_skip() -> Result<Option<PathBuf>> {
    let required = std::env::var("MAMIS_REQUIRE_BROWSER").is_ok_and(|v| v == "1");
    let found = chromedriver_path();
    if found.is_none() {
        if required {
            bail!(
                "browser test: chromedriver not found and MAMIS_REQUIRE_BROWSER=1 \
                 (install chromium chromium-driver)"
            );
        }
        // Written past libtest's output capture, so a plain `cargo test` shows it.
        let _ = writeln!(
            std::io::stderr(),
            "SKIPPED browser test: chromedriver not found (install chromium chromium-driver)"
        );
    }
    Ok(found)
}
