//! The links on the login page for forgotten credentials:
//! ログインIDをお忘れの方 (the ID is mailed to the registered address) and
//! パスワードをお忘れの方 (a one-hour, single-use reset link; then a new
//! password under the registration rules). Both answer the same page
//! whether or not the address or ID is known.

use std::net::IpAddr;

use base64::{Engine as _, engine::general_purpose::URL_SAFE_NO_PAD};
use maud::{Markup, html};
use poem::{
    IntoResponse, Response, handler,
    http::StatusCode,
    session::Session,
    web::{CsrfToken, Data, Form, Query, Redirect},
};
use serde::Deserialize;

use crate::{
    app::AppState,
    auth::client::ClientIp,
    domain::{Email, FieldError, FieldErrors, LoginId, Password},
    error::OrInternal,
    mail::templates,
    store::{
        audit::{self, AuditEntry, AuditKind},
        now, outbox, resets, tokens, users,
    },
    text::normalize_halfwidth_field,
    views::{
        components::{Input, error_summary, text_field},
        layout::{csrf_input, page as layout},
    },
};

const FORGOT_ID: &str = "/forgot/login-id";
const FORGOT_PASSWORD: &str = "/forgot/password";
pub const RESET_LINK: &str = "/forgot/password/reset";
const NEW_PASSWORD: &str = "/forgot/password/new";
const RESET_KEY: &str = "reset";
const MAILS_PER_TARGET: u32 = 5;

fn card(title: &str, csrf: Option<&str>, content: Markup) -> Markup {
    layout(
        title,
        csrf,
        html! { section.card { h1 { (title) } (content) } },
    )
}

fn sent_page(title: &str, text: &str) -> Markup {
    card(
        title,
        None,
        html! {
            p.lead { (text) }
            p { "メールが届かない場合は、入力内容に誤りがないかご確認のうえ、もう一度お試しいただくか、お問合せ窓口までご連絡ください。" }
            p.actions { a.button.secondary href="/login" { "ログインページに戻る" } }
        },
    )
}

fn one_field_form(title: &str, lead: &str, action: &str, csrf: &str, input: &Input) -> Markup {
    let errors = FieldErrors::from(
        input
            .error
            .map(|e| FieldError::new(input.name, input.label, e)),
    );
    card(
        title,
        Some(csrf),
        html! {
            p { (lead) }
            (error_summary(&errors))
            form method="post" action=(action) novalidate {
                (csrf_input(csrf))
                (text_field(input))
                div.actions {
                    button type="submit" { "送信する" }
                    a.button.secondary href="/login" { "ログインページに戻る" }
                }
            }
        },
    )
}

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
pub fn forgot_login_id(csrf: &CsrfToken) -> Markup {
    one_field_form(
        "ログインIDをお忘れの方",
        "ご登録のメールアドレスを入力してください。ログインIDをメールでお知らせします。",
        FORGOT_ID,
        csrf,
        &email_input("", None),
    )
}

#[derive(Deserialize)]
pub struct OneField {
    #[serde(default)]
    email: String,
    #[serde(default)]
    login: String,
}

/// Why a reminder may not be mailed now, if it may not: too many for one
/// target lately, or the client has used up its hourly allowance
/// (`mail::limit`). Counted whether or not the target exists, so that the
/// limits tell nothing about who is registered.
fn throttled(state: &AppState, target: &str, client: IpAddr) -> Option<&'static str> {
    let key = format!("forgot:{}", target.to_ascii_lowercase());
    if state.throttle.is_blocked(&key, MAILS_PER_TARGET) {
        tracing::warn!(%client, "reminder not sent: too many for one target");
        return Some("too many for this target");
    }
    if !state.mail_limit.allow(client) {
        tracing::warn!(%client, "reminder not sent: too many mail requests from one client");
        return Some("too many from this client");
    }
    state.throttle.fail(&key);
    None
}

/// The audit detail of a reminder request.
fn reminder_detail(known: bool, limited: Option<&str>) -> String {
    match (known, limited) {
        (true, None) => "mail queued".to_owned(),
        (true, Some(why)) => format!("not sent: {why}"),
        (false, None) => "no such account".to_owned(),
        (false, Some(why)) => format!("no such account; {why}"),
    }
}

#[handler]
pub async fn forgot_login_id_submit(
    state: Data<&AppState>,
    csrf: &CsrfToken,
    ClientIp(ip): ClientIp,
    Form(f): Form<OneField>,
) -> poem::Result<Response> {
    let typed = normalize_halfwidth_field(&f.email);
    let email = match Email::parse(&typed) {
        Ok(e) => e.as_str().to_owned(),
        Err(msg) => {
            let page = one_field_form(
                "ログインIDをお忘れの方",
                "ご登録のメールアドレスを入力してください。ログインIDをメールでお知らせします。",
                FORGOT_ID,
                csrf,
                &email_input(&typed, Some(&msg)),
            );
            return Ok(page
                .with_status(StatusCode::UNPROCESSABLE_ENTITY)
                .into_response());
        }
    };
    // The same work whether or not the address is known: one read, the
    // mail rendered, one write transaction (the audit entry, and the mail
    // only for a known address), so that timing does not tell them apart.
    let limited = throttled(&state, &email, ip);
    let lookup = email.clone();
    let user = state
        .store
        .read(move |tx| users::by_email(tx, &lookup))
        .await
        .or_internal()?;
    let (subject, body) = templates::login_id_reminder(
        &state.config,
        user.as_ref().map_or("", |u| u.login_id.as_str()),
    );
    let queued = state
        .store
        .write_ok(move |tx| {
            let mut entry = AuditEntry::new(AuditKind::LoginIdReminderRequested)
                .login_id(email)
                .addr(ip)
                .detail(reminder_detail(user.is_some(), limited));
            let mut queued = false;
            if let Some(u) = &user {
                entry = entry.user(u.id);
                if limited.is_none() {
                    outbox::enqueue(tx, &u.email, &subject, body)?;
                    queued = true;
                }
            }
            audit::record(tx, entry)?;
            Ok(queued)
        })
        .await
        .or_internal()?;
    if queued {
        state.mail.wake();
    }
    Ok(sent_page(
        "ログインIDをお忘れの方",
        "ご入力いただいたメールアドレスが登録されている場合は、ログインIDをお知らせするメールを送信しました。",
    )
    .into_response())
}

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

const FORGOT_PASSWORD_LEAD: &str = "ログインIDまたはご登録のメールアドレスを入力してください。パスワード再設定用のURLをメールでお送りします。";

#[handler]
pub fn forgot_password(csrf: &CsrfToken) -> Markup {
    one_field_form(
        "パスワードをお忘れの方",
        FORGOT_PASSWORD_LEAD,
        FORGOT_PASSWORD,
        csrf,
        &login_input("", None),
    )
}

#[handler]
pub async fn forgot_password_submit(
    state: Data<&AppState>,
    csrf: &CsrfToken,
    ClientIp(ip): ClientIp,
    Form(f): Form<OneField>,
) -> poem::Result<Response> {
    let typed = normalize_halfwidth_field(&f.login);
    if typed.is_empty() || typed.len() > 100 {
        let page = one_field_form(
            "パスワードをお忘れの方",
            FORGOT_PASSWORD_LEAD,
            FORGOT_PASSWORD,
            csrf,
            &login_input(
                &typed,
                Some("ログインIDまたはメールアドレスを入力してください。"),
            ),
        );
        return Ok(page
            .with_status(StatusCode::UNPROCESSABLE_ENTITY)
            .into_response());
    }
    // The same work whether or not the account is known (see above).
    let limited = throttled(&state, &typed, ip);
    let lookup = typed.clone();
    let user = state
        .store
        .read(move |tx| match users::by_login_id(tx, &lookup)? {
            Some(u) => Ok(Some(u)),
            None if lookup.contains('@') => users::by_email(tx, &lookup),
            None => Ok(None),
        })
        .await
        .or_internal()?;
    let (token, h) = tokens::new_token();
    let link = format!("{}{RESET_LINK}?token={token}", state.config.base_url);
    let (subject, body) = templates::password_reset(&state.config, &link);
    let queued = state
        .store
        .write_ok(move |tx| {
            let mut entry = AuditEntry::new(AuditKind::PasswordResetRequested)
                .login_id(typed)
                .addr(ip)
                .detail(reminder_detail(user.is_some(), limited));
            let mut queued = false;
            if let Some(u) = &user {
                entry = entry.user(u.id);
                if limited.is_none() {
                    resets::insert(tx, &h, u.id)?;
                    outbox::enqueue(tx, &u.email, &subject, body)?;
                    queued = true;
                }
            }
            audit::record(tx, entry)?;
            Ok(queued)
        })
        .await
        .or_internal()?;
    if queued {
        state.mail.wake();
    }
    Ok(sent_page(
        "パスワードをお忘れの方",
        "ご入力いただいたログインIDまたはメールアドレスが登録されている場合は、パスワード再設定用のURLをメールで送信しました。URLの有効期限は送信後1時間です。",
    )
    .into_response())
}

fn link_problem() -> Response {
    card(
        "URLが無効です",
        None,
        html! {
            p.lead role="alert" { "このURLは有効期限が切れているか、既に使用されています。お手数ですが、もう一度パスワード再設定のお手続きを行ってください。" }
            div.actions {
                a.button href=(FORGOT_PASSWORD) { "パスワード再設定をやり直す" }
                a.button.secondary href="/login" { "ログインページに戻る" }
            }
        },
    )
    .with_status(StatusCode::GONE)
    .into_response()
}

#[derive(Deserialize)]
pub struct TokenQuery {
    #[serde(default)]
    token: String,
}

#[handler]
pub async fn open_reset_link(
    state: Data<&AppState>,
    session: &Session,
    ClientIp(ip): ClientIp,
    Query(q): Query<TokenQuery>,
) -> poem::Result<Response> {
    if q.token.is_empty() || q.token.len() > 100 {
        return Ok(link_problem());
    }
    let h = tokens::hash(&q.token);
    let valid = state
        .store
        .read(move |tx| resets::valid(tx, &h))
        .await
        .or_internal()?;
    let Some(user_id) = valid else {
        return Ok(link_problem());
    };
    state
        .store
        .audit(
            AuditEntry::new(AuditKind::PasswordResetLinkOpened)
                .user(user_id)
                .addr(ip),
        )
        .await
        .or_internal()?;
    session.set(RESET_KEY, URL_SAFE_NO_PAD.encode(h));
    Ok(Redirect::see_other(NEW_PASSWORD).into_response())
}

fn reset_hash(session: &Session) -> Option<[u8; 32]> {
    session
        .get::<String>(RESET_KEY)
        .and_then(|s| URL_SAFE_NO_PAD.decode(s).ok())
        .and_then(|v| <[u8; 32]>::try_from(v.as_slice()).ok())
}

fn new_password_page(csrf: &str, errors: &FieldErrors) -> Markup {
    let err = |n: &str| errors.message(n);
    let pw = Input {
        name: "password",
        label: "新しいパスワード",
        required: true,
        hint: Some(crate::domain::Field::Password.hint()),
        error: err("password"),
        kind: "password",
        autocomplete: Some("new-password"),
        maxlength: Some(128),
        ..Input::default()
    };
    let confirm = Input {
        name: "password_confirm",
        label: "新しいパスワード（確認用）",
        required: true,
        error: err("password_confirm"),
        kind: "password",
        autocomplete: Some("new-password"),
        maxlength: Some(128),
        ..Input::default()
    };
    card(
        "パスワードの再設定",
        Some(csrf),
        html! {
            (error_summary(errors))
            form method="post" action=(NEW_PASSWORD) novalidate {
                (csrf_input(csrf))
                (text_field(&pw))
                (text_field(&confirm))
                div.checkline {
                    input #show-password type="checkbox" data-show-password="password password_confirm";
                    label for="show-password" { "パスワードを表示" }
                }
                div.actions { button type="submit" { "パスワードを再設定する" } }
            }
        },
    )
}

#[handler]
pub async fn new_password(
    state: Data<&AppState>,
    csrf: &CsrfToken,
    session: &Session,
) -> poem::Result<Response> {
    let Some(h) = reset_hash(session) else {
        return Ok(link_problem());
    };
    let valid = state
        .store
        .read(move |tx| resets::valid(tx, &h))
        .await
        .or_internal()?;
    if valid.is_none() {
        session.remove(RESET_KEY);
        return Ok(link_problem());
    }
    Ok(new_password_page(csrf, &FieldErrors::default()).into_response())
}

#[derive(Deserialize)]
pub struct NewPasswordForm {
    #[serde(default)]
    password: String,
    #[serde(default)]
    password_confirm: String,
}

#[handler]
pub async fn new_password_submit(
    state: Data<&AppState>,
    csrf: &CsrfToken,
    session: &Session,
    ClientIp(ip): ClientIp,
    Form(f): Form<NewPasswordForm>,
) -> poem::Result<Response> {
    let Some(h) = reset_hash(session) else {
        return Ok(link_problem());
    };
    let user_id = state
        .store
        .read(move |tx| resets::valid(tx, &h))
        .await
        .or_internal()?;
    let Some(user_id) = user_id else {
        session.remove(RESET_KEY);
        return Ok(link_problem());
    };
    let user = state
        .store
        .read(move |tx| users::get(tx, user_id))
        .await
        .or_internal()?;
    let Some(user) = user else {
        return Ok(link_problem());
    };
    let mut errors = FieldErrors::default();
    let parsed = Password::parse(&f.password).and_then(|p| match LoginId::parse(&user.login_id) {
        Ok(id) => p.check_against(&id).map(|()| p),
        Err(_) => Ok(p),
    });
    match &parsed {
        Err(m) => errors.push(FieldError::new("password", "新しいパスワード", m.clone())),
        Ok(_)
            if normalize_halfwidth_field(&f.password)
                != normalize_halfwidth_field(&f.password_confirm) =>
        {
            errors.push(FieldError::new(
                "password_confirm",
                "新しいパスワード（確認用）",
                "確認用のパスワードが一致しません。",
            ))
        }
        Ok(_) => {}
    }
    let pw = match parsed {
        Ok(p) if errors.is_empty() => p,
        _ => {
            return Ok(new_password_page(csrf, &errors)
                .with_status(StatusCode::UNPROCESSABLE_ENTITY)
                .into_response());
        }
    };
    let hash = state
        .hasher
        .hash(pw.expose_secret().to_owned())
        .await
        .or_internal()?;
    let config = state.config.clone();
    // The token, the new hash with its bumped session generation (which ends
    // every session of the account and every other reset link), the notice
    // mail and the audit entry: one transaction.
    let saved = state
        .store
        .write_ok(move |tx| {
            let Some(id) = resets::consume(tx, &h)? else {
                return Ok(false);
            };
            let Some(user) = users::set_password(tx, id, hash)? else {
                return Ok(false);
            };
            let (subject, body) = templates::password_changed(&config, &user.login_id, now());
            outbox::enqueue(tx, &user.email, &subject, body)?;
            audit::record(
                tx,
                AuditEntry::new(AuditKind::PasswordChanged)
                    .user(id)
                    .login_id(&user.login_id)
                    .addr(ip)
                    .detail("reset link"),
            )?;
            Ok(true)
        })
        .await
        .or_internal()?;
    if !saved {
        session.remove(RESET_KEY);
        return Ok(link_problem());
    }
    state.mail.wake();
    // This browser is not signed in afterwards either, whoever it was.
    session.purge();
    tracing::info!(user_id, "password reset");
    Ok(card(
        "パスワードを再設定しました",
        None,
        html! {
            p.lead { "新しいパスワードを設定しました。ログインページよりログインしてください。" }
            p.actions { a.button href="/login" { "ログインページへ" } }
        },
    )
    .into_response())
}
