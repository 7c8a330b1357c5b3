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
