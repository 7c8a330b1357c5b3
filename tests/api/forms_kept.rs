//! A long form is never lost: a form page left open longer than the CSRF
//! cookie lives is refused on submit, but shown again with everything typed
//! (never the password), a fresh token and a message asking to send it
//! again; nothing is processed, and the second submit goes through.

use std::time::Duration;

use reqwest::StatusCode;

use crate::helpers::*;

const RESUBMIT: &str =
    "一定時間が経過したため、送信できませんでした。内容をご確認のうえ、もう一度送信してください。";

/// The CSRF cookie's lifetime in these stories, and a wait beyond it.
const LIFETIME: Duration = Duration::from_secs(4);
const PAST_LIFETIME: Duration = Duration::from_secs(5);

async fn app_with_short_csrf_cookies() -> TestApp {
    spawn_app_with(|c| c.csrf_lifetime = LIFETIME).await
}

#[tokio::test]
async fn the_registration_form_left_open_past_the_cookie_comes_back_filled_in() {
    let app = app_with_short_csrf_cookies().await;
    let who = Applicant::yamada();
    let b = app.browser();
    b.start_registration(&who.email).await;
    let link = app.registration_link(&who.email).await;
    b.get(&link).await.assert_redirect_to("/register/form");
    b.get("/register/form").await.assert_status(StatusCode::OK);

    // The person types for longer than the cookie lives, then submits.
    tokio::time::sleep(PAST_LIFETIME).await;
    let page = b.post_form("/register/form", &who.fields()).await;
    page.assert_status(StatusCode::FORBIDDEN);
    page.assert_contains(RESUBMIT);
    page.assert_contains("利用者登録情報の入力");
    for (name, shown) in [
        ("login_id", "doctor01"),
        ("registry_number", "123456"),
        ("name_last", "山田"),
        ("name_first", "太郎"),
        ("kana_last", "ヤマダ"),
        ("address", "文京区本駒込2-28-16"),
        ("mobile", "090-1234-5678"),
    ] {
        assert_eq!(
            input_value(&page.body, name).as_deref(),
            Some(shown),
            "{name}"
        );
    }
    page.assert_contains("日本内科学会");
    assert_eq!(
        selected_option(&page.body, "main_dept").as_deref(),
        Some("01")
    );
    // Never the password.
    assert_eq!(input_value(&page.body, "password").as_deref(), Some(""));
    assert!(!page.body.contains(PASSWORD));
    // A fresh cookie came with the page; nothing was processed.
    assert!(
        page.set_cookies()
            .iter()
            .any(|c| c.starts_with("mamis_csrf=")),
        "{:?}",
        page.set_cookies()
    );
    assert_eq!(app.user_count().await, 0);
    b.get("/register/confirm")
        .await
        .assert_redirect_to("/register/form");

    // Sent again (the page's new token), it goes through.
    b.post_form("/register/form", &who.fields())
        .await
        .assert_redirect_to("/register/confirm");
}

#[tokio::test]
async fn an_inquiry_sent_with_an_expired_cookie_is_shown_again_and_not_sent() {
    let app = app_with_short_csrf_cookies().await;
    // A client that keeps sending the cookie after it ended (a browser
    // whose clock is behind): the server itself finds it expired.
    let client = reqwest::Client::new();
    let url = format!("{}/inquiry", app.base);
    let page = client.get(&url).send().await.expect("page");
    let cookie = page
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|c| c.starts_with("mamis_csrf="))
        .and_then(|c| c.split(';').next())
        .expect("a CSRF cookie")
        .to_owned();
    let token = csrf_from(&page.text().await.expect("body")).expect("token");
    tokio::time::sleep(PAST_LIFETIME).await;

    let fields = [
        ("name", "山田 太郎"),
        ("email", "yamada@example.jp"),
        ("subject", "登録について"),
        ("message", "旧姓の扱いを\n教えてください。"),
    ];
    let mut body = vec![("csrf_token", token.as_str())];
    body.extend(fields);
    let resp = client
        .post(&url)
        .header("Cookie", &cookie)
        .form(&body)
        .send()
        .await
        .expect("submit");
    assert_eq!(resp.status(), StatusCode::FORBIDDEN);
    let fresh_cookie = resp
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|c| c.starts_with("mamis_csrf="))
        .and_then(|c| c.split(';').next())
        .expect("a fresh CSRF cookie")
        .to_owned();
    assert_ne!(fresh_cookie, cookie);
    let html = resp.text().await.expect("body");
    assert!(html.contains(RESUBMIT), "{html}");
    assert_eq!(input_value(&html, "name").as_deref(), Some("山田 太郎"));
    assert_eq!(
        input_value(&html, "email").as_deref(),
        Some("yamada@example.jp")
    );
    assert_eq!(
        input_value(&html, "subject").as_deref(),
        Some("登録について")
    );
    assert!(html.contains("旧姓の扱いを\n教えてください。"));
    let fresh_token = csrf_from(&html).expect("a fresh token");
    assert_ne!(fresh_token, token);
    assert!(app.outbox().await.is_empty(), "nothing was sent");

    // Sent again with the fresh cookie and token, it is received.
    let mut body = vec![("csrf_token", fresh_token.as_str())];
    body.extend(fields);
    let resp = client
        .post(&url)
        .header("Cookie", &fresh_cookie)
        .form(&body)
        .send()
        .await
        .expect("submit again");
    assert_eq!(resp.status(), StatusCode::OK);
    assert!(
        resp.text()
            .await
            .expect("body")
            .contains("お問合せを受け付けました")
    );
}

#[tokio::test]
async fn a_forged_token_on_a_kept_form_changes_nothing_either() {
    let app = spawn_app().await;
    let b = app.browser();
    b.get("/inquiry").await.assert_status(StatusCode::OK);
    let page = b
        .post_form_without_csrf(
            "/inquiry",
            &[
                ("csrf_token", "forged"),
                ("name", "<script>x</script>"),
                ("email", "a@example.jp"),
                ("subject", "s"),
                ("message", "m"),
            ],
        )
        .await;
    page.assert_status(StatusCode::FORBIDDEN);
    page.assert_contains(RESUBMIT);
    page.assert_contains("&lt;script&gt;x&lt;/script&gt;");
    assert!(app.outbox().await.is_empty());
}
