//! The application layer: one module per use case, between the screens and the store.

pub mod accounts;
