//! The application layer's contexts, built from the server's shared state for the screens.

use crate::{service::accounts::Accounts, state::AppState};

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
