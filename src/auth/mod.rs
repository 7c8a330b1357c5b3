//! Credentials: password hashing, login throttling.

pub mod password;
pub mod throttle;
