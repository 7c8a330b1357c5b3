//! The browser tests: stories in real headless Chromium, driven from Rust
//! through chromedriver (WebDriver) with fantoccini, one browser at a time.
//!
//! The registration story (issue 2, "Proof"): a bad login ID gets its message without
//! a page load; a school and a society are picked from the suggestions with
//! the keyboard; kana and 和暦 are normalised when a field is left; the
//! registration completes. The staff story (issue 8, `staff_steps`): the
//! physician found by part of the カナ with htmx active search, the phone
//! corrected with its inline message, the change in 変更履歴. The import
//! story (issue 9, `import_steps`): a CSV imported, the postcards printed,
//! the member's first login with them. The procedure story (issue 10,
//! `procedure_steps`): a 研修医 joins three levels, three offices approve in
//! turn, each step on 申請状況 and by mail.
//!
//! On every screen a story injects axe-core (vendored in
//! `tests/axe/`) and fails on any serious or critical violation, checks that a
//! 360 px wide phone needs no horizontal scrolling, and saves a full-page
//! screenshot (phone, and desktop for the main screens) under
//! `target/screenshots/{story}/`.
//!
//! Without chromedriver on PATH the test prints that it skipped, unless
//! `MAMIS_REQUIRE_BROWSER=1` (set by `.ci/run`), where that is a failure.
//! `MAMIS_CHROMEDRIVER` and `MAMIS_CHROME` name other binaries.
//!
//! The app is the one every story starts (`spawn_app_with_smtp(None)`: no
//! SMTP server, mail kept in the local outbox). Parts: `story` (what every
//! story shares: app, chromedriver, browser, evidence, findings), `steps`
//! and the other `*_steps` (the stories, screen by screen), `cast` (the
//! people a story needs but does not show), `chromium` (driving the
//! browser), `actions` (log in and out, links and buttons by their text),
//! `mailbox` (the local outbox), `checks` (what is checked on every screen),
//! `driver` (chromedriver and the session).

mod actions;
mod cast;
mod checks;
mod chromium;
mod driver;
mod import_steps;
mod mailbox;
mod procedure_steps;
mod staff_steps;
mod steps;
mod story;

use std::time::Duration;

use anyhow::Result;

use self::{chromium::Chromium, steps::*, story::Story};

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
    let Some(mut s) = Story::start("registration").await? else {
        return Ok(());
    };
    let outcome = journey(&mut s.b).await;
    s.finish(outcome).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn staff_correct_a_phone_number_in_headless_chromium() -> Result<()> {
    let Some(mut s) = Story::start("staff").await? else {
        return Ok(());
    };
    let outcome = staff_steps::staff_story(&s.app, &mut s.b).await;
    s.finish(outcome).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn member_import_and_first_login_in_headless_chromium() -> Result<()> {
    let Some(mut s) = Story::start("import").await? else {
        return Ok(());
    };
    let outcome = import_steps::import_story(&s.app, &mut s.b).await;
    s.finish(outcome).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn join_procedure_in_headless_chromium() -> Result<()> {
    let Some(mut s) = Story::start("procedure").await? else {
        return Ok(());
    };
    let outcome = procedure_steps::procedure_story(&s.app, &mut s.b).await;
    s.finish(outcome).await
}

/// The registration story, step by step (each step in `steps`).
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
