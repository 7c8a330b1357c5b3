//! Screen 2 (利用規約): the terms and the agreement checkbox, checked on the
//! server too.

use maud::{Markup, html};
use poem::{
    IntoResponse, Response, handler,
    http::StatusCode,
    session::Session,
    web::{CsrfToken, Data, Form, Redirect},
};
use serde::Deserialize;

use super::state::{TERMS_KEY, TermsAgreement};
use crate::{
    state::AppState,
    texts::Texts,
    views::{
        components::{message, required_mark, steps},
        layout::{csrf_input, page as layout},
    },
    web::paths,
};

/// The message when 「次へ」 is pressed without agreeing.
pub const MUST_AGREE: &str = "利用規約・個人情報の取り扱いに同意してください。";

fn render(texts: &Texts, csrf: &str, error: Option<&str>) -> Markup {
    let body = html! {
        (steps(0))
        section.card {
            h1 { "利用者登録" }
            p { "MAMIS（医師会 会員情報システム：Medical Association Member Information System）は、医師会の入退会・異動等の手続きを行うためのウェブシステムです。" }
            p { strong { "■ご利用いただける方" } br; "日本の医師免許をお持ちの医師が対象です。" }
            p { "利用規約・個人情報の取り扱いについてをご確認のうえ、「利用規約・個人情報の取り扱いに同意する」チェックボックスにチェックを入れてください。" }
            h2 #terms-title { "利用規約" }
            div.terms tabindex="0" role="region" aria-labelledby="terms-title" { (texts.terms) }
            h2 #privacy-title { "個人情報の取り扱い" }
            div.terms tabindex="0" role="region" aria-labelledby="privacy-title" { (texts.privacy) }
            form method="post" action=(paths::TERMS) novalidate {
                (csrf_input(csrf))
                div.field #f-agree {
                    div.checkline {
                        input #agree name="agree" type="checkbox" value="yes" required aria-required="true"
                            aria-describedby="m-agree" aria-invalid=[error.map(|_| "true")];
                        label for="agree" { (required_mark(true)) " 利用規約・個人情報の取り扱いに同意する" }
                    }
                    (message("agree", error, None, false))
                }
                div.actions {
                    button type="submit" { "次へ" }
                    a.button.secondary href=(paths::LOGIN) { "ログインページに戻る" }
                }
            }
        }
    };
    layout("利用規約", Some(csrf), body)
}

#[handler]
pub fn page(state: Data<&AppState>, csrf: &CsrfToken) -> Markup {
    render(&state.texts, csrf, None)
}

#[derive(Deserialize)]
pub struct AgreeForm {
    #[serde(default)]
    agree: Option<String>,
}

#[handler]
pub fn submit(
    state: Data<&AppState>,
    csrf: &CsrfToken,
    session: &Session,
    Form(form): Form<AgreeForm>,
) -> Response {
    if form.agree.as_deref() != Some("yes") {
        return render(&state.texts, csrf, Some(MUST_AGREE))
            .with_status(StatusCode::UNPROCESSABLE_ENTITY)
            .into_response();
    }
    session.set(TERMS_KEY, TermsAgreement::now(state.texts.version.clone()));
    Redirect::see_other(paths::EMAIL).into_response()
}
