//! The real `mamis` binary as a process on a free loopback port, for the
//! stories that kill it, restart it or limit its open files.

use std::{
    fs::File,
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

use reqwest::StatusCode;

use super::app::free_port;

/// `mamis serve` started through `sh`, so that its open-files limit can be
/// set first (as a small VM's default would be), with fast password hashing
/// and its log in a file. Killed when dropped.
pub struct Binary {
    child: Child,
    /// `127.0.0.1:<port>`.
    pub addr: String,
    /// `http://127.0.0.1:<port>`.
    pub base: String,
    log: PathBuf,
}

impl Binary {
    /// Starts the binary on `data_dir`, writing its log to `log`, with at most
    /// `open_files` descriptors and the extra environment `env`.
    pub fn start(
        data_dir: &Path,
        log: PathBuf,
        open_files: Option<u32>,
        env: &[(&str, &str)],
    ) -> Binary {
        Binary::start_on(free_port(), data_dir, log, open_files, env)
    }

    /// As [`Binary::start`], on the loopback port `port` (one a test CA
    /// must know beforehand, or the same port again after a restart).
    pub fn start_on(
        port: u16,
        data_dir: &Path,
        log: PathBuf,
        open_files: Option<u32>,
        env: &[(&str, &str)],
    ) -> Binary {
        let addr = format!("127.0.0.1:{port}");
        let out = File::create(&log).expect("log file");
        let err = out.try_clone().expect("log file");
        // dash and bash set both the soft and the hard limit with `ulimit
        // -n`, so the server cannot raise it.
        let limit = open_files.map_or(String::new(), |n| format!("ulimit -n {n} && "));
        let mut cmd = Command::new("sh");
        cmd.arg("-c")
            .arg(format!("{limit}exec \"$0\" serve"))
            .arg(env!("CARGO_BIN_EXE_mamis"))
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("MAMIS_DATA_DIR", data_dir)
            .env("MAMIS_ADDR", &addr)
            .env("MAMIS_ARGON2_MEMORY_KIB", "64")
            .env("MAMIS_ARGON2_ITERATIONS", "1");
        for (k, v) in env {
            cmd.env(k, v);
        }
        let child = cmd
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err)
            .spawn()
            .expect("start the mamis binary");
        Binary {
            child,
            base: format!("http://{addr}"),
            addr,
            log,
        }
    }

    /// An absolute URL for `path` on this server.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// Waits until the server answers its health check.
    pub async fn wait_ready(&mut self) {
        let client = reqwest::Client::new();
        let started = Instant::now();
        loop {
            if let Some(status) = self.child.try_wait().expect("process status") {
                panic!("mamis exited with {status} at start:\n{}", self.log_text());
            }
            if client
                .get(self.url("/healthz"))
                .send()
                .await
                .is_ok_and(|r| r.status() == StatusCode::OK)
            {
                return;
            }
            assert!(
                started.elapsed() < Duration::from_secs(20),
                "mamis did not answer within 20 s:\n{}",
                self.log_text()
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Panics with the log when the process has ended.
    pub fn assert_running(&mut self) {
        if let Some(status) = self.child.try_wait().expect("process status") {
            panic!("mamis exited with {status}:\n{}", self.log_text());
        }
    }

    /// SIGKILL (what `Child::kill` sends on unix), and reap.
    pub fn kill(&mut self) {
        self.child.kill().expect("kill mamis");
        self.child.wait().expect("reap mamis");
    }

    /// SIGTERM, and wait for the graceful end.
    pub fn stop(&mut self) {
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let _ = self.child.wait();
    }

    /// Everything the server has logged so far.
    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// The key of `/dev/outbox`, from the URL in the start-up log.
    pub fn outbox_key(&self) -> String {
        outbox_key_in(&self.log_text())
            .unwrap_or_else(|| panic!("no outbox URL in the log:\n{}", self.log_text()))
    }
}

impl Drop for Binary {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The key of the `…/dev/outbox?key=…` URL in a server's log.
pub fn outbox_key_in(log: &str) -> Option<String> {
    let marker = "/dev/outbox?key=";
    let at = log.find(marker)? + marker.len();
    let key: String = log[at..]
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
        .collect();
    (!key.is_empty()).then_some(key)
}

/// Runs `mamis ARGS…` (an operator command) in `cwd` for the data folder
/// `data`, and waits for its output.
pub fn run_mamis(cwd: &Path, data: &Path, args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_mamis"))
        .args(args)
        .current_dir(cwd)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("MAMIS_DATA_DIR", data)
        .stdin(Stdio::null())
        .output()
        .expect("run mamis")
}
