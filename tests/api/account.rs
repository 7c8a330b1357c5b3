//! The login page's other links: a forgotten login ID, a forgotten password
//! (single-use reset link), and the inquiry form.

use mamis::mail::templates;
use reqwest::StatusCode;

use crate::helpers::*;

/// A registered 山田太郎 on an app with its own SMTP server.
async fn registered() -> (TestApp, Applicant) {
    let app = spawn_app().await;
    let who = Applicant::yamada();
    app.start_registration(&who.email).await;
    let mail = app
        .smtp()
        .wait_for(&who.email, templates::REGISTRATION_SUBJECT, MAIL_WAIT)
        .await;
    let link = link_in(&mail.body).expect("link");
    app.finish_registration(&link, &who.fields()).await;
    (app, who)
}

#[tokio::test]
async fn a_forgotten_login_id_is_mailed_and_the_page_does_not_tell_who_is_registered() {
    let (app, who) = registered().await;
    let known = app
        .post_form("/forgot/login-id", &[("email", who.email.as_str())])
        .await;
    known.assert_status(StatusCode::OK);
    let unknown = app
        .post_form("/forgot/login-id", &[("email", "nobody@example.jp")])
        .await;
    assert_eq!(
        strip_tokens(&known.body),
        strip_tokens(&unknown.body),
        "the page differs for a known address"
    );
    let mail = app
        .smtp()
        .wait_for(&who.email, templates::LOGIN_ID_SUBJECT, MAIL_WAIT)
        .await;
    assert!(mail.body.contains(&who.login_id), "{}", mail.body);
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    assert!(app.smtp().mails_to("nobody@example.jp").is_empty());
}

/// The page without its per-request CSRF token.
fn strip_tokens(html: &str) -> String {
    html.split('"')
        .filter(|part| part.len() < 60)
        .collect::<Vec<_>>()
        .join("\"")
}

#[tokio::test]
async fn a_forgotten_password_is_reset_once_through_the_mailed_link() {
    let (app, who) = registered().await;
    // A session logged in with the old password (say, on a lost phone).
    let old = app.browser();
    old.log_in(&who.login_id, PASSWORD)
        .await
        .assert_redirect_to("/mypage");
    old.get("/mypage").await.assert_status(StatusCode::OK);
    app.post_form("/forgot/password", &[("login", who.login_id.as_str())])
        .await
        .assert_status(StatusCode::OK);
    let mail = app
        .smtp()
        .wait_for(&who.email, templates::RESET_SUBJECT, MAIL_WAIT)
        .await;
    let link = mail
        .body
        .lines()
        .find(|l| l.contains("/forgot/password/reset?token="))
        .map(|l| l.trim().to_owned())
        .expect("reset link");
    let visitor = app.browser();
    visitor
        .get(&link)
        .await
        .assert_redirect_to("/forgot/password/new");
    visitor
        .get("/forgot/password/new")
        .await
        .assert_status(StatusCode::OK);

    // The registration rules apply to the new password.
    let weak = visitor
        .post_form(
            "/forgot/password/new",
            &[("password", "short"), ("password_confirm", "short")],
        )
        .await;
    weak.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
    weak.assert_contains("パスワードの形式が正しくありません。");
    let mismatch = visitor
        .post_form(
            "/forgot/password/new",
            &[
                ("password", "NewKusuri1!"),
                ("password_confirm", "NewKusuri2!"),
            ],
        )
        .await;
    mismatch.assert_contains("確認用のパスワードが一致しません。");

    let done = visitor
        .post_form(
            "/forgot/password/new",
            &[
                ("password", "NewKusuri1!"),
                ("password_confirm", "NewKusuri1!"),
            ],
        )
        .await;
    done.assert_status(StatusCode::OK);
    done.assert_contains("新しいパスワードを設定しました。");

    app.browser()
        .log_in(&who.login_id, PASSWORD)
        .await
        .assert_status(StatusCode::UNAUTHORIZED);
    app.browser()
        .log_in(&who.login_id, "NewKusuri1!")
        .await
        .assert_redirect_to("/mypage");

    // The old session ended with the old password.
    old.get("/mypage").await.assert_redirect_to("/login");

    // The link works once.
    let again = app.browser().get(&link).await;
    again.assert_status(StatusCode::GONE);
    again.assert_contains("パスワード再設定をやり直す");
}

#[tokio::test]
async fn a_reset_for_an_unknown_login_id_sends_nothing_and_says_the_same() {
    let (app, who) = registered().await;
    let known = app
        .post_form("/forgot/password", &[("login", who.email.as_str())])
        .await;
    let unknown = app
        .post_form("/forgot/password", &[("login", "nobody0001")])
        .await;
    assert_eq!(strip_tokens(&known.body), strip_tokens(&unknown.body));
    app.smtp()
        .wait_for(&who.email, templates::RESET_SUBJECT, MAIL_WAIT)
        .await;
}

#[tokio::test]
async fn an_inquiry_is_kept_and_mailed_to_the_help_desk() {
    let app = spawn_app().await;
    let empty = app
        .post_form(
            "/inquiry",
            &[
                ("name", ""),
                ("email", "x"),
                ("subject", ""),
                ("message", ""),
            ],
        )
        .await;
    empty.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
    for m in [
        "お名前を入力してください。",
        "件名を入力してください。",
        "お問合せ内容を入力してください。",
    ] {
        empty.assert_contains(m);
    }
    let sent = app
        .post_form(
            "/inquiry",
            &[
                ("name", "山田 太郎"),
                ("email", "yamada@example.jp"),
                ("subject", "登録について"),
                ("message", "<b>旧姓</b>の扱いを教えてください。"),
            ],
        )
        .await;
    sent.assert_status(StatusCode::OK);
    sent.assert_contains("お問合せを受け付けました");
    let mail = app
        .smtp()
        .wait_for(
            "inquiry@mamis.test",
            &format!("{} 登録について", templates::INQUIRY_SUBJECT),
            MAIL_WAIT,
        )
        .await;
    assert!(mail.body.contains("山田 太郎"));
    assert!(mail.body.contains("<b>旧姓</b>の扱いを教えてください。"));
}
