//! The real app in this process, serving on a free loopback port from a
//! fresh data folder, with a real SMTP server of its own when asked; and what
//! a story asks of it (its mails, its store, a whole registration).

use std::{
    net::{SocketAddr, TcpListener},
    sync::Once,
};

use mamis::{
    app::Application,
    config::{Config, SmtpSettings},
    mail::templates,
    store::Store,
};
use tempfile::TempDir;

use super::{
    client::Browser,
    people::Applicant,
    smtp::{MAIL_WAIT, SmtpCapture, link_in},
};

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

    /// Makes the person of `login_id` belong to `association` (as an
    /// import or an approved 入会 will), straight in the store.
    pub async fn set_association(
        &self,
        login_id: &str,
        association: Option<mamis::domain::AssociationId>,
    ) {
        let login_id = login_id.to_owned();
        let user = self
            .store
            .read(move |tx| mamis::store::users::by_login_id(tx, &login_id))
            .await
            .expect("read the account")
            .expect("an account with that login ID");
        self.store
            .write_ok(move |tx| mamis::store::users::set_association(tx, user.id, association))
            .await
            .expect("set the person's association");
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
