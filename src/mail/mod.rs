//! Outgoing mail: templates, the SMTP transport, and the worker that drains
//! the outbox. Mail is queued in the same transaction as the change that
//! causes it (`store::outbox`), so it is never lost and never blocks a request.

pub mod limit;
pub mod procedure_mails;
pub mod smtp;
pub mod templates;
pub mod worker;
