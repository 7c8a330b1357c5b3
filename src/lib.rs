//! MAMIS: the medical-association member information system, one binary.
//!
//! Requests enter `app` (middleware: request id, security headers, sessions,
//! CSRF, body limit) and reach a screen in `web`, which parses the form into
//! `domain` types, reads or writes `store` (redb) in one transaction, queues
//! mail in the outbox for the `mail` worker, and answers with `views`
//! markup (maud), whole pages or htmx fragments.

pub mod admin;
pub mod app;
pub mod assets;
pub mod auth;
pub mod catalog;
pub mod config;
pub mod conn;
pub mod domain;
pub mod error;
pub mod mail;
pub mod postal;
pub mod service;
pub mod store;
pub mod text;
pub mod views;
pub mod web;
