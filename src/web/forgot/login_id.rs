//! ログインIDをお忘れの方: the form, and the request that mails the login ID to the registered address.

use maud::Markup;
use poem::{
    IntoResponse, Response, handler,
    http::StatusCode,
    web::{CsrfToken, Data, Form},
};

use super::{LOGIN_ID, OneField, one_field_form, sent_page};
use crate::{
    auth::client::ClientIp, domain::Email, error::OrInternal, state::AppState,
    text::normalize_halfwidth_field, views::components::Input, web::context,
};

const TITLE: &str = "ログインIDをお忘れの方";
const LEAD: &str = "ご登録のメールアドレスを入力してください。ログインIDをメールでお知らせします。";

fn email_input<'a>(value: &'a str, error: Option<&'a str>) -> Input<'a> {
    Input {
        name: "email",
        label: "登録済みのメールアドレス",
        required: true,
        hint: Some("(半角英数字・記号 100文字以内)"),
        value,
        error,
        kind: "email",
        autocomplete: Some("email"),
        inputmode: Some("email"),
        maxlength: Some(100),
        ..Input::default()
    }
}

#[handler]
pub fn page(csrf: &CsrfToken) -> Markup {
    one_field_form(TITLE, LEAD, LOGIN_ID, csrf, &email_input("", None))
}

#[handler]
pub async fn submit(
    state: Data<&AppState>,
    csrf: &CsrfToken,
    ClientIp(ip): ClientIp,
    Form(f): Form<OneField>,
) -> poem::Result<Response> {
    let typed = normalize_halfwidth_field(&f.email);
    let email = match Email::parse(&typed) {
        Ok(e) => e,
        Err(msg) => {
            let form = one_field_form(
                TITLE,
                LEAD,
                LOGIN_ID,
                csrf,
                &email_input(&typed, Some(&msg)),
            );
            return Ok(form
                .with_status(StatusCode::UNPROCESSABLE_ENTITY)
                .into_response());
        }
    };
    context::accounts(&state)
        .request_login_id_reminder(&email, ip)
        .await
        .or_internal()?;
    Ok(sent_page(
        TITLE,
        "ご入力いただいたメールアドレスが登録されている場合は、ログインIDをお知らせするメールを送信しました。",
    )
    .into_response())
}
