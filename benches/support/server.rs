//! The `mamis` binary serving as a process on a free loopback port, as in
//! production: started, timed to its first answer, stopped gracefully.

use std::{
    fs,
    net::{SocketAddr, TcpListener},
    path::Path,
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

/// `mamis serve` on a free loopback port; stopped (gracefully) when dropped.
pub struct Server {
    child: Option<Child>,
    pub addr: SocketAddr,
    /// `http://127.0.0.1:<port>`.
    pub base: String,
    /// From the spawn to the first 200 of `/healthz`.
    pub startup: Duration,
}

impl Server {
    /// Spawns `bin serve` on `data_dir` with a clean environment (`PATH`,
    /// the address, the data folder, `MAMIS_LOG=warn`, then `env`), its log
    /// appended to `log`, and polls `/healthz` every millisecond until it
    /// answers 200.
    pub async fn start(
        bin: &Path,
        data_dir: &Path,
        log: &Path,
        env: &[(&str, String)],
    ) -> Result<Server, String> {
        let addr = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map_err(|e| format!("no free port: {e}"))?;
        let out = fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(log)
            .map_err(|e| format!("{}: {e}", log.display()))?;
        let mut cmd = Command::new(bin);
        cmd.arg("serve")
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("MAMIS_ADDR", addr.to_string())
            .env("MAMIS_DATA_DIR", data_dir)
            .env("MAMIS_LOG", "warn")
            .stdin(Stdio::null())
            .stdout(out.try_clone().map_err(|e| e.to_string())?)
            .stderr(out);
        for (k, v) in env {
            cmd.env(k, v);
        }
        let probe = reqwest::Client::builder()
            .timeout(Duration::from_secs(2))
            .build()
            .map_err(|e| e.to_string())?;
        let started = Instant::now();
        let child = cmd
            .spawn()
            .map_err(|e| format!("cannot start {}: {e}", bin.display()))?;
        let mut server = Server {
            child: Some(child),
            addr,
            base: format!("http://{addr}"),
            startup: Duration::ZERO,
        };
        loop {
            if let Ok(r) = probe.get(server.url("/healthz")).send().await
                && r.status() == 200
            {
                server.startup = started.elapsed();
                return Ok(server);
            }
            if let Some(child) = server.child.as_mut()
                && let Ok(Some(status)) = child.try_wait()
            {
                let log = fs::read_to_string(log).unwrap_or_default();
                return Err(format!("the server exited ({status}):\n{log}"));
            }
            if started.elapsed() > Duration::from_secs(30) {
                return Err("the server did not answer /healthz within 30 s".into());
            }
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
    }

    /// An absolute URL for `path` on this server.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub fn pid(&self) -> u32 {
        self.child.as_ref().map_or(0, Child::id)
    }

    /// SIGTERM (graceful shutdown, so the next start opens a cleanly closed
    /// database), SIGKILL if it has not exited after 15 s.
    pub fn stop(mut self) {
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
