//! Credentials and who is asking: password hashing, login throttling, the
//! client address, and the names under which a session keeps its account.

pub mod client;
pub mod current_user;
pub mod login_limiter;
pub mod password;
pub mod session_keys;
pub mod throttle;
