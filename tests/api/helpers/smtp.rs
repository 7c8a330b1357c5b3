//! A real SMTP server (mailin-embedded) on loopback that keeps every mail it
//! accepts, and the ways a story reads those mails.

use std::{
    net::TcpListener,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use mamis::config::{SmtpSettings, parse_smtp_url};

/// How long a story waits for a mail before it fails.
pub const MAIL_WAIT: Duration = Duration::from_secs(10);

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
