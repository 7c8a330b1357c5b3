//! The parts of the server that the use cases mailing on a visitor's request (the registration link, an inquiry) work with.

use crate::{
    auth::throttle::Throttle,
    config::Config,
    mail::{limit::MailLimiter, worker::MailSignal},
    store::Store,
};

/// What a use case that mails on request borrows from the server.
#[derive(Clone, Copy)]
pub struct Mailing<'a> {
    pub store: &'a Store,
    pub config: &'a Config,
    /// Mails per target address (in memory).
    pub throttle: &'a Throttle,
    /// Mail requests per client address (in memory).
    pub mail_limit: &'a MailLimiter,
    /// Wakes the mail worker after a commit that queued mail.
    pub mail: &'a MailSignal,
}

#[cfg(test)]
pub(crate) mod tests {
    use std::time::Duration;

    use super::*;

    /// Everything a `Mailing` borrows, owned by a test.
    pub(crate) struct Parts {
        _dir: tempfile::TempDir,
        pub store: Store,
        pub config: Config,
        throttle: Throttle,
        mail_limit: MailLimiter,
        mail: MailSignal,
    }

    impl Parts {
        /// A fresh store; each client may make `per_client` mail requests.
        pub(crate) fn new(per_client: u32) -> Parts {
            let dir = tempfile::tempdir().unwrap();
            Parts {
                store: Store::open(dir.path()).unwrap(),
                config: Config::for_tests(dir.path().to_owned(), None),
                throttle: Throttle::default(),
                mail_limit: MailLimiter::new(per_client, Duration::from_secs(3600)),
                mail: MailSignal::default(),
                _dir: dir,
            }
        }

        pub(crate) fn mailing(&self) -> Mailing<'_> {
            Mailing {
                store: &self.store,
                config: &self.config,
                throttle: &self.throttle,
                mail_limit: &self.mail_limit,
                mail: &self.mail,
            }
        }

        pub(crate) async fn mails(&self) -> Vec<crate::store::outbox::Mail> {
            self.store
                .read(|tx| crate::store::outbox::recent(tx, 100))
                .await
                .unwrap()
        }

        pub(crate) async fn audit(&self) -> Vec<crate::store::audit::AuditEntry> {
            self.store
                .read(|tx| crate::store::audit::since(tx, 0, 100))
                .await
                .unwrap()
        }
    }
}
