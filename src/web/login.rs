//! Screen 1 (ログイン) with the announcements, the login itself (one message
//! whatever was wrong; attempts counted by `auth::login_limiter` before the
//! password is checked, argon2 bounded by `auth::password::Hasher`), my page
//! and logout.

use std::time::Duration;

use maud::{Markup, html};
use poem::{
    IntoResponse, Request, Response, handler,
    http::{StatusCode, header},
    session::Session,
    web::{
        CsrfToken, Data, Form, Redirect,
        cookie::{Cookie, SameSite},
    },
};
use serde::Deserialize;

use crate::{
    app::{AppState, cookie_names},
    auth::{
        client::ClientIp,
        current_user,
        login_limiter::{self, Reservation, Throttled},
        password, session_keys,
    },
    error::{InternalError, OrInternal},
    store::{
        announcements,
        audit::{self, AuditEntry, AuditKind},
        login_attempts, users,
    },
    text::normalize_halfwidth_field,
    views::{
        components::required_mark,
        layout::{csrf_input, page as layout},
    },
    web::paths,
};

const LOGIN_FAILED: &str = "ログインIDまたはパスワードが正しくありません。";
/// Followed by how long to wait.
const LOGIN_THROTTLED: &str = "ログインに続けて失敗したため、しばらくの間ログインできません。";

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

/// The login ID as shown in the log (bounded; `Debug` escapes it).
fn shown(login_id: &str) -> &str {
    login_id
        .char_indices()
        .nth(64)
        .map_or(login_id, |(i, _)| &login_id[..i])
}

/// The login page again with `message`, `status` and `Retry-After`.
async fn refusal(
    state: &AppState,
    csrf: &CsrfToken,
    login_id: &str,
    message: &str,
    status: StatusCode,
    retry_after_secs: u64,
) -> poem::Result<Response> {
    let markup = render(state, csrf, login_id, Some(message)).await?;
    Ok(markup
        .with_status(status)
        .with_header(header::RETRY_AFTER, retry_after_secs)
        .into_response())
}

/// The attempt was refused before its password was checked.
async fn throttled(
    state: &AppState,
    csrf: &CsrfToken,
    login_id: &str,
    ip: ClientIp,
    user_id: Option<u64>,
    t: Throttled,
) -> poem::Result<Response> {
    let by = match t.key.split_once(':').map(|(k, _)| k) {
        Some("ip") => "address",
        Some("dev") => "device",
        _ => "account",
    };
    if state.login_limiter.should_report(&t.key) {
        tracing::warn!(login_id = ?shown(login_id), addr = %ip, by, retry_after = t.retry_after_secs, "login throttled");
        let mut entry = AuditEntry::new(AuditKind::LoginThrottled)
            .login_id(login_id)
            .addr(ip)
            .detail(format!("by {by}; retry after {} s", t.retry_after_secs));
        entry.user_id = user_id;
        state.store.audit(entry).await.or_internal()?;
    } else {
        tracing::debug!(login_id = ?shown(login_id), addr = %ip, by, "login throttled (reported already)");
    }
    let message = format!(
        "{LOGIN_THROTTLED}{}ほど待ってから再度お試しください。",
        t.wait_text()
    );
    refusal(
        state,
        csrf,
        login_id,
        &message,
        StatusCode::TOO_MANY_REQUESTS,
        t.retry_after_secs,
    )
    .await
}

/// The password could not be checked: every hashing slot stayed taken. The
/// attempt is handed back (it was never checked).
async fn busy(
    state: &AppState,
    csrf: &CsrfToken,
    login_id: &str,
    ip: ClientIp,
    reservation: Reservation,
) -> poem::Result<Response> {
    tracing::warn!(login_id = ?shown(login_id), addr = %ip, "login refused: password hashing busy");
    state
        .login_limiter
        .refund(reservation)
        .await
        .or_internal()?;
    refusal(
        state,
        csrf,
        login_id,
        password::BUSY_MESSAGE,
        StatusCode::SERVICE_UNAVAILABLE,
        password::BUSY_RETRY_AFTER_SECS,
    )
    .await
}

#[handler]
pub async fn submit(
    state: Data<&AppState>,
    csrf: &CsrfToken,
    session: &Session,
    req: &Request,
    ip: ClientIp,
    Form(form): Form<LoginForm>,
) -> poem::Result<Response> {
    let state: &AppState = &state;
    let login_id = normalize_halfwidth_field(&form.login_id);
    let lookup = login_id.clone();
    let user = state
        .store
        .read_now(move |tx| users::by_login_id(tx, &lookup))
        .or_internal()?;
    let device_cookie = req
        .cookie()
        .get(login_limiter::DEVICE_COOKIE)
        .map(|c| c.value_str().to_owned());
    let device = match &user {
        Some(u) => state
            .login_limiter
            .device_for(device_cookie.as_deref(), u)
            .await
            .or_internal()?,
        None => None,
    };
    // Counted before the password is checked; refused without checking it.
    let keys = login_limiter::keys_for(ip.0, &login_id, device.as_deref());
    let reservation = match state.login_limiter.reserve(keys).await.or_internal()? {
        Ok(r) => r,
        Err(t) => {
            return throttled(state, csrf, &login_id, ip, user.as_ref().map(|u| u.id), t).await;
        }
    };
    // Unknown IDs cost the same argon2 work as known ones.
    let hash = match &user {
        Some(u) => u.password_hash.clone(),
        None => match state.dummy_hash().await {
            Ok(h) => h,
            Err(e) if password::is_busy(&e) => {
                return busy(state, csrf, &login_id, ip, reservation).await;
            }
            Err(e) => return Err(InternalError(e).into()),
        },
    };
    // Registration stored the password with full-width ASCII made half-width.
    let typed = normalize_halfwidth_field(&form.password);
    let matches = match state.hasher.verify(typed.clone(), hash).await {
        Ok(m) => m,
        Err(e) if password::is_busy(&e) => {
            return busy(state, csrf, &login_id, ip, reservation).await;
        }
        Err(e) => return Err(InternalError(e).into()),
    };
    let known_id = user.as_ref().map(|u| u.id);
    let Some(user) = user.filter(|_| matches) else {
        tracing::warn!(login_id = ?shown(&login_id), addr = %ip, "login failed");
        let mut entry = AuditEntry::new(AuditKind::LoginFailed)
            .login_id(&login_id)
            .addr(ip);
        entry.user_id = known_id;
        state.store.audit(entry).await.or_internal()?;
        let markup = render(state, csrf, &login_id, Some(LOGIN_FAILED)).await?;
        return Ok(markup.with_status(StatusCode::UNAUTHORIZED).into_response());
    };

    // A hash made with older parameters is made again with the current ones.
    let rehash = if password::needs_rehash(&user.password_hash, state.hasher.params()) {
        match state.hasher.hash(typed).await {
            Ok(h) => Some(h),
            Err(e) => {
                // The login goes on; the next one tries again.
                tracing::warn!(user_id = user.id, error = %e, "password re-hash skipped");
                None
            }
        }
    } else {
        None
    };
    let mut entry = AuditEntry::new(AuditKind::LoginSucceeded)
        .user(user.id)
        .login_id(&login_id)
        .addr(ip);
    if device.is_some() {
        entry = entry.detail("known device");
    }
    let (uid, verified_hash) = (user.id, user.password_hash.clone());
    let rehashed = state
        .store
        .write_ok(move |tx| {
            login_attempts::refund(tx, &reservation.keys)?;
            // Only if the password did not change meanwhile.
            let rehashed = match rehash {
                Some(new_hash) => users::upgrade_hash(tx, uid, &verified_hash, new_hash)?,
                None => false,
            };
            let entry = if rehashed {
                let detail = entry.detail.take().map_or_else(
                    || "password re-hashed".to_owned(),
                    |d| format!("{d}; password re-hashed"),
                );
                entry.detail(detail)
            } else {
                entry
            };
            audit::record(tx, entry)?;
            Ok(rehashed)
        })
        .await
        .or_internal()?;

    current_user::sign_in(session, &user);
    let https = state.config.is_https();
    // The browser is remembered for this account (the limiter's device).
    let device_cookie = state
        .login_limiter
        .device_cookie(device_cookie.as_deref(), &user, https)
        .await
        .or_internal()?;
    req.cookie().add(device_cookie);
    // A new CSRF token for the signed-in pages: the cookie is dropped, and
    // the next page the browser asks for is given a fresh one.
    let mut csrf_cookie = Cookie::new_with_str(cookie_names(https).1, "");
    csrf_cookie.set_path("/");
    csrf_cookie.set_http_only(true);
    csrf_cookie.set_secure(https);
    csrf_cookie.set_same_site(SameSite::Lax);
    csrf_cookie.set_max_age(Duration::ZERO);
    req.cookie().add(csrf_cookie);
    tracing::info!(user_id = user.id, addr = %ip, rehashed, "logged in");
    Ok(Redirect::see_other("/mypage").into_response())
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
    let name = user.display_name();
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
