//! Screen 1 (ログイン) with the announcements, the login itself (throttled,
//! one message whatever was wrong), my page and logout.

use maud::{Markup, html};
use poem::{
    IntoResponse, Request, Response, handler,
    http::StatusCode,
    session::Session,
    web::{CsrfToken, Data, Form, Redirect},
};
use serde::Deserialize;

use crate::{
    app::AppState,
    auth::{client::ClientIp, current_user, password, session_keys, throttle},
    error::OrInternal,
    store::{announcements, users},
    text::normalize_halfwidth_field,
    views::{
        components::required_mark,
        layout::{csrf_input, page as layout},
    },
    web::paths,
};

const LOGIN_FAILED: &str = "ログインIDまたはパスワードが正しくありません。";
const LOGIN_THROTTLED: &str = "ログインに続けて失敗したため、しばらくの間ログインできません。15分ほど待ってから再度お試しください。";

#[handler]
pub fn root() -> Redirect {
    Redirect::see_other(paths::LOGIN)
}

#[handler]
pub async fn page(state: Data<&AppState>, csrf: &CsrfToken) -> poem::Result<Markup> {
    render(&state, csrf, "", None).await
}

async fn render(
    state: &AppState,
    csrf: &CsrfToken,
    login_id: &str,
    error: Option<&str>,
) -> poem::Result<Markup> {
    let notices = state
        .store
        .read(|tx| announcements::newest(tx, 20))
        .await
        .or_internal()?;
    let body = html! {
        div.login-grid {
            section.card aria-labelledby="login-title" {
                h1 #login-title { "ログイン" }
                @if let Some(e) = error {
                    div.error-summary role="alert" tabindex="-1" { p { (e) } }
                }
                form method="post" action=(paths::LOGIN) {
                    (csrf_input(csrf))
                    div.field {
                        label for="login_id" { "ログインID" (required_mark(true)) }
                        input #login_id name="login_id" type="text" value=(login_id) autocomplete="username"
                            autocapitalize="off" spellcheck="false" required aria-required="true" maxlength="64";
                    }
                    div.field {
                        label for="password" { "パスワード" (required_mark(true)) }
                        input #password name="password" type="password" autocomplete="current-password" required aria-required="true" maxlength="128";
                        div.checkline {
                            input #show-password type="checkbox" data-show-password="password";
                            label for="show-password" { "パスワードを表示" }
                        }
                    }
                    div.actions { button type="submit" { "ログインする" } }
                }
                ul.linklist {
                    li { a href="/forgot/login-id" { "ログインIDをお忘れの方はこちら →" } }
                    li { a href="/forgot/password" { "パスワードをお忘れの方はこちら →" } }
                }
            }
            div {
                section.card aria-labelledby="register-title" {
                    h2 #register-title { "未登録の方はこちら" }
                    p { "医師会に未入会の医師の方は、利用者登録を行ってください。" }
                    p.actions { a.button href=(paths::TERMS) { "利用者登録" } }
                }
                section.card aria-labelledby="notices-title" {
                    h2 #notices-title { "システム管理者からのお知らせ" }
                    @if notices.is_empty() {
                        p { "現在、お知らせはありません。" }
                    } @else {
                        ul.notices {
                            @for n in &notices {
                                li {
                                    p.meta { (format!("{:04}.{:02}.{:02}", n.date.year(), u8::from(n.date.month()), n.date.day())) " " (n.category) }
                                    p.body { (n.body) }
                                    @if let Some(link) = &n.link {
                                        @if link.starts_with("https://") || link.starts_with("http://") || link.starts_with('/') {
                                            p { a href=(link) rel="noopener noreferrer" { (link) } }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    };
    Ok(layout("ログイン", Some(csrf), body))
}

#[derive(Deserialize)]
pub struct LoginForm {
    #[serde(default)]
    login_id: String,
    #[serde(default)]
    password: String,
}

#[handler]
pub async fn submit(
    state: Data<&AppState>,
    csrf: &CsrfToken,
    session: &Session,
    req: &Request,
    Form(form): Form<LoginForm>,
) -> poem::Result<Response> {
    let login_id = normalize_halfwidth_field(&form.login_id);
    let id_key = format!("id:{}", users::login_key(&login_id));
    let ip_key = format!("ip:{}", req.remote_addr());
    if state.throttle.is_blocked(&id_key, throttle::PER_ACCOUNT)
        || state.throttle.is_blocked(&ip_key, throttle::PER_ADDRESS)
    {
        tracing::info!("login throttled");
        let markup = render(&state, csrf, &login_id, Some(LOGIN_THROTTLED)).await?;
        return Ok(markup
            .with_status(StatusCode::TOO_MANY_REQUESTS)
            .into_response());
    }
    let lookup = login_id.clone();
    let user = state
        .store
        .read(move |tx| users::by_login_id(tx, &lookup))
        .await
        .or_internal()?;
    // Unknown IDs cost the same argon2 work as known ones.
    let hash = match &user {
        Some(u) => u.password_hash.clone(),
        None => state.dummy_hash().await.or_internal()?,
    };
    // Registration stored the password with full-width ASCII made half-width.
    let typed = normalize_halfwidth_field(&form.password);
    let matches = password::verify(typed, hash).await.or_internal()?;
    match user.filter(|_| matches) {
        Some(u) => {
            state.throttle.clear(&id_key);
            current_user::sign_in(session, &u);
            tracing::info!(user_id = u.id, "logged in");
            Ok(Redirect::see_other("/mypage").into_response())
        }
        None => {
            state.throttle.fail(&id_key);
            state.throttle.fail(&ip_key);
            tracing::info!("login failed");
            let markup = render(&state, csrf, &login_id, Some(LOGIN_FAILED)).await?;
            Ok(markup.with_status(StatusCode::UNAUTHORIZED).into_response())
        }
    }
}

#[handler]
pub async fn mypage(
    state: Data<&AppState>,
    csrf: &CsrfToken,
    session: &Session,
) -> poem::Result<Response> {
    let Some(id) = session.get::<u64>(session_keys::USER) else {
        return Ok(Redirect::see_other(paths::LOGIN).into_response());
    };
    let user = state
        .store
        .read(move |tx| users::get(tx, id))
        .await
        .or_internal()?;
    let Some(user) = user else {
        session.purge();
        return Ok(Redirect::see_other(paths::LOGIN).into_response());
    };
    let name = user
        .profile
        .get("display_name")
        .and_then(|v| v.as_str())
        .unwrap_or_default()
        .to_owned();
    let body = html! {
        section.card {
            h1 { "マイページ" }
            p.lead { (name) " 様、ようこそ。" }
            dl.review {
                dt { "ログインID" } dd { (user.login_id) }
                dt { "メールアドレス" } dd { (user.email) }
            }
            form method="post" action="/logout" {
                (csrf_input(csrf))
                div.actions { button.secondary type="submit" { "ログアウト" } }
            }
        }
    };
    Ok(layout("マイページ", Some(csrf), body).into_response())
}

#[handler]
pub async fn logout(state: Data<&AppState>, session: &Session, ClientIp(ip): ClientIp) -> Redirect {
    current_user::log_out(&state, session, ip).await;
    Redirect::see_other(paths::LOGIN)
}
