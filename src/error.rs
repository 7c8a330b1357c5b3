//! Two tiers of errors: a user error is an ordinary response (a form shown
//! again with its messages, a 4xx page); an unexpected error is logged with
//! its cause chain and answered with an opaque page carrying the request id.
//! (A guard's refusal that brings its own answer, such as the redirect to
//! the login page, is a `poem::Error::from_response` and is passed on as it
//! is by `app`.)

use poem::{error::ResponseError, http::StatusCode};

/// An unexpected failure (store, mail, hashing). Shown to the user only as
/// 「システムエラー」 with the request id; the chain goes to the log.
#[derive(Debug, thiserror::Error)]
#[error("{0:#}")]
pub struct InternalError(pub anyhow::Error);

impl ResponseError for InternalError {
    fn status(&self) -> StatusCode {
        StatusCode::INTERNAL_SERVER_ERROR
    }
}

/// `?`-friendly conversion of internal failures into poem errors.
pub trait OrInternal<T> {
    fn or_internal(self) -> poem::Result<T>;
}

impl<T> OrInternal<T> for anyhow::Result<T> {
    fn or_internal(self) -> poem::Result<T> {
        self.map_err(|e| InternalError(e).into())
    }
}

/// A request refused for a reason the user can act on, with a Japanese
/// message shown on an error page.
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct UserError {
    pub status: StatusCode,
    pub message: &'static str,
}

impl ResponseError for UserError {
    fn status(&self) -> StatusCode {
        self.status
    }
}

impl UserError {
    pub fn into_error(status: StatusCode, message: &'static str) -> poem::Error {
        UserError { status, message }.into()
    }
}

/// 404 with its standard message: a page that does not exist, or one the
/// asker may not see (the two are never told apart).
pub fn not_found() -> poem::Error {
    UserError::into_error(StatusCode::NOT_FOUND, status_message(StatusCode::NOT_FOUND))
}

/// The Japanese explanation shown for a status without its own message.
pub fn status_message(status: StatusCode) -> &'static str {
    match status.as_u16() {
        400 => "リクエストの形式が正しくありません。",
        403 => {
            "画面の有効期限が切れたか、不正な操作が行われました。もう一度最初からやり直してください。"
        }
        404 => "お探しのページは見つかりませんでした。",
        405 => "この操作は許可されていません。",
        411 | 413 => "送信された内容が大きすぎます。",
        415 => "送信された内容の形式が正しくありません。",
        429 => "短時間に操作が繰り返されました。しばらく待ってからもう一度お試しください。",
        _ => "システムエラーが発生しました。時間をおいてもう一度お試しください。",
    }
}
