//! The steps after logging in that come before anything else: the terms
//! (利用規約, a first agreement or a new version), a member's first e-mail
//! address with its 確認メール, and the link that confirms an address (also
//! the one mailed by マイページ's change of address).

use maud::{Markup, html};
use poem::{
    IntoResponse, Response, handler,
    http::StatusCode,
    session::Session,
    web::{CsrfToken, Data, Form, Query, Redirect},
};
use serde::Deserialize;

use crate::{
    auth::{
        client::ClientIp,
        current_user::{self, PendingStep},
        guards::SignedIn,
    },
    domain::{EmailField, EmailForm, FieldErrors},
    error::OrInternal,
    service::{
        first_login,
        my_account::{EmailConfirmed, EmailPurpose, EmailRequest},
    },
    state::AppState,
    views::{
        components::{error_summary, message, required_mark, text_field},
        layout::{csrf_input, page as layout},
    },
    web::{
        context, landing, paths,
        register::{email as email_step, terms::MUST_AGREE},
    },
};

/// Sends the session on to the step its account must take next (or its
/// landing page), after recording it in the session.
pub async fn next(state: &AppState, session: &Session, user_id: u64) -> poem::Result<Response> {
    let next = first_login::next_step(&state.store, user_id, &state.texts.version)
        .await
        .or_internal()?;
    let Some((role, step)) = next else {
        session.purge();
        return Ok(Redirect::see_other(paths::LOGIN).into_response());
    };
    current_user::set_pending(session, step);
    Ok(Redirect::see_other(landing(role, step)).into_response())
}

fn terms_page(state: &AppState, csrf: &str, error: Option<&str>) -> Markup {
    let texts = &state.texts;
    let body = html! {
        section.card {
            h1 { "MAMISの利用規約" }
            p { "MAMISをご利用いただくには、利用規約・個人情報の取り扱いへの同意が必要です。内容をご確認のうえ、「利用規約・個人情報の取り扱いに同意する」チェックボックスにチェックを入れてください。" }
            p.hint { "利用規約が改定された場合も、次回ログイン時にあらためて同意をお願いしています。" }
            h2 #terms-title { "利用規約" }
            div.terms tabindex="0" role="region" aria-labelledby="terms-title" { (texts.terms) }
            h2 #privacy-title { "個人情報の取り扱い" }
            div.terms tabindex="0" role="region" aria-labelledby="privacy-title" { (texts.privacy) }
            form method="post" action=(paths::FIRST_TERMS) novalidate {
                (csrf_input(csrf))
                div.field #f-agree {
                    div.checkline {
                        input #agree name="agree" type="checkbox" value="yes" required aria-required="true"
                            aria-describedby="m-agree" aria-invalid=[error.map(|_| "true")];
                        label for="agree" { (required_mark(true)) " 利用規約・個人情報の取り扱いに同意する" }
                    }
                    (message("agree", error, None, false))
                }
                div.actions { button type="submit" { "同意して次へ" } }
            }
            form method="post" action=(paths::LOGOUT) {
                (csrf_input(csrf))
                div.actions { button.secondary type="submit" { "同意せずにログアウト" } }
            }
        }
    };
    layout("MAMISの利用規約", Some(csrf), body)
}

#[handler]
pub async fn terms(
    state: Data<&AppState>,
    csrf: &CsrfToken,
    session: &Session,
    SignedIn(account): SignedIn,
) -> poem::Result<Response> {
    if current_user::pending(session) != Some(PendingStep::Terms) {
        return next(&state, session, account.id).await;
    }
    Ok(terms_page(&state, csrf, None).into_response())
}

#[derive(Deserialize)]
pub struct AgreeForm {
    #[serde(default)]
    agree: Option<String>,
}

#[handler]
pub async fn agree(
    state: Data<&AppState>,
    csrf: &CsrfToken,
    session: &Session,
    ClientIp(ip): ClientIp,
    SignedIn(account): SignedIn,
    Form(form): Form<AgreeForm>,
) -> poem::Result<Response> {
    if current_user::pending(session) != Some(PendingStep::Terms) {
        return next(&state, session, account.id).await;
    }
    if form.agree.as_deref() != Some("yes") {
        return Ok(terms_page(&state, csrf, Some(MUST_AGREE))
            .with_status(StatusCode::UNPROCESSABLE_ENTITY)
            .into_response());
    }
    first_login::agree_terms(&state.store, account.id, &state.texts.version, ip)
        .await
        .or_internal()?;
    next(&state, session, account.id).await
}

/// The e-mail step's form: the address twice, with the registration's
/// form pieces and inline checks.
pub fn email_form(
    csrf: &str,
    action: &str,
    form: &EmailForm,
    errors: &FieldErrors,
    extra: Markup,
    button: &str,
) -> Markup {
    let err = |f: EmailField| errors.message(f.name());
    let (u1, u2) = (
        email_step::check_url(EmailField::Email),
        email_step::check_url(EmailField::EmailConfirm),
    );
    html! {
        (error_summary(errors))
        form method="post" action=(action) novalidate {
            (csrf_input(csrf))
            (extra)
            (text_field(&email_step::input(EmailField::Email, &form.email, err(EmailField::Email), &u1)))
            (text_field(&email_step::input(EmailField::EmailConfirm, &form.email_confirm, err(EmailField::EmailConfirm), &u2)))
            div.actions { button type="submit" { (button) } }
        }
    }
}

fn email_page(csrf: &str, form: &EmailForm, errors: &FieldErrors) -> Markup {
    let body = html! {
        section.card {
            h1 { "メールアドレスの登録" }
            p { "MAMISからのお知らせや、パスワードをお忘れの際のご案内をお送りするメールアドレスを入力してください。入力いただいたメールアドレスに確認メールをお送りします。メール本文のURLを開くと登録が完了します（有効期限：24時間）。" }
            (email_form(csrf, paths::FIRST_EMAIL, form, errors, html! {}, "確認メールを送信する"))
            form method="post" action=(paths::LOGOUT) {
                (csrf_input(csrf))
                div.actions { button.secondary type="submit" { "ログアウト" } }
            }
        }
    };
    layout("メールアドレスの登録", Some(csrf), body)
}

#[handler]
pub async fn email(
    state: Data<&AppState>,
    csrf: &CsrfToken,
    session: &Session,
    SignedIn(account): SignedIn,
) -> poem::Result<Response> {
    if current_user::pending(session) != Some(PendingStep::Email) {
        return next(&state, session, account.id).await;
    }
    Ok(email_page(csrf, &EmailForm::default(), &FieldErrors::default()).into_response())
}

#[handler]
pub async fn send_email(
    state: Data<&AppState>,
    csrf: &CsrfToken,
    session: &Session,
    ClientIp(ip): ClientIp,
    SignedIn(account): SignedIn,
    Form(form): Form<EmailForm>,
) -> poem::Result<Response> {
    if current_user::pending(session) != Some(PendingStep::Email) {
        return next(&state, session, account.id).await;
    }
    let outcome = context::accounts(&state)
        .request_email_confirmation(account.id, &form, EmailPurpose::FirstLogin, None, ip)
        .await
        .or_internal()?;
    Ok(match outcome {
        EmailRequest::Refused(errors) => email_page(csrf, &form.normalized(), &errors)
            .with_status(StatusCode::UNPROCESSABLE_ENTITY)
            .into_response(),
        EmailRequest::Sent | EmailRequest::WrongPassword => {
            Redirect::see_other(paths::FIRST_EMAIL_SENT).into_response()
        }
    })
}

#[handler]
pub fn email_sent(csrf: &CsrfToken) -> Markup {
    let body = html! {
        section.card {
            h1 { "確認メールを送信しました" }
            p { "入力いただいたメールアドレスに「メールアドレスのご確認」をお送りしました。メール本文のURLを開いて、登録を完了してください（有効期限：24時間）。" }
            p { "メールが届かない場合は、迷惑メールフォルダをご確認のうえ、もう一度お試しください。" }
            p { a href=(paths::FIRST_EMAIL) { "メールアドレスを入力しなおす" } }
        }
    };
    layout("確認メールを送信しました", Some(csrf), body)
}

#[derive(Deserialize)]
pub struct TokenQuery {
    #[serde(default)]
    token: String,
}

/// The mailed link: the address becomes the account's. In the browser
/// that is signed in to the account, the next step follows; elsewhere a
/// page says it is done.
#[handler]
pub async fn confirm(
    state: Data<&AppState>,
    session: &Session,
    ClientIp(ip): ClientIp,
    Query(q): Query<TokenQuery>,
) -> poem::Result<Response> {
    let outcome = context::accounts(&state)
        .confirm_email(&q.token, ip)
        .await
        .or_internal()?;
    let here = current_user::signed_in(&state.store, session)
        .await?
        .map(|u| u.id);
    let (title, text) = match outcome {
        EmailConfirmed::Done { user_id, purpose } => {
            if here == Some(user_id) {
                if purpose == EmailPurpose::Change {
                    return Ok(Redirect::see_other(format!("{}?done=email", paths::MYPAGE))
                        .into_response());
                }
                return next(&state, session, user_id).await;
            }
            (
                "メールアドレスを確認しました",
                "メールアドレスの確認が完了しました。ログインして、続きの手続きを行ってください。",
            )
        }
        EmailConfirmed::Taken => (
            "メールアドレスを登録できませんでした",
            "このメールアドレスは、ほかのアカウントで使用されています。別のメールアドレスを入力してください。",
        ),
        EmailConfirmed::LinkInvalid => (
            "このURLは無効です",
            "URLの有効期限（24時間）が切れているか、すでに使用されています。お手数ですが、もう一度メールアドレスを入力してください。",
        ),
    };
    let status = if title == "メールアドレスを確認しました" {
        StatusCode::OK
    } else {
        StatusCode::BAD_REQUEST
    };
    let body = html! {
        section.card {
            h1 { (title) }
            p { (text) }
            p { a href=(paths::LOGIN) { "ログインページへ →" } }
        }
    };
    Ok(layout(title, None, body)
        .with_status(status)
        .into_response())
}
