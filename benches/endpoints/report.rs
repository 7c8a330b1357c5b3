//! The endpoint benchmark's report: the table of requests/s, ratios and
//! latencies, start-up and memory, and PASS or MISS against the targets.

use std::fmt::Write as _;

use crate::{
    STARTS,
    scenarios::{DJANGO_MIN_MULTIPLE, Scenario},
    wrk::WrkResult,
};

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
    results: &[WrkResult],
    startups: &Startups,
    rss_mb: f64,
    hwm_mb: f64,
    server_log: &std::path::Path,
) {
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
    for (s, r) in scenarios.iter().zip(results) {
        let django = s
            .django_rps
            .map_or_else(|| "-".to_owned(), |d| format!("{:.1}×", r.rps / d));
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
    }
    let _ = writeln!(
        out,
        "(ratio: against the mean of the two trivial runs, {trivial:.0} req/s; Django: multiple of \
         the Django + allauth peer; CPU/req: the server's user + system CPU time per request)"
    );
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
    targets(&mut out, scenarios, results, trivial, startups, rss_mb);
    let errors: u64 = results.iter().map(|r| r.errors).sum();
    if errors > 0 {
        let _ = writeln!(
            out,
            "\nwarning: {errors} requests failed (non-2xx/3xx or socket errors); see {}",
            server_log.display()
        );
    }
    print!("{out}");
}

/// The PASS or MISS lines against the targets of issue 2.
fn targets(
    out: &mut String,
    scenarios: &[Scenario],
    results: &[WrkResult],
    trivial: f64,
    startups: &Startups,
    rss_mb: f64,
) {
    let _ = writeln!(out, "targets (issues 2 and 11):");
    let verdict = |ok: bool| if ok { "PASS" } else { "MISS" };
    for (s, r) in scenarios.iter().zip(results) {
        if let Some(d) = s.django_rps {
            let multiple = r.rps / d;
            let _ = writeln!(
                out,
                "  {}  {} {:>5.1}× the Django peer (target ≥ {DJANGO_MIN_MULTIPLE:.0}×)",
                verdict(multiple >= DJANGO_MIN_MULTIPLE),
                pad(&s.label, 62),
                multiple
            );
        }
    }
    for (s, r) in scenarios
        .iter()
        .zip(results)
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
