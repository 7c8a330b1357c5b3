//! What the site refuses: forged and oversized requests, markup, used and
//! expired links, double submits, password guessing; and the headers and
//! cookies every answer carries.

use std::time::Duration;

use mamis::{
    auth::login_limiter,
    mail::templates,
    store::{
        login_attempts, now,
        tokens::{self, TokenRecord},
    },
};
use reqwest::StatusCode;
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::TcpStream,
};

use crate::helpers::{
    Applicant, PASSWORD, TestApp, csrf_from, error_of, input_value, spawn_app, spawn_app_with_smtp,
};

const FORBIDDEN_TEXT: &str = "画面の有効期限が切れたか、不正な操作が行われました。";

#[tokio::test]
async fn a_post_without_its_csrf_token_is_refused() {
    let app = spawn_app().await;
    // The visitor has the CSRF cookie (pages were opened) but the request
    // does not carry the token.
    app.get("/register").await;
    let posts: [(&str, &[(&str, &str)]); 4] = [
        ("/register", &[("agree", "yes")]),
        (
            "/register/email",
            &[("email", "a@example.jp"), ("email_confirm", "a@example.jp")],
        ),
        ("/register/check/login_id", &[("login_id", "doctor01")]),
        (
            "/login",
            &[("login_id", "doctor01"), ("password", PASSWORD)],
        ),
    ];
    for (path, pairs) in posts {
        let page = app.post_form_without_csrf(path, pairs).await;
        page.assert_status(StatusCode::FORBIDDEN);
        page.assert_contains(FORBIDDEN_TEXT);
    }
    // Nothing happened: no agreement in the session, no mail.
    app.get("/register/email")
        .await
        .assert_redirect_to("/register");
    assert!(app.outbox().await.is_empty());

    // The same request with the token goes through.
    app.post_form("/register", &[("agree", "yes")])
        .await
        .assert_redirect_to("/register/email");
}

#[tokio::test]
async fn a_post_with_a_wrong_csrf_token_is_refused() {
    let app = spawn_app().await;
    let visitor = app.browser();
    visitor.get("/register").await;

    // A token issued to someone else (a real token, for another cookie).
    let attacker = app.browser();
    let foreign = attacker.csrf_token().await;
    let mine = visitor.csrf_token().await;
    assert_ne!(foreign, mine);

    for token in [foreign.as_str(), "", "AAAA", "not base64!"] {
        let page = visitor
            .post_form_without_csrf("/register", &[("csrf_token", token), ("agree", "yes")])
            .await;
        page.assert_status(StatusCode::FORBIDDEN);
        let htmx = visitor
            .send(
                visitor
                    .client()
                    .post(visitor.url("/register/check/login_id"))
                    .header("X-CSRF-Token", token)
                    .form(&[("login_id", "doctor01")]),
            )
            .await;
        htmx.assert_status(StatusCode::FORBIDDEN);
    }
    // Without any cookie, even a token that once was valid is refused.
    let cookieless = reqwest::Client::new();
    let resp = cookieless
        .post(format!("{}/register", app.base))
        .form(&[("csrf_token", mine.as_str()), ("agree", "yes")])
        .send()
        .await
        .expect("request");
    assert_eq!(resp.status(), StatusCode::FORBIDDEN);

    // The visitor's own token works.
    visitor
        .post_form("/register", &[("agree", "yes")])
        .await
        .assert_redirect_to("/register/email");
}

#[tokio::test]
async fn markup_typed_into_a_field_comes_back_escaped() {
    let app = spawn_app().await;
    let who = Applicant::yamada();
    let b = app.browser();
    b.start_registration(&who.email).await;
    let link = app.registration_link(&who.email).await;
    b.get(&link).await;

    let script = "<script>alert(1)</script>";
    let attribute = "\"><img src=x onerror=alert(1)>";
    // The name is refused (not full-width), the address is free text.
    let fields = who.fields_with(&[
        ("address", script),
        ("name_last", script),
        ("building", attribute),
    ]);
    let page = b.post_form("/register/form", &fields).await;
    page.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
    assert!(error_of(&page.body, "name_last").is_some());
    assert_escaped(&page.body);
    page.assert_contains("&lt;script&gt;alert(1)&lt;/script&gt;");
    // …and is still the value of the inputs, exactly as typed.
    assert_eq!(input_value(&page.body, "address").as_deref(), Some(script));
    assert_eq!(
        input_value(&page.body, "name_last").as_deref(),
        Some(script)
    );
    assert_eq!(
        input_value(&page.body, "building").as_deref(),
        Some(attribute)
    );

    // The inline check's fragment too.
    let frag = b
        .htmx_post("/register/check/name_last", &[("name_last", script)])
        .await;
    assert_escaped(&frag.body);

    // The confirmation page shows the accepted markup as text.
    let fields = who.fields_with(&[("address", script), ("building", attribute)]);
    b.post_form("/register/form", &fields)
        .await
        .assert_redirect_to("/register/confirm");
    let confirm = b.get("/register/confirm").await;
    confirm.assert_status(StatusCode::OK);
    assert_escaped(&confirm.body);
    confirm.assert_contains("&lt;script&gt;alert(1)&lt;/script&gt;");

    // And the suggestion list echoes a typed society as text.
    let list = b
        .htmx_get("/suggest/society?society_query=%3Cscript%3Ealert(1)%3C%2Fscript%3E")
        .await;
    assert_escaped(&list.body);
    list.assert_contains("&lt;script&gt;");
}

#[track_caller]
fn assert_escaped(html: &str) {
    assert!(
        !html.contains("<script>alert(1)</script>"),
        "raw <script> in the page"
    );
    assert!(!html.contains("<img src=x"), "raw <img> in the page");
}

#[tokio::test]
async fn an_oversized_body_is_refused_with_413_and_the_server_keeps_answering() {
    let app = spawn_app().await;
    let big = "x".repeat(200 * 1024);
    let token = app.csrf_token().await;
    let page = app
        .send(
            app.client()
                .post(app.url("/register/form"))
                .header("X-CSRF-Token", token.as_str())
                .form(&[("address", big.as_str())]),
        )
        .await;
    page.assert_status(StatusCode::PAYLOAD_TOO_LARGE);
    page.assert_contains("送信された内容が大きすぎます。");

    // Without a Content-Length (chunked), the limit holds while reading.
    let status = chunked_post(&app, "/register/email", 200 * 1024).await;
    assert_eq!(status, 413, "chunked oversized body");

    app.get("/healthz").await.assert_status(StatusCode::OK);
    app.get("/register").await.assert_status(StatusCode::OK);
}

/// Posts `size` bytes with `Transfer-Encoding: chunked` over a raw socket
/// and returns the status code of the answer.
async fn chunked_post(app: &TestApp, path: &str, size: usize) -> u16 {
    let mut s = TcpStream::connect(app.addr).await.expect("connect");
    let head = format!(
        "POST {path} HTTP/1.1\r\nHost: {}\r\nContent-Type: application/x-www-form-urlencoded\r\n\
         Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n",
        app.addr
    );
    s.write_all(head.as_bytes()).await.expect("write head");
    let chunk = vec![b'a'; 16 * 1024];
    let mut sent = 0;
    while sent < size {
        let frame = [
            format!("{:x}\r\n", chunk.len()).into_bytes(),
            chunk.clone(),
            b"\r\n".to_vec(),
        ]
        .concat();
        if s.write_all(&frame).await.is_err() {
            break; // the server may close early after answering
        }
        sent += chunk.len();
    }
    let _ = s.write_all(b"0\r\n\r\n").await;
    let mut answer = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(10), s.read_to_end(&mut answer)).await;
    let text = String::from_utf8_lossy(&answer);
    text.split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or_else(|| panic!("no HTTP answer: {text:?}"))
}

#[tokio::test]
async fn malformed_bodies_get_a_client_error_not_a_server_error() {
    let app = spawn_app().await;
    // A registration in progress, so that the form endpoints parse bodies.
    let who = Applicant::yamada();
    app.start_registration(&who.email).await;
    let link = app.registration_link(&who.email).await;
    app.get(&link).await;
    let token = app.csrf_token().await;

    let cases: [(&str, Option<&str>, &[u8]); 8] = [
        (
            "/register/form",
            Some("application/json"),
            b"{\"login_id\": 1}",
        ),
        ("/register/form", None, b"login_id=doctor01"),
        ("/register/email", Some("text/plain"), b"email=a@example.jp"),
        (
            "/register/email",
            Some("application/x-www-form-urlencoded"),
            b"email=a%40example.jp&email=b%40example.jp&email_confirm=a",
        ),
        (
            "/register/check/login_id",
            Some("application/x-www-form-urlencoded"),
            b"login_id=%FF%FE%00&\xff\xfe=%%%",
        ),
        (
            "/register/form",
            Some("application/x-www-form-urlencoded"),
            b"login_id=%E3%81&password=%ZZ&&&==&sub_depts=%00",
        ),
        ("/login", Some("multipart/form-data; boundary=x"), b"--x--"),
        ("/register/check/birth_date", None, b"\x00\x01\x02"),
    ];
    for (path, content_type, body) in cases {
        let mut req = app
            .client()
            .post(app.url(path))
            .header("X-CSRF-Token", token.as_str())
            .body(body.to_vec());
        if let Some(ct) = content_type {
            req = req.header("content-type", ct);
        }
        let page = app.send(req).await;
        // The htmx checks answer 200 (htmx swaps nothing else) with the
        // field's message when what arrived reads as a wrong value.
        let field = path.strip_prefix("/register/check/");
        let fragment_with_error = page.status == StatusCode::OK
            && field.is_some_and(|f| error_of(&page.body, f).is_some());
        assert!(
            page.status.is_client_error() || fragment_with_error,
            "{path} with {content_type:?} {:?}: {}\n{}",
            String::from_utf8_lossy(body),
            page.status,
            page.excerpt()
        );
    }
    app.get("/healthz").await.assert_status(StatusCode::OK);
}

#[tokio::test]
async fn an_expired_link_gets_a_410_page_with_a_way_to_start_again() {
    let app = spawn_app().await;
    let (expired, expired_hash) = tokens::new_token();
    let (valid, valid_hash) = tokens::new_token();
    let record = |expires_at: i64| TokenRecord {
        email: "late@example.jp".into(),
        created_at: now() - 25 * 3600,
        expires_at,
        terms_version: "test".into(),
        terms_agreed_at: now() - 25 * 3600,
        consumed_by: None,
        ..TokenRecord::default()
    };
    let (old, fresh) = (record(now() - 3600), record(now() + 3600));
    app.store
        .write_ok(move |tx| {
            tokens::insert(tx, &expired_hash, &old)?;
            tokens::insert(tx, &valid_hash, &fresh)
        })
        .await
        .expect("insert tokens");

    let page = app.get(&format!("/register/verify?token={expired}")).await;
    page.assert_status(StatusCode::GONE);
    page.assert_contains("URLの有効期限が切れています");
    page.assert_contains("href=\"/register\"");
    assert_eq!(page.header("referrer-policy"), Some("no-referrer"));
    // The expired link opened nothing.
    app.get("/register/form")
        .await
        .assert_status(StatusCode::FORBIDDEN);

    // The same kind of link, not expired, opens the form.
    app.get(&format!("/register/verify?token={valid}"))
        .await
        .assert_redirect_to("/register/form");

    // A link that expires while the form is open: the form says so.
    let b = app.browser();
    let who = Applicant::yamada();
    b.start_registration(&who.email).await;
    let link = app.registration_link(&who.email).await;
    b.get(&link).await.assert_redirect_to("/register/form");
    let token = link.rsplit('=').next().unwrap_or_default().to_owned();
    app.store
        .write_ok(move |tx| {
            let h = tokens::hash(&token);
            let mut rec = match tokens::state_in_write(tx, &h)? {
                tokens::TokenState::Valid(rec) => rec,
                other => anyhow::bail!("token not valid: {other:?}"),
            };
            rec.expires_at = now() - 1;
            tokens::insert(tx, &h, &rec)
        })
        .await
        .expect("expire the token");
    let page = b.post_form("/register/form", &who.fields()).await;
    page.assert_status(StatusCode::GONE);
    page.assert_contains("href=\"/register\"");
    assert_eq!(app.user_count().await, 0);
}

#[tokio::test]
async fn a_link_used_for_a_registration_cannot_be_used_again() {
    let app = spawn_app().await;
    let who = Applicant::yamada();
    let b = app.browser();
    b.start_registration(&who.email).await;
    let link = app.registration_link(&who.email).await;
    b.finish_registration(&link, &who.fields()).await;

    let stranger = app.browser();
    for visitor in [&b, &stranger] {
        let page = visitor.get(&link).await;
        page.assert_status(StatusCode::GONE);
        page.assert_contains("このURLは既に使用されています");
        page.assert_contains("href=\"/login\"");
    }
    // Nothing to fill in again: the registrant is shown their completion,
    // anyone else is refused.
    b.get("/register/form")
        .await
        .assert_redirect_to("/register/complete");
    stranger
        .get("/register/form")
        .await
        .assert_status(StatusCode::FORBIDDEN);
    let again = stranger.post_form("/register/form", &who.fields()).await;
    again.assert_status(StatusCode::FORBIDDEN);
    assert_eq!(app.user_count().await, 1);
}

#[tokio::test]
async fn an_unknown_link_gets_a_404_page_with_a_way_to_start_again() {
    let app = spawn_app().await;
    let (never_sent, _) = tokens::new_token();
    for path in [
        format!("/register/verify?token={never_sent}"),
        "/register/verify?token=short".to_owned(),
        "/register/verify".to_owned(),
        format!("/register/verify?token={}", "x".repeat(500)),
    ] {
        let page = app.get(&path).await;
        page.assert_status(StatusCode::NOT_FOUND);
        page.assert_contains("URLが正しくありません");
        page.assert_contains("href=\"/register\"");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn racing_submits_of_the_same_registration_make_exactly_one_account() {
    let app = spawn_app().await;
    let who = Applicant::yamada();
    let b = app.browser();
    b.start_registration(&who.email).await;
    let link = app.registration_link(&who.email).await;
    b.get(&link).await;
    b.post_form("/register/form", &who.fields())
        .await
        .assert_redirect_to("/register/confirm");
    b.get("/register/confirm").await;
    let token = b.csrf_token().await;

    let barrier = std::sync::Arc::new(tokio::sync::Barrier::new(5));
    let mut set = tokio::task::JoinSet::new();
    for _ in 0..5 {
        let (b, token, barrier) = (b.clone(), token.clone(), barrier.clone());
        set.spawn(async move {
            let req = b
                .client()
                .post(b.url("/register/confirm"))
                .form(&[("csrf_token", token.as_str())]);
            barrier.wait().await;
            b.send(req).await
        });
    }
    let mut answers = Vec::new();
    while let Some(page) = set.join_next().await {
        answers.push(page.expect("task"));
    }
    for page in &answers {
        page.assert_redirect_to("/register/complete");
    }
    assert_eq!(
        app.user_count().await,
        1,
        "racing submits made several accounts"
    );
    let completion_mails = app
        .outbox()
        .await
        .iter()
        .filter(|m| m.subject == templates::COMPLETED_SUBJECT)
        .count();
    assert_eq!(completion_mails, 1);
    let done = b.get("/register/complete").await;
    done.assert_status(StatusCode::OK);
    done.assert_contains(&who.login_id);

    // Two tabs: the second, submitted later, also lands on the completion.
    b.post_form("/register/confirm", &[] as &[(&str, &str)])
        .await
        .assert_redirect_to("/register/complete");
    assert_eq!(app.user_count().await, 1);
}

#[tokio::test]
async fn every_answer_carries_the_security_headers() {
    let app = spawn_app().await;
    for path in [
        "/login",
        "/register",
        "/register/email",
        "/register/verify?token=unknown",
        "/no-such-page",
    ] {
        let page = app.get(path).await;
        let csp = page
            .header("content-security-policy")
            .unwrap_or_else(|| panic!("{path}: no CSP"));
        for directive in [
            "script-src 'self'",
            "frame-ancestors 'none'",
            "base-uri 'none'",
        ] {
            assert!(
                csp.contains(directive),
                "{path}: CSP lacks {directive}: {csp}"
            );
        }
        assert!(!csp.contains("unsafe-inline"), "{path}: {csp}");
        assert_eq!(
            page.header("x-content-type-options"),
            Some("nosniff"),
            "{path}"
        );
        if path.starts_with("/register") {
            assert_eq!(
                page.header("referrer-policy"),
                Some("no-referrer"),
                "{path}"
            );
        }
        assert!(
            page.header("strict-transport-security").is_none(),
            "HSTS over http"
        );
    }
    // No inline script or style in a page.
    let page = app.get("/register").await;
    assert!(!page.body.contains("<script>"), "inline script");
    assert!(!page.body.contains("<style"), "inline style");
    assert!(!page.body.contains(" style=\""), "inline style attribute");
    assert!(!page.body.contains(" onclick="), "inline handler");
}

#[tokio::test]
async fn the_session_and_csrf_cookies_are_http_only_and_same_site() {
    let app = spawn_app().await;
    let page = app.get("/register").await;
    let csrf = cookie(&page.set_cookies(), "mamis_csrf");
    let page = app.post_form("/register", &[("agree", "yes")]).await;
    let session = cookie(&page.set_cookies(), "mamis_session");
    for c in [csrf, session] {
        let lower = c.to_ascii_lowercase();
        assert!(lower.contains("httponly"), "not HttpOnly: {c}");
        assert!(
            lower.contains("samesite=lax") || lower.contains("samesite=strict"),
            "no SameSite: {c}"
        );
        assert!(lower.contains("path=/"), "{c}");
    }
}

fn cookie(set_cookies: &[String], name: &str) -> String {
    set_cookies
        .iter()
        .find(|c| c.starts_with(&format!("{name}=")))
        .unwrap_or_else(|| panic!("no {name} cookie set: {set_cookies:?}"))
        .clone()
}

#[tokio::test]
async fn a_wrong_password_and_an_unknown_login_id_get_the_same_answer() {
    let app = spawn_app().await;
    let who = Applicant::yamada();
    app.register(&who).await;

    let b = app.browser();
    let wrong_password = b.log_in(&who.login_id, "Wrong12!x").await;
    let unknown_id = b.log_in("nobody0001", PASSWORD).await;
    wrong_password.assert_status(StatusCode::UNAUTHORIZED);
    unknown_id.assert_status(StatusCode::UNAUTHORIZED);
    let message = "ログインIDまたはパスワードが正しくありません。";
    wrong_password.assert_contains(message);
    unknown_id.assert_contains(message);
    let summary = |p: &crate::helpers::Page| {
        let start = p.body.find("error-summary").expect("no error summary");
        let end = p.body[start..].find("</div>").expect("unclosed") + start;
        p.body[start..end].to_owned()
    };
    assert_eq!(summary(&wrong_password), summary(&unknown_id));
    // No session was opened.
    b.get("/mypage").await.assert_redirect_to("/login");
    // The right password works.
    b.log_in(&who.login_id, PASSWORD)
        .await
        .assert_redirect_to("/mypage");
}

#[tokio::test]
async fn repeated_failed_logins_for_one_id_are_throttled() {
    let app = spawn_app().await;
    let who = Applicant::yamada();
    app.register(&who).await;

    let b = app.browser();
    for attempt in 1..=5 {
        let page = b.log_in(&who.login_id, &format!("Wrong{attempt}!x")).await;
        page.assert_status(StatusCode::UNAUTHORIZED);
    }
    let sixth = b.log_in(&who.login_id, "Wrong6!x").await;
    sixth.assert_status(StatusCode::TOO_MANY_REQUESTS);
    sixth.assert_contains("しばらくの間ログインできません");
    sixth.assert_contains("5秒ほど待ってから再度お試しください");
    let wait = |p: &crate::helpers::Page| -> i64 {
        p.header("retry-after")
            .and_then(|v| v.parse().ok())
            .expect("no Retry-After")
    };
    assert!((1..=5).contains(&wait(&sixth)), "{:?}", sixth.headers);
    // Even the right password waits now, from any browser it never used.
    let other = app.browser();
    other
        .log_in(&who.login_id, PASSWORD)
        .await
        .assert_status(StatusCode::TOO_MANY_REQUESTS);
    // Other accounts are not locked by it.
    let second = Applicant::numbered(2);
    app.register(&second).await;
    other
        .log_in(&second.login_id, PASSWORD)
        .await
        .assert_redirect_to("/mypage");

    // Not a lock: once the wait is over (the clock moved on here by ageing
    // the stored counter) one more try is allowed, and the next wait is
    // twice as long.
    let key = login_limiter::account_key(&who.login_id);
    let age = |secs: i64| {
        let key = key.clone();
        app.store.write_ok(move |tx| {
            let mut a = login_attempts::get_in_write(tx, &key)?.expect("a counter");
            a.last_ms -= secs * 1000;
            login_attempts::put(tx, &key, &a)
        })
    };
    age(5).await.expect("age the counter");
    b.log_in(&who.login_id, "Wrong7!x")
        .await
        .assert_status(StatusCode::UNAUTHORIZED);
    let eighth = b.log_in(&who.login_id, "Wrong8!x").await;
    eighth.assert_status(StatusCode::TOO_MANY_REQUESTS);
    assert!((6..=10).contains(&wait(&eighth)), "{:?}", eighth.headers);
    eighth.assert_contains("10秒ほど待って");
    age(10).await.expect("age the counter");
    b.log_in(&who.login_id, PASSWORD)
        .await
        .assert_redirect_to("/mypage");
}

#[tokio::test]
async fn the_local_outbox_page_does_not_exist_when_smtp_is_configured() {
    let app = spawn_app().await;
    app.get("/dev/outbox")
        .await
        .assert_status(StatusCode::NOT_FOUND);
    let local = spawn_app_with_smtp(None).await;
    local
        .get(&format!("/dev/outbox?key={}", local.dev_outbox_key))
        .await
        .assert_redirect_to("/dev/outbox");
    local.get("/dev/outbox").await.assert_status(StatusCode::OK);
}

#[tokio::test]
async fn health_checks_assets_and_suggestions_set_no_cookie() {
    let app = spawn_app().await;
    let b = app.browser();
    let login = b.get("/login").await;
    login.assert_status(StatusCode::OK);
    let css = login
        .body
        .split('"')
        .find(|s| s.starts_with("/assets/") && s.ends_with(".css"))
        .expect("a stylesheet")
        .to_owned();
    for path in [
        "/healthz",
        css.as_str(),
        "/suggest/society?society_query=ないか",
    ] {
        // With the visitor's cookies and without any.
        let with = b.get(path).await;
        with.assert_status(StatusCode::OK);
        assert!(
            with.set_cookies().is_empty(),
            "{path}: {:?}",
            with.set_cookies()
        );
        let bare = reqwest::get(format!("{}{path}", app.base))
            .await
            .expect("request");
        assert_eq!(bare.status(), StatusCode::OK, "{path}");
        assert!(bare.headers().get("set-cookie").is_none(), "{path}");
        // The security headers are still there.
        assert_eq!(with.header("x-content-type-options"), Some("nosniff"));
    }
}

#[tokio::test]
async fn a_valid_csrf_cookie_is_not_set_again() {
    let app = spawn_app().await;
    let b = app.browser();
    let first = b.get("/login").await;
    assert!(
        first
            .set_cookies()
            .iter()
            .any(|c| c.starts_with("mamis_csrf=")),
        "{:?}",
        first.set_cookies()
    );
    let token = b.csrf_token().await;
    for path in ["/login", "/register", "/inquiry"] {
        let again = b.get(path).await;
        again.assert_status(StatusCode::OK);
        assert!(
            !again.set_cookies().iter().any(|c| c.contains("mamis_csrf")),
            "{path}: {:?}",
            again.set_cookies()
        );
        // Every page carries the same token for the same cookie.
        assert_eq!(csrf_from(&again.body).as_deref(), Some(token.as_str()));
    }
    // And it still works.
    b.post_form("/register", &[("agree", "yes")])
        .await
        .assert_redirect_to("/register/email");
}
