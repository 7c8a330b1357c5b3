//! Timing of the forgotten-credential flows, known against unknown accounts
//! (`cargo bench --bench forgot_timing`).
//!
//! Both answers must not only read alike but take alike: an attacker who
//! times `POST /forgot/login-id` or `POST /forgot/password` must not learn
//! who is registered. The app (release build, in this process, on a loopback
//! port, a fresh data folder with `MAMIS_BENCH_ACCOUNTS` accounts written
//! straight into the store) is asked alternately about a known and an
//! unknown target, each target once (so that no per-target limit changes the
//! work), and the latencies of the two kinds are compared: median, p90 and
//! the difference of the medians. Requests are 10 ms apart, so that the mail
//! worker's write after a known target does not fall on the next request.
//! Every answer commits one write transaction (fsync), so the spread follows
//! the disk; the medians are what to compare. A benchmark reports; it never
//! fails.

mod support;

use std::time::{Duration, Instant};

use mamis::{
    app::Application,
    config::Config,
    store::{
        Store,
        users::{self, Role, UserRecord},
    },
};
use support::visitor::Visitor;

fn main() {
    let rt = match tokio::runtime::Runtime::new() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("forgot timing benchmark did not run: {e}");
            return;
        }
    };
    if let Err(e) = rt.block_on(run()) {
        eprintln!("forgot timing benchmark did not run: {e:#}");
    }
}

fn account(i: usize) -> UserRecord {
    UserRecord {
        initial_password_expires_at: None,
        membership: None,
        association: None,
        id: 0,
        login_id: format!("doctor{i:04}"),
        email: format!("doctor{i:04}@example.jp"),
        registry_number: format!("{:06}", 100_000 + i),
        password_hash: "$argon2id$v=19$m=64,t=1,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA".into(),
        role: Role::Physician,
        person: None,
        session_generation: 0,
        must_change_password: false,
        staff_name: None,
        terms_version: "bench".into(),
        terms_agreed_at: 0,
        terms_history: Vec::new(),
        created_at: 0,
    }
}

/// The value at fraction `p` of sorted durations, in ms.
fn percentile(sorted: &[Duration], p: f64) -> f64 {
    let ms: Vec<f64> = sorted.iter().map(|d| d.as_secs_f64() * 1000.0).collect();
    support::percentile(&ms, p)
}

async fn run() -> anyhow::Result<()> {
    let accounts: usize = std::env::var("MAMIS_BENCH_ACCOUNTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(300);
    let dir = tempfile::tempdir()?;
    let data = dir.path().join("data");
    let store = {
        let data = data.clone();
        tokio::task::spawn_blocking(move || Store::open(&data)).await??
    };
    store
        .write_ok(move |tx| {
            for i in 0..accounts {
                users::create(tx, account(i))?.map_err(|c| anyhow::anyhow!("conflict {c:?}"))?;
            }
            Ok(())
        })
        .await?;
    drop(store);

    let mut config = Config::for_tests(data, None);
    config.mails_per_client_hour = u32::MAX;
    let app = Application::build(config).await?;
    let base = format!("http://{}", app.addr);
    let server = app.spawn();
    let mut visitor = Visitor::new(&base).map_err(anyhow::Error::msg)?;
    visitor
        .open_form("/login")
        .await
        .map_err(anyhow::Error::msg)?;

    println!("MAMIS forgotten-credential timing ({accounts} accounts, each target asked once)");
    println!(
        "{:<22} {:>8} {:>12} {:>10} {:>10} {:>16}",
        "flow", "kind", "requests", "p50 ms", "p90 ms", "p50 difference"
    );
    for (path, field, known_value, unknown_value) in [
        (
            "/forgot/login-id",
            "email",
            (|i| format!("doctor{i:04}@example.jp")) as fn(usize) -> String,
            (|i| format!("nobody{i:04}@example.jp")) as fn(usize) -> String,
        ),
        (
            "/forgot/password",
            "login",
            |i| format!("doctor{i:04}"),
            |i| format!("nobody{i:04}"),
        ),
    ] {
        let (mut known, mut unknown) =
            time_flow(&visitor, accounts, path, field, known_value, unknown_value).await?;
        known.sort();
        unknown.sort();
        let diff = percentile(&known, 0.5) - percentile(&unknown, 0.5);
        for (kind, v) in [("known", &known), ("unknown", &unknown)] {
            println!(
                "{path:<22} {kind:>8} {:>12} {:>10.3} {:>10.3} {:>16}",
                v.len(),
                percentile(v, 0.5),
                percentile(v, 0.9),
                if kind == "unknown" {
                    format!("{diff:+.3} ms")
                } else {
                    String::new()
                }
            );
        }
    }
    server.abort();
    Ok(())
}

/// Asks `path` alternately about a known and an unknown target, each once;
/// returns the latencies of the known and of the unknown ones (the first
/// tenth left out as warm-up).
async fn time_flow(
    visitor: &Visitor,
    accounts: usize,
    path: &str,
    field: &str,
    known_value: fn(usize) -> String,
    unknown_value: fn(usize) -> String,
) -> anyhow::Result<(Vec<Duration>, Vec<Duration>)> {
    let mut known = Vec::new();
    let mut unknown = Vec::new();
    for i in 0..accounts {
        for (is_known, value) in [(true, known_value(i)), (false, unknown_value(i))] {
            let started = Instant::now();
            let answer = visitor
                .post_form(path, &[(field, value.as_str())])
                .await
                .map_err(anyhow::Error::msg)?;
            let status = answer.status;
            let took = started.elapsed();
            anyhow::ensure!(status.is_success(), "{path}: {status}");
            // The mail worker's write after a known target would
            // otherwise fall on the next request, whichever it is.
            tokio::time::sleep(Duration::from_millis(10)).await;
            // The first tenth warms up.
            if i >= accounts / 10 {
                if is_known { &mut known } else { &mut unknown }.push(took);
            }
        }
    }
    Ok((known, unknown))
}
