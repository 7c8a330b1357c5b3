//! What every story in Chromium shares: the app, chromedriver and a fresh
//! browser at phone size to begin with; evidence when a step fails, the run
//! time, and every accessibility or layout finding reported at the end.
//! Stories take turns (one browser at a time on a small CI machine).

use std::{io::Write, path::PathBuf, time::Instant};

use anyhow::{Result, bail, ensure};
use tempfile::TempDir;
use tokio::sync::{Mutex, MutexGuard};

use super::{
    PHONE,
    chromium::Chromium,
    driver::{Chromedriver, chromedriver_path},
};
use crate::helpers::{TestApp, spawn_app_with_smtp};

/// Held by the story whose browser is open.
static ONE_BROWSER: Mutex<()> = Mutex::const_new(());

/// A story under way: the app (no SMTP server, mail kept in the local
/// outbox) and the browser on it.
pub(super) struct Story {
    pub(super) app: TestApp,
    pub(super) b: Chromium,
    name: &'static str,
    started: Instant,
    driver: Chromedriver,
    _scratch: TempDir,
    _turn: MutexGuard<'static, ()>,
}

impl Story {
    /// Starts story `name` (its screenshots go to
    /// `target/screenshots/{name}/`); `None` when it is skipped for want of
    /// chromedriver.
    pub(super) async fn start(name: &'static str) -> Result<Option<Story>> {
        let Some(driver_bin) = chromedriver_or_skip()? else {
            return Ok(None);
        };
        let turn = ONE_BROWSER.lock().await;
        let started = Instant::now();
        let app = spawn_app_with_smtp(None).await;
        let scratch = tempfile::tempdir()?;
        let driver = Chromedriver::start(&driver_bin, &scratch.path().join("chromedriver.log"))?;
        let b = Chromium::open(
            &driver,
            scratch.path(),
            &app.base,
            &app.dev_outbox_key,
            name,
        )
        .await?;
        b.set_size(PHONE).await?;
        Ok(Some(Story {
            app,
            b,
            name,
            started,
            driver,
            _scratch: scratch,
            _turn: turn,
        }))
    }

    /// Ends the story with what its steps came to: on failure a screenshot
    /// and the URL are left; the browser is closed; the findings fail it.
    pub(super) async fn finish(self, outcome: Result<()>) -> Result<()> {
        if outcome.is_err() {
            self.b.leave_evidence().await;
        }
        self.b.close().await;
        let Story {
            app,
            b,
            name,
            started,
            driver,
            ..
        } = self;
        drop(driver);
        drop(app);
        outcome?;
        println!(
            "browser story {name}: {} screens checked in {:.1} s, screenshots in {}",
            b.screens,
            started.elapsed().as_secs_f64(),
            b.shots.display()
        );
        ensure!(
            b.problems.is_empty(),
            "browser story {name} found {} problem(s):\n- {}",
            b.problems.len(),
            b.problems.join("\n- ")
        );
        Ok(())
    }
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
