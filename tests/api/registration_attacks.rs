//! The registration under attack (issue 6, findings 4, 11, 12 and 13): what a
//! prober learns from the inline checks, a registered 医籍登録番号, bytes
//! that are not UTF-8, control characters, common passwords, and the audit
//! trail of each step.

use mamis::{
    service::registration::{LOOKUPS_PER_LINK, LOOKUPS_SPENT_NOTE},
    store::audit::{self, AuditKind},
};
use reqwest::StatusCode;

use crate::helpers::{Applicant, Browser, TestApp, error_of, spawn_app, spawn_app_with};

const TAKEN: &str = "このログインIDは既に使用されています。別のログインIDを入力してください。";
const COMMON: &str =
    "よく使われているパスワードのため使用できません。別のパスワードを入力してください。";
const BAD_BYTES: &str = "正しく読み取れない文字（文字化けした文字）が含まれています";

/// A second applicant: own address and login ID, yamada's 医籍登録番号.
fn same_registry_number() -> Applicant {
    Applicant {
        email: "nisemono@example.jp".into(),
        login_id: "nisemono01".into(),
        ..Applicant::yamada()
    }
}

/// A browser whose session opened the mailed link of `who`.
async fn verified(app: &TestApp, who: &Applicant) -> Browser {
    let b = app.browser();
    b.start_registration(&who.email).await;
    let link = app.registration_link(&who.email).await;
    b.get(&link).await.assert_redirect_to("/register/form");
    b
}

/// Posts raw bytes as a urlencoded form, with the browser's CSRF token.
async fn post_raw(b: &Browser, path: &str, body: Vec<u8>, htmx: bool) -> crate::helpers::Page {
    let token = b.csrf_token().await;
    let mut req = b
        .client()
        .post(b.url(path))
        .header("content-type", "application/x-www-form-urlencoded")
        .header("X-CSRF-Token", token)
        .body(body);
    if htmx {
        req = req.header("HX-Request", "true");
    }
    b.send(req).await
}

fn urlencoded(fields: &[(String, String)]) -> String {
    let mut s = url::form_urlencoded::Serializer::new(String::new());
    for (k, v) in fields {
        s.append_pair(k, v);
    }
    s.finish()
}

#[tokio::test]
async fn a_prober_with_only_a_csrf_cookie_learns_nothing_from_the_inline_checks() {
    let app = spawn_app().await;
    app.register(&Applicant::yamada()).await;

    let prober = app.browser();
    prober.get("/register").await;
    for (path, field, taken, free) in [
        (
            "/register/check/login_id",
            "login_id",
            "doctor01",
            "doctor99",
        ),
        (
            "/register/check/login_id?live=1",
            "login_id",
            "DOCTOR01",
            "doctor98",
        ),
        (
            "/register/check/registry_number",
            "registry_number",
            "123456",
            "654321",
        ),
    ] {
        let a = prober.htmx_post(path, &[(field, taken)]).await;
        let b = prober.htmx_post(path, &[(field, free)]).await;
        a.assert_status(StatusCode::OK);
        assert_eq!(error_of(&a.body, field), None, "{path}: {}", a.body);
        assert_eq!(
            a.body, b.body,
            "{path}: a registered {field} is answered differently"
        );
    }
    // A format error is still said.
    let bad = prober
        .htmx_post("/register/check/login_id", &[("login_id", "ab")])
        .await;
    assert_eq!(
        error_of(&bad.body, "login_id").as_deref(),
        Some("ログインIDの形式が正しくありません。")
    );
}

#[tokio::test]
async fn inside_a_verified_registration_the_login_id_check_works_but_is_limited() {
    let app = spawn_app().await;
    app.register(&Applicant::yamada()).await;
    let who = Applicant::numbered(1);
    let b = verified(&app, &who).await;
    let check = |id: String| {
        let b = b.clone();
        async move {
            b.htmx_post("/register/check/login_id?live=1", &[("login_id", id)])
                .await
        }
    };

    assert_eq!(
        error_of(&check("doctor01".into()).await.body, "login_id").as_deref(),
        Some(TAKEN)
    );
    // Asking again about the same ID costs nothing.
    for _ in 0..3 {
        assert_eq!(
            error_of(&check("doctor01".into()).await.body, "login_id").as_deref(),
            Some(TAKEN)
        );
    }
    for n in 1..LOOKUPS_PER_LINK {
        let frag = check(format!("probe{n:04}")).await;
        assert_eq!(error_of(&frag.body, "login_id"), None, "{}", frag.body);
    }
    // The budget is spent: a taken ID is no longer told apart.
    let spent = check("doctor01".into()).await;
    assert_eq!(error_of(&spent.body, "login_id"), None, "{}", spent.body);
    spent.assert_contains(LOOKUPS_SPENT_NOTE);

    // Opening the same link in a new session does not give a new budget.
    let again = app.browser();
    again.get("/register").await;
    let link = app.registration_link(&who.email).await;
    again.get(&link).await.assert_redirect_to("/register/form");
    let frag = again
        .htmx_post("/register/check/login_id", &[("login_id", "doctor01")])
        .await;
    assert_eq!(error_of(&frag.body, "login_id"), None, "{}", frag.body);

    // The registration still completes, and a taken ID is still refused at
    // the final write.
    let page = b.post_form("/register/form", &who.fields()).await;
    page.assert_redirect_to("/register/confirm");
    let taken = b
        .post_form(
            "/register/form",
            &who.fields_with(&[("login_id", "doctor01")]),
        )
        .await;
    taken.assert_redirect_to("/register/confirm");
    let refused = b
        .post_form("/register/confirm", &[] as &[(&str, &str)])
        .await;
    refused.assert_status(StatusCode::CONFLICT);
    assert_eq!(error_of(&refused.body, "login_id").as_deref(), Some(TAKEN));
    assert_eq!(app.user_count().await, 1);
}

#[tokio::test]
async fn a_registered_registry_number_is_refused_only_at_the_confirmation_with_the_help_desk() {
    let app = spawn_app_with(|c| {
        c.helpdesk.name = "日医テスト窓口".into();
        c.helpdesk.phone = "03-9999-0000".into();
    })
    .await;
    app.register(&Applicant::yamada()).await;
    let who = same_registry_number();
    let b = verified(&app, &who).await;

    // Not inline, not on the form: the same answers as for a free number.
    let taken = b
        .htmx_post(
            "/register/check/registry_number",
            &[("registry_number", "123456")],
        )
        .await;
    let free = b
        .htmx_post(
            "/register/check/registry_number",
            &[("registry_number", "654321")],
        )
        .await;
    assert_eq!(taken.body, free.body);
    b.post_form("/register/form", &who.fields())
        .await
        .assert_redirect_to("/register/confirm");
    b.get("/register/confirm")
        .await
        .assert_status(StatusCode::OK);

    // 「登録する」: refused, with the help desk to call, and nothing created.
    let refused = b
        .post_form("/register/confirm", &[] as &[(&str, &str)])
        .await;
    refused.assert_status(StatusCode::CONFLICT);
    let msg = error_of(&refused.body, "registry_number").expect("message on the number");
    assert!(
        msg.contains("日医テスト窓口") && msg.contains("03-9999-0000"),
        "{msg}"
    );
    assert!(!msg.contains("既に登録"), "{msg}");
    assert_eq!(app.user_count().await, 1);

    // Going on asking from the same link: after a few refusals every
    // confirmation is refused alike, even with a number nobody holds.
    for _ in 0..2 {
        b.post_form("/register/form", &who.fields())
            .await
            .assert_redirect_to("/register/confirm");
        b.post_form("/register/confirm", &[] as &[(&str, &str)])
            .await
            .assert_status(StatusCode::CONFLICT);
    }
    b.post_form(
        "/register/form",
        &who.fields_with(&[("registry_number", "654321")]),
    )
    .await
    .assert_redirect_to("/register/confirm");
    let still = b
        .post_form("/register/confirm", &[] as &[(&str, &str)])
        .await;
    still.assert_status(StatusCode::CONFLICT);
    assert_eq!(error_of(&still.body, "registry_number"), Some(msg));
    assert_eq!(app.user_count().await, 1);

    let log = app
        .store
        .read(|tx| audit::since(tx, 0, 100))
        .await
        .expect("audit");
    let refusals = log
        .iter()
        .filter(|e| e.kind == AuditKind::RegistrationRefused)
        .count();
    assert_eq!(refusals, 3, "{log:?}");
}

#[tokio::test]
async fn a_form_with_bytes_that_are_not_utf8_is_refused_and_nothing_is_stored() {
    let app = spawn_app().await;
    let who = Applicant::yamada();
    let b = verified(&app, &who).await;

    // %FF in the address (the last value of a field wins).
    for bad in ["&address=%FF", "&building=%E6%9D", "&address=\u{0}%C3%28"] {
        let mut body = urlencoded(&who.fields()).into_bytes();
        body.extend_from_slice(bad.as_bytes());
        let page = post_raw(&b, "/register/form", body, false).await;
        page.assert_status(StatusCode::BAD_REQUEST);
        page.assert_contains("文字化けした文字");
    }
    // Raw bytes, too.
    let mut body = urlencoded(&who.fields()).into_bytes();
    body.extend_from_slice(b"&address=\xff\xfe");
    post_raw(&b, "/register/form", body, false)
        .await
        .assert_status(StatusCode::BAD_REQUEST);

    // Nothing was kept: the form is empty, the confirmation sends back to
    // it, no account.
    let form = b.get("/register/form").await;
    assert_eq!(
        crate::helpers::input_value(&form.body, "address").as_deref(),
        Some("")
    );
    b.get("/register/confirm")
        .await
        .assert_redirect_to("/register/form");
    assert_eq!(app.user_count().await, 0);

    // The inline check answers with the field's message (htmx swaps 200s).
    let frag = post_raw(
        &b,
        "/register/check/address",
        b"address=%FF%FE".to_vec(),
        true,
    )
    .await;
    frag.assert_status(StatusCode::OK);
    assert!(
        error_of(&frag.body, "address").is_some_and(|m| m.contains(BAD_BYTES)),
        "{}",
        frag.body
    );
}

#[tokio::test]
async fn control_characters_are_refused_beside_the_field_with_the_values_kept() {
    let app = spawn_app().await;
    let who = Applicant::yamada();
    let b = verified(&app, &who).await;
    let page = b
        .post_form(
            "/register/form",
            &who.fields_with(&[("address", "文京区本駒込2-28-16\u{1b}[2J\u{0}")]),
        )
        .await;
    page.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        error_of(&page.body, "address").as_deref(),
        Some(
            "住所（番地まで）に使用できない文字（制御文字）が含まれています。入力し直してください。"
        )
    );
    page.assert_contains("文京区本駒込2-28-16");

    // The inquiry message: NUL and ESC refused, line breaks kept.
    let sent_before = app.outbox().await.len();
    let visitor = app.browser();
    visitor.get("/inquiry").await;
    for bad in [
        "ログインできません\u{0}",
        "赤字\u{1b}[31mです",
        "削除\u{7f}",
    ] {
        let page = visitor
            .post_form(
                "/inquiry",
                &[
                    ("name", "山田太郎"),
                    ("email", "yamada@example.jp"),
                    ("subject", "ログインについて"),
                    ("message", bad),
                ],
            )
            .await;
        page.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(
            error_of(&page.body, "message").as_deref(),
            Some(
                "お問合せ内容に使用できない文字（制御文字）が含まれています。入力し直してください。"
            ),
            "{bad:?}"
        );
        page.assert_contains("ログインについて");
    }
    let bad_subject = visitor
        .post_form(
            "/inquiry",
            &[
                ("name", "山田太郎"),
                ("email", "yamada@example.jp"),
                ("subject", "件名\u{1b}"),
                ("message", "本文"),
            ],
        )
        .await;
    bad_subject.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
    assert!(error_of(&bad_subject.body, "subject").is_some());
    assert_eq!(app.outbox().await.len(), sent_before, "an inquiry was sent");

    let ok = visitor
        .post_form(
            "/inquiry",
            &[
                ("name", "山田太郎"),
                ("email", "yamada@example.jp"),
                ("subject", "ログインについて"),
                ("message", "一行目\r\n\t二行目"),
            ],
        )
        .await;
    assert!(
        ok.status.is_success() || ok.status.is_redirection(),
        "{}",
        ok.excerpt()
    );
}

#[tokio::test]
async fn common_passwords_are_refused_in_the_registration() {
    let app = spawn_app().await;
    let who = Applicant::yamada();
    let b = verified(&app, &who).await;
    for common in ["Password1!", "Qwerty123!"] {
        let frag = b
            .htmx_post(
                "/register/check/password",
                &[("login_id", "doctor01"), ("password", common)],
            )
            .await;
        assert_eq!(error_of(&frag.body, "password").as_deref(), Some(COMMON));
        let page = b
            .post_form("/register/form", &who.fields_with(&[("password", common)]))
            .await;
        page.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(error_of(&page.body, "password").as_deref(), Some(COMMON));
    }
    assert_eq!(app.user_count().await, 0);
}

#[tokio::test]
async fn each_registration_step_is_in_the_audit_log_with_the_client_address() {
    let app = spawn_app().await;
    let who = Applicant::yamada();
    app.register(&who).await;
    let log = app
        .store
        .read(|tx| audit::since(tx, 0, 100))
        .await
        .expect("audit");
    let find = |kind: AuditKind| {
        log.iter()
            .find(|e| e.kind == kind)
            .unwrap_or_else(|| panic!("no {kind:?} in {log:?}"))
    };
    let sent = find(AuditKind::RegistrationLinkSent);
    assert_eq!(sent.login_id.as_deref(), Some(who.email.as_str()));
    assert_eq!(sent.addr.as_deref(), Some("127.0.0.1"));
    let opened = find(AuditKind::RegistrationLinkOpened);
    assert_eq!(opened.login_id.as_deref(), Some(who.email.as_str()));
    assert_eq!(opened.addr.as_deref(), Some("127.0.0.1"));
    let done = find(AuditKind::RegistrationCompleted);
    assert_eq!(done.login_id.as_deref(), Some(who.login_id.as_str()));
    assert_eq!(done.addr.as_deref(), Some("127.0.0.1"));
    assert!(done.user_id.is_some());
}
