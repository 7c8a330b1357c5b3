//! Login flood benchmark: the real release binary, production argon2
//! parameters, and 200 wrong-password logins kept in flight at once, run by
//! `cargo bench --bench login_flood`.
//!
//! The flood comes from many addresses (the server trusts loopback as a
//! proxy and each attempt names another client in `X-Forwarded-For`) and
//! guesses another login ID each time, so the login limiter refuses none of
//! it: every attempt asks for a password hash, the worst case for memory
//! and CPU. Meanwhile a visitor loads `GET /login` and `GET /healthz` one
//! after the other, and the server's memory is sampled from
//! `/proc/<pid>/status`.
//!
//! It prints how the attempts were answered (401 checked, 503 refused
//! beyond the hashing bound, 429 throttled), the latency of the pages
//! meanwhile (p50, p99, max), the server's resident memory before, at its
//! peak (VmHWM) and a few seconds after the flood, and PASS or MISS against
//! the targets (peak RSS < 150 MB, p99 of the pages < 50 ms). A benchmark
//! reports; it never fails.
//!
//! Settings: `MAMIS_BENCH_FLOOD` (attempts in flight, default 200),
//! `MAMIS_BENCH_SECONDS` (flood duration, default 10),
//! `MAMIS_BENCH_HASH_CONCURRENCY` (passed on as `MAMIS_HASH_CONCURRENCY`;
//! default: the server's own, the number of cores),
//! `MAMIS_BENCH_ONE_ADDRESS=1` (flood from one address instead: the limiter
//! answers nearly all of it), `MAMIS_BENCH_BIN` (another `mamis` binary).

mod support;

use std::{
    sync::{
        Arc, Mutex,
        atomic::{AtomicBool, AtomicU64, Ordering},
    },
    time::{Duration, Instant},
};

use support::{
    bench_bin, env_number,
    machine::{memory_mib, threads},
    percentile,
    server::Server,
    visitor::Visitor,
};

const RSS_MAX_MB: f64 = 150.0;
const P99_MAX_MS: f64 = 50.0;

fn main() {
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("login flood benchmark did not run: {e}");
            return;
        }
    };
    if let Err(e) = rt.block_on(run()) {
        eprintln!("login flood benchmark did not run: {e}");
    }
}

/// How the flood's attempts were answered.
#[derive(Default)]
struct Tally {
    checked: AtomicU64,
    busy: AtomicU64,
    throttled: AtomicU64,
    other: AtomicU64,
    errors: AtomicU64,
}

/// The pages a visitor loaded during the flood: latencies in ms, sorted.
struct Meanwhile {
    login: Vec<f64>,
    health: Vec<f64>,
    failures: u64,
}

/// The server's memory (MiB) and threads around the flood.
struct Memory {
    before: f64,
    peak_sampled: f64,
    hwm: f64,
    after: f64,
    max_threads: u64,
}

async fn run() -> Result<(), String> {
    let bin = bench_bin();
    let flood: usize = env_number("MAMIS_BENCH_FLOOD", 200)?;
    let seconds: u64 = env_number("MAMIS_BENCH_SECONDS", 10)?;
    let hash_concurrency: Option<u32> = match env_number("MAMIS_BENCH_HASH_CONCURRENCY", 0)? {
        0 => None,
        n => Some(n),
    };
    let one_address = std::env::var("MAMIS_BENCH_ONE_ADDRESS").is_ok_and(|v| v == "1");

    let work = tempfile::tempdir().map_err(|e| format!("temp dir: {e}"))?;
    let mut env = vec![("MAMIS_TRUSTED_PROXIES", "127.0.0.1/32".to_owned())];
    if let Some(n) = hash_concurrency {
        env.push(("MAMIS_HASH_CONCURRENCY", n.to_string()));
    }
    let server = Server::start(
        &bin,
        &work.path().join("data"),
        &work.path().join("server.log"),
        &env,
    )
    .await?;
    let pid = server.pid();
    println!("MAMIS login flood benchmark");
    println!("  binary   {}", bin.display());
    println!(
        "  machine  {} cores; hashing bound {}",
        std::thread::available_parallelism().map_or(0, |n| n.get()),
        hash_concurrency.map_or_else(|| "default (cores)".to_owned(), |n| n.to_string())
    );
    println!(
        "  flood    {flood} wrong-password logins in flight for {seconds} s, production argon2 \
         (m=19456 KiB, t=2), {}",
        if one_address {
            "all from one address"
        } else {
            "each from another address and for another login ID"
        }
    );

    // The flood's browser: the CSRF cookie and a token for its forms.
    let mut flooder = Visitor::new(&server.base)?;
    flooder.open_form("/login").await?;

    // A visitor loading pages meanwhile.
    let visitor = Visitor::new(&server.base)?;
    for _ in 0..20 {
        let _ = visitor.get("/login").await;
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    let (rss_before, _) = memory_mib(pid);

    let running = Arc::new(AtomicBool::new(true));
    let (sampler, peak_rss) = spawn_sampler(pid, running.clone());
    let prober = spawn_prober(visitor, running.clone());
    let started = Instant::now();
    let tally = flood_logins(&flooder, flood, Duration::from_secs(seconds), one_address).await;
    let flood_took = started.elapsed();
    running.store(false, Ordering::Relaxed);
    let max_threads = sampler.await.unwrap_or(0);
    let meanwhile = prober.await.map_err(|e| e.to_string())?;
    let (_, hwm) = memory_mib(pid);
    let peak = peak_rss.lock().map_or(f64::NAN, |p| *p);
    tokio::time::sleep(Duration::from_secs(3)).await;
    let (rss_after, _) = memory_mib(pid);

    let memory = Memory {
        before: rss_before,
        peak_sampled: peak,
        hwm,
        after: rss_after,
        max_threads,
    };
    report(&tally, flood_took, &meanwhile, &memory);
    if std::env::var("MAMIS_BENCH_SMAPS").is_ok_and(|v| v == "1") {
        print_largest_mappings(pid);
    }
    drop(server);
    Ok(())
}

/// Samples the server's resident memory (its highest value kept in the
/// returned cell) and its threads every 25 ms while `running`; the task
/// returns the most threads seen.
fn spawn_sampler(
    pid: u32,
    running: Arc<AtomicBool>,
) -> (tokio::task::JoinHandle<u64>, Arc<Mutex<f64>>) {
    let peak_rss = Arc::new(Mutex::new(0.0_f64));
    let peak = peak_rss.clone();
    let sampler = tokio::spawn(async move {
        let mut max_threads = 0;
        while running.load(Ordering::Relaxed) {
            let (rss, _) = memory_mib(pid);
            if let Ok(mut p) = peak.lock() {
                *p = p.max(rss);
            }
            max_threads = max_threads.max(threads(pid));
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        max_threads
    });
    (sampler, peak_rss)
}

/// A visitor loading `GET /login` and `GET /healthz` one after the other
/// while `running`.
fn spawn_prober(visitor: Visitor, running: Arc<AtomicBool>) -> tokio::task::JoinHandle<Meanwhile> {
    tokio::spawn(async move {
        let (mut login, mut health) = (Vec::new(), Vec::new());
        let mut failures = 0u64;
        while running.load(Ordering::Relaxed) {
            for (path, into) in [("/login", &mut login), ("/healthz", &mut health)] {
                let t = Instant::now();
                let ok = visitor.get(path).await.is_ok_and(|a| a.status == 200);
                if ok {
                    into.push(t.elapsed().as_secs_f64() * 1000.0);
                } else {
                    failures += 1;
                }
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        login.sort_by(f64::total_cmp);
        health.sort_by(f64::total_cmp);
        Meanwhile {
            login,
            health,
            failures,
        }
    })
}

/// `flood` wrong-password logins kept in flight for `duration`, each for
/// another login ID and (unless `one_address`) from another address.
async fn flood_logins(
    flooder: &Visitor,
    flood: usize,
    duration: Duration,
    one_address: bool,
) -> Tally {
    let tally = Arc::new(Tally::default());
    let next = Arc::new(AtomicU64::new(0));
    let deadline = Instant::now() + duration;
    let mut workers = Vec::with_capacity(flood);
    for _ in 0..flood {
        let (flooder, tally, next) = (flooder.clone(), tally.clone(), next.clone());
        workers.push(tokio::spawn(async move {
            while Instant::now() < deadline {
                let n = next.fetch_add(1, Ordering::Relaxed);
                let addr = if one_address {
                    "198.51.100.1".to_owned()
                } else {
                    format!("10.{}.{}.{}", (n >> 16) & 255, (n >> 8) & 255, n & 255)
                };
                let login_id = format!("flood{n:08}");
                let sent = flooder
                    .form_request(
                        "/login",
                        &[("login_id", login_id.as_str()), ("password", "Wrong123!x")],
                    )
                    .header("X-Forwarded-For", addr)
                    .send()
                    .await;
                let counter = match sent {
                    Ok(r) => {
                        let status = r.status().as_u16();
                        let _ = r.bytes().await;
                        match status {
                            401 => &tally.checked,
                            503 => &tally.busy,
                            429 => &tally.throttled,
                            _ => &tally.other,
                        }
                    }
                    Err(_) => &tally.errors,
                };
                counter.fetch_add(1, Ordering::Relaxed);
            }
        }));
    }
    for w in workers {
        let _ = w.await;
    }
    Arc::into_inner(tally).unwrap_or_default()
}

/// Prints the answers, the pages' latency meanwhile, memory, and the verdicts.
fn report(tally: &Tally, flood_took: Duration, meanwhile: &Meanwhile, memory: &Memory) {
    let load = |c: &AtomicU64| c.load(Ordering::Relaxed);
    let total = load(&tally.checked)
        + load(&tally.busy)
        + load(&tally.throttled)
        + load(&tally.other)
        + load(&tally.errors);
    println!();
    println!(
        "attempts     {total} in {:.1} s: {} checked (401), {} refused beyond the hashing bound (503), \
         {} throttled (429), {} other, {} transport errors",
        flood_took.as_secs_f64(),
        load(&tally.checked),
        load(&tally.busy),
        load(&tally.throttled),
        load(&tally.other),
        load(&tally.errors)
    );
    let Meanwhile {
        login,
        health,
        failures: probe_failures,
    } = meanwhile;
    for (label, v) in [("GET /login  ", login), ("GET /healthz", health)] {
        println!(
            "{label} {} answers meanwhile: p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
            v.len(),
            percentile(v, 0.5),
            percentile(v, 0.99),
            v.last().copied().unwrap_or(f64::NAN)
        );
    }
    if *probe_failures > 0 {
        println!("             {probe_failures} page loads failed");
    }
    let Memory {
        before: rss_before,
        peak_sampled: peak,
        hwm,
        after: rss_after,
        max_threads,
    } = memory;
    println!(
        "memory       VmRSS {rss_before:.1} MB before, {peak:.1} MB highest sampled, \
         VmHWM {hwm:.1} MB, {rss_after:.1} MB 3 s after; {max_threads} threads at most"
    );
    let p99 = percentile(login, 0.99).max(percentile(health, 0.99));
    let verdict = |ok: bool| if ok { "PASS" } else { "MISS" };
    println!();
    println!(
        "{} peak resident memory {hwm:.1} MB < {RSS_MAX_MB} MB",
        verdict(*hwm < RSS_MAX_MB)
    );
    println!(
        "{} p99 of the pages during the flood {p99:.2} ms < {P99_MAX_MS} ms",
        verdict(p99 < P99_MAX_MS && *probe_failures == 0)
    );
}

/// The mappings holding the most resident memory (to see where it went).
fn print_largest_mappings(pid: u32) {
    let smaps = std::fs::read_to_string(format!("/proc/{pid}/smaps")).unwrap_or_default();
    let mut maps: Vec<(u64, String)> = Vec::new();
    let mut current = String::new();
    for line in smaps.lines() {
        let first = line.split_whitespace().next().unwrap_or_default();
        if first.contains('-') && !first.ends_with(':') {
            current = line.to_owned();
        } else if let Some(kb) = line.strip_prefix("Rss:") {
            let kb: u64 = kb.trim().trim_end_matches("kB").trim().parse().unwrap_or(0);
            maps.push((kb, current.clone()));
        }
    }
    maps.sort_by_key(|m| std::cmp::Reverse(m.0));
    println!();
    println!("largest resident mappings ({} in all):", maps.len());
    for (kb, m) in maps.iter().take(12) {
        println!("  {:>8.1} MB  {m}", *kb as f64 / 1024.0);
    }
}
