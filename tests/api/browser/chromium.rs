//! The open browser: a WebDriver session on the app, and the ways the story
//! drives it (open a page, type, press keys, pick options, wait for the page
//! to change). What a person does across screens is in `actions`, the local
//! outbox in `mailbox`.

use std::{
    path::{Path, PathBuf},
    time::{Duration, Instant},
};

use anyhow::{Context, Result, bail, ensure};
use fantoccini::{
    Client, Locator,
    actions::{InputSource, KeyAction, KeyActions},
    key::Key,
};
use serde_json::{Value, json};

use super::{
    WAIT,
    checks::screenshot_dir,
    driver::{Chromedriver, connect},
};

/// The open browser, with what the story needs of it.
pub(super) struct Chromium {
    pub(super) c: Client,
    pub(super) base: String,
    /// Opens `/dev/outbox` (`?key=`).
    pub(super) outbox_key: String,
    pub(super) shots: PathBuf,
    /// How many screens were checked.
    pub(super) screens: usize,
    /// Accessibility and layout findings, reported together at the end.
    pub(super) problems: Vec<String>,
}

impl Chromium {
    /// A session in a fresh profile under `scratch` (where `driver` writes
    /// its log), on the app at `base` whose local outbox opens with
    /// `outbox_key`; screenshots go to `target/screenshots/{story}/`.
    pub(super) async fn open(
        driver: &Chromedriver,
        scratch: &Path,
        base: &str,
        outbox_key: &str,
        story: &str,
    ) -> Result<Chromium> {
        let c = match connect(&driver.url, &scratch.join("profile")).await {
            Ok(c) => c,
            Err(e) => {
                let log =
                    std::fs::read_to_string(scratch.join("chromedriver.log")).unwrap_or_default();
                let tail: String = log.lines().rev().take(30).collect::<Vec<_>>().join("\n");
                return Err(e.context(format!(
                    "chromedriver log (last lines, newest first):\n{tail}"
                )));
            }
        };
        Ok(Chromium {
            c,
            base: base.to_owned(),
            outbox_key: outbox_key.to_owned(),
            shots: screenshot_dir(story)?,
            screens: 0,
            problems: Vec::new(),
        })
    }

    /// Leaves evidence of where the story stopped: a screenshot and the URL.
    pub(super) async fn leave_evidence(&self) {
        if let Ok(png) = self.full_screenshot().await {
            let path = self.shots.join("failure.png");
            let _ = std::fs::write(&path, png);
            eprintln!("browser test failed; screen saved to {}", path.display());
        }
        if let Ok(url) = self.c.current_url().await {
            eprintln!("browser test failed at {url}");
        }
    }

    /// Ends the WebDriver session (and Chromium with it).
    pub(super) async fn close(&self) {
        let _ = self.c.clone().close().await;
    }

    /// Records an accessibility or layout finding (reported at the end).
    pub(super) fn problem(&mut self, p: String) {
        eprintln!("PROBLEM: {p}");
        self.problems.push(p);
    }

    /// One key press on whatever has focus (as a person at a keyboard).
    pub(super) async fn press(&self, key: Key) -> Result<()> {
        let keys = KeyActions::new("keyboard".into())
            .then(KeyAction::Down { value: key.into() })
            .then(KeyAction::Up { value: key.into() });
        self.c
            .perform_actions(keys)
            .await
            .with_context(|| format!("press {key:?}"))
    }

    /// Marks the loaded page; a page load would lose the mark.
    pub(super) async fn set_marker(&self) -> Result<()> {
        self.js("window.__mamisNoReload = 'still here'; return true", vec![])
            .await?;
        Ok(())
    }

    pub(super) async fn check_marker(&self, what: &str) -> Result<()> {
        let marker = self
            .js("return window.__mamisNoReload ?? null", vec![])
            .await?;
        ensure!(marker == json!("still here"), "{what} (marker is {marker})");
        Ok(())
    }

    pub(super) async fn goto(&self, path: &str) -> Result<()> {
        self.c
            .goto(&format!("{}{path}", self.base))
            .await
            .with_context(|| format!("open {path}"))
    }

    pub(super) async fn js(&self, script: &str, args: Vec<Value>) -> Result<Value> {
        self.c
            .execute(script, args)
            .await
            .with_context(|| format!("script failed: {script}"))
    }

    /// Polls the JavaScript expression `expr` until it is truthy; returns it.
    pub(super) async fn wait_for(&self, what: &str, expr: &str) -> Result<Value> {
        let script = format!("try {{ return ({expr}) ?? null; }} catch (e) {{ return null; }}");
        let deadline = Instant::now() + WAIT;
        loop {
            let v = self.c.execute(&script, vec![]).await.unwrap_or(Value::Null);
            let truthy = match &v {
                Value::Null => false,
                Value::Bool(b) => *b,
                Value::String(s) => !s.is_empty(),
                Value::Number(n) => n.as_f64() != Some(0.0),
                _ => true,
            };
            if truthy {
                return Ok(v);
            }
            if Instant::now() > deadline {
                let url = self
                    .c
                    .current_url()
                    .await
                    .map(|u| u.to_string())
                    .unwrap_or_default();
                bail!("timed out waiting for {what} (at {url}; condition: {expr})");
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Waits until a page whose first heading contains `text` has loaded.
    pub(super) async fn wait_h1(&self, text: &str) -> Result<()> {
        let expr = format!(
            "document.readyState === 'complete' && \
             (document.querySelector('h1')?.textContent ?? '').includes({})",
            json!(text)
        );
        self.wait_for(&format!("heading {text}"), &expr).await?;
        Ok(())
    }

    /// Waits until a loaded page's main content contains `text`.
    pub(super) async fn wait_text(&self, what: &str, text: &str) -> Result<()> {
        let expr = format!(
            "document.readyState === 'complete' && \
             (document.querySelector('main')?.textContent ?? '').includes({})",
            json!(text)
        );
        self.wait_for(what, &expr).await?;
        Ok(())
    }

    /// Waits until input `#id` holds `value`.
    pub(super) async fn wait_value(&self, id: &str, value: &str) -> Result<()> {
        let expr = format!(
            "document.getElementById({})?.value === {}",
            json!(id),
            json!(value)
        );
        if let Err(e) = self.wait_for(&format!("#{id} = {value}"), &expr).await {
            let now = self
                .js(
                    "return document.getElementById(arguments[0])?.value ?? null",
                    vec![json!(id)],
                )
                .await?;
            return Err(e.context(format!("#{id} holds {now}")));
        }
        Ok(())
    }

    pub(super) async fn button(&self, text: &str) -> Result<fantoccini::elements::Element> {
        self.c
            .find(Locator::XPath(&format!(
                "//button[normalize-space()='{text}']"
            )))
            .await
            .with_context(|| format!("button {text}"))
    }

    pub(super) async fn attr(&self, css: &str, name: &str) -> Result<Option<String>> {
        Ok(self.c.find(Locator::Css(css)).await?.attr(name).await?)
    }

    pub(super) async fn send_keys(&self, css: &str, keys: &str) -> Result<()> {
        self.c
            .find(Locator::Css(css))
            .await
            .with_context(|| format!("find {css}"))?
            .send_keys(keys)
            .await
            .with_context(|| format!("type into {css}"))
    }

    pub(super) async fn type_into(&self, css: &str, text: &str) -> Result<()> {
        self.send_keys(css, text).await
    }

    pub(super) async fn clear_and_type(&self, css: &str, text: &str) -> Result<()> {
        let e = self
            .c
            .find(Locator::Css(css))
            .await
            .with_context(|| format!("find {css}"))?;
        if e.prop("value").await?.is_some_and(|v| !v.is_empty()) {
            e.clear().await?;
        }
        e.send_keys(text)
            .await
            .with_context(|| format!("type into {css}"))
    }

    /// Types into a field and leaves it with Tab (which fires its check).
    pub(super) async fn fill_and_leave(&self, css: &str, text: &str) -> Result<()> {
        self.clear_and_type(css, text).await?;
        self.send_keys(css, &Key::Tab.to_string()).await
    }

    /// Chooses the option with `value` in `select#id`.
    pub(super) async fn select(&self, id: &str, value: &str) -> Result<()> {
        let sel = self.c.find(Locator::Id(id)).await?;
        let opt = format!("option[value='{value}']");
        sel.find(Locator::Css(&opt))
            .await
            .with_context(|| format!("#{id}: no {opt}"))?
            .click()
            .await?;
        let expr = format!(
            "document.getElementById({})?.value === {}",
            json!(id),
            json!(value)
        );
        self.wait_for(&format!("#{id} = {value}"), &expr).await?;
        Ok(())
    }

    /// Opens the newest mail of the local outbox, the registration's, and
    /// returns its link.
    pub(super) async fn verify_link_from_outbox(&self) -> Result<String> {
        self.link_from_outbox("利用者登録のご確認", "/register/verify", "06-outbox-mail")
            .await
    }

    pub(super) async fn set_size(&self, (w, h): (u32, u32)) -> Result<()> {
        self.c.set_window_size(w, h).await?;
        let inner = self
            .js("return document.documentElement.clientWidth", vec![])
            .await?;
        ensure!(
            inner.as_u64() == Some(u64::from(w)),
            "window: asked for {w} px wide, the page has {inner}"
        );
        Ok(())
    }
}
