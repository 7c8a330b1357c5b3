//! The long forms that survive a stale CSRF token: a submit refused because
//! the page stayed open longer than the CSRF cookie lives gets the same form
//! back with what was typed (never a password), a fresh token and a message
//! asking to send it again, instead of the 403 page. Nothing is processed:
//! these routes only render.

use poem::{Route, post};

use super::{first_password, inquiry, paths, register};

/// The forms handled here, by the path they are posted to.
const PATHS: [&str; 3] = [paths::FORM, inquiry::PATH, paths::PASSWORD_CHANGE];

/// True when a refused submit to `path` is answered by [`routes`].
pub fn is_kept(path: &str) -> bool {
    PATHS.contains(&path)
}

/// The re-rendering handler of each form in [`PATHS`].
pub fn routes() -> Route {
    Route::new()
        .at(paths::FORM, post(register::form::refused))
        .at(inquiry::PATH, post(inquiry::refused))
        .at(paths::PASSWORD_CHANGE, post(first_password::refused))
}
