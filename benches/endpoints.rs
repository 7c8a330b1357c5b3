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
//! It prints requests/s, p50 and p99 latency, the ratio of each endpoint to the
//! trivial one (loaded first and last; the ratio uses the mean), the server's resident memory after the run, and PASS or MISS
//! against the targets of issue 2. A benchmark reports; it never fails.
//!
//! Settings: `MAMIS_BENCH_SECONDS` (per endpoint, default 10),
//! `MAMIS_BENCH_CONNECTIONS` (default 32), `MAMIS_BENCH_THREADS` (wrk
//! threads, default 2), `MAMIS_BENCH_BIN` (another `mamis` executable to
//! measure, e.g. to compare two builds; default: the one cargo just built).
//! Needs Debian's `wrk` (`apt-get install -y wrk`). The figures mean little
//! while something else loads the machine (a build, other tests).

use std::{
    fmt::Write as _,
    fs,
    io::{self, Read, Write},
    net::{SocketAddr, TcpListener, TcpStream},
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

const BUILT_BIN: &str = env!("CARGO_BIN_EXE_mamis");
const CATALOG_DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/src/catalog/data");

/// Targets from issue 2 (2-core machine, load generator on the same machine).
const VALIDATION_MIN_RATIO: f64 = 0.70;
const AUTOCOMPLETE_MIN_RATIO: f64 = 0.50;
const P99_MAX_MS: f64 = 5.0;
const RSS_MAX_MB: f64 = 40.0;
const STARTUP_MAX_MS: f64 = 100.0;
/// Start-ups measured: the first on an empty data folder, the rest on the
/// database it created.
const STARTS: usize = 5;

fn main() {
    if let Err(e) = run() {
        // A benchmark reports; a broken set-up is said plainly, not panicked.
        eprintln!("endpoint benchmark did not run: {e}");
    }
}

struct Settings {
    bin: PathBuf,
    seconds: u64,
    connections: u32,
    threads: u32,
}

fn env_number<T: std::str::FromStr>(name: &str, default: T) -> Result<T, String> {
    match std::env::var(name) {
        Ok(v) if !v.trim().is_empty() => v
            .trim()
            .parse()
            .map_err(|_| format!("{name}: not a number: {v:?}")),
        _ => Ok(default),
    }
}

fn run() -> Result<(), String> {
    let settings = Settings {
        bin: std::env::var_os("MAMIS_BENCH_BIN")
            .filter(|v| !v.is_empty())
            .map_or_else(|| PathBuf::from(BUILT_BIN), PathBuf::from),
        seconds: env_number("MAMIS_BENCH_SECONDS", 10)?,
        connections: env_number("MAMIS_BENCH_CONNECTIONS", 32)?,
        threads: env_number("MAMIS_BENCH_THREADS", 2)?,
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

    let work = TempDir::new()?;
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
    println!();

    // Start-up to first answer.
    let data_dir = work.path.join("data");
    let mut startups = Vec::new();
    for _ in 0..STARTS {
        let server = Server::start(&settings.bin, &data_dir, &work.path)?;
        startups.push(server.startup);
        server.stop();
    }
    let fresh_ms = ms(startups[0]);
    let mut again: Vec<f64> = startups[1..].iter().copied().map(ms).collect();
    again.sort_by(f64::total_cmp);
    let again_median = again[again.len() / 2];
    let startup_worst = startups.iter().copied().map(ms).fold(0.0, f64::max);

    // The server under load.
    let server = Server::start(&settings.bin, &data_dir, &work.path)?;
    let browser = Browser::open(server.addr)?;
    let scenarios = scenarios()?;
    for s in &scenarios {
        s.sanity_check(server.addr, &browser)?;
    }
    // Warm-up: connections, caches, the blocking-thread pool.
    wrk(
        &settings,
        2,
        server.addr,
        &scenarios[0],
        &browser,
        &work.path,
    )?;

    let mut results = Vec::new();
    for s in &scenarios {
        print!("  running {}", pad(&s.label, 58));
        io::stdout().flush().ok();
        let r = wrk(
            &settings,
            settings.seconds,
            server.addr,
            s,
            &browser,
            &work.path,
        )?;
        println!("{:>10.0} req/s", r.rps);
        results.push(r);
    }
    let (rss_mb, hwm_mb) = memory_mb(server.pid());
    server.stop();

    // Report.
    // The trivial endpoint runs first and last; the ratios use the mean, so
    // that a drift of the machine during the run does not favour either side.
    let trivial = (results[0].rps + results[results.len() - 1].rps) / 2.0;
    let mut out = String::new();
    let _ = writeln!(out);
    let _ = writeln!(
        out,
        "{} {:>9} {:>7} {:>8} {:>8} {:>7}",
        pad("endpoint", 62),
        "req/s",
        "ratio",
        "p50",
        "p99",
        "errors"
    );
    for (s, r) in scenarios.iter().zip(&results) {
        let _ = writeln!(
            out,
            "{} {:>9.0} {:>6.0}% {:>5.2} ms {:>5.2} ms {:>7}",
            pad(&s.label, 62),
            r.rps,
            100.0 * r.rps / trivial,
            r.p50_us / 1000.0,
            r.p99_us / 1000.0,
            r.errors
        );
    }
    let _ = writeln!(
        out,
        "(ratios against the mean of the two trivial runs: {trivial:.0} req/s)"
    );
    let _ = writeln!(out);
    let _ = writeln!(
        out,
        "start-up to first answer: {fresh_ms:.1} ms on an empty data folder, \
         {again_median:.1} ms on the existing database (median of {})",
        again.len()
    );
    let _ = writeln!(
        out,
        "resident memory after the run: {rss_mb:.1} MB (VmRSS; peak VmHWM {hwm_mb:.1} MB)"
    );
    let _ = writeln!(out);
    let _ = writeln!(out, "targets (issue 2):");
    let verdict = |ok: bool| if ok { "PASS" } else { "MISS" };
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
        verdict(startup_worst < STARTUP_MAX_MS),
        pad(&format!("start-up to first answer, worst of {STARTS}"), 62),
        startup_worst
    );
    let errors: u64 = results.iter().map(|r| r.errors).sum();
    if errors > 0 {
        let _ = writeln!(
            out,
            "\nwarning: {errors} requests failed (non-2xx/3xx or socket errors); see {}",
            work.path.join("server.log").display()
        );
    }
    print!("{out}");
    Ok(())
}

/// `s` padded with spaces to `width` terminal columns (CJK characters take two).
fn pad(s: &str, width: usize) -> String {
    let wide = |c: char| {
        matches!(c as u32,
            0x1100..=0x115F | 0x2E80..=0xA4CF | 0xAC00..=0xD7A3 | 0xF900..=0xFAFF
            | 0xFE30..=0xFE4F | 0xFF00..=0xFF60 | 0xFFE0..=0xFFE6)
    };
    let columns: usize = s.chars().map(|c| if wide(c) { 2 } else { 1 }).sum();
    format!("{s}{}", " ".repeat(width.saturating_sub(columns)))
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn file_mb(p: &Path) -> f64 {
    fs::metadata(p).map_or(0.0, |m| m.len() as f64 / 1e6)
}

fn machine() -> String {
    let cpus = std::thread::available_parallelism().map_or(0, |n| n.get());
    let model = fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split_once(':'))
                .map(|(_, m)| m.trim().to_owned())
        })
        .unwrap_or_else(|| "unknown CPU".into());
    let date = Command::new("date")
        .arg("+%Y-%m-%d")
        .output()
        .ok()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
        .unwrap_or_default();
    format!("{cpus} CPUs ({model}), {date}")
}

fn load_average() -> String {
    fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "unknown".into())
}

/// (VmRSS, VmHWM) of a process, in MB (10^6 bytes).
fn memory_mb(pid: u32) -> (f64, f64) {
    let status = fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find(|l| l.starts_with(name))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|kb| kb.parse::<f64>().ok())
            .map_or(f64::NAN, |kb| kb * 1024.0 / 1e6)
    };
    (field("VmRSS:"), field("VmHWM:"))
}

/// A scratch folder removed at the end.
struct TempDir {
    path: PathBuf,
}

impl TempDir {
    fn new() -> Result<TempDir, String> {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos());
        let path =
            std::env::temp_dir().join(format!("mamis-bench-{}-{nanos:x}", std::process::id()));
        fs::create_dir_all(&path).map_err(|e| format!("{}: {e}", path.display()))?;
        Ok(TempDir { path })
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.path);
    }
}

/// The release binary serving on a free loopback port.
struct Server {
    child: Option<Child>,
    addr: SocketAddr,
    startup: Duration,
}

fn free_port() -> Result<SocketAddr, String> {
    let l = TcpListener::bind("127.0.0.1:0").map_err(|e| format!("no free port: {e}"))?;
    l.local_addr().map_err(|e| e.to_string())
}

impl Server {
    /// Spawns `mamis serve` and polls `/healthz` every millisecond until it
    /// answers 200; `startup` is the time from spawn to that answer.
    fn start(bin: &Path, data_dir: &Path, work: &Path) -> Result<Server, String> {
        let addr = free_port()?;
        let log_path = work.join("server.log");
        let log = fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&log_path)
            .map_err(|e| e.to_string())?;
        let mut cmd = Command::new(bin);
        for (k, _) in std::env::vars_os() {
            if k.to_string_lossy().starts_with("MAMIS_") {
                cmd.env_remove(k);
            }
        }
        cmd.arg("serve")
            .env("MAMIS_ADDR", addr.to_string())
            .env("MAMIS_DATA_DIR", data_dir)
            .env("MAMIS_LOG", "warn")
            .stdin(Stdio::null())
            .stdout(log.try_clone().map_err(|e| e.to_string())?)
            .stderr(log);
        let started = Instant::now();
        let child = cmd
            .spawn()
            .map_err(|e| format!("cannot start {}: {e}", bin.display()))?;
        let mut server = Server {
            child: Some(child),
            addr,
            startup: Duration::ZERO,
        };
        loop {
            if let Ok(r) = http(addr, "GET", "/healthz", &[], b"")
                && r.status == 200
            {
                server.startup = started.elapsed();
                return Ok(server);
            }
            if let Some(child) = server.child.as_mut()
                && let Ok(Some(status)) = child.try_wait()
            {
                let log = fs::read_to_string(&log_path).unwrap_or_default();
                return Err(format!("the server exited ({status}):\n{log}"));
            }
            if started.elapsed() > Duration::from_secs(30) {
                return Err("the server did not answer /healthz within 30 s".into());
            }
            std::thread::sleep(Duration::from_millis(1));
        }
    }

    fn pid(&self) -> u32 {
        self.child.as_ref().map_or(0, Child::id)
    }

    /// SIGTERM (graceful shutdown, so the next start opens a cleanly closed
    /// database), SIGKILL if it has not exited after 15 s.
    fn stop(mut self) {
        self.shutdown();
    }

    fn shutdown(&mut self) {
        let Some(mut child) = self.child.take() else {
            return;
        };
        let _ = Command::new("kill")
            .args(["-TERM", &child.id().to_string()])
            .status();
        let deadline = Instant::now() + Duration::from_secs(15);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        let _ = child.kill();
        let _ = child.wait();
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.shutdown();
    }
}

struct HttpResponse {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

/// A minimal HTTP/1.1 client (one request per connection), enough to set up
/// the cookies and to check each endpoint once before loading it.
fn http(
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> io::Result<HttpResponse> {
    let mut s = TcpStream::connect_timeout(&addr, Duration::from_secs(2))?;
    s.set_read_timeout(Some(Duration::from_secs(5)))?;
    let mut req = format!("{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n");
    for (k, v) in headers {
        let _ = write!(req, "{k}: {v}\r\n");
    }
    if !body.is_empty() {
        let _ = write!(req, "Content-Length: {}\r\n", body.len());
    }
    req.push_str("\r\n");
    s.write_all(req.as_bytes())?;
    s.write_all(body)?;
    let mut raw = Vec::new();
    s.read_to_end(&mut raw)?;
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .ok_or_else(|| io::Error::other("no end of headers"))?;
    let head = String::from_utf8_lossy(&raw[..split]).into_owned();
    let mut lines = head.split("\r\n");
    let status = lines
        .next()
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|c| c.parse().ok())
        .ok_or_else(|| io::Error::other("no status line"))?;
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    let mut body = raw[split + 4..].to_vec();
    if headers
        .iter()
        .any(|(k, v)| k == "transfer-encoding" && v.contains("chunked"))
    {
        body = dechunk(&body);
    }
    Ok(HttpResponse {
        status,
        headers,
        body,
    })
}

fn dechunk(mut data: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    while let Some(eol) = data.windows(2).position(|w| w == b"\r\n") {
        let size_text = String::from_utf8_lossy(&data[..eol]);
        let size_text = size_text.split(';').next().unwrap_or("").trim();
        let Ok(size) = usize::from_str_radix(size_text, 16) else {
            break;
        };
        if size == 0 || data.len() < eol + 2 + size {
            break;
        }
        out.extend_from_slice(&data[eol + 2..eol + 2 + size]);
        data = &data[(eol + 4 + size).min(data.len())..];
    }
    out
}

impl HttpResponse {
    /// The value of cookie `name` from the Set-Cookie headers, as sent.
    fn cookie(&self, name: &str) -> Option<String> {
        self.headers
            .iter()
            .filter(|(k, _)| k == "set-cookie")
            .filter_map(|(_, v)| v.split(';').next()?.trim().split_once('='))
            .find(|(k, _)| *k == name)
            .map(|(_, v)| v.to_owned())
    }

    fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// The cookies and CSRF token of a browser that has opened the login page and
/// agreed to the terms (so it holds a live session, as on the form).
struct Browser {
    csrf_cookie: String,
    csrf_token: String,
    session_cookie: Option<String>,
}

impl Browser {
    fn open(addr: SocketAddr) -> Result<Browser, String> {
        let login =
            http(addr, "GET", "/login", &[], b"").map_err(|e| format!("GET /login: {e}"))?;
        let csrf_cookie = login
            .cookie("mamis_csrf")
            .ok_or("GET /login set no mamis_csrf cookie")?;
        let page = login.text();
        let marker = r#"name="csrf_token" value=""#;
        let start = page
            .find(marker)
            .ok_or("GET /login has no csrf_token field")?
            + marker.len();
        let len = page[start..].find('"').ok_or("unterminated csrf_token")?;
        let csrf_token = page[start..start + len].replace("&amp;", "&");
        let cookie = format!("mamis_csrf={csrf_cookie}");
        let body = format!("csrf_token={}&agree=yes", percent_encode(&csrf_token));
        let terms = http(
            addr,
            "POST",
            "/register",
            &[
                ("Cookie", &cookie),
                ("Content-Type", "application/x-www-form-urlencoded"),
            ],
            body.as_bytes(),
        )
        .map_err(|e| format!("POST /register: {e}"))?;
        let session_cookie = terms.cookie("mamis_session");
        if session_cookie.is_none() {
            println!(
                "note: agreeing to the terms (status {}) set no session cookie; \
                 benchmarking without a session",
                terms.status
            );
        }
        Ok(Browser {
            csrf_cookie,
            csrf_token,
            session_cookie,
        })
    }

    fn cookie_header(&self) -> String {
        match &self.session_cookie {
            Some(s) => format!("mamis_csrf={}; mamis_session={s}", self.csrf_cookie),
            None => format!("mamis_csrf={}", self.csrf_cookie),
        }
    }
}

fn percent_encode(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
    out
}

/// One endpoint (or a rotation of requests) to load.
struct Scenario {
    label: String,
    method: &'static str,
    /// Paths with their query strings, requested in turn.
    paths: Vec<String>,
    body: Option<String>,
    /// Least share of the trivial endpoint's requests/s (0 for the trivial one).
    min_ratio: f64,
}

const VALIDATION_BODY: &str = "login_id=doctor01&password=Secret12%21";

fn scenarios() -> Result<Vec<Scenario>, String> {
    let everything = catalogue_queries()?;
    let n = everything.len();
    Ok(vec![
        Scenario {
            label: "trivial       GET  /healthz".into(),
            method: "GET",
            paths: vec!["/healthz".into()],
            body: None,
            min_ratio: 0.0,
        },
        Scenario {
            label: "validation    POST /register/check/login_id".into(),
            method: "POST",
            paths: vec!["/register/check/login_id".into()],
            body: Some(VALIDATION_BODY.into()),
            min_ratio: VALIDATION_MIN_RATIO,
        },
        Scenario {
            label: "autocomplete  GET  /suggest/school?school=大学".into(),
            method: "GET",
            paths: vec![format!("/suggest/school?school={}", percent_encode("大学"))],
            body: None,
            min_ratio: AUTOCOMPLETE_MIN_RATIO,
        },
        Scenario {
            label: "autocomplete  GET  /suggest/society?society_query=学会".into(),
            method: "GET",
            paths: vec![format!(
                "/suggest/society?society_query={}",
                percent_encode("学会")
            )],
            body: None,
            min_ratio: AUTOCOMPLETE_MIN_RATIO,
        },
        Scenario {
            label: format!("autocomplete  every school, university, society ({n} queries)"),
            method: "GET",
            paths: everything,
            body: None,
            min_ratio: AUTOCOMPLETE_MIN_RATIO,
        },
        Scenario {
            label: "trivial       GET  /healthz (again, last)".into(),
            method: "GET",
            paths: vec!["/healthz".into()],
            body: None,
            min_ratio: 0.0,
        },
    ])
}

/// Queries a person types for every entry of the school, university and
/// society catalogues: the first two characters of the name (without a
/// leading 日本 for societies) and the first four kana of its reading in
/// hiragana, as a phone user types before converting.
fn catalogue_queries() -> Result<Vec<String>, String> {
    let sources = [
        ("medical_schools.tsv", "school", "school", ""),
        ("universities.tsv", "university", "grad_university", ""),
        ("societies.tsv", "society", "society_query", "日本"),
    ];
    let mut paths = Vec::new();
    for (file, catalog, param, strip) in sources {
        let path = Path::new(CATALOG_DIR).join(file);
        let text = fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
        let mut rows = text
            .lines()
            .filter(|l| !l.starts_with('#') && !l.trim().is_empty());
        let header: Vec<&str> = rows.next().unwrap_or_default().split('\t').collect();
        let col = |name: &str| header.iter().position(|h| *h == name);
        let (Some(name_col), Some(reading_col)) = (col("name"), col("reading")) else {
            return Err(format!("{file}: no name/reading columns"));
        };
        let mut queries: Vec<String> = Vec::new();
        for row in rows {
            let cells: Vec<&str> = row.split('\t').collect();
            let name = cells.get(name_col).copied().unwrap_or_default();
            let reading = cells.get(reading_col).copied().unwrap_or_default();
            let name = name.strip_prefix(strip).unwrap_or(name);
            let reading = if strip.is_empty() {
                reading
            } else {
                reading.strip_prefix("ニホン").unwrap_or(reading)
            };
            let short: String = name.chars().take(2).collect();
            let kana: String = reading.chars().take(4).map(katakana_to_hiragana).collect();
            for q in [short, kana] {
                if !q.is_empty() && !queries.contains(&q) {
                    queries.push(q);
                }
            }
        }
        paths.extend(
            queries
                .iter()
                .map(|q| format!("/suggest/{catalog}?{param}={}", percent_encode(q))),
        );
    }
    Ok(paths)
}

fn katakana_to_hiragana(c: char) -> char {
    match c {
        'ァ'..='ヶ' => char::from_u32(c as u32 - 0x60).unwrap_or(c),
        _ => c,
    }
}

impl Scenario {
    fn headers(&self, browser: &Browser) -> Vec<(&'static str, String)> {
        let mut h = vec![
            ("Cookie", browser.cookie_header()),
            ("HX-Request", "true".to_owned()),
        ];
        if self.body.is_some() {
            h.push((
                "Content-Type",
                "application/x-www-form-urlencoded".to_owned(),
            ));
            h.push(("X-CSRF-Token", browser.csrf_token.clone()));
        }
        h
    }

    /// Every request answers 200 with a body before it is loaded.
    fn sanity_check(&self, addr: SocketAddr, browser: &Browser) -> Result<(), String> {
        let headers = self.headers(browser);
        let headers: Vec<(&str, &str)> = headers.iter().map(|(k, v)| (*k, v.as_str())).collect();
        for path in &self.paths {
            let body = self.body.as_deref().unwrap_or("").as_bytes();
            let r = http(addr, self.method, path, &headers, body)
                .map_err(|e| format!("{} {path}: {e}", self.method))?;
            if r.status != 200 || r.body.is_empty() {
                return Err(format!(
                    "{} {path} answered {} before the run:\n{}",
                    self.method,
                    r.status,
                    r.text()
                ));
            }
        }
        Ok(())
    }

    /// The wrk script: requests made once per thread in `init`, sent in turn
    /// (each thread starting at a different place), and a `done` that prints
    /// the exact figures.
    fn lua(&self, addr: SocketAddr, browser: &Browser) -> String {
        let mut s = String::new();
        let _ = writeln!(s, "local paths = {{");
        for p in &self.paths {
            let _ = writeln!(s, "  {},", lua_string(p));
        }
        let _ = writeln!(s, "}}");
        let _ = writeln!(s, "local headers = {{");
        let _ = writeln!(s, "  [\"Host\"] = {},", lua_string(&addr.to_string()));
        for (k, v) in self.headers(browser) {
            let _ = writeln!(s, "  [{}] = {},", lua_string(k), lua_string(&v));
        }
        let _ = writeln!(s, "}}");
        let body = self.body.as_deref().map_or("nil".to_owned(), lua_string);
        let _ = writeln!(s, "local body = {body}");
        let _ = writeln!(s, "local method = {}", lua_string(self.method));
        s.push_str(
            r#"local requests = {}
local i = 0
init = function(args)
  for _, p in ipairs(paths) do
    local h = {}
    for k, v in pairs(headers) do h[k] = v end
    requests[#requests + 1] = wrk.format(method, p, h, body)
  end
  i = math.random(#requests) - 1
end
request = function()
  i = i % #requests + 1
  return requests[i]
end
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("MAMIS_RESULT %.0f %.0f %.0f %.0f %.0f %.0f\n",
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
    e.status, e.connect + e.read + e.write + e.timeout))
end
"#,
        );
        s
    }
}

fn lua_string(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if c.is_ascii_graphic() || c == ' ' => out.push(c),
            c => {
                let mut buf = [0u8; 4];
                for b in c.encode_utf8(&mut buf).bytes() {
                    let _ = write!(out, "\\{b:03}");
                }
            }
        }
    }
    out.push('"');
    out
}

struct WrkResult {
    rps: f64,
    p50_us: f64,
    p99_us: f64,
    errors: u64,
}

fn wrk(
    settings: &Settings,
    seconds: u64,
    addr: SocketAddr,
    scenario: &Scenario,
    browser: &Browser,
    work: &Path,
) -> Result<WrkResult, String> {
    let script = work.join("scenario.lua");
    fs::write(&script, scenario.lua(addr, browser)).map_err(|e| e.to_string())?;
    let out = Command::new("wrk")
        .arg("--latency")
        .args(["-t", &settings.threads.to_string()])
        .args(["-c", &settings.connections.to_string()])
        .args(["-d", &format!("{seconds}s")])
        .arg("-s")
        .arg(&script)
        .arg(format!("http://{addr}/"))
        .output()
        .map_err(|e| format!("wrk: {e}"))?;
    let stdout = String::from_utf8_lossy(&out.stdout);
    let line = stdout
        .lines()
        .find_map(|l| l.strip_prefix("MAMIS_RESULT "))
        .ok_or_else(|| {
            format!(
                "wrk gave no result:\n{stdout}\n{}",
                String::from_utf8_lossy(&out.stderr)
            )
        })?;
    let n: Vec<f64> = line
        .split_whitespace()
        .filter_map(|x| x.parse().ok())
        .collect();
    let [
        requests,
        duration_us,
        p50_us,
        p99_us,
        status_errors,
        socket_errors,
    ] = n[..]
    else {
        return Err(format!("unreadable wrk result: {line}"));
    };
    Ok(WrkResult {
        rps: requests / (duration_us / 1e6),
        p50_us,
        p99_us,
        errors: (status_errors + socket_errors) as u64,
    })
}
