//! Settings from command-line flags and `MAMIS_*` environment variables,
//! validated once at start-up: a bad value stops the program with one line
//! that names the variable.

use std::{net::SocketAddr, path::PathBuf, time::Duration};

use anyhow::{Context, bail};
use clap::Args;
use ipnet::IpNet;
use url::Url;

/// Flags of `mamis serve` (each also readable from its environment variable).
#[derive(Args, Debug, Clone)]
pub struct ServeArgs {
    /// Address and port to listen on.
    #[arg(long, env = "MAMIS_ADDR", default_value = "127.0.0.1:8080")]
    pub addr: String,
    /// Folder for the database and other data; created if missing.
    #[arg(long, env = "MAMIS_DATA_DIR", default_value = "./mamis-data")]
    pub data_dir: PathBuf,
    /// Public URL of the site, used for every link in mail [default: http://<addr>].
    #[arg(long, env = "MAMIS_BASE_URL")]
    pub base_url: Option<String>,
    /// Outgoing mail server: smtp://[user:pass@]host[:port] (STARTTLS when
    /// offered) or smtps://… (implicit TLS). Without it, mail stays in a local
    /// outbox shown at /dev/outbox.
    #[arg(long, env = "MAMIS_SMTP_URL")]
    pub smtp_url: Option<String>,
    /// Sender of every mail.
    #[arg(
        long,
        env = "MAMIS_MAIL_FROM",
        default_value = "MAMIS <noreply@mamis.localhost>"
    )]
    pub mail_from: String,
    /// Help-desk name shown in mail.
    #[arg(
        long,
        env = "MAMIS_HELPDESK_NAME",
        default_value = "MAMIS お問合せ窓口"
    )]
    pub helpdesk_name: String,
    /// Help-desk phone number shown in mail.
    #[arg(long, env = "MAMIS_HELPDESK_PHONE", default_value = "03-0000-0000")]
    pub helpdesk_phone: String,
    /// Help-desk opening hours shown in mail.
    #[arg(
        long,
        env = "MAMIS_HELPDESK_HOURS",
        default_value = "年末年始を除く平日 10:00-18:00"
    )]
    pub helpdesk_hours: String,
    /// Help-desk e-mail address shown in mail; inquiries are sent there.
    #[arg(
        long,
        env = "MAMIS_HELPDESK_EMAIL",
        default_value = "inquiry@mamis.localhost"
    )]
    pub helpdesk_email: String,
    /// FAQ link shown in mail [default: <base url>/faq is not served; leave empty to omit].
    #[arg(long, env = "MAMIS_FAQ_URL", default_value = "")]
    pub faq_url: String,
    /// argon2id memory cost in KiB (production: 19456 or more).
    #[arg(long, env = "MAMIS_ARGON2_MEMORY_KIB", default_value_t = 19456)]
    pub argon2_memory_kib: u32,
    /// argon2id iterations (production: 2 or more).
    #[arg(long, env = "MAMIS_ARGON2_ITERATIONS", default_value_t = 2)]
    pub argon2_iterations: u32,
    /// Password hashes computed at the same time (each takes
    /// MAMIS_ARGON2_MEMORY_KIB of memory); more wait up to 2 s, then get
    /// 503 [default: the number of CPU cores].
    #[arg(long, env = "MAMIS_HASH_CONCURRENCY")]
    pub hash_concurrency: Option<usize>,
    /// First retry delay for mail that could not be delivered, in seconds
    /// (doubles on every failure, up to 30 minutes).
    #[arg(long, env = "MAMIS_MAIL_RETRY_SECONDS", default_value_t = 5)]
    pub mail_retry_seconds: u64,
    /// Reverse proxies whose X-Forwarded-For header is believed, as
    /// comma-separated addresses or CIDRs (e.g. `127.0.0.1/32,::1/128`).
    /// Empty: the client address is the TCP peer and the header is ignored.
    #[arg(long, env = "MAMIS_TRUSTED_PROXIES", default_value = "")]
    pub trusted_proxies: String,
    /// A signed-in session ends after this many minutes without a request.
    #[arg(long, env = "MAMIS_SESSION_IDLE_MINUTES", default_value_t = 30)]
    pub session_idle_minutes: u64,
    /// A signed-in session ends this many hours after the login, however busy.
    #[arg(long, env = "MAMIS_SESSION_MAX_HOURS", default_value_t = 12)]
    pub session_max_hours: u64,
    /// Minutes a CSRF cookie lives without a request; a form submitted
    /// after it ended is shown again with what was typed.
    #[arg(long, env = "MAMIS_CSRF_MINUTES", default_value_t = 1440)]
    pub csrf_minutes: u64,
    /// Days the audit log (logins, resets, registrations) is kept.
    #[arg(long, env = "MAMIS_AUDIT_KEEP_DAYS", default_value_t = 400)]
    pub audit_keep_days: u64,
    /// Most client connections open at once; beyond it idle ones are closed
    /// to make room, then new ones wait.
    #[arg(long, env = "MAMIS_MAX_CONNECTIONS", default_value_t = 512)]
    pub max_connections: usize,
    /// Seconds a client has to send a request's headers (from its first
    /// byte, or from connecting).
    #[arg(long, env = "MAMIS_HEADER_TIMEOUT_SECONDS", default_value_t = 10)]
    pub header_timeout_seconds: u64,
    /// Seconds an open connection may stay silent between requests (or in
    /// the middle of a body) before it is closed.
    #[arg(long, env = "MAMIS_IDLE_TIMEOUT_SECONDS", default_value_t = 60)]
    pub idle_timeout_seconds: u64,
    /// Mail requests (forgotten ID or password, registration, inquiry) one
    /// client address may make per hour.
    #[arg(long, env = "MAMIS_MAILS_PER_CLIENT_HOUR", default_value_t = 10)]
    pub mails_per_client_hour: u32,
    /// Hours a mail may keep failing before it is given up.
    #[arg(long, env = "MAMIS_MAIL_GIVE_UP_HOURS", default_value_t = 72)]
    pub mail_give_up_hours: u64,
    /// Folder for the daily backups (`mamis-YYYYMMDD-HHMMSS.redb`), created
    /// if missing. Empty: no scheduled backups.
    #[arg(long, env = "MAMIS_BACKUP_DIR", default_value = "")]
    pub backup_dir: String,
    /// Scheduled backups kept in MAMIS_BACKUP_DIR (older ones are removed).
    #[arg(long, env = "MAMIS_BACKUP_KEEP", default_value_t = 7)]
    pub backup_keep: usize,
    /// Serve HTTPS on MAMIS_ADDR with this certificate chain (PEM), re-read
    /// when the file changes. Needs MAMIS_TLS_KEY.
    #[arg(long, env = "MAMIS_TLS_CERT", default_value = "")]
    pub tls_cert: String,
    /// The private key (PEM) of MAMIS_TLS_CERT.
    #[arg(long, env = "MAMIS_TLS_KEY", default_value = "")]
    pub tls_key: String,
    /// Serve HTTPS on MAMIS_ADDR with a certificate for this domain, obtained
    /// and renewed by ACME (Let's Encrypt, TLS-ALPN-01 on MAMIS_ADDR; kept
    /// in <data dir>/acme).
    #[arg(long, env = "MAMIS_TLS_DOMAIN", default_value = "")]
    pub tls_domain: String,
    /// ACME directory URL [default: Let's Encrypt's production directory].
    #[arg(long, env = "MAMIS_ACME_DIRECTORY", default_value = "")]
    pub acme_directory: String,
    /// Contact address given to the ACME server (`mailto:…`; optional).
    #[arg(long, env = "MAMIS_ACME_CONTACT", default_value = "")]
    pub acme_contact: String,
    /// The one CA (PEM) trusted for the ACME server's own HTTPS, instead of
    /// the system's roots: for a private or test CA such as pebble.
    #[arg(long, env = "MAMIS_ACME_CA_FILE", default_value = "")]
    pub acme_ca_file: String,
    /// Also listen here (e.g. 0.0.0.0:80) for plain HTTP, answered with a
    /// redirect to the same path on MAMIS_BASE_URL. Only with TLS.
    #[arg(long, env = "MAMIS_REDIRECT_ADDR", default_value = "")]
    pub redirect_addr: String,
}

/// How MAMIS serves HTTPS itself (without it, plain HTTP behind a proxy).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Tls {
    /// A certificate chain and key from PEM files, re-read when they change.
    Files { cert: PathBuf, key: PathBuf },
    /// A certificate for `domain` obtained and renewed by ACME (TLS-ALPN-01
    /// on the same address), kept in `<data dir>/acme`.
    Acme {
        domain: String,
        directory: String,
        contact: Option<String>,
        /// The CA that signs the ACME server's HTTPS certificate, when it is
        /// not one of the system's roots.
        ca_file: Option<PathBuf>,
    },
}

/// Let's Encrypt's production ACME directory.
pub const LETS_ENCRYPT: &str = "https://acme-v02.api.letsencrypt.org/directory";

/// How to reach the SMTP server.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SmtpSettings {
    pub host: String,
    pub port: u16,
    /// true for `smtps://` (TLS from the first byte); false for `smtp://`,
    /// which upgrades with STARTTLS when the server offers it.
    pub implicit_tls: bool,
    pub credentials: Option<(String, String)>,
}

/// Help-desk block of every mail (name, phone, hours, address, FAQ link).
#[derive(Clone, Debug)]
pub struct Helpdesk {
    pub name: String,
    pub phone: String,
    pub hours: String,
    pub email: String,
    pub faq_url: String,
}

/// argon2id cost parameters.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Argon2Params {
    pub memory_kib: u32,
    pub iterations: u32,
}

impl Argon2Params {
    /// The production minimum (OWASP: m=19456 KiB, t=2, p=1).
    pub const PRODUCTION: Argon2Params = Argon2Params {
        memory_kib: 19456,
        iterations: 2,
    };
    /// Cheap parameters for tests only.
    pub const TESTING: Argon2Params = Argon2Params {
        memory_kib: 64,
        iterations: 1,
    };
}

/// The validated configuration of a running server.
#[derive(Clone, Debug)]
pub struct Config {
    pub addr: SocketAddr,
    pub data_dir: PathBuf,
    /// Without a trailing slash.
    pub base_url: String,
    pub smtp: Option<SmtpSettings>,
    pub mail_from: String,
    pub helpdesk: Helpdesk,
    pub argon2: Argon2Params,
    /// argon2 runs at the same time (at least 1).
    pub hash_concurrency: usize,
    pub mail_retry_base: Duration,
    /// Proxies allowed to name the client in X-Forwarded-For.
    pub trusted_proxies: Vec<IpNet>,
    /// Idle and absolute lifetimes of a signed-in session.
    pub session_idle: Duration,
    pub session_max: Duration,
    /// Lifetime of the CSRF cookie (renewed, same secret, once half of it
    /// has passed; tests shorten it).
    pub csrf_lifetime: Duration,
    /// How long audit entries are kept.
    pub audit_keep: Duration,
    /// Connection limits (see `conn`).
    pub max_connections: usize,
    pub header_timeout: Duration,
    pub idle_timeout: Duration,
    /// Mail requests allowed per client address per hour.
    pub mails_per_client_hour: u32,
    /// A mail still failing this long after it was queued is given up.
    pub mail_give_up: Duration,
    /// Folder of the scheduled backups; `None`: no schedule.
    pub backup_dir: Option<PathBuf>,
    /// Scheduled backups kept (at least 1).
    pub backup_keep: usize,
    /// Time between scheduled backups (a day; shorter in tests).
    pub backup_interval: Duration,
    /// HTTPS served by MAMIS itself; `None`: plain HTTP.
    pub tls: Option<Tls>,
    /// Plain-HTTP address answered with redirects to the https base URL.
    pub redirect_addr: Option<SocketAddr>,
}

impl Config {
    /// Validates the flags; the error names the variable at fault.
    pub fn from_args(args: ServeArgs) -> anyhow::Result<Config> {
        let addr: SocketAddr = args
            .addr
            .parse()
            .with_context(|| format!("MAMIS_ADDR: not an address:port: {:?}", args.addr))?;
        let tls = parse_tls(&args)?;
        let base_url = match args.base_url.as_deref().filter(|s| !s.is_empty()) {
            Some(raw) => parse_base_url(raw)?,
            None => match &tls {
                Some(Tls::Acme { domain, .. }) => format!("https://{domain}"),
                Some(Tls::Files { .. }) => format!("https://{addr}"),
                None => format!("http://{addr}"),
            },
        };
        let redirect_addr = match args.redirect_addr.trim() {
            "" => None,
            _ if tls.is_none() => bail!(
                "MAMIS_REDIRECT_ADDR: only with MAMIS_TLS_CERT/MAMIS_TLS_KEY or MAMIS_TLS_DOMAIN"
            ),
            raw => {
                Some(raw.parse::<SocketAddr>().with_context(|| {
                    format!("MAMIS_REDIRECT_ADDR: not an address:port: {raw:?}")
                })?)
            }
        };
        if tls.is_some() && !base_url.starts_with("https://") {
            bail!("MAMIS_BASE_URL: must be https://… when MAMIS serves TLS itself");
        }
        let smtp = match args.smtp_url.as_deref().filter(|s| !s.is_empty()) {
            Some(raw) => Some(parse_smtp_url(raw)?),
            None => None,
        };
        if !args.mail_from.contains('@') {
            bail!("MAMIS_MAIL_FROM: not a mail address: {:?}", args.mail_from);
        }
        if args.argon2_memory_kib < 8 || args.argon2_iterations < 1 {
            bail!("MAMIS_ARGON2_MEMORY_KIB / MAMIS_ARGON2_ITERATIONS: too small");
        }
        let hash_concurrency = match args.hash_concurrency {
            Some(0) => bail!("MAMIS_HASH_CONCURRENCY: must be at least 1"),
            Some(n) => n,
            None => default_hash_concurrency(),
        };
        if args.mail_retry_seconds == 0 {
            bail!("MAMIS_MAIL_RETRY_SECONDS: must be at least 1");
        }
        let trusted_proxies = parse_trusted_proxies(&args.trusted_proxies)?;
        if args.session_idle_minutes == 0 || args.session_max_hours == 0 {
            bail!("MAMIS_SESSION_IDLE_MINUTES / MAMIS_SESSION_MAX_HOURS: must be at least 1");
        }
        if args.csrf_minutes == 0 {
            bail!("MAMIS_CSRF_MINUTES: must be at least 1");
        }
        if args.audit_keep_days == 0 {
            bail!("MAMIS_AUDIT_KEEP_DAYS: must be at least 1");
        }
        if args.max_connections == 0
            || args.header_timeout_seconds == 0
            || args.idle_timeout_seconds == 0
        {
            bail!(
                "MAMIS_MAX_CONNECTIONS / MAMIS_HEADER_TIMEOUT_SECONDS / MAMIS_IDLE_TIMEOUT_SECONDS: must be at least 1"
            );
        }
        if args.mails_per_client_hour == 0 || args.mail_give_up_hours == 0 {
            bail!("MAMIS_MAILS_PER_CLIENT_HOUR / MAMIS_MAIL_GIVE_UP_HOURS: must be at least 1");
        }
        let backup_dir = parse_backup_dir(&args.backup_dir)?;
        if args.backup_keep == 0 {
            bail!("MAMIS_BACKUP_KEEP: must be at least 1");
        }
        Ok(Config {
            addr,
            data_dir: args.data_dir,
            base_url,
            smtp,
            mail_from: args.mail_from,
            helpdesk: Helpdesk {
                name: args.helpdesk_name,
                phone: args.helpdesk_phone,
                hours: args.helpdesk_hours,
                email: args.helpdesk_email,
                faq_url: args.faq_url,
            },
            argon2: Argon2Params {
                memory_kib: args.argon2_memory_kib,
                iterations: args.argon2_iterations,
            },
            hash_concurrency,
            mail_retry_base: Duration::from_secs(args.mail_retry_seconds),
            trusted_proxies,
            session_idle: Duration::from_secs(args.session_idle_minutes.saturating_mul(60)),
            session_max: Duration::from_secs(args.session_max_hours.saturating_mul(3600)),
            csrf_lifetime: Duration::from_secs(args.csrf_minutes.saturating_mul(60)),
            audit_keep: Duration::from_secs(args.audit_keep_days.saturating_mul(86400)),
            max_connections: args.max_connections,
            header_timeout: Duration::from_secs(args.header_timeout_seconds),
            idle_timeout: Duration::from_secs(args.idle_timeout_seconds),
            mails_per_client_hour: args.mails_per_client_hour,
            mail_give_up: Duration::from_secs(args.mail_give_up_hours.saturating_mul(3600)),
            backup_dir,
            backup_keep: args.backup_keep,
            backup_interval: Duration::from_secs(86400),
            tls,
            redirect_addr,
        })
    }

    /// A configuration for tests: loopback on a free port, cheap argon2,
    /// fast mail retries, the local outbox unless `smtp` is set.
    pub fn for_tests(data_dir: PathBuf, smtp: Option<SmtpSettings>) -> Config {
        Config {
            addr: SocketAddr::from(([127, 0, 0, 1], 0)),
            data_dir,
            base_url: String::new(),
            smtp,
            mail_from: "MAMIS <noreply@mamis.test>".into(),
            helpdesk: Helpdesk {
                name: "MAMIS お問合せ窓口".into(),
                phone: "0120-000-000".into(),
                hours: "平日 10:00-18:00".into(),
                email: "inquiry@mamis.test".into(),
                faq_url: "https://mamis.test/faq/".into(),
            },
            argon2: Argon2Params::TESTING,
            hash_concurrency: default_hash_concurrency(),
            mail_retry_base: Duration::from_millis(300),
            trusted_proxies: Vec::new(),
            session_idle: Duration::from_secs(30 * 60),
            session_max: Duration::from_secs(12 * 3600),
            csrf_lifetime: Duration::from_secs(24 * 3600),
            audit_keep: Duration::from_secs(400 * 86400),
            max_connections: 512,
            header_timeout: Duration::from_secs(10),
            idle_timeout: Duration::from_secs(60),
            mails_per_client_hour: 10,
            mail_give_up: Duration::from_secs(72 * 3600),
            backup_dir: None,
            backup_keep: 7,
            backup_interval: Duration::from_secs(86400),
            tls: None,
            redirect_addr: None,
        }
    }

    /// True when pages are served over https (turns on HSTS and secure cookies).
    pub fn is_https(&self) -> bool {
        self.base_url.starts_with("https://")
    }

    /// The domain mail is sent from, named on the pages that ask people to
    /// allow it through their carrier's filter.
    pub fn sending_domain(&self) -> &str {
        let addr = self
            .mail_from
            .rsplit_once('<')
            .map_or(self.mail_from.as_str(), |(_, a)| a);
        addr.rsplit_once('@')
            .map_or("", |(_, d)| d)
            .trim_end_matches('>')
            .trim()
    }
}

/// One argon2 run per CPU core.
pub fn default_hash_concurrency() -> usize {
    std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get)
}

/// Parses `MAMIS_TRUSTED_PROXIES`: addresses or CIDRs, comma-separated.
pub fn parse_trusted_proxies(raw: &str) -> anyhow::Result<Vec<IpNet>> {
    raw.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| {
            s.parse::<IpNet>()
                .or_else(|_| s.parse::<std::net::IpAddr>().map(IpNet::from))
                .with_context(|| format!("MAMIS_TRUSTED_PROXIES: not an address or CIDR: {s:?}"))
        })
        .collect()
}

/// Parses `MAMIS_BACKUP_DIR`: empty is off; a relative path is taken from
/// the working folder at start.
/// MAMIS_TLS_CERT + MAMIS_TLS_KEY (both readable now), or MAMIS_TLS_DOMAIN,
/// or neither.
fn parse_tls(args: &ServeArgs) -> anyhow::Result<Option<Tls>> {
    let (cert, key, domain) = (
        args.tls_cert.trim(),
        args.tls_key.trim(),
        args.tls_domain.trim(),
    );
    if !domain.is_empty() {
        if !cert.is_empty() || !key.is_empty() {
            bail!("MAMIS_TLS_DOMAIN: set it or MAMIS_TLS_CERT/MAMIS_TLS_KEY, not both");
        }
        if domain.contains(['/', ':', ' ']) || !domain.contains('.') {
            bail!("MAMIS_TLS_DOMAIN: not a domain name: {domain:?}");
        }
        let directory = match args.acme_directory.trim() {
            "" => LETS_ENCRYPT.to_owned(),
            d if d.starts_with("https://") => d.to_owned(),
            d => bail!("MAMIS_ACME_DIRECTORY: must be an https:// URL, not {d:?}"),
        };
        let contact = Some(args.acme_contact.trim())
            .filter(|c| !c.is_empty())
            .map(|c| {
                if c.starts_with("mailto:") {
                    c.to_owned()
                } else {
                    format!("mailto:{c}")
                }
            });
        let ca_file = match args.acme_ca_file.trim() {
            "" => None,
            f => {
                std::fs::metadata(f)
                    .with_context(|| format!("MAMIS_ACME_CA_FILE: cannot read {f}"))?;
                Some(PathBuf::from(f))
            }
        };
        return Ok(Some(Tls::Acme {
            domain: domain.to_owned(),
            directory,
            contact,
            ca_file,
        }));
    }
    match (cert.is_empty(), key.is_empty()) {
        (true, true) => Ok(None),
        (false, false) => {
            for (name, path) in [("MAMIS_TLS_CERT", cert), ("MAMIS_TLS_KEY", key)] {
                std::fs::metadata(path).with_context(|| format!("{name}: cannot read {path}"))?;
            }
            Ok(Some(Tls::Files {
                cert: PathBuf::from(cert),
                key: PathBuf::from(key),
            }))
        }
        _ => bail!("MAMIS_TLS_CERT / MAMIS_TLS_KEY: set both or neither"),
    }
}

fn parse_backup_dir(raw: &str) -> anyhow::Result<Option<PathBuf>> {
    let raw = raw.trim();
    if raw.is_empty() {
        return Ok(None);
    }
    let dir = std::path::absolute(raw)
        .with_context(|| format!("MAMIS_BACKUP_DIR: not a usable path: {raw:?}"))?;
    if dir.exists() && !dir.is_dir() {
        bail!("MAMIS_BACKUP_DIR: {} is not a folder", dir.display());
    }
    Ok(Some(dir))
}

fn parse_base_url(raw: &str) -> anyhow::Result<String> {
    let url = Url::parse(raw).with_context(|| format!("MAMIS_BASE_URL: not a URL: {raw:?}"))?;
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
        bail!("MAMIS_BASE_URL: must be an http:// or https:// URL with a host: {raw:?}");
    }
    Ok(raw.trim_end_matches('/').to_owned())
}

/// Parses `smtp://[user:pass@]host[:port]` or `smtps://…`.
pub fn parse_smtp_url(raw: &str) -> anyhow::Result<SmtpSettings> {
    let url = Url::parse(raw).with_context(|| "MAMIS_SMTP_URL: not a URL".to_string())?;
    let implicit_tls = match url.scheme() {
        "smtp" => false,
        "smtps" => true,
        other => bail!("MAMIS_SMTP_URL: scheme must be smtp or smtps, not {other:?}"),
    };
    let host = url
        .host_str()
        .filter(|h| !h.is_empty())
        .context("MAMIS_SMTP_URL: no host")?
        .trim_matches(|c| c == '[' || c == ']')
        .to_owned();
    let port = url.port().unwrap_or(if implicit_tls { 465 } else { 587 });
    let credentials = if url.username().is_empty() {
        None
    } else {
        let decode = |s: &str| {
            url::form_urlencoded::parse(format!("x={s}").as_bytes())
                .next()
                .map(|(_, v)| v.into_owned())
                .unwrap_or_default()
        };
        Some((
            decode(url.username()),
            decode(url.password().unwrap_or_default()),
        ))
    };
    Ok(SmtpSettings {
        host,
        port,
        implicit_tls,
        credentials,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn smtp_url_forms() {
        let s = parse_smtp_url("smtp://mail.example.jp").unwrap();
        assert_eq!((s.port, s.implicit_tls, s.credentials), (587, false, None));
        let s = parse_smtp_url("smtps://u%40x:p%26w@mail.example.jp:2465").unwrap();
        assert_eq!(s.port, 2465);
        assert!(s.implicit_tls);
        assert_eq!(s.credentials, Some(("u@x".into(), "p&w".into())));
        assert!(parse_smtp_url("http://x").is_err());
        assert!(parse_smtp_url("smtp://").is_err());
    }

    #[test]
    fn trusted_proxies_are_addresses_or_cidrs() {
        let v = parse_trusted_proxies(" 127.0.0.1, 10.0.0.0/8,::1 ").unwrap();
        assert_eq!(v.len(), 3);
        assert!(v[1].contains(&"10.1.2.3".parse::<std::net::IpAddr>().unwrap()));
        assert!(parse_trusted_proxies("").unwrap().is_empty());
        assert!(parse_trusted_proxies("example.jp").is_err());
    }

    /// `mamis serve` flags as the command line would give them.
    fn serve_args(flags: &[&str]) -> ServeArgs {
        #[derive(clap::Parser)]
        struct Cli {
            #[command(flatten)]
            serve: ServeArgs,
        }
        let argv = std::iter::once("mamis").chain(flags.iter().copied());
        <Cli as clap::Parser>::try_parse_from(argv)
            .map(|c| c.serve)
            .unwrap_or_else(|e| panic!("{e}"))
    }

    fn error_of(flags: &[&str]) -> String {
        Config::from_args(serve_args(flags))
            .err()
            .map(|e| format!("{e:#}"))
            .unwrap_or_default()
    }

    #[test]
    fn tls_is_files_or_a_domain_and_makes_the_base_url_https() {
        let dir = tempfile::tempdir().unwrap();
        let (cert, key) = (dir.path().join("c.pem"), dir.path().join("k.pem"));
        std::fs::write(&cert, "x").unwrap();
        std::fs::write(&key, "x").unwrap();
        let (cert, key) = (cert.to_str().unwrap(), key.to_str().unwrap());
        let c = Config::from_args(serve_args(&[
            "--tls-cert",
            cert,
            "--tls-key",
            key,
            "--addr",
            "0.0.0.0:443",
            "--redirect-addr",
            "0.0.0.0:80",
        ]))
        .unwrap();
        assert!(matches!(c.tls, Some(Tls::Files { .. })));
        assert_eq!(c.base_url, "https://0.0.0.0:443");
        assert_eq!(c.redirect_addr, Some("0.0.0.0:80".parse().unwrap()));
        let c = Config::from_args(serve_args(&[
            "--tls-domain",
            "mamis.example.jp",
            "--acme-contact",
            "admin@example.jp",
        ]))
        .unwrap();
        assert_eq!(c.base_url, "https://mamis.example.jp");
        assert_eq!(
            c.tls,
            Some(Tls::Acme {
                domain: "mamis.example.jp".into(),
                directory: LETS_ENCRYPT.into(),
                contact: Some("mailto:admin@example.jp".into()),
                ca_file: None,
            })
        );
        assert!(error_of(&["--tls-cert", cert]).contains("MAMIS_TLS_CERT / MAMIS_TLS_KEY"));
        assert!(
            error_of(&["--tls-cert", "/nonexistent.pem", "--tls-key", key])
                .contains("MAMIS_TLS_CERT: cannot read")
        );
        assert!(
            error_of(&["--tls-domain", "x.jp", "--tls-cert", cert, "--tls-key", key])
                .contains("not both")
        );
        assert!(error_of(&["--tls-domain", "https://x.jp"]).contains("not a domain"));
        assert!(error_of(&["--redirect-addr", "0.0.0.0:80"]).contains("MAMIS_REDIRECT_ADDR"));
        assert!(
            error_of(&["--tls-domain", "x.jp", "--base-url", "http://x.jp"])
                .contains("must be https")
        );
        assert!(
            error_of(&["--csrf-minutes", "0"]).contains("MAMIS_CSRF_MINUTES"),
            "{}",
            error_of(&["--csrf-minutes", "0"])
        );
    }

    #[test]
    fn sending_domain_is_taken_from_the_from_address() {
        let mut c = Config::for_tests(PathBuf::from("x"), None);
        assert_eq!(c.sending_domain(), "mamis.test");
        c.mail_from = "noreply@mamis.med.or.jp".into();
        assert_eq!(c.sending_domain(), "mamis.med.or.jp");
    }
}
