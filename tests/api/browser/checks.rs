//! What is checked on every screen: no horizontal scrolling on a 360 px
//! phone, axe-core's serious and critical violations, a visible focus on
//! each keyboard stop, the form's ARIA wiring; and the full-page screenshots
//! saved under `target/screenshots/`.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use base64::Engine;
use fantoccini::{key::Key, wd::WebDriverCompatibleCommand};
use serde_json::{Value, json};

use super::{PHONE, chromium::Chromium};

/// axe-core from the npm package `axe-core` (MPL-2.0, licence beside it).
const AXE_VERSION: &str = "4.14.1";
const AXE_JS: &str = include_str!("../../axe/axe-4.14.1.min.js");

/// A desktop window, for the second screenshot of the main screens.
const DESKTOP: (u32, u32) = (1280, 900);

impl Chromium {
    /// Keyboard only: Tab from the top of the page through `tabs` stops; each
    /// focused element must show a visible focus indicator and be on screen.
    pub(super) async fn keyboard_focus(&mut self, screen: &str, tabs: usize) -> Result<()> {
        self.js(
            "document.activeElement?.blur(); window.scrollTo(0, 0); return true",
            vec![],
        )
        .await?;
        let mut visited = Vec::new();
        for _ in 0..tabs {
            self.press(Key::Tab).await?;
            let f = self
                .js(
                    r##"const e = document.activeElement;
                    if (!e || e === document.body) return null;
                    const s = getComputedStyle(e), r = e.getBoundingClientRect();
                    const name = e.tagName.toLowerCase() + (e.id ? "#" + e.id : "")
                      + (e.type ? "[" + e.type + "]" : "")
                      + " " + (e.textContent || e.value || "").trim().replace(/\s+/g, " ").slice(0, 20);
                    const ring = (s.outlineStyle !== "none" && parseFloat(s.outlineWidth) > 0)
                      || s.boxShadow !== "none";
                    const onScreen = r.width > 1 && r.height > 1 && r.right > 0 && r.left < innerWidth
                      && r.bottom > 0 && r.top < innerHeight;
                    return { name, ring, onScreen };"##,
                    vec![],
                )
                .await?;
            if f.is_null() {
                // Focus on the page itself (Chromium does this once after the
                // scrollable terms box); the next Tab goes on.
                visited.push("(page)".to_owned());
                continue;
            }
            let name = f["name"].as_str().unwrap_or("?").to_owned();
            if f["ring"] != json!(true) {
                self.problem(format!("{screen}: no visible focus indicator on {name}"));
            }
            if f["onScreen"] != json!(true) {
                self.problem(format!("{screen}: focused {name} is not on screen"));
            }
            visited.push(name);
        }
        println!("keyboard {screen}: {}", visited.join(" → "));
        Ok(())
    }

    /// What axe-core does not check about a form: every message region is
    /// referenced by `aria-describedby`; every required control has
    /// `aria-required="true"` and 必須 in its label.
    pub(super) async fn form_semantics(&mut self, screen: &str) -> Result<()> {
        let found = self
            .js(
                r#"const out = [];
                for (const m of document.querySelectorAll(".msg[id^='m-']")) {
                  const refs = [...document.querySelectorAll("[aria-describedby]")]
                    .filter(e => e.getAttribute("aria-describedby").split(/\s+/).includes(m.id));
                  if (!refs.length) out.push(`${m.id} is not referenced by aria-describedby`);
                  if (m.getAttribute("aria-live") !== "polite" && m.getAttribute("role") !== "alert")
                    out.push(`${m.id} is not a live region`);
                }
                for (const c of document.querySelectorAll("input[required], select[required], textarea[required]")) {
                  if (c.getAttribute("aria-required") !== "true") out.push(`#${c.id} lacks aria-required`);
                  const label = c.id && document.querySelector(`label[for="${c.id}"]`);
                  if (!label) out.push(`#${c.id} has no label[for]`);
                  else if (!label.textContent.includes("必須")) out.push(`#${c.id}: label has no 必須`);
                }
                for (const a of document.querySelectorAll(".error-summary a[href^='#']")) {
                  if (!document.getElementById(a.getAttribute("href").slice(1)))
                    out.push(`error summary link ${a.getAttribute("href")} leads nowhere`);
                }
                return out;"#,
                vec![],
            )
            .await?;
        for f in found.as_array().cloned().unwrap_or_default() {
            self.problem(format!("{screen}: {}", f.as_str().unwrap_or("?")));
        }
        Ok(())
    }

    /// Checks the current screen at phone width (no horizontal scrolling,
    /// axe-core), saves its screenshot, and with `desktop` one at desktop
    /// width too.
    pub(super) async fn screen(&mut self, name: &str, desktop: bool) -> Result<()> {
        let sizes = self
            .js(
                "return [document.documentElement.scrollWidth, \
                 Math.min(window.innerWidth, document.documentElement.clientWidth)]",
                vec![],
            )
            .await?;
        let (scroll, inner) = (sizes[0].as_u64(), sizes[1].as_u64());
        if scroll > inner {
            let wide = self
                .js(
                    "return [...document.querySelectorAll('body *')]\
                     .filter(e => e.getBoundingClientRect().right > document.documentElement.clientWidth + 0.5)\
                     .slice(0, 5).map(e => e.tagName.toLowerCase() + (e.id ? '#' + e.id : '') \
                     + (e.className ? '.' + String(e.className).split(' ').join('.') : '') \
                     + ' right=' + Math.round(e.getBoundingClientRect().right))",
                    vec![],
                )
                .await?;
            self.problem(format!(
                "{name}: horizontal scroll at {} px (scrollWidth {scroll:?}); widest: {wide}",
                PHONE.0
            ));
        }
        self.axe(name).await?;
        self.screens += 1;
        self.save_png(name, &self.full_screenshot().await?)?;
        if desktop {
            self.set_size(DESKTOP).await?;
            self.save_png(&format!("{name}-desktop"), &self.full_screenshot().await?)?;
            self.set_size(PHONE).await?;
        }
        Ok(())
    }

    /// Runs axe-core on the current page; serious and critical violations are
    /// problems, all of them are printed.
    pub(super) async fn axe(&mut self, screen: &str) -> Result<()> {
        let loaded = self
            .js(
                "return (typeof window.axe === 'object' && window.axe.version) || null",
                vec![],
            )
            .await?;
        if loaded != json!(AXE_VERSION) {
            // WebDriver scripts run outside the page's CSP (script-src 'self').
            self.c
                .execute(AXE_JS, vec![])
                .await
                .context("inject axe-core")?;
        }
        let out = self
            .c
            .execute_async(
                r#"const done = arguments[arguments.length - 1];
                axe.run(document, { resultTypes: ["violations"] })
                  .then(r => done({ violations: r.violations.map(v => ({
                      id: v.id, impact: v.impact, help: v.help,
                      nodes: v.nodes.map(n => ({ target: n.target.join(" "), html: n.html,
                                                 summary: n.failureSummary })) })) }))
                  .catch(e => done({ error: String(e) }));"#,
                vec![],
            )
            .await
            .context("run axe-core")?;
        if let Some(e) = out.get("error") {
            bail!("{screen}: axe-core failed: {e}");
        }
        let violations = out["violations"].as_array().cloned().unwrap_or_default();
        for v in &violations {
            let impact = v["impact"].as_str().unwrap_or("?");
            let nodes = v["nodes"].as_array().cloned().unwrap_or_default();
            println!(
                "axe {screen}: [{impact}] {}: {} ({} node(s))",
                v["id"].as_str().unwrap_or("?"),
                v["help"].as_str().unwrap_or(""),
                nodes.len()
            );
            for n in &nodes {
                println!(
                    "    {}  {}\n      {}",
                    n["target"].as_str().unwrap_or(""),
                    n["html"].as_str().unwrap_or(""),
                    n["summary"]
                        .as_str()
                        .unwrap_or("")
                        .replace('\n', "\n      ")
                );
            }
            if matches!(impact, "serious" | "critical") {
                let targets: Vec<&str> =
                    nodes.iter().filter_map(|n| n["target"].as_str()).collect();
                self.problem(format!(
                    "{screen}: axe {impact} {}: {} at {}",
                    v["id"].as_str().unwrap_or("?"),
                    v["help"].as_str().unwrap_or(""),
                    targets.join(", ")
                ));
            }
        }
        if violations.is_empty() {
            println!("axe {screen}: no violations");
        }
        Ok(())
    }

    /// A PNG of the whole page, not only the visible part (Chrome DevTools).
    pub(super) async fn full_screenshot(&self) -> Result<Vec<u8>> {
        let m = self
            .c
            .issue_cmd(Cdp::new("Page.getLayoutMetrics", json!({})))
            .await
            .context("Page.getLayoutMetrics")?;
        let size = &m["cssContentSize"];
        let (w, h) = (
            size["width"].as_f64().unwrap_or(f64::from(PHONE.0)),
            size["height"].as_f64().unwrap_or(f64::from(PHONE.1)),
        );
        let shot = self
            .c
            .issue_cmd(Cdp::new(
                "Page.captureScreenshot",
                json!({
                    "format": "png",
                    "captureBeyondViewport": true,
                    "clip": { "x": 0, "y": 0, "width": w, "height": h, "scale": 1 }
                }),
            ))
            .await
            .context("Page.captureScreenshot")?;
        let data = shot["data"]
            .as_str()
            .context("Page.captureScreenshot: no data")?;
        Ok(base64::engine::general_purpose::STANDARD.decode(data)?)
    }

    pub(super) fn save_png(&self, name: &str, png: &[u8]) -> Result<()> {
        let path = self.shots.join(format!("{name}.png"));
        std::fs::write(&path, png).with_context(|| format!("write {}", path.display()))
    }
}

/// A Chrome DevTools command sent through chromedriver.
#[derive(Debug)]
pub(super) struct Cdp {
    cmd: &'static str,
    params: Value,
}

impl Cdp {
    pub(super) fn new(cmd: &'static str, params: Value) -> Cdp {
        Cdp { cmd, params }
    }
}

impl WebDriverCompatibleCommand for Cdp {
    fn endpoint(
        &self,
        base_url: &url::Url,
        session_id: Option<&str>,
    ) -> Result<url::Url, url::ParseError> {
        base_url.join(&format!(
            "session/{}/goog/cdp/execute",
            session_id.unwrap_or_default()
        ))
    }

    fn method_and_body(&self, _request_url: &url::Url) -> (http::Method, Option<String>) {
        let body = json!({ "cmd": self.cmd, "params": self.params });
        (http::Method::POST, Some(body.to_string()))
    }
}

/// `target/screenshots/{story}`, created (and emptied of old PNGs) for this
/// run.
pub(super) fn screenshot_dir(story: &str) -> Result<PathBuf> {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("target"));
    let dir = target.join("screenshots").join(story);
    std::fs::create_dir_all(&dir).with_context(|| format!("create {}", dir.display()))?;
    for entry in std::fs::read_dir(&dir)?.flatten() {
        if entry.path().extension().is_some_and(|e| e == "png") {
            let _ = std::fs::remove_file(entry.path());
        }
    }
    Ok(dir)
}
