//! Screen 1 (ログイン) with the announcements, the login (the use case is
//! `service::accounts::log_in`; this screen starts the session and sets the
//! cookies), マイページ (the account, the registered information grouped as
//! on the registration form, the association, the links to change them,
//! the association's announcements) and logout.

use std::time::Duration;

use maud::{Markup, html};
use poem::{
    IntoResponse, Request, Response, handler,
    http::{StatusCode, header},
    session::Session,
    web::{
        CsrfToken, Data, Form, Query, Redirect,
        cookie::{Cookie, SameSite},
    },
};
use serde::Deserialize;

use crate::{
    auth::{client::ClientIp, current_user, guards::SignedIn, login_limiter},
    domain::{Role, person_form},
    error::OrInternal,
    service::{
        accounts::{self, LoginAttempt, LoginOutcome},
        first_login, my_profile, notices,
    },
    state::{AppState, cookie_names},
    views::{
        components::required_mark,
        layout::{csrf_input, page as layout},
    },
    web::{context, landing, paths},
};

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
    let notices = notices::newest(&state.store, crate::web::today())
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
                        (announcement_list(&notices))
                    }
                }
            }
        }
    };
    Ok(layout("ログイン", Some(csrf), body))
}

/// Announcements, newest first: date, category, title, body (escaped, line
/// breaks kept by CSS) and a safe link.
fn announcement_list(notices: &[notices::Announcement]) -> Markup {
    html! {
        ul.notices {
            @for n in notices {
                li {
                    p.meta { (format!("{:04}.{:02}.{:02}", n.date.year(), u8::from(n.date.month()), n.date.day())) " " (n.category) }
                    @if let Some(title) = &n.title { p.title { strong { (title) } } }
                    p.body { (n.body) }
                    @if let Some(link) = &n.link {
                        @if crate::domain::announcement::safe_link(link) {
                            p { a href=(link) rel="noopener noreferrer" { (link) } }
                        }
                    }
                }
            }
        }
    }
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
    ClientIp(ip): ClientIp,
    Form(form): Form<LoginForm>,
) -> poem::Result<Response> {
    let attempt = LoginAttempt::new(&form.login_id, &form.password);
    let login_id = attempt.login_id().to_owned();
    let device_cookie = req
        .cookie()
        .get(login_limiter::DEVICE_COOKIE)
        .map(|c| c.value_str().to_owned());
    let outcome = context::accounts(&state)
        .log_in(attempt, ip, device_cookie.as_deref())
        .await
        .or_internal()?;
    let (message, status, retry_after_secs) = match outcome {
        LoginOutcome::SignedIn(signed_in) => {
            return Ok(start_session(&state, session, req, *signed_in));
        }
        LoginOutcome::Failed { message } => (message.to_owned(), StatusCode::UNAUTHORIZED, None),
        LoginOutcome::Throttled {
            retry_after_secs,
            message,
        } => (
            message,
            StatusCode::TOO_MANY_REQUESTS,
            Some(retry_after_secs),
        ),
        LoginOutcome::Busy {
            retry_after_secs,
            message,
        } => (
            message.to_owned(),
            StatusCode::SERVICE_UNAVAILABLE,
            Some(retry_after_secs),
        ),
    };
    let markup = render(&state, csrf, &login_id, Some(&message)).await?;
    let mut response = markup.with_status(status).into_response();
    if let Some(secs) = retry_after_secs {
        response
            .headers_mut()
            .insert(header::RETRY_AFTER, secs.into());
    }
    Ok(response)
}

/// Signs the account in on this session (a new session id), remembers the
/// browser for it, and drops the CSRF cookie: the next page the browser
/// asks for is given a fresh token for the signed-in pages.
fn start_session(
    state: &AppState,
    session: &Session,
    req: &Request,
    s: accounts::SignedIn,
) -> Response {
    let step = first_login::pending(&s.user, &state.texts.version);
    current_user::sign_in(session, &s.user, step);
    req.cookie().add(s.device_cookie);
    let https = state.config.is_https();
    let mut csrf_cookie = Cookie::new_with_str(cookie_names(https).1, "");
    csrf_cookie.set_path("/");
    csrf_cookie.set_http_only(true);
    csrf_cookie.set_secure(https);
    csrf_cookie.set_same_site(SameSite::Lax);
    csrf_cookie.set_max_age(Duration::ZERO);
    req.cookie().add(csrf_cookie);
    Redirect::see_other(landing(s.user.role, step)).into_response()
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct DoneQuery {
    done: String,
}

#[handler]
pub async fn mypage(
    state: Data<&AppState>,
    csrf: &CsrfToken,
    SignedIn(account): SignedIn,
    Query(q): Query<DoneQuery>,
) -> poem::Result<Response> {
    if matches!(account.role, Role::Staff { .. }) {
        return Ok(Redirect::see_other(paths::OFFICE).into_response());
    }
    let profile = my_profile::open(&state.store, account.id)
        .await
        .or_internal()?;
    let Some(user) = profile else {
        return Ok(Redirect::see_other(paths::LOGIN).into_response());
    };
    let news = notices::for_members_of(&state.store, user.association, crate::web::today())
        .await
        .or_internal()?;
    let done = match q.done.as_str() {
        "email" => Some("メールアドレスを変更しました。"),
        "password" => {
            Some("パスワードを変更しました。ほかの端末やブラウザでのログインは終了しました。")
        }
        "contact" => Some("連絡先を変更しました。"),
        "contact-unchanged" => Some("変更された項目がなかったため、保存しませんでした。"),
        _ => None,
    };
    let body = html! {
        section.card {
            h1 { "マイページ" }
            p.lead { (user.name) " 様、ようこそ。" }
            @if let Some(done) = done {
                div.helpbox role="status" { p { (done) } }
            }
            h2 { "アカウント" }
            dl.review {
                dt { "ログインID" } dd { (user.login_id) }
                dt { "メールアドレス" } dd {
                    @if user.email.is_empty() { "（未登録）" } @else { (user.email) }
                }
                @if user.person.is_some() {
                    dt { "所属医師会" } dd {
                        @match &user.association_name { Some(a) => (a), None => "未所属" }
                    }
                }
            }
            ul.linklist {
                @if user.person.is_some() {
                    li { a href=(super::my_filing::LIST) { "所属状況・申請状況 →" } }
                    li { a href=(super::my_join::NEW) { "入会申込 →" } }
                    li { a href=(paths::MY_CONTACT) { "連絡先の変更 →" } }
                }
                li { a href=(paths::MY_EMAIL) { "メールアドレスの変更 →" } }
                li { a href=(paths::MY_PASSWORD) { "パスワードの変更 →" } }
            }
            form method="post" action="/logout" {
                (csrf_input(csrf))
                div.actions { button.secondary type="submit" { "ログアウト" } }
            }
        }
        @if let Some(person) = &user.person {
            section.card aria-labelledby="my-record" {
                h2 #my-record { "登録情報" }
                @for (group, rows) in person_form::person_sections(person) {
                    @if let Some(g) = group { h3 { (g.label()) } }
                    dl.review {
                        @for (label, value) in rows {
                            dt { (label) }
                            dd { @if value.is_empty() { "（未入力）" } @else { (value) } }
                        }
                    }
                }
                p.actions { a.button.secondary href=(paths::MY_CONTACT) { "連絡先を変更する" } }
            }
        }
        @if !news.is_empty() {
            section.card aria-labelledby="member-notices" {
                h2 #member-notices { "所属医師会からのお知らせ" }
                (announcement_list(&news))
            }
        }
    };
    Ok(layout("マイページ", Some(csrf), body).into_response())
}

#[handler]
pub async fn logout(state: Data<&AppState>, session: &Session, ClientIp(ip): ClientIp) -> Redirect {
    current_user::log_out(&state.store, session, ip).await;
    Redirect::see_other(paths::LOGIN)
}
