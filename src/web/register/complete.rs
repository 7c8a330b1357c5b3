//! Screen 6 (利用者登録が完了しました。).

use maud::html;
use poem::{
    IntoResponse, Response, handler,
    session::Session,
    web::{Data, Redirect},
};

use super::state::DONE_KEY;
use crate::{
    domain::Field,
    state::AppState,
    views::{
        components::{help_box, steps},
        layout::page as layout,
    },
    web::paths,
};

#[handler]
pub fn page(state: Data<&AppState>, session: &Session) -> Response {
    let Some(login_id) = session.get::<String>(DONE_KEY) else {
        return Redirect::see_other(paths::LOGIN).into_response();
    };
    let body = html! {
        (steps(4))
        section.card {
            h1 { "利用者登録が完了しました。" }
            p.lead { "ご登録いただき、誠にありがとうございます。" }
            p { "ログインページよりログインしてください。" }
            dl.review { dt { (Field::LoginId.label()) } dd { (login_id) } }
            p { "ご登録いただいたメールアドレスに、登録完了のお知らせメールを送信しました。" }
            (help_box(state.config.sending_domain()))
            p.actions { a.button href=(paths::LOGIN) { "ログインページに戻る" } }
        }
    };
    layout("利用者登録完了", None, body).into_response()
}
