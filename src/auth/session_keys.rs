//! The keys a session stores its signed-in account under, in one place.

/// The signed-in account's id.
pub const USER: &str = "user_id";
/// The account's session generation at login; a session whose generation is
/// older than the account's (after a password change) is no longer valid.
pub const GENERATION: &str = "user_gen";
/// Unix time of the login (for the absolute session lifetime).
pub const LOGIN_AT: &str = "login_at";
/// The step the account must take before anything else (terms, e-mail,
/// own password: `current_user::PendingStep`): every page but that step's,
/// logout and the assets sends it there.
pub const PENDING: &str = "pending";
