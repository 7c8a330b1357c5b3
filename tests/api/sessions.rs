//! Sessions end when they should: after the idle time, after the maximum
//! lifetime however busy they are, and at a password reset (every session of
//! the account, the resetting browser's too, and every older reset link),
//! with a notice mail. Under an https base URL the cookies carry the
//! `__Host-` prefix and HSTS is sent.

use std::{
    sync::{
        Arc,
        atomic::{AtomicBool, AtomicUsize, Ordering},
    },
    time::{Duration, Instant},
};

use mamis::{
    mail::templates,
    store::audit::{self, AuditEntry, AuditKind},
};
use reqwest::StatusCode;

use crate::helpers::*;

const NEW_PASSWORD: &str = "NewKusuri7!";

/// A browser signed in as `who`.
async fn signed_in(app: &TestApp, who: &Applicant) -> Browser {
    let b = app.browser();
    b.log_in(&who.login_id, PASSWORD)
        .await
        .assert_redirect_to("/mypage");
    assert!(
        is_signed_in(&b).await,
        "not signed in right after the login"
    );
    b
}

/// True when my page opens; false when it sends the browser to the login.
async fn is_signed_in(b: &Browser) -> bool {
    let page = b.get("/mypage").await;
    match page.status {
        StatusCode::OK => true,
        _ => {
            page.assert_redirect_to("/login");
            false
        }
    }
}

/// Asks for a reset link for `who` and returns it (the `n`-th reset mail).
async fn reset_link(app: &TestApp, who: &Applicant, n: usize) -> String {
    app.browser()
        .post_form("/forgot/password", &[("login", who.login_id.as_str())])
        .await
        .assert_status(StatusCode::OK);
    let started = Instant::now();
    loop {
        let links: Vec<String> = app
            .smtp()
            .mails_to(&who.email)
            .iter()
            .filter(|m| m.subject == templates::RESET_SUBJECT)
            .filter_map(|m| {
                m.body
                    .lines()
                    .find(|l| l.contains("/forgot/password/reset?token="))
                    .map(|l| l.trim().to_owned())
            })
            .collect();
        if links.len() >= n {
            return links[n - 1].clone();
        }
        assert!(started.elapsed() < MAIL_WAIT, "reset mail {n} did not come");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Opens `link` in `b` and sets a new password; returns the final page.
async fn reset_with(b: &Browser, link: &str) -> Page {
    b.get(link).await.assert_redirect_to("/forgot/password/new");
    b.get("/forgot/password/new")
        .await
        .assert_status(StatusCode::OK);
    b.post_form(
        "/forgot/password/new",
        &[
            ("password", NEW_PASSWORD),
            ("password_confirm", NEW_PASSWORD),
        ],
    )
    .await
}

async fn audit_log(app: &TestApp) -> Vec<AuditEntry> {
    app.store
        .read(|tx| audit::since(tx, 0, 1000))
        .await
        .expect("read the audit log")
}

#[tokio::test]
async fn a_signed_in_session_ends_after_the_idle_time_counted_from_the_last_request() {
    let app = spawn_app_with(|c| c.session_idle = Duration::from_secs(2)).await;
    let who = Applicant::yamada();
    app.register(&who).await;
    let b = signed_in(&app, &who).await;

    // Used every half second for twice the idle time: still signed in, so
    // the idle time runs from the last request, not from the login.
    let started = Instant::now();
    while started.elapsed() < Duration::from_secs(4) {
        tokio::time::sleep(Duration::from_millis(500)).await;
        assert!(
            is_signed_in(&b).await,
            "signed out while in use after {:?}",
            started.elapsed()
        );
    }
    // Then left alone for longer than the idle time.
    tokio::time::sleep(Duration::from_millis(2500)).await;
    assert!(!is_signed_in(&b).await, "still signed in after idling");
    // Signing in again works.
    signed_in(&app, &who).await;
}

#[tokio::test]
async fn a_signed_in_session_ends_at_its_maximum_lifetime_however_busy() {
    let app = spawn_app_with(|c| c.session_max = Duration::from_secs(2)).await;
    let who = Applicant::yamada();
    app.register(&who).await;
    let b = signed_in(&app, &who).await;
    let started = Instant::now();
    loop {
        if !is_signed_in(&b).await {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(4),
            "still signed in {:?} after the login, in constant use",
            started.elapsed()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // It stays ended.
    assert!(!is_signed_in(&b).await);
}

#[tokio::test]
async fn a_reset_ends_a_busy_session_and_the_resetting_browser_is_not_signed_in() {
    let app = spawn_app().await;
    let who = Applicant::yamada();
    app.register(&who).await;
    // The attacker's session, kept busy by 8 parallel loops that read my
    // page and write the session (agreeing to the terms stores a value).
    let busy = signed_in(&app, &who).await;
    // The owner is signed in too, in the browser that then does the reset.
    let owner = signed_in(&app, &who).await;
    let link = reset_link(&app, &who, 1).await;

    let stop = Arc::new(AtomicBool::new(false));
    let reset_done = Arc::new(AtomicBool::new(false));
    let served_after_reset = Arc::new(AtomicUsize::new(0));
    let mut loops = Vec::new();
    for i in 0..8 {
        let (b, stop, reset_done, served_after_reset) = (
            busy.clone(),
            stop.clone(),
            reset_done.clone(),
            served_after_reset.clone(),
        );
        loops.push(tokio::spawn(async move {
            let mut n = 0u32;
            while !stop.load(Ordering::SeqCst) {
                let sent_after_reset = reset_done.load(Ordering::SeqCst);
                if (n + i).is_multiple_of(2) {
                    let page = b.get("/mypage").await;
                    if sent_after_reset && page.status == StatusCode::OK {
                        served_after_reset.fetch_add(1, Ordering::SeqCst);
                    }
                } else {
                    b.post_form("/register", &[("agree", "yes")]).await;
                }
                n += 1;
            }
            n
        }));
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    let done = reset_with(&owner, &link).await;
    reset_done.store(true, Ordering::SeqCst);
    done.assert_status(StatusCode::OK);
    done.assert_contains("新しいパスワードを設定しました。");
    // Let the loops run on for a while after the reset.
    tokio::time::sleep(Duration::from_millis(500)).await;
    stop.store(true, Ordering::SeqCst);
    let mut requests = 0;
    for l in loops {
        requests += l.await.expect("a request loop failed");
    }
    assert!(requests > 16, "the session was hardly busy: {requests}");
    assert_eq!(
        served_after_reset.load(Ordering::SeqCst),
        0,
        "my page was served to the old session after the reset"
    );
    assert!(!is_signed_in(&busy).await, "the busy session survived");
    assert!(
        !is_signed_in(&owner).await,
        "the resetting browser is signed in"
    );

    // The old password is dead, the new one works.
    app.browser()
        .log_in(&who.login_id, PASSWORD)
        .await
        .assert_status(StatusCode::UNAUTHORIZED);
    let fresh = app.browser();
    fresh
        .log_in(&who.login_id, NEW_PASSWORD)
        .await
        .assert_redirect_to("/mypage");
    assert!(is_signed_in(&fresh).await);
}

#[tokio::test]
async fn an_older_reset_link_is_refused_after_a_reset_and_a_notice_is_mailed() {
    let app = spawn_app().await;
    let who = Applicant::yamada();
    app.register(&who).await;
    let older = reset_link(&app, &who, 1).await;
    let newer = reset_link(&app, &who, 2).await;
    assert_ne!(older, newer);
    // The older link still opens before the reset…
    let early = app.browser();
    early
        .get(&older)
        .await
        .assert_redirect_to("/forgot/password/new");

    reset_with(&app.browser(), &newer)
        .await
        .assert_contains("新しいパスワードを設定しました。");

    // …but after it, neither opening it nor the form it opened works.
    let refused = app.browser().get(&older).await;
    refused.assert_status(StatusCode::GONE);
    refused.assert_contains("パスワード再設定をやり直す");
    let submit = early
        .post_form(
            "/forgot/password/new",
            &[
                ("password", "Other123!x"),
                ("password_confirm", "Other123!x"),
            ],
        )
        .await;
    submit.assert_status(StatusCode::GONE);
    app.browser()
        .log_in(&who.login_id, "Other123!x")
        .await
        .assert_status(StatusCode::UNAUTHORIZED);

    // The account holder is told, with the time and where to call.
    let notice = app
        .smtp()
        .wait_for(&who.email, templates::PASSWORD_CHANGED_SUBJECT, MAIL_WAIT)
        .await;
    assert!(notice.body.contains(&who.login_id), "{}", notice.body);
    assert!(
        notice.body.contains("（日本時間）に変更されました"),
        "{}",
        notice.body
    );
    assert!(
        notice.body.contains("お心当たりのない場合"),
        "{}",
        notice.body
    );
    assert!(notice.body.contains("0120-000-000"), "{}", notice.body);
    let notices = app
        .smtp()
        .mails_to(&who.email)
        .into_iter()
        .filter(|m| m.subject == templates::PASSWORD_CHANGED_SUBJECT)
        .count();
    assert_eq!(notices, 1);
}

#[tokio::test]
async fn opening_a_reset_link_changing_the_password_and_logging_out_are_audited() {
    let app = spawn_app().await;
    let who = Applicant::yamada();
    app.register(&who).await;
    let link = reset_link(&app, &who, 1).await;
    reset_with(&app.browser(), &link)
        .await
        .assert_status(StatusCode::OK);
    let b = app.browser();
    b.log_in(&who.login_id, NEW_PASSWORD)
        .await
        .assert_redirect_to("/mypage");
    b.get("/mypage").await.assert_status(StatusCode::OK);
    b.post_form("/logout", &[] as &[(&str, &str)])
        .await
        .assert_redirect_to("/login");
    assert!(!is_signed_in(&b).await);

    let log = audit_log(&app).await;
    let find = |kind: AuditKind| {
        log.iter()
            .find(|e| e.kind == kind)
            .unwrap_or_else(|| panic!("no {kind:?} entry in {log:#?}"))
    };
    for kind in [
        AuditKind::PasswordResetLinkOpened,
        AuditKind::PasswordChanged,
        AuditKind::Logout,
    ] {
        let e = find(kind);
        assert_eq!(e.user_id, Some(1), "{e:?}");
        assert_eq!(e.addr.as_deref(), Some("127.0.0.1"), "{e:?}");
    }
    assert_eq!(
        find(AuditKind::PasswordChanged).login_id.as_deref(),
        Some(who.login_id.as_str())
    );
}

#[tokio::test]
async fn a_logged_out_session_cannot_be_written_back_by_a_request_in_flight() {
    let app = spawn_app().await;
    let who = Applicant::yamada();
    app.register(&who).await;
    let b = app.browser();
    let login = b.log_in(&who.login_id, PASSWORD).await;
    login.assert_redirect_to("/mypage");
    let cookie = cookie_named(&login, "mamis_session")
        .and_then(|c| c.split(';').next().map(str::to_owned))
        .expect("session cookie set at the login");
    assert!(is_signed_in(&b).await);
    // Requests that write the session race the logout.
    let writers: Vec<_> = (0..8)
        .map(|_| {
            let b = b.clone();
            tokio::spawn(async move {
                for _ in 0..5 {
                    b.post_form("/register", &[("agree", "yes")]).await;
                }
            })
        })
        .collect();
    b.post_form("/logout", &[] as &[(&str, &str)]).await;
    for w in writers {
        w.await.expect("writer");
    }
    // The old session id, replayed, is not signed in.
    let replay = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client");
    let page = replay
        .get(b.url("/mypage"))
        .header("cookie", cookie)
        .send()
        .await
        .expect("replay");
    assert_eq!(page.status(), StatusCode::SEE_OTHER);
}

/// The `Set-Cookie` header that sets `name`.
fn cookie_named(page: &Page, name: &str) -> Option<String> {
    page.set_cookies()
        .into_iter()
        .find(|c| c.starts_with(&format!("{name}=")))
}

/// Checks the cookies and HSTS of an app served under `https`.
async fn cookies_and_hsts(app: &TestApp, https: bool) {
    // A client without a cookie store: Secure cookies would not come back
    // over the loopback's plain http, so the test carries them itself.
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client");
    let resp = client
        .get(format!("{}/register", app.base))
        .send()
        .await
        .expect("terms page");
    let headers = resp.headers().clone();
    let body = resp.text().await.expect("body");
    let first = Page {
        status: StatusCode::OK,
        headers,
        body,
    };
    let (session_name, csrf_name) = if https {
        ("__Host-mamis_session", "__Host-mamis_csrf")
    } else {
        ("mamis_session", "mamis_csrf")
    };
    let csrf = cookie_named(&first, csrf_name)
        .unwrap_or_else(|| panic!("no {csrf_name}: {:?}", first.set_cookies()));
    let token = csrf_from(&first.body).expect("CSRF token on the terms page");
    let csrf_pair = csrf.split(';').next().expect("cookie pair").to_owned();
    let resp = client
        .post(format!("{}/register", app.base))
        .header("cookie", csrf_pair)
        .form(&[("csrf_token", token.as_str()), ("agree", "yes")])
        .send()
        .await
        .expect("agree");
    let second = Page {
        status: resp.status(),
        headers: resp.headers().clone(),
        body: String::new(),
    };
    second.assert_redirect_to("/register/email");
    let session = cookie_named(&second, session_name)
        .unwrap_or_else(|| panic!("no {session_name}: {:?}", second.set_cookies()));
    for c in [&csrf, &session] {
        let attrs: Vec<String> = c
            .split(';')
            .skip(1)
            .map(|a| a.trim().to_ascii_lowercase())
            .collect();
        assert!(attrs.iter().any(|a| a == "path=/"), "{c}");
        assert!(attrs.iter().any(|a| a == "httponly"), "{c}");
        assert!(!attrs.iter().any(|a| a.starts_with("domain")), "{c}");
        assert_eq!(attrs.iter().any(|a| a == "secure"), https, "{c}");
    }
    // Neither name is used under the other scheme.
    let (other_session, other_csrf) = if https {
        ("mamis_session", "mamis_csrf")
    } else {
        ("__Host-mamis_session", "__Host-mamis_csrf")
    };
    assert!(cookie_named(&first, other_csrf).is_none());
    assert!(cookie_named(&second, other_session).is_none());
    for page in [&first, &second] {
        assert_eq!(
            page.header("strict-transport-security").is_some(),
            https,
            "HSTS under https={https}"
        );
    }
}

#[tokio::test]
async fn under_an_https_base_url_cookies_are_host_prefixed_and_hsts_is_sent() {
    let app = spawn_app_with(|c| c.base_url = "https://mamis.test".into()).await;
    cookies_and_hsts(&app, true).await;
}

#[tokio::test]
async fn under_an_http_base_url_cookies_are_plain_and_hsts_is_not_sent() {
    let app = spawn_app().await;
    cookies_and_hsts(&app, false).await;
}
