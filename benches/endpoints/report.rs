//! The endpoint benchmark's report: the table of requests/s, ratios and
//! latencies, MAMIS against the Django peer, start-up and memory, and PASS
//! or MISS against the targets.

use std::fmt::Write as _;

use crate::{
    STARTS,
    scenarios::{DJANGO_MIN_MULTIPLE, DJANGO_SUGGESTION_RPS, DJANGO_VALIDATION_RPS, Scenario},
    wrk::WrkResult,
};

/// One scenario's figures: MAMIS's, and the Django peer's when it was loaded.
pub struct Row {
    pub mamis: WrkResult,
    pub django: Option<WrkResult>,
}

/// Whether the Django peer ran in this run.
pub enum PeerRun {
    Measured { workers: usize, memory_mb: f64 },
    NotRun(String),
}

impl Row {
    /// MAMIS's multiple of the Django peer in requests/s: measured in this
    /// run, else against the kept figure. `None` where no peer figure applies.
    fn multiple(&self, s: &Scenario) -> Option<f64> {
        match &self.django {
            Some(d) => Some(self.mamis.rps / d.rps),
            None => s.django_rps.map(|d| self.mamis.rps / d),
        }
    }
}

/// Targets from issue 2 (2-core machine, load generator on the same machine).
const P99_MAX_MS: f64 = 5.0;
const RSS_MAX_MB: f64 = 40.0;
const STARTUP_MAX_MS: f64 = 100.0;

/// Start-up times in ms: the first on an empty data folder, the median of
/// the others (on the database it created), the worst of all.
pub struct Startups {
    pub fresh_ms: f64,
    pub again_median_ms: f64,
    pub again_count: usize,
    pub worst_ms: f64,
}

/// Prints the whole report.
pub fn print(
    scenarios: &[Scenario],
    rows: &[Row],
    peer: &PeerRun,
    startups: &Startups,
    rss_mb: f64,
    hwm_mb: f64,
    server_log: &std::path::Path,
) {
    let results: Vec<&WrkResult> = rows.iter().map(|r| &r.mamis).collect();
    // The trivial endpoint runs first and last; the ratios use the mean, so
    // that a drift of the machine during the run does not favour either side.
    let trivial = (results[0].rps + results[results.len() - 1].rps) / 2.0;
    let mut out = String::new();
    let _ = writeln!(out);
    let _ = writeln!(
        out,
        "{} {:>9} {:>7} {:>7} {:>8} {:>8} {:>9} {:>7}",
        pad("endpoint", 62),
        "req/s",
        "ratio",
        "Django",
        "p50",
        "p99",
        "CPU/req",
        "errors"
    );
    for (s, row) in scenarios.iter().zip(rows) {
        let r = &row.mamis;
        let django = row
            .multiple(s)
            .map_or_else(|| "-".to_owned(), |m| format!("{m:.1}×"));
        let _ = writeln!(
            out,
            "{} {:>9.0} {:>6.0}% {:>7} {:>5.2} ms {:>5.2} ms {:>6.1} µs {:>7}",
            pad(&s.label, 62),
            r.rps,
            100.0 * r.rps / trivial,
            django,
            r.p50_us / 1000.0,
            r.p99_us / 1000.0,
            r.server_cpu_us,
            r.errors
        );
        if let Some(d) = &row.django {
            let _ = writeln!(
                out,
                "{} {:>9.0} {:>7} {:>7} {:>5.2} ms {:>5.2} ms {:>6.0} µs {:>7}",
                pad("  Django + allauth peer, same requests", 62),
                d.rps,
                "",
                "",
                d.p50_us / 1000.0,
                d.p99_us / 1000.0,
                d.server_cpu_us,
                d.errors
            );
        }
    }
    let _ = writeln!(
        out,
        "(ratio: against the mean of the two trivial runs, {trivial:.0} req/s; Django: MAMIS's \
         multiple of the Django + allauth peer's req/s; CPU/req: the server's user + system CPU \
         time per request, for the peer gunicorn's master and workers together; errors: for the \
         peer, every answer that was not a 200 with the expected fragment)"
    );
    let _ = writeln!(out);
    peer_section(&mut out, scenarios, rows, peer);
    let _ = writeln!(out);
    let _ = writeln!(
        out,
        "start-up to first answer: {:.1} ms on an empty data folder, \
         {:.1} ms on the existing database (median of {})",
        startups.fresh_ms, startups.again_median_ms, startups.again_count
    );
    let _ = writeln!(
        out,
        "resident memory after the run: {rss_mb:.1} MB (VmRSS; peak VmHWM {hwm_mb:.1} MB)"
    );
    let _ = writeln!(out);
    targets(&mut out, scenarios, rows, trivial, startups, rss_mb);
    let errors: u64 = results.iter().map(|r| r.errors).sum();
    let peer_errors: u64 = rows
        .iter()
        .filter_map(|r| r.django.as_ref())
        .map(|r| r.errors)
        .sum();
    if peer_errors > 0 {
        let _ = writeln!(
            out,
            "\nwarning: {peer_errors} answers of the Django peer were not a 200 with the expected \
             fragment (or failed); its figures for those endpoints do not measure the endpoint"
        );
    }
    if errors > 0 {
        let _ = writeln!(
            out,
            "\nwarning: {errors} requests failed (non-2xx/3xx or socket errors); see {}",
            server_log.display()
        );
    }
    print!("{out}");
}

/// MAMIS against the Django peer, endpoint by endpoint: both requests/s and
/// CPU times per request, measured in this run; or why the peer did not run.
fn peer_section(out: &mut String, scenarios: &[Scenario], rows: &[Row], peer: &PeerRun) {
    match peer {
        PeerRun::Measured { workers, memory_mb } => {
            let _ = writeln!(
                out,
                "MAMIS against the Django + allauth peer, measured in this run with the same wrk \
                 load (gunicorn, {workers} sync workers):"
            );
            for (s, row) in scenarios.iter().zip(rows) {
                let Some(d) = &row.django else { continue };
                let m = &row.mamis;
                let _ = writeln!(
                    out,
                    "  {} {:>5.1}× req/s ({:.0} / {:.0}), {:>5.1}× less CPU per request \
                     ({:.0} / {:.0} µs)",
                    pad(&s.label, 62),
                    m.rps / d.rps,
                    m.rps,
                    d.rps,
                    d.server_cpu_us / m.server_cpu_us,
                    d.server_cpu_us,
                    m.server_cpu_us
                );
            }
            let _ = writeln!(
                out,
                "  the peer's resident memory after the run: {memory_mb:.1} MB (VmRSS of the \
                 master and workers, summed)"
            );
        }
        PeerRun::NotRun(why) => {
            let _ = writeln!(
                out,
                "Django peer not run: {why}.\n  The multiples use the kept figures: validation \
                 {DJANGO_VALIDATION_RPS:.0} req/s (measured 2026-11-24 by a peer that was not \
                 kept), suggestions {DJANGO_SUGGESTION_RPS:.0} req/s (inferred, never measured)."
            );
        }
    }
}

/// The PASS or MISS lines against the targets of issues 2 and 11.
fn targets(
    out: &mut String,
    scenarios: &[Scenario],
    rows: &[Row],
    trivial: f64,
    startups: &Startups,
    rss_mb: f64,
) {
    let _ = writeln!(out, "targets (issues 2 and 11):");
    let verdict = |ok: bool| if ok { "PASS" } else { "MISS" };
    for (s, row) in scenarios.iter().zip(rows) {
        if let Some(multiple) = row.multiple(s) {
            let against = if row.django.is_some() {
                "the Django peer (this run)"
            } else {
                "the Django peer's kept figure"
            };
            let _ = writeln!(
                out,
                "  {}  {} {:>5.1}× {against} (target ≥ {DJANGO_MIN_MULTIPLE:.0}×)",
                verdict(multiple >= DJANGO_MIN_MULTIPLE),
                pad(&s.label, 62),
                multiple
            );
        }
    }
    let results: Vec<&WrkResult> = rows.iter().map(|r| &r.mamis).collect();
    for (s, r) in scenarios
        .iter()
        .zip(&results)
        .filter(|(s, _)| s.min_ratio > 0.0)
    {
        let ratio = r.rps / trivial;
        let _ = writeln!(
            out,
            "  {}  {} {:>5.1}% of trivial (target ≥ {:.0}%)",
            verdict(ratio >= s.min_ratio),
            pad(&s.label, 62),
            100.0 * ratio,
            100.0 * s.min_ratio
        );
    }
    let worst_p99 = results
        .iter()
        .map(|r| r.p99_us / 1000.0)
        .fold(0.0, f64::max);
    let _ = writeln!(
        out,
        "  {}  {} {:>5.2} ms (target < {P99_MAX_MS} ms)",
        verdict(worst_p99 < P99_MAX_MS),
        pad("p99 latency, worst endpoint", 62),
        worst_p99
    );
    let _ = writeln!(
        out,
        "  {}  {} {:>5.1} MB (target < {RSS_MAX_MB} MB)",
        verdict(rss_mb < RSS_MAX_MB),
        pad("resident memory after the run", 62),
        rss_mb
    );
    let _ = writeln!(
        out,
        "  {}  {} {:>5.1} ms (target < {STARTUP_MAX_MS} ms)",
        verdict(startups.worst_ms < STARTUP_MAX_MS),
        pad(&format!("start-up to first answer, worst of {STARTS}"), 62),
        startups.worst_ms
    );
}

/// `s` padded with spaces to `width` terminal columns (CJK characters take two).
pub fn pad(s: &str, width: usize) -> String {
    let wide = |c: char| {
        matches!(c as u32,
            0x1100..=0x115F | 0x2E80..=0xA4CF | 0xAC00..=0xD7A3 | 0xF900..=0xFAFF
            | 0xFE30..=0xFE4F | 0xFF00..=0xFF60 | 0xFFE0..=0xFFE6)
    };
    let columns: usize = s.chars().map(|c| if wide(c) { 2 } else { 1 }).sum();
    format!("{s}{}", " ".repeat(width.saturating_sub(columns)))
}
