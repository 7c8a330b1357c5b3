//! What every story needs: the real app on a free loopback port with a fresh
//! data folder, a real SMTP server that keeps what it receives, a browser
//! (a cookie-keeping HTTP client that carries the CSRF token like a form
//! does), and a few ways to read the answers.

use std::{
    net::{SocketAddr, TcpListener},
    sync::{Arc, Mutex, Once},
    time::{Duration, Instant},
};

use mamis::{
    app::Application,
    config::{Config, SmtpSettings, parse_smtp_url},
    mail::templates,
    store::Store,
};
use reqwest::{StatusCode, header::HeaderMap, redirect::Policy};
use tempfile::TempDir;

/// How long a story waits for a mail before it fails.
pub const MAIL_WAIT: Duration = Duration::from_secs(10);

/// The password of every applicant in these tests.
pub const PASSWORD: &str = "Kusuri#2024x";

/// Turns on the app's log when `TEST_LOG` is set (`TEST_LOG=debug cargo test …`).
fn init_tracing() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        if let Ok(filter) = std::env::var("TEST_LOG") {
            let _ = tracing_subscriber::fmt()
                .with_env_filter(filter)
                .with_test_writer()
                .try_init();
        }
    });
}

/// A free port on the loopback interface (bound, then released).
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("no free port")
        .port()
}

// ---------------------------------------------------------------------------
// The SMTP server
// ---------------------------------------------------------------------------

/// One message as it arrived over SMTP.
#[derive(Clone, Debug)]
struct Captured {
    envelope_to: Vec<String>,
    raw: Vec<u8>,
}

/// A mail received by the test SMTP server, parsed.
#[derive(Clone, Debug)]
pub struct ReceivedMail {
    /// The envelope recipients (RCPT TO).
    pub to: Vec<String>,
    /// The `To:` header's address.
    pub header_to: String,
    pub from: String,
    pub subject: String,
    pub body: String,
}

/// A real SMTP server (mailin-embedded) on loopback, in its own thread,
/// keeping every message it accepts.
#[derive(Clone)]
pub struct SmtpCapture {
    pub port: u16,
    inbox: Arc<Mutex<Vec<Captured>>>,
}

#[derive(Clone)]
struct CaptureHandler {
    inbox: Arc<Mutex<Vec<Captured>>>,
    to: Vec<String>,
    data: Vec<u8>,
}

impl mailin_embedded::Handler for CaptureHandler {
    fn data_start(
        &mut self,
        _domain: &str,
        _from: &str,
        _is8bit: bool,
        to: &[String],
    ) -> mailin_embedded::Response {
        self.to = to.to_vec();
        self.data.clear();
        mailin_embedded::response::OK
    }

    fn data(&mut self, buf: &[u8]) -> std::io::Result<()> {
        self.data.extend_from_slice(buf);
        Ok(())
    }

    fn data_end(&mut self) -> mailin_embedded::Response {
        let captured = Captured {
            envelope_to: std::mem::take(&mut self.to),
            raw: std::mem::take(&mut self.data),
        };
        self.inbox
            .lock()
            .expect("inbox lock poisoned")
            .push(captured);
        mailin_embedded::response::OK
    }
}

impl SmtpCapture {
    /// Starts a server on a free port.
    pub fn start() -> SmtpCapture {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind SMTP port");
        SmtpCapture::serve(listener)
    }

    /// Starts a server on `port` (which must be free).
    pub fn start_on(port: u16) -> SmtpCapture {
        let listener = TcpListener::bind(("127.0.0.1", port))
            .unwrap_or_else(|e| panic!("cannot bind the SMTP port {port}: {e}"));
        SmtpCapture::serve(listener)
    }

    fn serve(listener: TcpListener) -> SmtpCapture {
        let port = listener.local_addr().expect("SMTP address").port();
        let inbox = Arc::new(Mutex::new(Vec::new()));
        let handler = CaptureHandler {
            inbox: inbox.clone(),
            to: Vec::new(),
            data: Vec::new(),
        };
        std::thread::Builder::new()
            .name(format!("smtp-{port}"))
            .spawn(move || {
                let mut server = mailin_embedded::Server::new(handler);
                server
                    .with_name("smtp.mamis.test")
                    .with_num_threads(2)
                    .with_tcp_listener(listener);
                if let Err(e) = server.serve() {
                    eprintln!("test SMTP server on port {port} stopped: {e}");
                }
            })
            .expect("spawn SMTP thread");
        SmtpCapture { port, inbox }
    }

    /// The settings that point the app at this server.
    pub fn settings(&self) -> SmtpSettings {
        smtp_settings(self.port)
    }

    /// Every mail received so far, parsed.
    pub fn received(&self) -> Vec<ReceivedMail> {
        let inbox = self.inbox.lock().expect("inbox lock poisoned").clone();
        inbox.iter().map(parse_mail).collect()
    }

    /// Waits until at least `n` mails have arrived.
    pub async fn wait_for_mail(&self, n: usize, timeout: Duration) -> Vec<ReceivedMail> {
        let started = Instant::now();
        loop {
            let got = self.received();
            if got.len() >= n {
                return got;
            }
            assert!(
                started.elapsed() < timeout,
                "expected {n} mail(s) within {timeout:?}, got {}: {got:#?}",
                got.len()
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Waits for the mail to `to` with `subject`.
    pub async fn wait_for(&self, to: &str, subject: &str, timeout: Duration) -> ReceivedMail {
        let started = Instant::now();
        loop {
            let got = self.received();
            if let Some(m) = got
                .iter()
                .find(|m| m.subject == subject && m.to.iter().any(|t| t == to))
            {
                return m.clone();
            }
            assert!(
                started.elapsed() < timeout,
                "no mail 「{subject}」 to {to} within {timeout:?}; received: {got:#?}"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// The mails received for `to`.
    pub fn mails_to(&self, to: &str) -> Vec<ReceivedMail> {
        self.received()
            .into_iter()
            .filter(|m| m.to.iter().any(|t| t == to))
            .collect()
    }
}

/// `smtp://127.0.0.1:<port>`, as the app parses it.
pub fn smtp_settings(port: u16) -> SmtpSettings {
    parse_smtp_url(&format!("smtp://127.0.0.1:{port}")).expect("SMTP URL")
}

fn parse_mail(c: &Captured) -> ReceivedMail {
    let msg = mail_parser::MessageParser::default()
        .parse(&c.raw)
        .unwrap_or_else(|| {
            panic!(
                "unparsable mail: {}",
                String::from_utf8_lossy(&c.raw)
                    .chars()
                    .take(500)
                    .collect::<String>()
            )
        });
    let addr = |a: Option<&mail_parser::Address>| {
        a.and_then(|a| a.first())
            .and_then(|a| a.address())
            .unwrap_or_default()
            .to_owned()
    };
    ReceivedMail {
        to: c.envelope_to.clone(),
        header_to: addr(msg.to()),
        from: addr(msg.from()),
        subject: msg.subject().unwrap_or_default().to_owned(),
        body: msg.body_text(0).map(|b| b.into_owned()).unwrap_or_default(),
    }
}

/// The registration link in a mail body (or a page showing one).
pub fn link_in(body: &str) -> Option<String> {
    let at = body.find("/register/verify?token=")?;
    let start = body[..at].rfind("http")?;
    let end = body[at..]
        .find(|c: char| c.is_whitespace() || c == '<' || c == '"')
        .map_or(body.len(), |e| at + e);
    Some(body[start..end].to_owned())
}

// ---------------------------------------------------------------------------
// The browser
// ---------------------------------------------------------------------------

/// An answer, read whole.
#[derive(Debug)]
pub struct Page {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: String,
}

impl Page {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// Every `Set-Cookie` header.
    pub fn set_cookies(&self) -> Vec<String> {
        self.headers
            .get_all("set-cookie")
            .iter()
            .filter_map(|v| v.to_str().ok().map(str::to_owned))
            .collect()
    }

    pub fn location(&self) -> Option<&str> {
        self.header("location")
    }

    /// Fails unless this is a 303 to `path`.
    #[track_caller]
    pub fn assert_redirect_to(&self, path: &str) {
        assert_eq!(
            (self.status, self.location()),
            (StatusCode::SEE_OTHER, Some(path)),
            "expected a redirect to {path}; body:\n{}",
            self.excerpt()
        );
    }

    /// Fails unless the status is `status`.
    #[track_caller]
    pub fn assert_status(&self, status: StatusCode) {
        assert_eq!(
            self.status,
            status,
            "unexpected status; body:\n{}",
            self.excerpt()
        );
    }

    /// Fails unless the body contains `text`.
    #[track_caller]
    pub fn assert_contains(&self, text: &str) {
        assert!(
            self.body.contains(text),
            "expected {text:?} in the page ({}):\n{}",
            self.status,
            self.excerpt()
        );
    }

    /// The visible part of the page, shortened, for failure messages.
    pub fn excerpt(&self) -> String {
        let main = self
            .body
            .find("<main")
            .map_or(self.body.as_str(), |i| &self.body[i..]);
        main.chars().take(3000).collect()
    }
}

/// A visitor with their own cookies (session, CSRF). Redirects are not
/// followed, so that each step can be checked.
#[derive(Clone)]
pub struct Browser {
    pub base: String,
    client: reqwest::Client,
    csrf: Arc<Mutex<Option<String>>>,
}

impl Browser {
    pub fn new(base: &str) -> Browser {
        let client = reqwest::Client::builder()
            .cookie_store(true)
            .redirect(Policy::none())
            .timeout(Duration::from_secs(30))
            .build()
            .expect("HTTP client");
        Browser {
            base: base.trim_end_matches('/').to_owned(),
            client,
            csrf: Arc::default(),
        }
    }

    /// An absolute URL for `path` (absolute URLs are kept as they are).
    pub fn url(&self, path: &str) -> String {
        if path.starts_with("http://") || path.starts_with("https://") {
            path.to_owned()
        } else {
            format!("{}{path}", self.base)
        }
    }

    /// Sends a request and reads the answer; remembers the CSRF token of
    /// any page that carries one, as a form on that page would.
    pub async fn send(&self, req: reqwest::RequestBuilder) -> Page {
        let resp = req.send().await.expect("request failed");
        let status = resp.status();
        let headers = resp.headers().clone();
        let body = resp.text().await.expect("unreadable body");
        if let Some(token) = csrf_from(&body) {
            *self.csrf.lock().expect("csrf lock poisoned") = Some(token);
        }
        Page {
            status,
            headers,
            body,
        }
    }

    /// The raw client (shares this browser's cookies).
    pub fn client(&self) -> &reqwest::Client {
        &self.client
    }

    pub async fn get(&self, path: &str) -> Page {
        self.send(self.client.get(self.url(path))).await
    }

    /// The CSRF token a form on the last page would carry (fetches the
    /// login page first when no page with a form was seen yet).
    pub async fn csrf_token(&self) -> String {
        if let Some(t) = self.csrf.lock().expect("csrf lock poisoned").clone() {
            return t;
        }
        let page = self.get("/login").await;
        csrf_from(&page.body).expect("the login page carries no CSRF token")
    }

    /// Posts a form as the page's form would: with its hidden CSRF token.
    pub async fn post_form<K: AsRef<str>, V: AsRef<str>>(
        &self,
        path: &str,
        pairs: &[(K, V)],
    ) -> Page {
        let token = self.csrf_token().await;
        let mut body: Vec<(&str, &str)> = vec![("csrf_token", token.as_str())];
        body.extend(pairs.iter().map(|(k, v)| (k.as_ref(), v.as_ref())));
        self.send(self.client.post(self.url(path)).form(&body))
            .await
    }

    /// Posts a form without any CSRF token.
    pub async fn post_form_without_csrf<K: AsRef<str>, V: AsRef<str>>(
        &self,
        path: &str,
        pairs: &[(K, V)],
    ) -> Page {
        let body: Vec<(&str, &str)> = pairs
            .iter()
            .map(|(k, v)| (k.as_ref(), v.as_ref()))
            .collect();
        self.send(self.client.post(self.url(path)).form(&body))
            .await
    }

    /// Posts as htmx does: the token in the `X-CSRF-Token` header.
    pub async fn htmx_post<K: AsRef<str>, V: AsRef<str>>(
        &self,
        path: &str,
        pairs: &[(K, V)],
    ) -> Page {
        let token = self.csrf_token().await;
        let body: Vec<(&str, &str)> = pairs
            .iter()
            .map(|(k, v)| (k.as_ref(), v.as_ref()))
            .collect();
        self.send(
            self.client
                .post(self.url(path))
                .header("X-CSRF-Token", token)
                .header("HX-Request", "true")
                .form(&body),
        )
        .await
    }

    /// htmx GET (suggestions).
    pub async fn htmx_get(&self, path: &str) -> Page {
        self.send(self.client.get(self.url(path)).header("HX-Request", "true"))
            .await
    }

    // -- the registration, step by step --------------------------------

    /// Screens 2 and 3: agrees to the terms and sends the address.
    pub async fn start_registration(&self, email: &str) {
        self.get("/register").await.assert_status(StatusCode::OK);
        self.post_form("/register", &[("agree", "yes")])
            .await
            .assert_redirect_to("/register/email");
        self.get("/register/email")
            .await
            .assert_status(StatusCode::OK);
        self.post_form(
            "/register/email",
            &[("email", email), ("email_confirm", email)],
        )
        .await
        .assert_redirect_to("/register/email/sent");
    }

    /// The mailed link, the form, the confirmation, and 「登録する」; returns
    /// the completion page.
    pub async fn finish_registration(&self, link: &str, fields: &[(String, String)]) -> Page {
        self.get(link).await.assert_redirect_to("/register/form");
        self.get("/register/form")
            .await
            .assert_status(StatusCode::OK);
        self.post_form("/register/form", fields)
            .await
            .assert_redirect_to("/register/confirm");
        self.get("/register/confirm")
            .await
            .assert_status(StatusCode::OK);
        self.post_form("/register/confirm", &[] as &[(&str, &str)])
            .await
            .assert_redirect_to("/register/complete");
        let done = self.get("/register/complete").await;
        done.assert_status(StatusCode::OK);
        done.assert_contains("利用者登録が完了しました。");
        done
    }

    /// Logs in; returns the answer (303 to /mypage on success).
    pub async fn log_in(&self, login_id: &str, password: &str) -> Page {
        self.post_form("/login", &[("login_id", login_id), ("password", password)])
            .await
    }
}

/// The CSRF token of a page's forms (the hidden input).
pub fn csrf_from(html: &str) -> Option<String> {
    let tag = tags(html, "input")
        .into_iter()
        .find(|t| attr(t, "name").as_deref() == Some("csrf_token"))?;
    attr(tag, "value")
}

// ---------------------------------------------------------------------------
// Reading HTML (plain string search is enough for maud's regular output)
// ---------------------------------------------------------------------------

/// Every `<tag …>` opening tag, whole.
pub fn tags<'a>(html: &'a str, tag: &str) -> Vec<&'a str> {
    let open = format!("<{tag}");
    let mut out = Vec::new();
    let mut rest = html;
    while let Some(i) = rest.find(&open) {
        let after = &rest[i + open.len()..];
        let boundary = after
            .chars()
            .next()
            .is_some_and(|c| c.is_whitespace() || c == '>' || c == '/');
        let end = after.find('>').map_or(after.len(), |e| e + 1);
        if boundary {
            out.push(&rest[i..i + open.len() + end]);
        }
        rest = &after[end.min(after.len())..];
    }
    out
}

/// An attribute's value in an opening tag, entities decoded; `Some("")` for
/// a boolean attribute.
pub fn attr(tag: &str, name: &str) -> Option<String> {
    let mut rest = tag;
    let pat = format!(" {name}");
    while let Some(i) = rest.find(&pat) {
        let after = &rest[i + pat.len()..];
        if let Some(v) = after.strip_prefix("=\"") {
            let end = v.find('"')?;
            return Some(decode_entities(&v[..end]));
        }
        if after.starts_with([' ', '>', '/']) {
            return Some(String::new());
        }
        rest = after;
    }
    None
}

pub fn decode_entities(s: &str) -> String {
    s.replace("&quot;", "\"")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&#39;", "'")
        .replace("&amp;", "&")
}

/// The value of the text input named `name`.
pub fn input_value(html: &str, name: &str) -> Option<String> {
    tags(html, "input")
        .into_iter()
        .find(|t| attr(t, "name").as_deref() == Some(name))
        .map(|t| attr(t, "value").unwrap_or_default())
}

/// The values of the ticked checkboxes / radio buttons named `name`.
pub fn checked_values(html: &str, name: &str) -> Vec<String> {
    tags(html, "input")
        .into_iter()
        .filter(|t| attr(t, "name").as_deref() == Some(name) && attr(t, "checked").is_some())
        .map(|t| attr(t, "value").unwrap_or_default())
        .collect()
}

/// The selected option of the `<select>` named `name`.
pub fn selected_option(html: &str, name: &str) -> Option<String> {
    let start = tags(html, "select")
        .into_iter()
        .find(|t| attr(t, "name").as_deref() == Some(name))
        .and_then(|t| html.find(t))?;
    let end = html[start..].find("</select>")? + start;
    tags(&html[start..end], "option")
        .into_iter()
        .find(|t| attr(t, "selected").is_some())
        .map(|t| attr(t, "value").unwrap_or_default())
}

/// The text inside a field's message region `#m-<name>`: its error, if any.
pub fn error_of(html: &str, name: &str) -> Option<String> {
    let region = message_region(html, name)?;
    let start = region.find("<p class=\"error\">")? + "<p class=\"error\">".len();
    let end = region[start..].find("</p>")? + start;
    Some(decode_entities(&region[start..end]))
}

/// The inside of `#m-<name>`.
pub fn message_region<'a>(html: &'a str, name: &str) -> Option<&'a str> {
    let marker = format!("id=\"m-{name}\"");
    let at = html.find(&marker)?;
    let open_end = html[at..].find('>')? + at + 1;
    let close = html[open_end..].find("</div>")? + open_end;
    Some(&html[open_end..close])
}

// ---------------------------------------------------------------------------
// Applicants
// ---------------------------------------------------------------------------

/// Someone registering: the keys that must be unique, and the form.
#[derive(Clone, Debug)]
pub struct Applicant {
    pub email: String,
    pub login_id: String,
    pub registry_number: String,
}

impl Applicant {
    /// 山田太郎, the spec's example physician.
    pub fn yamada() -> Applicant {
        Applicant {
            email: "yamada@example.jp".into(),
            login_id: "doctor01".into(),
            registry_number: "123456".into(),
        }
    }

    /// The n-th of many distinct applicants.
    pub fn numbered(n: u32) -> Applicant {
        Applicant {
            email: format!("doctor{n}@example.jp"),
            login_id: format!("doctor{n:04}"),
            registry_number: format!("{}", 300_000 + n),
        }
    }

    /// A complete, valid form (the spec's example values).
    pub fn fields(&self) -> Vec<(String, String)> {
        [
            ("login_id", self.login_id.as_str()),
            ("password", PASSWORD),
            ("registry_number", self.registry_number.as_str()),
            ("registry_date", "平成20年5月1日"),
            ("kana_last", "やまだ"),
            ("kana_first", "ﾀﾛｳ"),
            ("name_last", "山田"),
            ("name_first", "太郎"),
            ("postal_code", "1138621"),
            ("prefecture", "東京都"),
            ("address", "文京区本駒込2-28-16"),
            ("mobile", "090-1234-5678"),
            ("birth_date", "1980/4/1"),
            ("main_dept", "01"),
            ("school", "東北大学"),
            ("graduation", "2006/3"),
            ("society_query", "日本内科学会"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect()
    }

    /// The form with some values replaced (or added).
    pub fn fields_with(&self, changes: &[(&str, &str)]) -> Vec<(String, String)> {
        with(self.fields(), changes)
    }
}

/// `fields` with the first value of each changed key replaced (added when
/// absent).
pub fn with(mut fields: Vec<(String, String)>, changes: &[(&str, &str)]) -> Vec<(String, String)> {
    for (k, v) in changes {
        match fields.iter_mut().find(|(fk, _)| fk == k) {
            Some(slot) => slot.1 = (*v).to_owned(),
            None => fields.push(((*k).to_owned(), (*v).to_owned())),
        }
    }
    fields
}

// ---------------------------------------------------------------------------
// The app
// ---------------------------------------------------------------------------

/// The real app, serving on a free loopback port from a fresh data folder.
pub struct TestApp {
    pub addr: SocketAddr,
    pub base: String,
    /// The first visitor (more with [`TestApp::browser`]).
    pub browser: Browser,
    pub store: Store,
    /// The SMTP server the app sends to, when the test started one.
    pub smtp: Option<SmtpCapture>,
    /// The key that opens `/dev/outbox` (`?key=`).
    pub dev_outbox_key: String,
    server: tokio::task::JoinHandle<anyhow::Result<()>>,
    _dir: TempDir,
}

impl std::ops::Deref for TestApp {
    type Target = Browser;
    fn deref(&self) -> &Browser {
        &self.browser
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        self.server.abort();
    }
}

/// The app with a real SMTP server of its own.
pub async fn spawn_app() -> TestApp {
    let smtp = SmtpCapture::start();
    let mut app = spawn_app_with_smtp(Some(smtp.settings())).await;
    app.smtp = Some(smtp);
    app
}

/// The app sending to `smtp` (nothing started by the test), or to its local
/// outbox when `None`.
pub async fn spawn_app_with_smtp(smtp: Option<SmtpSettings>) -> TestApp {
    spawn_app_configured(smtp, |_| {}).await
}

/// The app with a real SMTP server of its own and the test configuration
/// changed by `adjust` (shorter session lifetimes, trusted proxies, …).
pub async fn spawn_app_with(adjust: impl FnOnce(&mut Config)) -> TestApp {
    let smtp = SmtpCapture::start();
    let mut app = spawn_app_configured(Some(smtp.settings()), adjust).await;
    app.smtp = Some(smtp);
    app
}

/// The app sending to `smtp` (or its local outbox), configured by `adjust`.
pub async fn spawn_app_configured(
    smtp: Option<SmtpSettings>,
    adjust: impl FnOnce(&mut Config),
) -> TestApp {
    init_tracing();
    let dir = tempfile::tempdir().expect("temp dir");
    let mut config = Config::for_tests(dir.path().join("data"), smtp);
    adjust(&mut config);
    let app = Application::build(config).await.expect("app did not build");
    let addr = app.addr;
    let store = app.state.store.clone();
    let dev_outbox_key = app.state.dev_outbox_key.to_string();
    let server = app.spawn();
    let base = format!("http://{addr}");
    TestApp {
        addr,
        browser: Browser::new(&base),
        base,
        store,
        smtp: None,
        dev_outbox_key,
        server,
        _dir: dir,
    }
}

impl TestApp {
    /// A new visitor, with no cookies yet.
    pub fn browser(&self) -> Browser {
        Browser::new(&self.base)
    }

    pub fn smtp(&self) -> &SmtpCapture {
        self.smtp
            .as_ref()
            .expect("this app has no test SMTP server")
    }

    /// Waits for the confirmation mail to `email` and returns its link.
    pub async fn registration_link(&self, email: &str) -> String {
        let mail = self
            .smtp()
            .wait_for(email, templates::REGISTRATION_SUBJECT, MAIL_WAIT)
            .await;
        link_in(&mail.body)
            .unwrap_or_else(|| panic!("no registration link in the mail:\n{}", mail.body))
    }

    /// Registers `who` from the terms to the completion page, in a browser
    /// of their own, which is returned (still on the completion page).
    pub async fn register(&self, who: &Applicant) -> Browser {
        let b = self.browser();
        b.start_registration(&who.email).await;
        let link = self.registration_link(&who.email).await;
        b.finish_registration(&link, &who.fields()).await;
        b
    }

    /// Number of accounts in the store.
    pub async fn user_count(&self) -> u64 {
        self.store
            .read(mamis::store::users::count)
            .await
            .expect("count users")
    }

    /// The mails in the app's outbox (sent or not), newest first.
    pub async fn outbox(&self) -> Vec<mamis::store::outbox::Mail> {
        self.store
            .read(|tx| mamis::store::outbox::recent(tx, 1000))
            .await
            .expect("read outbox")
    }
}
