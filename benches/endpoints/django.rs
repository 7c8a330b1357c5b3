//! The Django + django-allauth peer (`benches/django_peer`), measured in the
//! same run as MAMIS: found (its virtualenv's Python), set up (migrations and
//! the catalogues loaded into a SQLite file in the run's temporary folder),
//! served by gunicorn on a free loopback port, and stopped at the end (also
//! on a panic: [`Peer`] stops it when dropped).

use std::{
    fs,
    io::Read,
    net::{SocketAddr, TcpListener},
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

use crate::support::machine::{process_and_children, tree_memory_mb};

/// The Django project.
pub const PEER_DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/benches/django_peer");
/// Where MAMIS's catalogue files are, loaded into the peer's database.
const CATALOG_DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/src/catalog/data");

/// The Python to run the peer with: `MAMIS_BENCH_DJANGO` (a virtualenv's
/// `python`; `off` leaves the peer out), else `benches/django_peer/.venv`.
/// `Err` says why the peer is not run.
pub fn python() -> Result<PathBuf, String> {
    let python = match std::env::var("MAMIS_BENCH_DJANGO") {
        Ok(v) if v.trim() == "off" => return Err("MAMIS_BENCH_DJANGO=off".into()),
        Ok(v) if !v.trim().is_empty() => PathBuf::from(v.trim()),
        _ => Path::new(PEER_DIR).join(".venv/bin/python"),
    };
    if python.exists() {
        Ok(python)
    } else {
        Err(format!(
            "no {} (set it up as README.md says, or point MAMIS_BENCH_DJANGO at a Python \
             with benches/django_peer/requirements.txt installed)",
            python.display()
        ))
    }
}

/// gunicorn serving the peer; stopped when dropped.
pub struct Peer {
    child: Option<Child>,
    pub addr: SocketAddr,
    pub base: String,
    /// gunicorn's `workers`: `gunicorn.conf.py`'s 2 × CPUs + 1, or
    /// `MAMIS_BENCH_DJANGO_WORKERS`.
    pub workers: usize,
    pub versions: String,
}

impl Peer {
    /// Migrates a new SQLite database in `work`, loads the catalogues, starts
    /// gunicorn (with `workers` sync workers when given, else as many as its
    /// configuration says) and waits for its first 200.
    pub async fn start(python: &Path, work: &Path, workers: Option<usize>) -> Result<Peer, String> {
        let db = work.join("django.sqlite3");
        let log = work.join("django.log");
        let env = [
            ("DJANGO_SECRET_KEY", secret_key()?),
            ("MAMIS_PEER_DB", db.display().to_string()),
            ("PYTHONDONTWRITEBYTECODE", "1".to_owned()),
        ];
        let run = |args: &[&str]| -> Result<String, String> {
            let out = Command::new(python)
                .args(args)
                .current_dir(PEER_DIR)
                .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
                .stdin(Stdio::null())
                .output()
                .map_err(|e| format!("{}: {e}", python.display()))?;
            if !out.status.success() {
                return Err(format!(
                    "`{} {}` failed ({}):\n{}{}",
                    python.display(),
                    args.join(" "),
                    out.status,
                    String::from_utf8_lossy(&out.stdout),
                    String::from_utf8_lossy(&out.stderr)
                ));
            }
            Ok(String::from_utf8_lossy(&out.stdout).trim().to_owned())
        };
        let versions = run(&[
            "-c",
            "import sys, django, allauth, gunicorn; \
             print(f'Django {django.get_version()}, django-allauth {allauth.__version__}, \
             gunicorn {gunicorn.__version__}, Python {sys.version.split()[0]}')",
        ])?;
        run(&["manage.py", "migrate", "--noinput"])?;
        run(&["manage.py", "load_catalogue", CATALOG_DIR])?;
        let workers: usize = match workers {
            Some(n) => n,
            None => run(&[
                "-c",
                "import runpy; print(runpy.run_path('gunicorn.conf.py')['workers'])",
            ])?
            .parse()
            .map_err(|e| format!("gunicorn.conf.py workers: {e}"))?,
        };

        let addr = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map_err(|e| format!("no free port: {e}"))?;
        let out = fs::File::create(&log).map_err(|e| format!("{}: {e}", log.display()))?;
        let child = Command::new(python)
            .args(["-m", "gunicorn", "-c", "gunicorn.conf.py", "--bind"])
            .arg(addr.to_string())
            .arg("--workers")
            .arg(workers.to_string())
            .arg("--error-logfile")
            .arg(&log)
            .current_dir(PEER_DIR)
            .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
            .stdin(Stdio::null())
            .stdout(out.try_clone().map_err(|e| e.to_string())?)
            .stderr(out)
            .spawn()
            .map_err(|e| format!("cannot start gunicorn: {e}"))?;
        let mut peer = Peer {
            child: Some(child),
            addr,
            base: format!("http://{addr}"),
            workers,
            versions,
        };
        let probe = reqwest::Client::builder()
            .timeout(Duration::from_secs(5))
            .build()
            .map_err(|e| e.to_string())?;
        let started = Instant::now();
        loop {
            if let Ok(r) = probe.get(format!("{}/register", peer.base)).send().await
                && r.status() == 200
                // The master has forked every worker.
                && process_and_children(peer.pid()).len() > workers
            {
                return Ok(peer);
            }
            if let Some(child) = peer.child.as_mut()
                && let Ok(Some(status)) = child.try_wait()
            {
                let log = fs::read_to_string(&log).unwrap_or_default();
                return Err(format!("gunicorn exited ({status}):\n{log}"));
            }
            if started.elapsed() > Duration::from_secs(60) {
                return Err("gunicorn did not answer GET /register within 60 s".into());
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// The gunicorn master's process id.
    pub fn pid(&self) -> u32 {
        self.child.as_ref().map_or(0, Child::id)
    }

    /// Resident memory of the master and its workers, summed, in MB.
    pub fn memory_mb(&self) -> f64 {
        tree_memory_mb(self.pid())
    }

    pub fn stop(mut self) {
        self.shutdown();
    }

    /// SIGTERM to the master (it stops its workers), SIGKILL to all of them
    /// if it has not exited after 10 s.
    fn shutdown(&mut self) {
        let Some(mut child) = self.child.take() else {
            return;
        };
        let pids = process_and_children(child.id());
        let _ = Command::new("kill")
            .args(["-TERM", &child.id().to_string()])
            .status();
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        for pid in pids {
            let _ = Command::new("kill")
                .args(["-KILL", &pid.to_string()])
                .status();
        }
        let _ = child.wait();
    }
}

impl Drop for Peer {
    fn drop(&mut self) {
        self.shutdown();
    }
}

/// A random `SECRET_KEY` for this run.
fn secret_key() -> Result<String, String> {
    let mut bytes = [0u8; 32];
    fs::File::open("/dev/urandom")
        .and_then(|mut f| f.read_exact(&mut bytes))
        .map_err(|e| format!("/dev/urandom: {e}"))?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}
