//! HTTPS with a certificate MAMIS obtains itself (`MAMIS_TLS_DOMAIN`) from a
//! real ACME server: pebble, Let's Encrypt's test CA, with
//! pebble-challtestsrv as its DNS (every name is 127.0.0.1). pebble checks
//! the TLS-ALPN-01 challenge on the app's own port and, as Let's Encrypt
//! may, answers the finalisation "processing", so the order must be polled.
//! The real binary runs, so that a restart is a real one: the stored
//! certificate is served again, with no new order; one close to its end is
//! renewed.
//!
//! Without pebble installed the test says it skipped, except with
//! `MAMIS_REQUIRE_PEBBLE=1` (set by `.ci/run`), where that is a failure.

use std::{
    fs::File,
    net::SocketAddr,
    path::{Path, PathBuf},
    process::{Command, Stdio},
    time::{Duration, Instant},
};

use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair, KeyUsagePurpose};
use reqwest::StatusCode;

use crate::helpers::*;

const DOMAIN: &str = "mamis.test";

/// A child process killed (and reaped) when dropped.
struct Killed(std::process::Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// pebble and its DNS, on free loopback ports.
struct Pebble {
    _pebble: Killed,
    _dns: Killed,
    /// The ACME directory URL.
    directory: String,
    /// The CA of pebble's own HTTPS (made here): MAMIS_ACME_CA_FILE.
    api_ca_file: PathBuf,
    api_ca_pem: String,
    management: String,
    logs: [PathBuf; 2],
}

impl Pebble {
    fn logs(&self) -> String {
        self.logs
            .iter()
            .map(|p| std::fs::read_to_string(p).unwrap_or_default())
            .collect::<Vec<_>>()
            .join("\n")
    }

    /// A client for pebble's own HTTPS.
    fn client(&self) -> reqwest::Client {
        reqwest::Client::builder()
            .use_rustls_tls()
            .tls_built_in_root_certs(false)
            .add_root_certificate(
                reqwest::Certificate::from_pem(self.api_ca_pem.as_bytes()).expect("the API CA"),
            )
            .build()
            .expect("client")
    }

    /// The root that pebble issues under (new at every pebble start).
    async fn issuing_root(&self) -> String {
        self.client()
            .get(format!("{}/roots/0", self.management))
            .send()
            .await
            .expect("pebble's root")
            .text()
            .await
            .expect("pebble's root PEM")
    }
}

/// A CA and, signed by it, the certificate of pebble's API on 127.0.0.1:
/// (CA PEM, leaf PEM, leaf key PEM).
fn api_certificates() -> (String, String, String) {
    let ca_key = KeyPair::generate().expect("CA key");
    let mut ca = CertificateParams::new(Vec::<String>::new()).expect("CA params");
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    ca.distinguished_name
        .push(DnType::CommonName, "MAMIS test: pebble API CA");
    let ca_cert = ca.self_signed(&ca_key).expect("CA certificate");
    let issuer = Issuer::new(ca, ca_key);
    let key = KeyPair::generate().expect("API key");
    let leaf = CertificateParams::new(vec!["127.0.0.1".to_owned(), "localhost".to_owned()])
        .expect("API params")
        .signed_by(&key, &issuer)
        .expect("API certificate");
    (ca_cert.pem(), leaf.pem(), key.serialize_pem())
}

fn spawn(dir: &Path, name: &str, cmd: &mut Command) -> (Killed, PathBuf) {
    let log = dir.join(format!("{name}.log"));
    let out = File::create(&log).expect("log file");
    let err = out.try_clone().expect("log file");
    let child = cmd
        .stdin(Stdio::null())
        .stdout(out)
        .stderr(err)
        .spawn()
        .unwrap_or_else(|e| panic!("start {name}: {e}"));
    (Killed(child), log)
}

/// Starts pebble (validating TLS-ALPN-01 on `tls_port`) and its DNS, and
/// waits until its directory answers. `None` when pebble is not installed
/// (a failure with MAMIS_REQUIRE_PEBBLE=1).
async fn start_pebble(dir: &Path, tls_port: u16) -> Option<Pebble> {
    let installed = ["pebble", "pebble-challtestsrv"].iter().all(|b| {
        Command::new(b)
            .arg("-h")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok()
    });
    if !installed {
        let required = std::env::var("MAMIS_REQUIRE_PEBBLE").is_ok_and(|v| v == "1");
        assert!(
            !required,
            "ACME test: pebble not found and MAMIS_REQUIRE_PEBBLE=1 (apt-get install pebble)"
        );
        eprintln!("ACME test skipped: pebble not found (apt-get install pebble)");
        return None;
    }
    let (ca, cert, key) = api_certificates();
    let api_ca_file = dir.join("pebble-api-ca.pem");
    std::fs::write(&api_ca_file, &ca).expect("write the API CA");
    std::fs::write(dir.join("pebble-api.pem"), &cert).expect("write the API certificate");
    std::fs::write(dir.join("pebble-api.key"), &key).expect("write the API key");
    let (api, management, dns, dns_management, http) = (
        free_port(),
        free_port(),
        free_port(),
        free_port(),
        free_port(),
    );
    let config = serde_json::json!({
        "pebble": {
            "listenAddress": format!("127.0.0.1:{api}"),
            "managementListenAddress": format!("127.0.0.1:{management}"),
            "certificate": dir.join("pebble-api.pem"),
            "privateKey": dir.join("pebble-api.key"),
            "httpPort": http,
            "tlsPort": tls_port,
            "ocspResponderURL": "",
            "externalAccountBindingRequired": false
        }
    });
    let config_file = dir.join("pebble.json");
    std::fs::write(&config_file, config.to_string()).expect("write pebble's config");

    let (dns_child, dns_log) = spawn(
        dir,
        "challtestsrv",
        Command::new("pebble-challtestsrv").args([
            "-defaultIPv4",
            "127.0.0.1",
            "-defaultIPv6",
            "",
            "-dns01",
            &format!("127.0.0.1:{dns}"),
            "-http01",
            "",
            "-https01",
            "",
            "-tlsalpn01",
            "",
            "-management",
            &format!("127.0.0.1:{dns_management}"),
        ]),
    );
    let (pebble_child, pebble_log) = spawn(
        dir,
        "pebble",
        Command::new("pebble")
            .env("PEBBLE_VA_NOSLEEP", "1")
            .env("PEBBLE_WFE_NONCEREJECT", "0")
            .arg("-config")
            .arg(&config_file)
            .args(["-dnsserver", &format!("127.0.0.1:{dns}")]),
    );
    let pebble = Pebble {
        _pebble: pebble_child,
        _dns: dns_child,
        directory: format!("https://127.0.0.1:{api}/dir"),
        api_ca_file,
        api_ca_pem: ca,
        management: format!("https://127.0.0.1:{management}"),
        logs: [pebble_log, dns_log],
    };
    let client = pebble.client();
    let started = Instant::now();
    loop {
        let up = client
            .get(&pebble.directory)
            .send()
            .await
            .is_ok_and(|r| r.status() == StatusCode::OK);
        if up {
            return Some(pebble);
        }
        assert!(
            started.elapsed() < Duration::from_secs(15),
            "pebble did not answer within 15 s:\n{}",
            pebble.logs()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// MAMIS with MAMIS_TLS_DOMAIN, its ACME server pebble.
fn start_mamis(port: u16, data: &Path, log: PathBuf, pebble: &Pebble) -> Binary {
    let ca_file = pebble.api_ca_file.to_string_lossy().into_owned();
    Binary::start_on(
        port,
        data,
        log,
        None,
        &[
            ("MAMIS_TLS_DOMAIN", DOMAIN),
            ("MAMIS_ACME_DIRECTORY", &pebble.directory),
            ("MAMIS_ACME_CA_FILE", &ca_file),
            ("MAMIS_ACME_CONTACT", "admin@mamis.test"),
        ],
    )
}

/// Waits (at most `limit`) until `https://mamis.test:<port>/login` answers
/// over a handshake whose chain verifies up to `root` alone; returns the
/// page's status and text and the certificate served.
async fn login_page_over_tls(
    app: &mut Binary,
    port: u16,
    root: &str,
    limit: Duration,
    pebble: &Pebble,
) -> (StatusCode, String, Vec<u8>) {
    let client = reqwest::Client::builder()
        .use_rustls_tls()
        .tls_built_in_root_certs(false)
        .add_root_certificate(reqwest::Certificate::from_pem(root.as_bytes()).expect("root"))
        .resolve(DOMAIN, SocketAddr::from(([127, 0, 0, 1], port)))
        .tls_info(true)
        .build()
        .expect("client");
    let url = format!("https://{DOMAIN}:{port}/login");
    let started = Instant::now();
    loop {
        app.assert_running();
        let last_error = match client.get(&url).send().await {
            Ok(resp) => {
                let served = resp
                    .extensions()
                    .get::<reqwest::tls::TlsInfo>()
                    .and_then(|i| i.peer_certificate())
                    .map(<[u8]>::to_vec)
                    .expect("a peer certificate");
                let status = resp.status();
                let text = resp.text().await.expect("body");
                return (status, text, served);
            }
            Err(e) => format!("{e:?}"),
        };
        assert!(
            started.elapsed() < limit,
            "no verified TLS answer within {limit:?} (last: {last_error})\nmamis:\n{}\npebble:\n{}",
            app.log_text(),
            pebble.logs()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// The log without its ANSI colour sequences.
fn without_colours(log: &str) -> String {
    let mut out = String::with_capacity(log.len());
    let mut chars = log.chars();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            // ESC [ parameters… final letter
            for c in chars.by_ref() {
                if c.is_ascii_alphabetic() {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(unix)]
fn mode_of(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .permissions()
        .mode()
        & 0o777
}

#[tokio::test]
async fn a_certificate_obtained_by_acme_is_served_and_kept_across_a_restart() {
    let dir = tempfile::tempdir().expect("temp dir");
    let port = free_port();
    let Some(pebble) = start_pebble(dir.path(), port).await else {
        return;
    };
    let root = pebble.issuing_root().await;
    let data = dir.path().join("data");

    // First start: no certificate; ordered, validated on this very port,
    // finalised (pebble answers "processing"), stored, served.
    let mut app = start_mamis(port, &data, dir.path().join("mamis-1.log"), &pebble);
    let (status, html, first) =
        login_page_over_tls(&mut app, port, &root, Duration::from_secs(60), &pebble).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("ログイン"), "{html}");
    let acme = data.join("acme");
    for file in ["account.json", "cert.pem", "key.pem"] {
        let path = acme.join(file);
        assert!(path.is_file(), "{} missing", path.display());
        #[cfg(unix)]
        assert_eq!(mode_of(&path), 0o600, "{}", path.display());
    }
    #[cfg(unix)]
    assert_eq!(mode_of(&acme), 0o700);
    let log = app.log_text();
    assert!(log.contains("certificate obtained"), "{log}");
    app.stop();

    // Restart on the same data: the stored certificate, byte for byte, at
    // once, and no new order.
    let mut app = start_mamis(port, &data, dir.path().join("mamis-2.log"), &pebble);
    let (status, _, again) =
        login_page_over_tls(&mut app, port, &root, Duration::from_secs(10), &pebble).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(again, first, "a different certificate after the restart");
    let log = app.log_text();
    assert!(!log.contains("ordering a certificate"), "{log}");
    assert!(log.contains("certificate valid"), "{log}");
}

#[tokio::test]
async fn without_a_reachable_ca_the_server_still_starts_and_logs_why_it_has_no_certificate() {
    let dir = tempfile::tempdir().expect("temp dir");
    let closed = free_port();
    let directory = format!("https://127.0.0.1:{closed}/dir");
    let mut app = Binary::start(
        &dir.path().join("data"),
        dir.path().join("mamis.log"),
        None,
        &[
            ("MAMIS_TLS_DOMAIN", DOMAIN),
            ("MAMIS_ACME_DIRECTORY", &directory),
        ],
    );
    let started = Instant::now();
    while !app.log_text().contains("ACME: no certificate obtained") {
        app.assert_running();
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "no ACME error logged:\n{}",
            app.log_text()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let log = without_colours(&app.log_text());
    assert!(
        log.contains(&format!("error=ACME: creating an account at {directory}")),
        "{log}"
    );
    assert!(log.contains("Connection refused"), "{log}");
    assert!(log.contains("retry_in_s=60"), "{log}");
    // It listens, but has no certificate to offer.
    let tls = reqwest::Client::builder()
        .use_rustls_tls()
        .danger_accept_invalid_certs(true)
        .resolve(DOMAIN, app.addr.parse().expect("address"))
        .build()
        .expect("client")
        .get(format!(
            "https://{DOMAIN}:{}/login",
            app.addr.rsplit(':').next().unwrap_or_default()
        ))
        .send()
        .await;
    assert!(tls.is_err(), "a TLS answer without a certificate");
    assert!(std::net::TcpStream::connect(&app.addr).is_ok());
}

#[tokio::test]
async fn a_stored_certificate_close_to_its_end_is_renewed_at_start() {
    let dir = tempfile::tempdir().expect("temp dir");
    let port = free_port();
    let Some(pebble) = start_pebble(dir.path(), port).await else {
        return;
    };
    let root = pebble.issuing_root().await;
    let data = dir.path().join("data");

    // A certificate for the domain that ends in 10 days (inside the 30-day
    // renewal window), stored where MAMIS keeps its own.
    let acme = data.join("acme");
    std::fs::create_dir_all(&acme).expect("the ACME folder");
    let key = KeyPair::generate().expect("key");
    let mut params = CertificateParams::new(vec![DOMAIN.to_owned()]).expect("params");
    params.not_before = time::OffsetDateTime::now_utc() - time::Duration::days(80);
    params.not_after = time::OffsetDateTime::now_utc() + time::Duration::days(10);
    let ending = params.self_signed(&key).expect("certificate");
    std::fs::write(acme.join("cert.pem"), ending.pem()).expect("cert.pem");
    std::fs::write(acme.join("key.pem"), key.serialize_pem()).expect("key.pem");

    // It is taken as the current certificate and renewed at once: the page
    // is then served over a certificate that verifies up to pebble's root.
    let mut app = start_mamis(port, &data, dir.path().join("mamis.log"), &pebble);
    let (status, _, served) =
        login_page_over_tls(&mut app, port, &root, Duration::from_secs(60), &pebble).await;
    assert_eq!(status, StatusCode::OK);
    assert_ne!(served, ending.der().to_vec());
    let log = without_colours(&app.log_text());
    assert!(log.contains("ordering a certificate"), "{log}");
    assert!(
        !log.contains("not usable"),
        "the stored certificate was refused:\n{log}"
    );
    let stored = std::fs::read_to_string(acme.join("cert.pem")).expect("cert.pem");
    assert_ne!(
        stored,
        ending.pem(),
        "the renewed certificate was not stored"
    );
}
