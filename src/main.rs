//! `mamis`: serve the site, or run an operator command.

use std::path::PathBuf;

use anyhow::Context;
use clap::{Parser, Subcommand};
use mamis::{
    admin::{self, AdminRequest},
    app::Application,
    config::{Config, ServeArgs},
};

/// mimalloc instead of glibc's malloc: every request allocates and frees
/// many small strings across the runtime's threads, which glibc's arenas
/// serve more slowly (see the endpoint benchmark in the README).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(
    name = "mamis",
    version,
    about = "MAMIS: medical-association member information system"
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    #[command(flatten)]
    serve: ServeArgs,
}

// Parsed once at start: the size of the largest variant does not matter.
#[allow(clippy::large_enum_variant)]
#[derive(Subcommand)]
enum Command {
    /// Serve the site (the default).
    Serve(ServeArgs),
    /// Operator commands; they go through the running server when there is one.
    Admin {
        /// Data folder of the server.
        #[arg(
            long,
            env = "MAMIS_DATA_DIR",
            default_value = "./mamis-data",
            global = true
        )]
        data_dir: PathBuf,
        #[command(subcommand)]
        command: AdminCommand,
    },
    /// Put a backup back as the database (the server must be stopped); the
    /// current database is kept as mamis.redb.before-restore-<time>.
    Restore {
        /// Data folder of the server.
        #[arg(long, env = "MAMIS_DATA_DIR", default_value = "./mamis-data")]
        data_dir: PathBuf,
        /// A file written by `mamis admin backup` or the backup schedule.
        file: PathBuf,
    },
    /// Exit 0 when the server at MAMIS_ADDR answers /healthz (for container
    /// health checks; no curl needed). Over TLS when the server serves
    /// HTTPS (MAMIS_TLS_CERT or MAMIS_TLS_DOMAIN set, as for `serve`).
    Healthcheck {
        #[arg(long, env = "MAMIS_ADDR", default_value = "127.0.0.1:8080")]
        addr: String,
        /// Ask over TLS [default: when MAMIS_TLS_CERT or MAMIS_TLS_DOMAIN is set].
        #[arg(long)]
        tls: bool,
        #[arg(long, env = "MAMIS_TLS_CERT", default_value = "", hide = true)]
        tls_cert: String,
        #[arg(long, env = "MAMIS_TLS_DOMAIN", default_value = "", hide = true)]
        tls_domain: String,
    },
    /// Postal-code table.
    Postal {
        /// Data folder where an imported table is kept.
        #[arg(
            long,
            env = "MAMIS_DATA_DIR",
            default_value = "./mamis-data",
            global = true
        )]
        data_dir: PathBuf,
        #[command(subcommand)]
        command: PostalCommand,
    },
}

#[derive(Subcommand)]
enum AdminCommand {
    /// Add an announcement to the login page (「システム管理者からのお知らせ」).
    Announce {
        /// Source or category line, e.g. 「システム停止のお知らせ」.
        #[arg(long)]
        category: String,
        /// Text of the announcement.
        #[arg(long)]
        body: String,
        /// Date shown, YYYY-MM-DD [default: today].
        #[arg(long)]
        date: Option<String>,
        /// A link shown under the text.
        #[arg(long)]
        link: Option<String>,
    },
    /// Print the audit log (logins, throttling, password resets,
    /// registrations, mailed links opened), oldest first, times in JST.
    Audit {
        /// From this date (YYYY-MM-DD, JST) or this many hours back (e.g. 24h)
        /// [default: the last 24 hours].
        #[arg(long)]
        since: Option<String>,
    },
    /// Write a consistent copy of the database to FILE (a new file, mode
    /// 0600) while the site keeps running; the server writes it, so FILE
    /// must be writable by the server's user.
    Backup { file: PathBuf },
    /// The associations (医師会) of the tree.
    Association {
        #[command(subcommand)]
        command: AssociationCommand,
    },
    /// 事務局 staff accounts.
    Staff {
        #[command(subcommand)]
        command: StaffCommand,
    },
}

#[derive(Subcommand)]
enum AssociationCommand {
    /// Add a 郡市区等医師会 below its 都道府県医師会.
    Add {
        /// The association above it, by name (e.g. 東京都医師会).
        #[arg(long)]
        parent: String,
        /// Its name, as it writes it (e.g. 新宿区医師会).
        #[arg(long)]
        name: String,
        /// 郡市区, 大学 or 職域 [default: 郡市区].
        #[arg(long)]
        kind: Option<String>,
    },
}

#[derive(Subcommand)]
enum StaffCommand {
    /// Make a staff account of an association; prints its one-time
    /// password alone on the last line (to be changed at the first login).
    Add {
        /// The association, by name (e.g. 日本医師会).
        #[arg(long)]
        association: String,
        /// The login ID (the registration's rules).
        #[arg(long)]
        login_id: String,
        /// 氏名 of the staff member.
        #[arg(long)]
        name: Option<String>,
        /// 管理者 or 担当者 [default: 管理者].
        #[arg(long)]
        role: Option<String>,
        /// 連絡用メールアドレス: where mail about applications waiting for
        /// the association goes.
        #[arg(long)]
        email: Option<String>,
    },
}

#[derive(Subcommand)]
enum PostalCommand {
    /// Import Japan Post's UTF-8 KEN_ALL CSV (utf_ken_all.csv) into the data
    /// folder; it takes precedence over the built-in table from the next start.
    Import {
        file: PathBuf,
        /// Date of the data, YYYY-MM-DD [default: today].
        #[arg(long)]
        date: Option<String>,
    },
    /// Look a postal code up.
    Lookup { code: String },
}

fn init_tracing() {
    let filter = tracing_subscriber::EnvFilter::try_from_env("MAMIS_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_target(false)
        .init();
}

fn today_jst() -> time::Date {
    time::OffsetDateTime::now_utc()
        .to_offset(time::macros::offset!(+9))
        .date()
}

fn parse_date(s: Option<String>) -> anyhow::Result<time::Date> {
    match s {
        None => Ok(today_jst()),
        Some(s) => time::Date::parse(
            &s,
            time::macros::format_description!("[year]-[month]-[day]"),
        )
        .with_context(|| format!("--date: not YYYY-MM-DD: {s:?}")),
    }
}

/// `--since` of `admin audit`: a JST date or a number of hours back.
fn parse_since(s: Option<&str>) -> anyhow::Result<i64> {
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    match s {
        None => Ok(now - 24 * 3600),
        Some(h) if h.ends_with('h') => {
            let hours: i64 = h
                .trim_end_matches('h')
                .parse()
                .with_context(|| format!("--since: not a number of hours: {h:?}"))?;
            Ok(now - hours.saturating_mul(3600))
        }
        Some(d) => {
            let date =
                time::Date::parse(d, time::macros::format_description!("[year]-[month]-[day]"))
                    .with_context(|| {
                        format!(
                            "--since: not a date (YYYY-MM-DD) or a number of hours (24h): {d:?}"
                        )
                    })?;
            Ok(date
                .midnight()
                .assume_offset(time::macros::offset!(+9))
                .unix_timestamp())
        }
    }
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    match run().await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("mamis: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

async fn run() -> anyhow::Result<()> {
    let cli = Cli::parse();
    match cli.command {
        None => serve(cli.serve).await,
        Some(Command::Serve(args)) => serve(args).await,
        Some(Command::Admin { data_dir, command }) => {
            let req = match command {
                AdminCommand::Announce {
                    category,
                    body,
                    date,
                    link,
                } => AdminRequest::Announce {
                    date: parse_date(date)?,
                    category,
                    body,
                    link,
                },
                AdminCommand::Audit { since } => AdminRequest::Audit {
                    since: parse_since(since.as_deref())?,
                },
                AdminCommand::Backup { file } => return backup(&data_dir, &file).await,
                AdminCommand::Association {
                    command: AssociationCommand::Add { parent, name, kind },
                } => AdminRequest::AssociationAdd { parent, name, kind },
                AdminCommand::Staff {
                    command:
                        StaffCommand::Add {
                            association,
                            login_id,
                            name,
                            role,
                            email,
                        },
                } => AdminRequest::StaffAdd {
                    association,
                    login_id,
                    name,
                    role,
                    email,
                },
            };
            println!("{}", admin::run(&data_dir, req).await?);
            Ok(())
        }
        Some(Command::Restore { data_dir, file }) => {
            let file = std::path::absolute(&file).unwrap_or(file);
            let data_dir = std::path::absolute(&data_dir).unwrap_or(data_dir);
            let report = admin::restore(&file, &data_dir)
                .await
                .with_context(|| format!("restore of {} refused", file.display()))?;
            println!("{}", report.summary(&file));
            Ok(())
        }
        Some(Command::Healthcheck {
            addr,
            tls,
            tls_cert,
            tls_domain,
        }) => {
            let tls = tls || !tls_cert.trim().is_empty() || !tls_domain.trim().is_empty();
            mamis::healthcheck::run(&addr, tls).await
        }
        Some(Command::Postal { data_dir, command }) => match command {
            PostalCommand::Import { file, date } => {
                mamis::store::create_private_dir(&data_dir)?;
                let date = parse_date(date)?.to_string();
                let out = data_dir.join(mamis::postal::DATA_FILE);
                let n = mamis::postal::import_ken_all_csv(&file, &out, &date)?;
                println!(
                    "imported {n} postal codes into {} (used from the next start)",
                    out.display()
                );
                Ok(())
            }
            PostalCommand::Lookup { code } => {
                let table = mamis::postal::table_for(&data_dir);
                let code = mamis::postal::parse_code(&code).context("not a 7-digit postal code")?;
                for a in table.lookup(code) {
                    println!("{} {} {}", a.prefecture, a.city, a.town);
                }
                Ok(())
            }
        },
    }
}

/// `mamis admin backup FILE`: the server writes the copy at FILE's absolute
/// path; the command then checks that it sees the file too.
async fn backup(data_dir: &std::path::Path, file: &std::path::Path) -> anyhow::Result<()> {
    let path = std::path::absolute(file)
        .with_context(|| format!("backup: not a usable path: {}", file.display()))?;
    if path.exists() {
        anyhow::bail!(
            "backup: {} already exists: a backup never replaces a file, choose a new name",
            path.display()
        );
    }
    if !admin::server_answers(data_dir).await && !data_dir.join(mamis::store::DB_FILE).is_file() {
        anyhow::bail!(
            "backup: no server answers on {} and there is no database at {}: check \
             MAMIS_DATA_DIR / --data-dir",
            data_dir.join(admin::SOCKET).display(),
            data_dir.join(mamis::store::DB_FILE).display()
        );
    }
    let answer = admin::run(data_dir, AdminRequest::Backup { path: path.clone() }).await?;
    if !path.exists() {
        anyhow::bail!(
            "the server reports a backup at {} but this command cannot see that file: the \
             server runs with its own view of the file system (systemd PrivateTmp, \
             ProtectHome, a container); write into its data folder instead, e.g. \
             {}/backups/…\nserver: {answer}",
            path.display(),
            data_dir.display()
        );
    }
    println!("{answer}");
    Ok(())
}

async fn serve(args: ServeArgs) -> anyhow::Result<()> {
    init_tracing();
    let config = Config::from_args(args)?;
    let data_dir = config.data_dir.clone();
    let smtp = config.smtp.clone();
    let max_connections = config.max_connections;
    match mamis::conn::raise_open_files_limit() {
        // Each connection is one descriptor; the store, the socket and the
        // mail connections need a few more.
        Some(n) if n < max_connections as u64 + 64 => tracing::warn!(
            open_files = n,
            max_connections,
            "the open-files limit is low for MAMIS_MAX_CONNECTIONS; raise it (LimitNOFILE=, ulimit -n)"
        ),
        Some(n) => tracing::debug!(open_files = n, "open-files limit"),
        None => tracing::warn!("could not read or raise the open-files limit"),
    }
    let app = Application::build(config).await?;
    admin::listen(
        app.state.store.clone(),
        app.state.hasher.clone(),
        data_dir.clone(),
    )
    .await?;
    let scheme = if app.state.config.tls.is_some() {
        "https"
    } else {
        "http"
    };
    tracing::info!(
        "MAMIS listening on {scheme}://{} (data: {}, base URL: {})",
        app.addr,
        data_dir.display(),
        app.state.config.base_url
    );
    match smtp {
        Some(s) => tracing::info!("mail goes to SMTP server {}:{}", s.host, s.port),
        None => tracing::warn!(
            "no MAMIS_SMTP_URL: mail is not delivered but kept in the local outbox, open it at {}/dev/outbox?key={}",
            app.state.config.base_url,
            app.state.dev_outbox_key
        ),
    }
    app.run_until_stopped().await
}
