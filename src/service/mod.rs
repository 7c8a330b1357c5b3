//! The application layer: one module per use case. A function here takes
//! domain types, applies the rules that need the store (uniqueness, link
//! budgets, mail limits) with their messages, and runs one write
//! transaction, the mail it causes queued in the outbox; screens parse,
//! call one function, render.

pub mod accounts;
pub mod association_import;
pub mod associations;
pub mod first_login;
pub mod inbox;
pub mod inquiries;
pub mod mailing;
pub mod member_import;
pub mod my_account;
pub mod my_profile;
pub mod notices;
pub mod office;
pub mod outbox;
pub mod people;
pub mod person_record;
pub mod postcards;
pub mod procedures;
pub mod registration;
pub mod staff;

pub use mailing::Mailing;
