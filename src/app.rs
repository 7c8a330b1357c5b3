//! The route tree, the middleware around it (request ids and error pages,
//! security headers, sessions, CSRF, body limits), and the server
//! (`Application`). Nothing imports `app` but `main` (and the tests).

mod acme;
mod csrf;
mod tls;

use std::{net::SocketAddr, sync::Arc, time::Duration};

use anyhow::Context;
use poem::{
    Endpoint, EndpointExt, IntoResponse, Request, Response, Route, Server, get,
    http::{HeaderValue, Method, StatusCode, header},
    listener::{Acceptor, AcceptorExt, BoxAcceptor, Listener, TcpListener},
    session::{CookieConfig, ServerSession, Session},
    web::{Redirect, cookie::SameSite},
};
use tracing::Instrument;

use crate::{
    auth::{
        client::TrustedProxies, current_user, login_limiter::LoginLimiter, password,
        sessions::RedbSessions,
    },
    config::{Config, Tls},
    error::{InternalError, UserError, status_message},
    htmx::{self, HxRequest},
    state::{AppState, CSRF_FIELD, CSRF_HEADER, RequestId, cookie_names},
    store::Store,
    views, web,
};

/// Largest request body accepted (the registration form is about 2 KB).
pub const MAX_BODY_BYTES: usize = 64 * 1024;

/// Builds the whole endpoint: routes and middleware. Besides the state, the
/// request data carries the store and the trusted proxies on their own, for
/// the `auth` extractors, which do not know `AppState`.
///
/// `/healthz`, the assets and the suggestions skip the session and CSRF
/// layers (no session read from redb, no cookie set); every other route goes
/// through both.
pub fn endpoint(state: AppState) -> anyhow::Result<impl Endpoint + 'static> {
    let https = state.config.is_https();
    let (session_cookie, csrf_cookie) = cookie_names(https);
    let csrf_key = state.store.secret("csrf_key").context("CSRF key")?;
    let sessions = ServerSession::new(
        CookieConfig::default()
            .name(session_cookie)
            .http_only(true)
            .secure(https)
            .same_site(SameSite::Lax)
            .path("/"),
        state.sessions.clone(),
    );
    let csrf = csrf::Csrf::new(csrf_key, csrf_cookie, https, state.config.csrf_lifetime)?;
    let dev_outbox = state.config.smtp.is_none();
    let routes = web::routes(Route::new(), dev_outbox);
    let bare = Arc::new(web::routes_without_session(Route::new()).at(HEALTHZ, get(healthz)));
    let kept = Arc::new(web::kept_forms::routes());
    let trusted = TrustedProxies(state.config.trusted_proxies.as_slice().into());
    Ok(routes
        .around(move |ep, req| csrf_guard(ep, req, kept.clone()))
        .around(pending_step_gate)
        .with(csrf)
        .with(sessions)
        .around(move |ep, req| without_session(ep, req, bare.clone()))
        .data(trusted)
        .data(state.store.clone())
        .data(state)
        .around(move |ep, req| frame(ep, req, https)))
}

const HEALTHZ: &str = "/healthz";

/// Calls the next layer with its future on the heap. Each layer's future
/// then holds a pointer instead of the whole stack below it (kilobytes),
/// which would otherwise be copied again at every layer of every request.
async fn next<E: Endpoint>(ep: &E, req: Request) -> poem::Result<Response> {
    Box::pin(ep.call(req))
        .await
        .map(IntoResponse::into_response)
}

#[poem::handler]
fn healthz() -> &'static str {
    "ok"
}

/// Sends `/healthz` and what `web::is_without_session` names to `bare`,
/// around the session and CSRF layers; everything else to `ep`.
async fn without_session<E: Endpoint>(
    ep: Arc<E>,
    req: Request,
    bare: Arc<Route>,
) -> poem::Result<Response> {
    let path = req.uri().path();
    if path == HEALTHZ || web::is_without_session(path) {
        return Box::pin(bare.call(req)).await;
    }
    next(&*ep, req).await
}

/// While the signed-in account has a step to take first (terms, e-mail,
/// own password), every page but that step's, logout and the assets sends
/// it there (htmx: 401 with `HX-Redirect`).
async fn pending_step_gate<E: Endpoint>(ep: Arc<E>, req: Request) -> poem::Result<Response> {
    let pending = req
        .extensions()
        .get::<Session>()
        .and_then(current_user::pending);
    if let Some(step) = pending.filter(|step| !web::open_during(*step, req.uri().path())) {
        let to = web::step_path(step);
        let resp = if HxRequest::of(&req).0 {
            let mut resp = StatusCode::UNAUTHORIZED.into_response();
            resp.headers_mut()
                .insert("HX-Redirect", HeaderValue::from_static(to));
            resp
        } else {
            Redirect::see_other(to).into_response()
        };
        return Ok(htmx::vary(resp));
    }
    next(&*ep, req).await
}

/// Refuses unsafe requests whose CSRF token (hidden field or htmx header)
/// does not match the CSRF cookie, and bodies over `MAX_BODY_BYTES`. A long
/// form refused so (its page outlived the cookie) is answered by `kept`,
/// which shows it again with what was typed and processes nothing.
async fn csrf_guard<E: Endpoint>(
    ep: Arc<E>,
    mut req: Request,
    kept: Arc<Route>,
) -> poem::Result<Response> {
    if matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS) {
        return next(&*ep, req).await;
    }
    let limit = web::member_import::body_limit(req.uri().path(), MAX_BODY_BYTES);
    let declared = req
        .header(header::CONTENT_LENGTH)
        .and_then(|v| v.parse::<usize>().ok());
    if declared.is_some_and(|n| n > limit) {
        return Err(UserError::into_error(
            StatusCode::PAYLOAD_TOO_LARGE,
            status_message(StatusCode::PAYLOAD_TOO_LARGE),
        ));
    }
    // On the heap, as the next layer (see `next`): collecting a body is a
    // large future.
    let body = Box::pin(req.take_body().into_bytes_limit(limit))
        .await
        .map_err(|e| {
            let status = poem::Error::from(e).status();
            UserError::into_error(status, status_message(status))
        })?;
    let token = match req.header(CSRF_HEADER) {
        Some(t) => Some(t.to_owned()),
        None => url::form_urlencoded::parse(&body)
            .find(|(k, _)| k == CSRF_FIELD)
            .map(|(_, v)| v.into_owned())
            .or_else(|| {
                let content_type = req.header(header::CONTENT_TYPE).unwrap_or_default();
                web::member_import::multipart_field(content_type, &body, CSRF_FIELD)
            }),
    };
    let valid = match (token, req.extensions().get::<csrf::CsrfCheck>()) {
        (Some(t), Some(check)) => check.is_valid(&t),
        _ => false,
    };
    if !valid && web::kept_forms::is_kept(req.uri().path()) && body_is_utf8(&req, &body) {
        tracing::info!("form refused (stale CSRF token): shown again");
        req.set_body(body);
        return Box::pin(kept.call(req)).await;
    }
    if !valid {
        tracing::info!("request refused: missing or invalid CSRF token");
        return Err(UserError::into_error(
            StatusCode::FORBIDDEN,
            status_message(StatusCode::FORBIDDEN),
        ));
    }
    if !body_is_utf8(&req, &body) {
        tracing::info!("request refused: body is not valid UTF-8");
        return Ok(bad_bytes_response(&req));
    }
    req.set_body(body);
    next(&*ep, req).await
}

/// Shown when a request body holds bytes that are not UTF-8 (raw, or as
/// `%XX` escapes): refused, never repaired into U+FFFD.
pub const BAD_BYTES_MESSAGE: &str = "送信された内容に正しく読み取れない文字（文字化けした文字）が含まれているため、受け付けできませんでした。入力内容をご確認のうえ、もう一度送信してください。";
/// The same, beside a field checked inline.
pub const BAD_BYTES_FIELD_MESSAGE: &str =
    "正しく読み取れない文字（文字化けした文字）が含まれています。入力し直してください。";

/// True when the body is UTF-8 and, for a form (urlencoded, the default),
/// every percent-decoded name and value is UTF-8 as well.
fn body_is_utf8(req: &Request, body: &[u8]) -> bool {
    let content_type = req.header(header::CONTENT_TYPE).unwrap_or_default();
    if content_type.starts_with("multipart/") {
        return true;
    }
    if std::str::from_utf8(body).is_err() {
        return false;
    }
    if !(content_type.is_empty() || content_type.starts_with("application/x-www-form-urlencoded")) {
        return true;
    }
    body.split(|b| *b == b'&')
        .flat_map(|pair| pair.splitn(2, |b| *b == b'='))
        .all(|part| std::str::from_utf8(&percent_decode(part)).is_ok())
}

/// urlencoded decoding: `+` is a space, `%XX` a byte, anything else itself.
fn percent_decode(s: &[u8]) -> Vec<u8> {
    let hex = |b: u8| {
        char::from(b)
            .to_digit(16)
            .and_then(|d| u8::try_from(d).ok())
    };
    let mut out = Vec::with_capacity(s.len());
    let mut i = 0;
    while i < s.len() {
        match s[i] {
            b'+' => out.push(b' '),
            b'%' => match (
                s.get(i + 1).copied().and_then(hex),
                s.get(i + 2).copied().and_then(hex),
            ) {
                (Some(hi), Some(lo)) => {
                    out.push(hi << 4 | lo);
                    i += 2;
                }
                _ => out.push(b'%'),
            },
            b => out.push(b),
        }
        i += 1;
    }
    out
}

/// The refusal of a body that is not UTF-8: for an htmx field check, the
/// field's message (htmx swaps only 200s); otherwise a 400 page.
fn bad_bytes_response(req: &Request) -> Response {
    let field = req
        .uri()
        .path()
        .rsplit_once("/check/")
        .map(|(_, name)| name)
        .filter(|n| !n.is_empty() && n.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'));
    match field {
        Some(name) if HxRequest::of(req).0 => htmx::vary(views::components::message(
            name,
            Some(BAD_BYTES_FIELD_MESSAGE),
            None,
            false,
        )),
        Some(_) => htmx::vary(views::errors::page(
            StatusCode::BAD_REQUEST,
            BAD_BYTES_MESSAGE,
            None,
        )),
        None => views::errors::page(StatusCode::BAD_REQUEST, BAD_BYTES_MESSAGE, None),
    }
}

fn new_request_id() -> String {
    format!("{:012x}", rand::random::<u64>() & 0xffff_ffff_ffff)
}

/// Outermost layer: request id and log span, error pages, security headers
/// on every response (errors included).
async fn frame<E: Endpoint>(ep: Arc<E>, mut req: Request, https: bool) -> poem::Result<Response> {
    let rid = new_request_id();
    req.extensions_mut().insert(RequestId(rid.clone()));
    let method = req.method().clone();
    let path = req.uri().path().to_owned();
    let span = tracing::info_span!("request", id = %rid, %method, %path);
    let started = std::time::Instant::now();
    let result = next(&*ep, req).instrument(span.clone()).await;
    let mut resp = match result {
        Ok(r) => r.into_response(),
        Err(e) => error_response(e, &rid),
    };
    let status = resp.status();
    span.in_scope(|| {
        if status.is_server_error() {
            tracing::warn!(
                status = status.as_u16(),
                ms = started.elapsed().as_millis() as u64,
                "answered"
            );
        } else {
            tracing::debug!(
                status = status.as_u16(),
                ms = started.elapsed().as_millis() as u64,
                "answered"
            );
        }
    });
    set_security_headers(&mut resp, &path, https, &rid);
    Ok(resp)
}

fn error_response(e: poem::Error, rid: &str) -> Response {
    if e.is_from_response() {
        // A refusal that brings its own answer (a guard's redirect to the
        // login page): passed on as it is.
        return e.into_response();
    }
    if let Some(internal) = e.downcast_ref::<InternalError>() {
        if password::is_busy(&internal.0) {
            // Every hashing slot stayed taken: come back shortly.
            tracing::warn!(request_id = rid, "refused: password hashing busy");
            let mut resp = views::errors::page(
                StatusCode::SERVICE_UNAVAILABLE,
                password::BUSY_MESSAGE,
                None,
            );
            resp.headers_mut().insert(
                header::RETRY_AFTER,
                HeaderValue::from(password::BUSY_RETRY_AFTER_SECS),
            );
            return resp;
        }
        tracing::error!(request_id = rid, error = ?internal.0, "internal error");
        return views::errors::page(
            StatusCode::INTERNAL_SERVER_ERROR,
            status_message(StatusCode::INTERNAL_SERVER_ERROR),
            Some(rid),
        );
    }
    if e.is::<poem::error::ParsePathError>() {
        // A path that names no record (`/office/people/abc`): as if the
        // page did not exist, like an id out of scope.
        return views::errors::page(
            StatusCode::NOT_FOUND,
            status_message(StatusCode::NOT_FOUND),
            None,
        );
    }
    let status = e.status();
    let message = e
        .downcast_ref::<UserError>()
        .map_or_else(|| status_message(status), |u| u.message);
    if status.is_server_error() {
        tracing::error!(request_id = rid, error = %e, "server error");
        return views::errors::page(status, message, Some(rid));
    }
    views::errors::page(status, message, None)
}

/// The Content-Security-Policy of every page: nothing inline, nothing foreign.
pub const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
font-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'";

fn set_security_headers(resp: &mut Response, path: &str, https: bool, rid: &str) {
    let h = resp.headers_mut();
    // Room for the headers below at once, not by growing the map step by step.
    h.reserve(10);
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CSP),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    // Registration pages are reached from a token link: never leak it.
    let policy = if path.starts_with("/register")
        || path.starts_with("/forgot")
        || path.starts_with("/dev/")
    {
        "no-referrer"
    } else {
        "same-origin"
    };
    h.insert(header::REFERRER_POLICY, HeaderValue::from_static(policy));
    h.insert(
        "Permissions-Policy",
        HeaderValue::from_static("camera=(), microphone=(), geolocation=()"),
    );
    if https {
        h.insert(
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static("max-age=31536000"),
        );
    }
    if let Ok(v) = HeaderValue::from_str(rid) {
        h.insert("X-Request-Id", v);
    }
    if !path.starts_with("/assets/") && !h.contains_key(header::CACHE_CONTROL) {
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
}

/// A bound, ready-to-run server.
pub struct Application {
    acceptor: crate::conn::GuardedAcceptor<BoxAcceptor>,
    endpoint: poem::endpoint::BoxEndpoint<'static>,
    pub addr: SocketAddr,
    pub state: AppState,
}

impl Application {
    /// Opens the store, binds the address (port 0 picks a free one), builds the
    /// routes and starts the background tasks (mail worker, cleanup).
    pub async fn build(mut config: Config) -> anyhow::Result<Application> {
        // One TLS crypto provider for the whole process (mail-send's rustls).
        let _ = rustls::crypto::ring::default_provider().install_default();
        let store = {
            let dir = config.data_dir.clone();
            tokio::task::spawn_blocking(move || Store::open(&dir))
                .await
                .context("open task failed")?
                .context("MAMIS_DATA_DIR")?
        };
        let acceptor = bind(&config).await?;
        let addr = acceptor
            .local_addr()
            .first()
            .and_then(|a| a.as_socket_addr().copied())
            .context("no local address")?;
        if config.base_url.is_empty() {
            let scheme = if config.tls.is_some() {
                "https"
            } else {
                "http"
            };
            config.base_url = format!("{scheme}://{addr}");
        }
        if let Some(redirect) = config.redirect_addr {
            let to = config.base_url.clone();
            let listener = TcpListener::bind(redirect.to_string())
                .into_acceptor()
                .await
                .with_context(|| format!("MAMIS_REDIRECT_ADDR: cannot listen on {redirect}"))?;
            tokio::spawn(async move {
                let redirect = move |req: Request| to_https(&to, &req);
                if let Err(e) = Server::new_with_acceptor(listener)
                    .run(poem::endpoint::make_sync(redirect))
                    .await
                {
                    tracing::error!(error = %e, "the redirect to https stopped");
                }
            });
        }
        let acceptor =
            crate::conn::GuardedAcceptor::new(acceptor, crate::conn::Limits::from_config(&config));
        let state = AppState::new(store.clone(), config, web::dev_outbox::new_key());
        tokio::spawn(crate::mail::worker::supervise(
            store.clone(),
            state.config.clone(),
            state.mail.clone(),
        ));
        tokio::spawn(crate::store::backup::schedule(
            store.clone(),
            state.config.clone(),
        ));
        tokio::spawn(cleanup(
            store,
            state.config.clone(),
            state.sessions.clone(),
            state.login_limiter.clone(),
        ));
        let endpoint = endpoint(state.clone())?.map_to_response().boxed();
        Ok(Application {
            acceptor,
            endpoint,
            addr,
            state,
        })
    }

    /// Serves until ctrl-c or SIGTERM, then finishes the requests in flight.
    pub async fn run_until_stopped(self) -> anyhow::Result<()> {
        Server::new_with_acceptor(self.acceptor)
            .run_with_graceful_shutdown(
                self.endpoint,
                shutdown_signal(),
                Some(Duration::from_secs(10)),
            )
            .await
            .context("server failed")
    }

    /// Serves until the returned task is aborted (for tests).
    pub fn spawn(self) -> tokio::task::JoinHandle<anyhow::Result<()>> {
        tokio::spawn(async move {
            Server::new_with_acceptor(self.acceptor)
                .run(self.endpoint)
                .await
                .context("server failed")
        })
    }
}

/// The listener of `MAMIS_ADDR`: plain TCP, TLS from certificate files, or
/// TLS with a certificate obtained and renewed by ACME (TLS-ALPN-01 on the
/// same address; kept in `<data dir>/acme`).
async fn bind(config: &Config) -> anyhow::Result<BoxAcceptor> {
    let addr = config.addr;
    let cannot = || format!("MAMIS_ADDR: cannot listen on {addr}");
    let tcp = TcpListener::bind(addr.to_string());
    Ok(match &config.tls {
        None => tcp.into_acceptor().await.with_context(cannot)?.boxed(),
        Some(Tls::Files { cert, key }) => {
            let tcp = tcp.into_acceptor().await.with_context(cannot)?;
            tls::HttpsAcceptor::from_files(tcp, cert.clone(), key.clone(), tls::RELOAD_CHECK)?
                .boxed()
        }
        Some(Tls::Acme {
            domain,
            directory,
            contact,
            ca_file,
        }) => {
            let tcp = tcp.into_acceptor().await.with_context(cannot)?;
            let settings = acme::Settings {
                domain: domain.clone(),
                directory: directory.clone(),
                contact: contact.clone(),
                ca_file: ca_file.clone(),
                dir: config.data_dir.join("acme"),
            };
            acme::acceptor(tcp, settings)?.boxed()
        }
    })
}

/// The answer of `MAMIS_REDIRECT_ADDR`: the same path and query on the https
/// base URL (308, so that a form's POST stays a POST).
fn to_https(base: &str, req: &Request) -> Response {
    let path = req.uri().path_and_query().map_or("/", |p| p.as_str());
    let mut resp = StatusCode::PERMANENT_REDIRECT.into_response();
    if let Ok(v) = HeaderValue::from_str(&format!("{base}{path}")) {
        resp.headers_mut().insert(header::LOCATION, v);
    }
    resp
}

async fn cleanup(
    store: Store,
    config: Arc<Config>,
    sessions: RedbSessions,
    limiter: Arc<LoginLimiter>,
) {
    loop {
        tokio::time::sleep(Duration::from_secs(3600)).await;
        match sessions.purge_expired().await {
            Ok(n) if n > 0 => tracing::info!(removed = n, "expired sessions removed"),
            Ok(_) => {}
            Err(e) => tracing::warn!(error = ?e, "session cleanup failed"),
        }
        if let Err(e) = store.write_ok(crate::store::tokens::purge_stale).await {
            tracing::warn!(error = ?e, "token cleanup failed");
        }
        if let Err(e) = store
            .write_ok(crate::store::email_changes::purge_stale)
            .await
        {
            tracing::warn!(error = ?e, "e-mail confirmation cleanup failed");
        }
        match limiter.purge().await {
            Ok(n) if n > 0 => tracing::info!(removed = n, "old login counters removed"),
            Ok(_) => {}
            Err(e) => tracing::warn!(error = ?e, "login counter cleanup failed"),
        }
        let keep = i64::try_from(config.audit_keep.as_secs()).unwrap_or(i64::MAX / 2);
        let cutoff = crate::store::now().saturating_sub(keep);
        match store
            .write_ok(move |tx| crate::store::audit::purge_before(tx, cutoff))
            .await
        {
            Ok(n) if n > 0 => tracing::info!(removed = n, "old audit entries removed"),
            Ok(_) => {}
            Err(e) => tracing::warn!(error = ?e, "audit cleanup failed"),
        }
    }
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {}
        () = term => {}
    }
    tracing::info!("shutting down");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_field_check_with_bad_bytes_answers_by_htmx_and_says_so() {
        let check = |hx: bool| {
            let mut req = Request::builder().uri_str("/register/check/address");
            if hx {
                req = req.header(crate::htmx::HX_REQUEST, "true");
            }
            bad_bytes_response(&req.finish())
        };
        let fragment = check(true);
        assert_eq!(fragment.status(), StatusCode::OK);
        assert_eq!(fragment.headers()[header::VARY], crate::htmx::HX_REQUEST);
        let page = check(false);
        assert_eq!(page.status(), StatusCode::BAD_REQUEST);
        assert_eq!(page.headers()[header::VARY], crate::htmx::HX_REQUEST);
        let form = bad_bytes_response(&Request::builder().uri_str("/register/form").finish());
        assert_eq!(form.status(), StatusCode::BAD_REQUEST);
    }

    #[test]
    fn form_bodies_must_decode_to_utf8() {
        let req = Request::builder()
            .content_type("application/x-www-form-urlencoded")
            .finish();
        for ok in [
            &b"address=%E6%9D%B1%E4%BA%AC&x=1"[..],
            b"a=b+c&d=%25&e=%zz&f=100%",
            "name=東京".as_bytes(),
            b"",
        ] {
            assert!(body_is_utf8(&req, ok), "{}", String::from_utf8_lossy(ok));
        }
        for bad in [
            &b"address=%FF"[..],
            b"address=%E6%9D",
            b"%C3%28=x",
            b"address=\xff",
        ] {
            assert!(!body_is_utf8(&req, bad), "{}", String::from_utf8_lossy(bad));
        }
    }

    #[tokio::test]
    async fn the_middleware_stack_keeps_its_future_small() {
        // Each layer puts the next one's future on the heap (`next`), so a
        // request's future does not hold, and copy layer by layer, the
        // whole stack below it (18 KB before, about 2 KB after).
        let dir = tempfile::tempdir().unwrap();
        let config = Config::for_tests(dir.path().to_path_buf(), None);
        let state = AppState::new(Store::open(&config.data_dir).unwrap(), config, "k".into());
        let ep = endpoint(state).unwrap();
        let future = ep.call(Request::builder().uri_str("/healthz").finish());
        let size = std::mem::size_of_val(&future);
        assert!(size < 4096, "the request future is {size} bytes");
    }
}
