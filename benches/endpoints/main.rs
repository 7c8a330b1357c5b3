//! Endpoint benchmark: the real release binary under `wrk`, run by `cargo bench`.
//!
//! It starts `mamis serve` on a free loopback port with a fresh data folder,
//! measures start-up to first answer, then loads, one after the other in the
//! same run, a trivial endpoint (`GET /healthz`), the inline validation of
//! the login ID and the autocomplete endpoints. Every request carries what a
//! browser on the registration form sends (the CSRF cookie, a live session
//! cookie, `HX-Request`, and for the POST the `X-CSRF-Token` header), so each
//! one passes the whole middleware stack: request id and security headers,
//! session load, CSRF cookie check and re-issue, CSRF guard and body limit.
//!
//! The Django + django-allauth peer of issue 11 (`benches/django_peer`,
//! served by gunicorn) is started beside it when its virtualenv is there
//! (`MAMIS_BENCH_DJANGO`, else `benches/django_peer/.venv/bin/python`) and
//! loaded with the same requests under the same wrk settings right after
//! each MAMIS endpoint (but the trivial one), every answer checked. Without
//! it, the multiples use the figures kept in `scenarios.rs`, and the output
//! says so.
//!
//! It prints requests/s, p50 and p99 latency, the server's CPU time per
//! request (steadier than requests/s on a shared machine; for the peer,
//! gunicorn's master and workers together), the ratio of each endpoint to
//! the trivial one (loaded first and last; the ratio uses the mean), MAMIS's
//! multiple of the Django peer, the servers' resident memory after the run,
//! and PASS or MISS against the targets of issues 2 and 11. A benchmark
//! reports; it never fails.
//!
//! Settings: `MAMIS_BENCH_SECONDS` (per endpoint, default 10),
//! `MAMIS_BENCH_CONNECTIONS` (default 32), `MAMIS_BENCH_THREADS` (wrk
//! threads, default 2), `MAMIS_BENCH_BIN` (another `mamis` executable to
//! measure, e.g. to compare two builds; default: the one cargo just built),
//! `MAMIS_BENCH_DJANGO` (the peer's Python, or `off`),
//! `MAMIS_BENCH_DJANGO_WORKERS` (gunicorn workers of the peer; default
//! 2 × CPUs + 1, gunicorn's recommendation). Needs Debian's `wrk`
//! (`apt-get install -y wrk`). The figures mean little while something else
//! loads the machine (a build, other tests).
//!
//! Parts: `scenarios` (what is loaded), `wrk` (loading one scenario),
//! `django` (the peer's process), `report` (the table); the server and the
//! visitor come from `benches/support`.

#[path = "../support/mod.rs"]
mod support;

mod django;
mod report;
mod scenarios;
mod wrk;

use std::{
    io::{self, Write},
    path::PathBuf,
    process::{Command, Stdio},
    time::Duration,
};

use django::Peer;
use report::{PeerRun, Row, Startups, pad};
use scenarios::{Scenario, Session, compare_suggestions, scenarios};
use support::{
    bench_bin, env_number,
    machine::{file_mb, load_average, machine, memory_mb},
    server::Server,
};
use wrk::Target;

/// Start-ups measured: the first on an empty data folder, the rest on the
/// database it created.
const STARTS: usize = 5;

fn main() {
    let outcome = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| e.to_string())
        .and_then(|rt| rt.block_on(run()));
    if let Err(e) = outcome {
        // A benchmark reports; a broken set-up is said plainly, not panicked.
        eprintln!("endpoint benchmark did not run: {e}");
    }
}

pub struct Settings {
    bin: PathBuf,
    seconds: u64,
    connections: u32,
    threads: u32,
    django_workers: Option<usize>,
}

async fn run() -> Result<(), String> {
    let settings = Settings {
        bin: bench_bin(),
        seconds: env_number("MAMIS_BENCH_SECONDS", 10)?,
        connections: env_number("MAMIS_BENCH_CONNECTIONS", 32)?,
        threads: env_number("MAMIS_BENCH_THREADS", 2)?,
        django_workers: match env_number("MAMIS_BENCH_DJANGO_WORKERS", 0)? {
            0 => None,
            n => Some(n),
        },
    };
    if Command::new("wrk")
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_err()
    {
        println!(
            "endpoint benchmark skipped: `wrk` is not installed.\n\
             Install it (Debian/Ubuntu: `sudo apt-get install -y wrk`) and run `cargo bench` again."
        );
        return Ok(());
    }

    let work = tempfile::tempdir().map_err(|e| e.to_string())?;
    println!("MAMIS endpoint benchmark");
    println!(
        "  binary   {} ({:.1} MB)",
        settings.bin.display(),
        file_mb(&settings.bin)
    );
    println!("  load avg {} (before the run)", load_average());
    println!("  machine  {}", machine());
    println!(
        "  load     wrk, {} threads, {} connections, {} s per endpoint, on the same machine",
        settings.threads, settings.connections, settings.seconds
    );
    let peer_python = django::python();

    let data_dir = work.path().join("data");
    let log = work.path().join("server.log");
    let startups = measure_startups(&settings, &data_dir, &log).await?;

    // The server under load.
    let server = Server::start(&settings.bin, &data_dir, &log, &[]).await?;
    let session = Session::open(&server.base).await?;
    let scenarios = scenarios()?;
    for s in &scenarios {
        s.sanity_check(&session, None).await?;
    }
    let mamis = Target {
        addr: server.addr,
        session: &session,
        pid: server.pid(),
        with_children: false,
        check_answers: false,
    };

    // The Django peer, set up and checked before any load.
    let peer = match peer_python {
        Ok(python) => {
            start_peer(
                &python,
                settings.django_workers,
                work.path(),
                &scenarios,
                &session,
            )
            .await
        }
        Err(e) => Err(e),
    };
    match &peer {
        Ok((p, _)) => println!(
            "  Django   benches/django_peer: {}; gunicorn, {} sync workers, SQLite, on {}",
            p.versions, p.workers, p.addr
        ),
        Err(e) => println!("  Django   peer not run: {e}"),
    }
    println!();
    let django = peer.as_ref().ok().map(|(p, s)| Target {
        addr: p.addr,
        session: s,
        pid: p.pid(),
        with_children: true,
        check_answers: true,
    });

    // Warm-up: connections, caches, the blocking-thread pool; the peer's
    // workers import, connect and load their templates.
    wrk::wrk(&settings, 2, &mamis, &scenarios[0], work.path())?;
    if let Some(d) = &django {
        for s in scenarios.iter().filter(|s| s.peer_expect.is_some()) {
            wrk::wrk(&settings, 1, d, s, work.path())?;
        }
    }
    let mut rows = Vec::new();
    for s in &scenarios {
        print!("  running {}", pad(&s.label, 62));
        io::stdout().flush().ok();
        let mamis = wrk::wrk(&settings, settings.seconds, &mamis, s, work.path())?;
        println!("{:>10.0} req/s", mamis.rps);
        let mut peer_result = None;
        if let (Some(d), Some(_)) = (&django, s.peer_expect) {
            print!("  running {}", pad("  the same on the Django peer", 62));
            io::stdout().flush().ok();
            let r = wrk::wrk(&settings, settings.seconds, d, s, work.path())?;
            println!("{:>10.0} req/s", r.rps);
            peer_result = Some(r);
        }
        rows.push(Row {
            mamis,
            django: peer_result,
        });
    }
    let (rss_mb, hwm_mb) = memory_mb(server.pid());
    server.stop();
    let peer = match peer {
        Ok((p, _)) => {
            let run = PeerRun::Measured {
                workers: p.workers,
                memory_mb: p.memory_mb(),
            };
            p.stop();
            run
        }
        Err(e) => PeerRun::NotRun(e),
    };

    report::print(&scenarios, &rows, &peer, &startups, rss_mb, hwm_mb, &log);
    Ok(())
}

/// Starts the Django peer, opens its browser session, checks every request
/// the load will send (a 200 holding the expected fragment) and compares
/// its suggestions with MAMIS's.
async fn start_peer(
    python: &std::path::Path,
    workers: Option<usize>,
    work: &std::path::Path,
    scenarios: &[Scenario],
    mamis: &Session,
) -> Result<(Peer, Session), String> {
    let peer = Peer::start(python, work, workers).await?;
    let session = Session::open_django(&peer.base).await?;
    for s in scenarios {
        if let Some(expect) = s.peer_expect {
            s.sanity_check(&session, Some(expect)).await?;
        }
    }
    let (same, all, differ) = compare_suggestions(scenarios, mamis, &session).await?;
    println!(
        "  Django   {same} of {all} suggestion requests answered with as many options as MAMIS"
    );
    for d in differ {
        println!("           differs: {d}");
    }
    Ok((peer, session))
}

/// Start-up to first answer, [`STARTS`] times on the same data folder.
async fn measure_startups(
    settings: &Settings,
    data_dir: &std::path::Path,
    log: &std::path::Path,
) -> Result<Startups, String> {
    let mut startups = Vec::new();
    for _ in 0..STARTS {
        let server = Server::start(&settings.bin, data_dir, log, &[]).await?;
        startups.push(server.startup);
        server.stop();
    }
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    let mut again: Vec<f64> = startups[1..].iter().copied().map(ms).collect();
    again.sort_by(f64::total_cmp);
    Ok(Startups {
        fresh_ms: ms(startups[0]),
        again_median_ms: again[again.len() / 2],
        again_count: again.len(),
        worst_ms: startups.iter().copied().map(ms).fold(0.0, f64::max),
    })
}
