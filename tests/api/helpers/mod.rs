//! What every story needs, one job a file: the real app on a free loopback
//! port with a fresh data folder (`app`), the real binary as a process
//! (`binary`), a real SMTP server that keeps what it receives (`smtp`), a
//! browser (a cookie-keeping HTTP client that carries the CSRF token like a
//! form does, `client`), ways to read the answers (`html`), and the people
//! who register (`people`). Everything is re-exported here, so a story
//! imports `crate::helpers::X`.

mod app;
mod binary;
mod client;
mod html;
mod people;
mod smtp;

pub use app::{
    TestApp, free_port, spawn_app, spawn_app_configured, spawn_app_with, spawn_app_with_smtp,
};
pub use binary::{Binary, outbox_key_in, run_mamis};
pub use client::{Browser, Page};
pub use html::{checked_values, csrf_from, error_of, input_value, message_region, selected_option};
pub use people::{Applicant, PASSWORD, with};
pub use smtp::{MAIL_WAIT, SmtpCapture, link_in, smtp_settings};
