//! Operator commands (`mamis admin …`). A running server listens on a Unix
//! socket in the data folder (mode 0600, so only its owner can connect); the
//! command goes through it. With no server running, the command opens the
//! store itself.

use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use serde::{Deserialize, Serialize};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};

use crate::{
    auth::password::Hasher,
    config::Argon2Params,
    service::office::{self, NewStaff},
    store::{Store, announcements, audit, backup},
};

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
    /// Adds an association (郡市区, 大学 or 職域) below `parent`.
    AssociationAdd {
        parent: String,
        name: String,
        kind: Option<String>,
    },
    /// Makes a staff account with a one-time password, printed alone on the
    /// last line.
    StaffAdd {
        association: String,
        login_id: String,
        name: Option<String>,
        role: Option<String>,
        /// 連絡用メールアドレス; absent from requests of older clients.
        #[serde(default)]
        email: Option<String>,
    },
}

/// Most audit lines one command prints (the newest).
const AUDIT_LINES: usize = 10_000;

/// Carries out a command against the store (passwords hashed with
/// `hasher`); returns what to print.
pub async fn execute(store: &Store, hasher: &Hasher, req: AdminRequest) -> anyhow::Result<String> {
    match req {
        AdminRequest::AssociationAdd { parent, name, kind } => {
            match office::add_association(store, &parent, &name, kind.as_deref()).await? {
                Ok(a) => Ok(format!(
                    "association {} ({}) added under {parent}",
                    a.name,
                    a.kind.label()
                )),
                Err(message) => bail!("association add: {message}"),
            }
        }
        AdminRequest::StaffAdd {
            association,
            login_id,
            name,
            role,
            email,
        } => {
            let new = NewStaff {
                association: &association,
                login_id: &login_id,
                name: name.as_deref(),
                role: role.as_deref(),
                email: email.as_deref(),
            };
            match office::add_staff(store, hasher, new).await? {
                Ok(added) => Ok(format!(
                    "staff account {} ({} of {}) added; its one-time password, to be \
                     changed at the first login, is on the next line:\n{}",
                    login_id.trim(),
                    added.role.label(),
                    added.association,
                    added.one_time_password
                )),
                Err(message) => bail!("staff add: {message}"),
            }
        }
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
    // No server: the production cost (a server re-hashes at the next login
    // if it is configured otherwise).
    let hasher = Hasher::new(1, Argon2Params::PRODUCTION);
    execute(&store, &hasher, req).await
}

/// Listens for operator commands next to the database.
#[cfg(unix)]
pub async fn listen(store: Store, hasher: Hasher, data_dir: PathBuf) -> anyhow::Result<()> {
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
            let hasher = hasher.clone();
            tokio::spawn(async move {
                let (r, mut w) = stream.into_split();
                let mut line = String::new();
                let mut reader = BufReader::new(r).take(64 * 1024);
                let answer = match reader.read_line(&mut line).await {
                    Ok(_) => match serde_json::from_str::<AdminRequest>(&line) {
                        Ok(req) => match execute(&store, &hasher, req).await {
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
pub async fn listen(_store: Store, _hasher: Hasher, _data_dir: PathBuf) -> anyhow::Result<()> {
    Ok(())
}
