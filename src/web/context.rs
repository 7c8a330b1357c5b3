//! The application layer's contexts, built from the server's shared state for the screens.

use crate::{
    service::{Mailing, accounts::Accounts},
    state::AppState,
};

/// The parts the account use cases work with.
pub fn accounts(state: &AppState) -> Accounts<'_> {
    Accounts {
        store: &state.store,
        config: &state.config,
        hasher: &state.hasher,
        login_limiter: &state.login_limiter,
        throttle: &state.throttle,
        mail_limit: &state.mail_limit,
        mail: &state.mail,
    }
}

/// The parts the use cases that mail on a visitor's request work with.
pub fn mailing(state: &AppState) -> Mailing<'_> {
    Mailing {
        store: &state.store,
        config: &state.config,
        throttle: &state.throttle,
        mail_limit: &state.mail_limit,
        mail: &state.mail,
    }
}
