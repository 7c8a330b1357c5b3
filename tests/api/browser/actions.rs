//! What a person does across screens: log in and out, follow a link or
//! press a button by what it says, go through a confirmation screen when
//! there is one, upload a file.

use std::path::Path;

use anyhow::{Context, Result};
use fantoccini::Locator;
use serde_json::json;

use super::chromium::Chromium;

/// XPath string literal for `text` (no quote handling needed for the
/// Japanese labels used here, but a `'` would break it).
fn xpath_text(text: &str) -> String {
    if text.contains('\'') {
        format!("\"{text}\"")
    } else {
        format!("'{text}'")
    }
}

impl Chromium {
    /// From the login page: types the login ID and password and presses
    /// ログインする (the next page is left to the caller to wait for).
    pub(super) async fn log_in(&self, login_id: &str, password: &str) -> Result<()> {
        self.goto("/login").await?;
        self.wait_h1("ログイン").await?;
        self.clear_and_type("#login_id", login_id).await?;
        self.clear_and_type("#password", password).await?;
        self.submit("ログインする").await
    }

    /// Presses ログアウト, on this page or else on `home` (マイページ or
    /// 事務局TOP), and waits for the login page.
    pub(super) async fn log_out(&self, home: &str) -> Result<()> {
        if !self.has_button("ログアウト").await? {
            self.goto(home).await?;
            self.wait_for(
                "a page with ログアウト",
                "document.readyState === 'complete'",
            )
            .await?;
        }
        self.submit("ログアウト").await?;
        self.wait_h1("ログイン").await
    }

    /// True when the page has a button that says `text`.
    pub(super) async fn has_button(&self, text: &str) -> Result<bool> {
        Ok(!self
            .c
            .find_all(Locator::XPath(&format!(
                "//button[normalize-space()={}]",
                xpath_text(text)
            )))
            .await?
            .is_empty())
    }

    /// Follows the link whose text contains `text` and waits for the next
    /// page to load.
    pub(super) async fn follow(&self, text: &str) -> Result<()> {
        self.set_marker().await?;
        self.c
            .find(Locator::XPath(&format!(
                "//a[contains(normalize-space(), {})]",
                xpath_text(text)
            )))
            .await
            .with_context(|| format!("link {text}"))?
            .click()
            .await
            .with_context(|| format!("click link {text}"))?;
        self.wait_loaded(&format!("the page after link {text}"))
            .await
    }

    /// The first of `labels` that a button on the page says.
    pub(super) async fn first_button<'a>(&self, labels: &[&'a str]) -> Result<Option<&'a str>> {
        for label in labels {
            if self.has_button(label).await? {
                return Ok(Some(*label));
            }
        }
        Ok(None)
    }

    /// Clicks the first element matching `css` (a link) and waits for the
    /// next page.
    pub(super) async fn click_and_wait(&self, css: &str) -> Result<()> {
        self.set_marker().await?;
        self.c
            .find(Locator::Css(css))
            .await
            .with_context(|| format!("find {css}"))?
            .click()
            .await
            .with_context(|| format!("click {css}"))?;
        self.wait_loaded(&format!("the page after clicking {css}"))
            .await
    }

    /// Presses the button that says `text` and waits for the next page.
    pub(super) async fn submit(&self, text: &str) -> Result<()> {
        self.set_marker().await?;
        self.button(text).await?.click().await?;
        self.wait_loaded(&format!("the page after button {text}"))
            .await
    }

    /// Presses the button that says `text`; when the next page is a
    /// confirmation (no error, and a button saying one of `confirm`, or a
    /// heading with 確認 and a single main button), checks it as screen
    /// `shot` and presses that too. Returns whether there was one.
    pub(super) async fn submit_through_confirmation(
        &mut self,
        text: &str,
        confirm: &[&str],
        shot: &str,
    ) -> Result<bool> {
        self.submit(text).await?;
        let errors = self
            .js(
                "return document.querySelectorAll('.error-summary, .msg .error').length",
                vec![],
            )
            .await?;
        if errors.as_u64().unwrap_or(0) > 0 {
            return Ok(false);
        }
        let label = match self.first_button(confirm).await? {
            Some(label) => Some(label.to_owned()),
            // Another label: a page titled 確認 with one main button.
            None => self
                .js(
                    "const h = document.querySelector('h1')?.textContent ?? '';\
                     const b = [...document.querySelectorAll('main form button[type=submit]')]\
                       .filter(b => !b.classList.contains('secondary'));\
                     return h.includes('確認') && b.length === 1 ? b[0].textContent.trim() : null;",
                    vec![],
                )
                .await?
                .as_str()
                .map(str::to_owned),
        };
        let Some(label) = label else {
            return Ok(false);
        };
        self.screen(shot, true).await?;
        self.submit(&label).await?;
        Ok(true)
    }

    /// Waits until the marked page was replaced by a loaded one.
    pub(super) async fn wait_loaded(&self, what: &str) -> Result<()> {
        self.wait_for(
            what,
            "window.__mamisNoReload === undefined && document.readyState === 'complete'",
        )
        .await?;
        Ok(())
    }

    /// Chooses `file` in the file input `css` (as the file dialog would).
    pub(super) async fn choose_file(&self, css: &str, file: &Path) -> Result<()> {
        let path = file.to_str().context("a file path in UTF-8")?;
        self.send_keys(css, path).await
    }

    /// The text of the page's main content.
    pub(super) async fn main_text(&self) -> Result<String> {
        let t = self
            .js(
                "return document.querySelector('main')?.innerText ?? document.body.innerText",
                vec![],
            )
            .await?;
        Ok(t.as_str().unwrap_or("").to_owned())
    }

    /// Chooses the option of `select#id` whose text contains `text`.
    pub(super) async fn select_by_text(&self, id: &str, text: &str) -> Result<()> {
        let value = self
            .js(
                "const s = document.getElementById(arguments[0]);\
                 const o = s && [...s.options].find(o => o.textContent.includes(arguments[1]));\
                 return o ? o.value : null;",
                vec![json!(id), json!(text)],
            )
            .await?;
        let value = value
            .as_str()
            .with_context(|| format!("#{id}: no option with {text}"))?
            .to_owned();
        self.select(id, &value).await
    }
}
