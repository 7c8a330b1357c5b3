//! Self-registration, screens 2–6: terms → e-mail → (mailed link) → form →
//! confirmation → completion.
//!
//! The state lives in the server-side session (`state.rs`): the terms
//! agreement, then the verified token and the form draft. The account itself
//! is written once, by `confirm::submit`, in one transaction.

pub mod complete;
pub mod confirm;
pub mod email;
pub mod form;
pub mod form_view;
pub mod postal;
pub mod state;
pub mod terms;
pub mod verify;
