//! HTTPS served by MAMIS itself from certificate files made in the test
//! (rcgen): the login page walked over TLS with its `__Host-` cookies and
//! HSTS, a certificate replaced on disk taken up without a restart, and the
//! plain-HTTP port redirecting to https.

use std::{net::SocketAddr, path::Path, time::Duration};

use mamis::config::Tls;
use reqwest::{StatusCode, redirect::Policy};

use crate::helpers::*;

/// A self-signed certificate for `localhost`: (certificate PEM, key PEM).
fn certificate() -> (String, String) {
    let cert = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()])
        .expect("generate a certificate");
    (cert.cert.pem(), cert.signing_key.serialize_pem())
}

/// A client that trusts `cert_pem`, keeps cookies and reaches `localhost`
/// at `addr`.
fn client_trusting(cert_pem: &str, addr: SocketAddr) -> reqwest::Client {
    reqwest::Client::builder()
        .use_rustls_tls()
        .tls_built_in_root_certs(false)
        .add_root_certificate(
            reqwest::Certificate::from_pem(cert_pem.as_bytes()).expect("a certificate"),
        )
        .resolve("localhost", addr)
        .cookie_store(true)
        .redirect(Policy::none())
        .tls_info(true)
        .build()
        .expect("client")
}

async fn https_app(dir: &Path, redirect: Option<SocketAddr>) -> (TestApp, String) {
    let (cert, key) = certificate();
    let (cert_file, key_file) = (dir.join("cert.pem"), dir.join("key.pem"));
    std::fs::write(&cert_file, &cert).expect("write the certificate");
    std::fs::write(&key_file, &key).expect("write the key");
    let app = spawn_app_configured(None, |c| {
        c.tls = Some(Tls::Files {
            cert: cert_file,
            key: key_file,
        });
        c.redirect_addr = redirect;
    })
    .await;
    (app, cert)
}

fn csrf_cookie_of(resp: &reqwest::Response) -> Option<String> {
    resp.headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|c| c.starts_with("__Host-mamis_csrf="))
        .map(str::to_owned)
}

#[tokio::test]
async fn the_login_page_is_served_over_tls_from_certificate_files() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (app, cert) = https_app(dir.path(), None).await;
    let client = client_trusting(&cert, app.addr);
    let base = format!("https://localhost:{}", app.addr.port());

    let page = client
        .get(format!("{base}/login"))
        .send()
        .await
        .expect("GET /login over TLS");
    assert_eq!(page.status(), StatusCode::OK);
    assert_eq!(
        page.headers()
            .get("strict-transport-security")
            .and_then(|v| v.to_str().ok()),
        Some("max-age=31536000")
    );
    let cookie = csrf_cookie_of(&page).expect("the CSRF cookie");
    assert!(cookie.contains("Secure"), "{cookie}");
    let html = page.text().await.expect("body");
    assert!(html.contains("ログイン"));
    let token = csrf_from(&html).expect("a token");

    // The form posts back over TLS with its cookie: a wrong password is
    // refused as such (not as a CSRF failure).
    let answer = client
        .post(format!("{base}/login"))
        .form(&[
            ("csrf_token", token.as_str()),
            ("login_id", "doctor01"),
            ("password", "Wrong#Pass1"),
        ])
        .send()
        .await
        .expect("POST /login over TLS");
    assert_eq!(answer.status(), StatusCode::UNAUTHORIZED);
    let html = answer.text().await.expect("body");
    assert!(html.contains("ログインID"), "{html}");

    // Plain HTTP on the same port gets no page.
    let plain = reqwest::Client::new()
        .get(format!("http://{}/login", app.addr))
        .send()
        .await;
    assert!(
        plain.map_or(true, |r| r.status() != StatusCode::OK),
        "plain HTTP answered"
    );
}

#[tokio::test]
async fn a_certificate_replaced_on_disk_is_served_without_a_restart() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (app, first) = https_app(dir.path(), None).await;
    let url = format!("https://localhost:{}/healthz", app.addr.port());
    let served = |resp: &reqwest::Response| {
        resp.extensions()
            .get::<reqwest::tls::TlsInfo>()
            .and_then(|i| i.peer_certificate())
            .map(<[u8]>::to_vec)
    };
    let old = client_trusting(&first, app.addr)
        .get(&url)
        .send()
        .await
        .expect("first certificate");
    let old_der = served(&old).expect("a peer certificate");

    let (cert, key) = certificate();
    std::fs::write(dir.path().join("key.pem"), &key).expect("write the key");
    std::fs::write(dir.path().join("cert.pem"), &cert).expect("write the certificate");
    let client = client_trusting(&cert, app.addr);
    // The files are checked every few seconds: wait for the new one.
    let mut new_der = None;
    for _ in 0..60 {
        if let Ok(resp) = client.get(&url).send().await {
            new_der = served(&resp);
            break;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    let new_der = new_der.expect("the new certificate was never served");
    assert_ne!(new_der, old_der);
}

#[tokio::test]
async fn plain_http_is_redirected_to_https() {
    let dir = tempfile::tempdir().expect("temp dir");
    let port = free_port();
    let redirect: SocketAddr = ([127, 0, 0, 1], port).into();
    let (app, _) = https_app(dir.path(), Some(redirect)).await;
    let resp = reqwest::Client::builder()
        .redirect(Policy::none())
        .build()
        .expect("client")
        .get(format!("http://127.0.0.1:{port}/login?from=mail"))
        .send()
        .await
        .expect("plain HTTP");
    assert_eq!(resp.status(), StatusCode::PERMANENT_REDIRECT);
    assert_eq!(
        resp.headers().get("location").and_then(|v| v.to_str().ok()),
        Some(format!("https://127.0.0.1:{}/login?from=mail", app.addr.port()).as_str())
    );
}

/// `mamis healthcheck` (the container's health check) run against `addr`
/// with `env`; whether it exited 0.
async fn healthcheck(addr: SocketAddr, env: &[(&str, &str)]) -> bool {
    let mut cmd = tokio::process::Command::new(env!("CARGO_BIN_EXE_mamis"));
    cmd.arg("healthcheck")
        .env_remove("MAMIS_TLS_CERT")
        .env_remove("MAMIS_TLS_DOMAIN")
        .env("MAMIS_ADDR", addr.to_string())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null());
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.status().await.expect("run mamis healthcheck").success()
}

#[tokio::test]
async fn the_health_check_asks_over_tls_when_the_server_serves_https() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (tls_app, _) = https_app(dir.path(), None).await;
    let cert = dir.path().join("cert.pem");
    let cert = cert.to_str().expect("a UTF-8 path");
    // The server's settings tell the check to use TLS, as in a container
    // where both read the same environment.
    assert!(healthcheck(tls_app.addr, &[("MAMIS_TLS_CERT", cert)]).await);
    assert!(healthcheck(tls_app.addr, &[("MAMIS_TLS_DOMAIN", "mamis.example.jp")]).await);
    // Plain HTTP to a TLS port gets no 200.
    assert!(!healthcheck(tls_app.addr, &[]).await);

    let plain_app = spawn_app().await;
    assert!(healthcheck(plain_app.addr, &[]).await);
    assert!(!healthcheck(plain_app.addr, &[("MAMIS_TLS_CERT", cert)]).await);
}
