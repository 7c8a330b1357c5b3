//! Credentials and who is asking: password hashing, login throttling, the
//! client address, server-side sessions and the names under which a session
//! keeps its account, the current user, and the guards built on it.
//!
//! `auth` reads only the store and the domain below it: what it needs of a
//! request (the store, the trusted proxies) comes as request data put there
//! by `app`, never from `app` or `web`.

pub mod client;
pub mod current_user;
pub mod guards;
pub mod login_limiter;
pub mod password;
pub mod session_keys;
pub mod sessions;
pub mod throttle;
