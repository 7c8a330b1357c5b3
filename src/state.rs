//! What every request handler can reach, kept below `web` and `views` so that
//! neither imports `app`: the application state, the request id, and the
//! CSRF and cookie names.

use std::{sync::Arc, time::Duration};

use crate::{
    auth::{
        login_limiter::LoginLimiter,
        password,
        sessions::{Lifetimes, RedbSessions},
        throttle::Throttle,
    },
    config::Config,
    mail::{limit::MailLimiter, worker::MailSignal},
    postal::PostalTable,
    store::Store,
    texts::Texts,
};

/// Name of the hidden form field and of the htmx header carrying the CSRF token.
pub const CSRF_FIELD: &str = "csrf_token";
pub const CSRF_HEADER: &str = "X-CSRF-Token";

/// The session and CSRF cookie names. Under https they carry the `__Host-`
/// prefix, which makes browsers accept them only when Secure, for Path=/
/// and without Domain, so neither a sibling subdomain nor a plain-http
/// response can plant or overwrite them.
pub fn cookie_names(https: bool) -> (&'static str, &'static str) {
    if https {
        ("__Host-mamis_session", "__Host-mamis_csrf")
    } else {
        ("mamis_session", "mamis_csrf")
    }
}

/// The id of the current request, shown on error pages and in the log.
#[derive(Clone, Debug)]
pub struct RequestId(pub String);

/// What every handler can reach.
#[derive(Clone)]
pub struct AppState {
    pub store: Store,
    pub config: Arc<Config>,
    pub mail: MailSignal,
    pub throttle: Arc<Throttle>,
    /// Login attempts per login ID, address and device, kept in redb.
    pub login_limiter: Arc<LoginLimiter>,
    /// The session storage (redb, with the in-memory copies of the records
    /// last read or written).
    pub sessions: RedbSessions,
    /// Every argon2 run, bounded by `MAMIS_HASH_CONCURRENCY`.
    pub hasher: password::Hasher,
    /// Postal codes: the imported table in the data folder, or the built-in one.
    pub postal: &'static PostalTable,
    /// Terms of use and privacy texts with their version.
    pub texts: Arc<Texts>,
    /// Mail requests per client address (forgotten ID or password,
    /// registration, inquiry).
    pub mail_limit: Arc<MailLimiter>,
    /// The key that opens `/dev/outbox` (random at every start, printed in
    /// the start-up log).
    pub dev_outbox_key: Arc<str>,
}

impl AppState {
    /// The state for `config`, with the texts and postal table of its data
    /// folder and the given `/dev/outbox` key.
    pub fn new(store: Store, config: Config, dev_outbox_key: String) -> AppState {
        let postal = crate::postal::table_for(&config.data_dir);
        let texts = Arc::new(Texts::load(&config.data_dir));
        let mail_limit = Arc::new(MailLimiter::new(
            config.mails_per_client_hour,
            Duration::from_secs(3600),
        ));
        AppState {
            postal,
            texts,
            mail_limit,
            dev_outbox_key: dev_outbox_key.into(),
            login_limiter: Arc::new(LoginLimiter::new(store.clone())),
            sessions: RedbSessions::new(store.clone(), Lifetimes::from_config(&config)),
            hasher: password::Hasher::new(config.hash_concurrency, config.argon2),
            store,
            config: Arc::new(config),
            mail: MailSignal::default(),
            throttle: Arc::default(),
        }
    }
}
