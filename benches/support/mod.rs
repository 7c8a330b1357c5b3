//! What the benchmarks share: the `mamis` binary to measure, settings from
//! the environment, the server started as a process (`server`), one HTTP
//! visitor (`visitor`) and figures about the machine and a process
//! (`machine`). Each benchmark includes it with `mod support;` and uses only
//! part of it.
#![allow(dead_code)]

pub mod machine;
pub mod server;
pub mod visitor;

use std::path::PathBuf;

/// The binary cargo built for this run.
const BUILT_BIN: &str = env!("CARGO_BIN_EXE_mamis");

/// The executable to measure: `MAMIS_BENCH_BIN` (e.g. to compare two
/// builds), else the one cargo just built.
pub fn bench_bin() -> PathBuf {
    std::env::var_os("MAMIS_BENCH_BIN")
        .filter(|v| !v.is_empty())
        .map_or_else(|| PathBuf::from(BUILT_BIN), PathBuf::from)
}

/// A number from the environment variable `name`, `default` when unset or
/// blank.
pub fn env_number<T: std::str::FromStr>(name: &str, default: T) -> Result<T, String> {
    match std::env::var(name) {
        Ok(v) if !v.trim().is_empty() => v
            .trim()
            .parse()
            .map_err(|_| format!("{name}: not a number: {v:?}")),
        _ => Ok(default),
    }
}

/// The value at fraction `p` (0 to 1) of sorted figures; NaN when there are none.
pub fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}
