//! The local outbox (`/dev/outbox`), read in the browser as a person reads
//! their mail: the newest mails' addressees and subjects, and the link in a
//! mail.

use std::time::{Duration, Instant};

use anyhow::{Context, Result, ensure};
use fantoccini::Locator;
use serde_json::Value;

use super::{WAIT, chromium::Chromium};

/// A mail as the outbox lists it.
#[derive(Debug)]
pub(super) struct Listed {
    pub(super) to: String,
    pub(super) subject: String,
}

impl Chromium {
    /// Opens the local outbox page.
    pub(super) async fn open_outbox(&self) -> Result<()> {
        self.goto(&format!("/dev/outbox?key={}", self.outbox_key))
            .await?;
        self.wait_h1("ローカル送信箱").await
    }

    /// The mails of the outbox, newest first.
    pub(super) async fn outbox_list(&self) -> Result<Vec<Listed>> {
        self.open_outbox().await?;
        let rows = self
            .js(
                "return [...document.querySelectorAll('table.mails tbody tr')]\
                 .map(r => [r.cells[1]?.textContent ?? '', r.cells[2]?.textContent ?? ''])",
                vec![],
            )
            .await?;
        Ok(rows
            .as_array()
            .cloned()
            .unwrap_or_default()
            .iter()
            .map(|r| Listed {
                to: r[0].as_str().unwrap_or("").trim().to_owned(),
                subject: r[1].as_str().unwrap_or("").trim().to_owned(),
            })
            .collect())
    }

    /// Waits until the outbox holds `n` mails to `to` whose subject
    /// contains `subject`; returns their subjects, newest first.
    pub(super) async fn wait_for_mails(
        &self,
        to: &str,
        subject: &str,
        n: usize,
    ) -> Result<Vec<String>> {
        let deadline = Instant::now() + WAIT;
        loop {
            let mails = self.outbox_list().await?;
            let found: Vec<String> = mails
                .iter()
                .filter(|m| m.to == to && m.subject.contains(subject))
                .map(|m| m.subject.clone())
                .collect();
            if found.len() >= n {
                return Ok(found);
            }
            ensure!(
                Instant::now() < deadline,
                "outbox: {} of {n} mails to {to} about {subject}; there are {mails:#?}",
                found.len()
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    /// Opens the newest mail of the local outbox, checks its subject
    /// contains `subject`, saves its screenshot as `shot`, and returns its
    /// link that contains `path`.
    pub(super) async fn link_from_outbox(
        &self,
        subject: &str,
        path: &str,
        shot: &str,
    ) -> Result<String> {
        self.open_outbox().await?;
        let deadline = Instant::now() + WAIT;
        while self
            .c
            .find_all(Locator::Css("a[href^='/dev/outbox/']"))
            .await?
            .is_empty()
        {
            ensure!(Instant::now() < deadline, "outbox: no mail arrived");
            tokio::time::sleep(Duration::from_millis(100)).await;
            self.c.refresh().await?;
        }
        let link = self.c.find(Locator::Css("a[href^='/dev/outbox/']")).await?;
        let newest = link.text().await?;
        ensure!(
            newest.contains(subject),
            "outbox: newest mail is {newest:?}, not {subject:?}"
        );
        link.click().await?;
        let body = self
            .wait_for(
                "outbox: mail body",
                "document.querySelector('pre.mailbody')?.textContent",
            )
            .await?;
        self.save_png(shot, &self.full_screenshot().await?)?;
        let body = match body {
            Value::String(s) => s,
            _ => String::new(),
        };
        let url = body
            .split_whitespace()
            .find(|w| w.starts_with(&self.base) && w.contains(path))
            .with_context(|| format!("outbox: no {path} link in the mail:\n{body}"))?;
        Ok(url.to_owned())
    }
}
