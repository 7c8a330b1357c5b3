//! パスワードをお忘れの方: the form, and the request that mails a password-reset link.

use maud::Markup;
use poem::{
    IntoResponse, Response, handler,
    http::StatusCode,
    web::{CsrfToken, Data, Form},
};

use super::{OneField, PASSWORD, one_field_form, sent_page};
use crate::{
    auth::client::ClientIp, error::OrInternal, service::accounts::LoginOrEmail, state::AppState,
    text::normalize_halfwidth_field, views::components::Input, web::context,
};

const TITLE: &str = "パスワードをお忘れの方";
const LEAD: &str = "ログインIDまたはご登録のメールアドレスを入力してください。パスワード再設定用のURLをメールでお送りします。";

fn login_input<'a>(value: &'a str, error: Option<&'a str>) -> Input<'a> {
    Input {
        name: "login",
        label: "ログインIDまたは登録済みのメールアドレス",
        required: true,
        value,
        error,
        kind: "text",
        autocomplete: Some("username"),
        maxlength: Some(100),
        ..Input::default()
    }
}

#[handler]
pub fn page(csrf: &CsrfToken) -> Markup {
    one_field_form(TITLE, LEAD, PASSWORD, csrf, &login_input("", None))
}

#[handler]
pub async fn submit(
    state: Data<&AppState>,
    csrf: &CsrfToken,
    ClientIp(ip): ClientIp,
    Form(f): Form<OneField>,
) -> poem::Result<Response> {
    let typed = normalize_halfwidth_field(&f.login);
    let target = match LoginOrEmail::parse(&typed) {
        Ok(t) => t,
        Err(msg) => {
            let form = one_field_form(TITLE, LEAD, PASSWORD, csrf, &login_input(&typed, Some(msg)));
            return Ok(form
                .with_status(StatusCode::UNPROCESSABLE_ENTITY)
                .into_response());
        }
    };
    context::accounts(&state)
        .request_password_reset(target, ip)
        .await
        .or_internal()?;
    Ok(sent_page(
        TITLE,
        "ご入力いただいたログインIDまたはメールアドレスが登録されている場合は、パスワード再設定用のURLをメールで送信しました。URLの有効期限は送信後1時間です。",
    )
    .into_response())
}
