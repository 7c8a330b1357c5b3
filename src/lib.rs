//! MAMIS: the medical-association member information system, one binary.
//!
//! Requests enter `app` (the route tree and the middleware: request id,
//! security headers, sessions, CSRF, body limit) and reach a screen in
//! `web`, which finds out who is asking through the `auth` extractors and
//! guards, parses the form into `domain` types, calls one use case in
//! `service` (the rules that need the database, one `store` write
//! transaction with its audit entry and the mail it queues in the outbox for
//! the `mail` worker), and answers with `views` markup (maud), whole pages
//! or htmx fragments.
//!
//! Imports point one way (checked by `tools/module-circles` in the shared
//! tools, and by the `layers` unit test): `app` → `web` → `views`, `service`
//! → `auth`, `domain`, `store` → `text`,
//! `catalog`, `postal`; `state` (what every handler reaches), `htmx` and
//! `texts` sit below `web` and `views`, and nothing below imports `app` or
//! `web`.

pub mod admin;
pub mod app;
pub mod assets;
pub mod auth;
pub mod catalog;
pub mod config;
pub mod conn;
pub mod domain;
pub mod error;
pub mod healthcheck;
pub mod htmx;
#[cfg(test)]
mod layers;
pub mod mail;
pub mod postal;
pub mod service;
pub mod state;
pub mod store;
pub mod text;
pub mod texts;
pub mod views;
pub mod web;
