//! Operator commands (`mamis admin …`). A running server listens on a Unix
//! socket in the data folder (mode 0600, so only its owner can connect); the
//! command goes through it. With no server running, the command opens the
//! store itself.

use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use serde::{Deserialize, Serialize};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};

use crate::store::{Store, announcements, audit, backup};

/// The socket's file name inside the data folder.
pub const SOCKET: &str = "admin.sock";

/// One operator command.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(tag = "cmd", rename_all = "snake_case")]
pub enum AdminRequest {
    Announce {
        date: time::Date,
        category: String,
        body: String,
        link: Option<String>,
    },
    /// Prints the audit log from `since` (Unix seconds) on.
    Audit { since: i64 },
    /// Writes a consistent copy of the database to `path` (absolute, a new
    /// file), as the server's user.
    Backup { path: PathBuf },
}

/// Most audit lines one command prints (the newest).
const AUDIT_LINES: usize = 10_000;

/// Carries out a command against the store; returns what to print.
pub async fn execute(store: &Store, req: AdminRequest) -> anyhow::Result<String> {
    match req {
        AdminRequest::Announce {
            date,
            category,
            body,
            link,
        } => {
            if category.trim().is_empty() || body.trim().is_empty() {
                bail!("category and body must not be empty");
            }
            let id = store
                .write_ok(move |tx| announcements::add(tx, date, &category, &body, link.as_deref()))
                .await?;
            Ok(format!("announcement {id} added"))
        }
        AdminRequest::Audit { since } => {
            let entries = store
                .read(move |tx| audit::since(tx, since, AUDIT_LINES))
                .await?;
            if entries.is_empty() {
                return Ok("no audit entries in that period".to_owned());
            }
            Ok(entries
                .iter()
                .map(audit::AuditEntry::to_line)
                .collect::<Vec<_>>()
                .join("\n"))
        }
        AdminRequest::Backup { path } => {
            if !path.is_absolute() {
                bail!("backup: {} is not an absolute path", path.display());
            }
            let report = store.backup_to(&path).await?;
            tracing::info!(
                path = %report.path.display(),
                bytes = report.bytes,
                rows = report.rows(),
                "backup written (operator command)"
            );
            Ok(report.summary())
        }
    }
}

/// True when a server answers on `data_dir`'s operator socket.
pub async fn server_answers(data_dir: &Path) -> bool {
    #[cfg(unix)]
    {
        tokio::net::UnixStream::connect(data_dir.join(SOCKET))
            .await
            .is_ok()
    }
    #[cfg(not(unix))]
    {
        let _ = data_dir;
        false
    }
}

/// `mamis restore`: refused while a server answers on the socket (and, in
/// `store::backup::restore`, while any process has the database open).
pub async fn restore(file: &Path, data_dir: &Path) -> anyhow::Result<backup::RestoreReport> {
    if server_answers(data_dir).await {
        bail!(
            "a MAMIS server is running on {} (it answers on {}): stop it first \
             (systemctl stop mamis), then restore; nothing was changed",
            data_dir.display(),
            data_dir.join(SOCKET).display()
        );
    }
    backup::restore(file, data_dir).await
}

/// Sends the command to the running server, or runs it on the store when no
/// server is listening.
pub async fn run(data_dir: &Path, req: AdminRequest) -> anyhow::Result<String> {
    let path = data_dir.join(SOCKET);
    #[cfg(unix)]
    if let Ok(stream) = tokio::net::UnixStream::connect(&path).await {
        let (r, mut w) = stream.into_split();
        let mut line = serde_json::to_string(&req)?;
        line.push('\n');
        w.write_all(line.as_bytes()).await?;
        w.shutdown().await?;
        let mut answer = String::new();
        BufReader::new(r).read_to_string(&mut answer).await?;
        let answer = answer.trim_end();
        return match answer.strip_prefix("ok ") {
            Some(msg) => Ok(msg.to_owned()),
            None => bail!(
                "server: {}",
                answer.strip_prefix("error ").unwrap_or(answer)
            ),
        };
    }
    let dir = data_dir.to_owned();
    let store = tokio::task::spawn_blocking(move || Store::open(&dir)).await??;
    execute(&store, req).await
}

/// Listens for operator commands next to the database.
#[cfg(unix)]
pub async fn listen(store: Store, data_dir: PathBuf) -> anyhow::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    let path = data_dir.join(SOCKET);
    let _ = std::fs::remove_file(&path);
    let listener = tokio::net::UnixListener::bind(&path)
        .with_context(|| format!("cannot listen on {}", path.display()))?;
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600))?;
    tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                continue;
            };
            let store = store.clone();
            tokio::spawn(async move {
                let (r, mut w) = stream.into_split();
                let mut line = String::new();
                let mut reader = BufReader::new(r).take(64 * 1024);
                let answer = match reader.read_line(&mut line).await {
                    Ok(_) => match serde_json::from_str::<AdminRequest>(&line) {
                        Ok(req) => match execute(&store, req).await {
                            Ok(msg) => format!("ok {msg}\n"),
                            Err(e) => format!("error {e:#}\n"),
                        },
                        Err(e) => format!("error bad request: {e}\n"),
                    },
                    Err(e) => format!("error {e}\n"),
                };
                let _ = w.write_all(answer.as_bytes()).await;
            });
        }
    });
    Ok(())
}

#[cfg(not(unix))]
pub async fn listen(_store: Store, _data_dir: PathBuf) -> anyhow::Result<()> {
    Ok(())
}
