//! The mailed link: checks the token, remembers it in the session and moves
//! on to the form (so the token leaves the address bar). Expired, used or
//! unknown links get a page that says so and offers a way to start again.

use maud::html;
use poem::{
    IntoResponse, Response, handler,
    http::StatusCode,
    session::Session,
    web::{Data, Query, Redirect},
};
use serde::Deserialize;

use super::state::{DONE_KEY, REG_KEY, RegSession};
use crate::{
    auth::client::ClientIp,
    error::OrInternal,
    service::registration::{self, LinkState},
    state::AppState,
    views::layout::page as layout,
    web::paths,
};

/// Why a registration link cannot be used.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Problem {
    Expired,
    Used,
    Unknown,
    /// The form was opened without the mailed link (or the session ended).
    NoSession,
}

/// The page for a link that cannot be used.
pub fn problem_page(problem: Problem) -> Response {
    let (status, title, text) = match problem {
        Problem::Expired => (
            StatusCode::GONE,
            "URLの有効期限が切れています",
            "確認メールに記載のURLの有効期限（送信後24時間）が過ぎています。お手数ですが、もう一度最初から利用者登録の手続きを行ってください。",
        ),
        Problem::Used => (
            StatusCode::GONE,
            "このURLは既に使用されています",
            "このURLによる利用者登録は既に完了しています。登録したログインIDとパスワードでログインしてください。",
        ),
        Problem::Unknown => (
            StatusCode::NOT_FOUND,
            "URLが正しくありません",
            "URLが正しくないか、途中で切れている可能性があります。確認メールに記載のURLをすべてコピーしてブラウザに貼り付けるか、もう一度最初から利用者登録の手続きを行ってください。",
        ),
        Problem::NoSession => (
            StatusCode::FORBIDDEN,
            "登録手続きの有効期限が切れています",
            "登録手続きを続けることができません。確認メールに記載のURLをもう一度開くか、最初から利用者登録の手続きを行ってください。",
        ),
    };
    let body = html! {
        section.card {
            h1 { (title) }
            p.lead role="alert" { (text) }
            div.actions {
                @if problem == Problem::Used {
                    a.button href=(paths::LOGIN) { "ログインページへ" }
                } @else {
                    a.button href=(paths::TERMS) { "利用者登録を最初からやり直す" }
                    a.button.secondary href=(paths::LOGIN) { "ログインページに戻る" }
                }
            }
        }
    };
    layout(title, None, body)
        .with_status(status)
        .into_response()
}

#[derive(Deserialize)]
pub struct LinkQuery {
    #[serde(default)]
    token: String,
}

#[handler]
pub async fn open_link(
    state: Data<&AppState>,
    session: &Session,
    ClientIp(ip): ClientIp,
    Query(q): Query<LinkQuery>,
) -> poem::Result<Response> {
    let st = registration::open_link(&state.store, &q.token, ip)
        .await
        .or_internal()?;
    Ok(match st {
        LinkState::Valid(link) => {
            // Opening the link again keeps a draft already typed.
            let keep = session
                .get::<RegSession>(REG_KEY)
                .filter(|r| r.hash() == Some(link.key));
            if keep.is_none() {
                session.set(REG_KEY, RegSession::new(&link.key, link.email));
            }
            session.remove(DONE_KEY);
            Redirect::see_other(paths::FORM).into_response()
        }
        LinkState::Expired => problem_page(Problem::Expired),
        LinkState::Used => problem_page(Problem::Used),
        LinkState::Unknown => problem_page(Problem::Unknown),
    })
}
