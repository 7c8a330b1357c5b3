//! What the registration keeps in the session between screens.

use base64::{Engine as _, engine::general_purpose::URL_SAFE_NO_PAD};
use poem::{IntoResponse, Response, session::Session, web::Redirect};
use serde::{Deserialize, Serialize};

use super::verify;
pub use crate::service::registration::TermsAgreement;
use crate::{
    error::OrInternal,
    service::registration::{self, LinkState, ValidLink},
    state::AppState,
    web::paths,
};

/// The terms agreement made on screen 2.
pub const TERMS_KEY: &str = "reg_terms";
/// The registration in progress after the mailed link was opened.
pub const REG_KEY: &str = "reg";
/// The login ID of the registration just completed (for screen 6).
pub const DONE_KEY: &str = "reg_done";

/// A registration between the mailed link and the account.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct RegSession {
    /// base64url of the token's SHA-256.
    pub token_hash: String,
    /// The verified address.
    pub email: String,
    /// The form as last submitted, without the password and CSRF token.
    pub draft: Vec<(String, String)>,
    /// The argon2id hash of a password that passed its rules, so that it
    /// need not be typed again after another field's error or 「戻る」.
    pub password_hash: Option<String>,
}

impl RegSession {
    pub fn new(hash: &[u8; 32], email: String) -> RegSession {
        RegSession {
            token_hash: URL_SAFE_NO_PAD.encode(hash),
            email,
            ..RegSession::default()
        }
    }

    pub fn hash(&self) -> Option<[u8; 32]> {
        URL_SAFE_NO_PAD
            .decode(&self.token_hash)
            .ok()
            .and_then(|v| <[u8; 32]>::try_from(v.as_slice()).ok())
    }
}

/// Why there is no registration in progress to continue.
pub enum Gone {
    /// It was completed: the completion screen.
    Done,
    /// Its link cannot be used (or there never was one).
    Problem(verify::Problem),
}

impl IntoResponse for Gone {
    fn into_response(self) -> Response {
        match self {
            Gone::Done => Redirect::see_other(paths::COMPLETE).into_response(),
            Gone::Problem(p) => verify::problem_page(p),
        }
    }
}

/// The registration in progress, if its token is still valid; otherwise why
/// not (the caller answers with `Gone`'s page, or uses it as a mere "no").
pub async fn current(
    state: &AppState,
    session: &Session,
) -> poem::Result<Result<(RegSession, ValidLink), Gone>> {
    use verify::Problem;
    let Some(reg) = session.get::<RegSession>(REG_KEY) else {
        if session.get::<String>(DONE_KEY).is_some() {
            return Ok(Err(Gone::Done));
        }
        return Ok(Err(Gone::Problem(Problem::NoSession)));
    };
    let Some(h) = reg.hash() else {
        session.remove(REG_KEY);
        return Ok(Err(Gone::Problem(Problem::Unknown)));
    };
    let st = registration::link_state(&state.store, h)
        .await
        .or_internal()?;
    let problem = match st {
        LinkState::Valid(link) => return Ok(Ok((reg, link))),
        LinkState::Expired => Problem::Expired,
        LinkState::Used => Problem::Used,
        LinkState::Unknown => Problem::Unknown,
    };
    session.remove(REG_KEY);
    Ok(Err(Gone::Problem(problem)))
}
