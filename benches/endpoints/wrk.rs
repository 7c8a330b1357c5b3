//! Loading one scenario with `wrk`: its Lua script (the requests made once
//! per thread, sent in turn, exact figures printed at the end, and for the
//! Django peer every answer checked), the run, and the figures read back.

use std::{fmt::Write as _, fs, net::SocketAddr, path::Path, process::Command};

use crate::{
    Settings,
    scenarios::{Scenario, Session},
    support::machine::{cpu_seconds, tree_cpu_seconds},
};

/// The server loaded: where it listens, the browser session its requests
/// carry, and whose CPU time is read.
pub struct Target<'a> {
    pub addr: SocketAddr,
    pub session: &'a Session,
    pub pid: u32,
    /// Count the CPU time of the process's children too (gunicorn's workers).
    pub with_children: bool,
    /// Check every answer: a 200 holding the scenario's `peer_expect`
    /// (a Lua `response` hook; left out for MAMIS, whose figures it would
    /// change, and whose answers wrk counts by status only).
    pub check_answers: bool,
}

impl Target<'_> {
    fn cpu_seconds(&self) -> f64 {
        if self.with_children {
            tree_cpu_seconds(self.pid)
        } else {
            cpu_seconds(self.pid)
        }
    }
}

/// What one run measured.
pub struct WrkResult {
    pub rps: f64,
    /// The server's CPU time (user + system) per request, in µs.
    pub server_cpu_us: f64,
    pub p50_us: f64,
    pub p99_us: f64,
    /// Answers that were not 2xx/3xx (or, when checked, not a 200 with the
    /// expected fragment), and socket errors.
    pub errors: u64,
}

/// Loads `scenario` for `seconds` and reads back the figures.
pub fn wrk(
    settings: &Settings,
    seconds: u64,
    target: &Target<'_>,
    scenario: &Scenario,
    work: &Path,
) -> Result<WrkResult, String> {
    let addr = target.addr;
    let script = work.join("scenario.lua");
    let expect = if target.check_answers {
        scenario.peer_expect
    } else {
        None
    };
    fs::write(&script, lua(scenario, addr, target.session, expect)).map_err(|e| e.to_string())?;
    let cpu_before = target.cpu_seconds();
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
    let server_cpu = target.cpu_seconds() - cpu_before;
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
        failed_checks,
    ] = n[..]
    else {
        return Err(format!("unreadable wrk result: {line}"));
    };
    Ok(WrkResult {
        rps: requests / (duration_us / 1e6),
        server_cpu_us: server_cpu * 1e6 / requests.max(1.0),
        p50_us,
        p99_us,
        errors: (status_errors.max(failed_checks) + socket_errors) as u64,
    })
}

/// The wrk script: requests made once per thread in `init`, sent in turn
/// (each thread starting at a different place), and a `done` that prints
/// the exact figures; with `expect`, a `response` hook that counts the
/// answers that are not a 200 holding it.
fn lua(scenario: &Scenario, addr: SocketAddr, session: &Session, expect: Option<&str>) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "local paths = {{");
    for p in &scenario.paths {
        let _ = writeln!(s, "  {},", lua_string(p));
    }
    let _ = writeln!(s, "}}");
    let _ = writeln!(s, "local headers = {{");
    let _ = writeln!(s, "  [\"Host\"] = {},", lua_string(&addr.to_string()));
    for (k, v) in scenario.headers(session) {
        let _ = writeln!(s, "  [{}] = {},", lua_string(k), lua_string(&v));
    }
    let _ = writeln!(s, "}}");
    let body = scenario
        .body
        .as_deref()
        .map_or("nil".to_owned(), lua_string);
    let _ = writeln!(s, "local body = {body}");
    let _ = writeln!(s, "local method = {}", lua_string(scenario.method));
    if let Some(expect) = expect {
        let _ = writeln!(s, "local expect = {}", lua_string(expect));
        s.push_str(
            r#"failed = 0
local threads = {}
setup = function(thread)
  threads[#threads + 1] = thread
end
response = function(status, headers, body)
  if status ~= 200 or not string.find(body, expect, 1, true) then
    failed = failed + 1
  end
end
"#,
        );
    } else {
        s.push_str("local threads = {}\n");
    }
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
  local failed = 0
  for _, t in ipairs(threads) do failed = failed + t:get("failed") end
  io.write(string.format("MAMIS_RESULT %.0f %.0f %.0f %.0f %.0f %.0f %.0f\n",
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
    e.status, e.connect + e.read + e.write + e.timeout, failed))
end
"#,
    );
    s
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
