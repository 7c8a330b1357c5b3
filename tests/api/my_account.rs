//! A person's own account after logging in: a member's first login (terms,
//! an e-mail address confirmed by its link, their own password, then
//! マイページ, nothing else opening meanwhile), a new version of the terms
//! agreed again at the next login, and マイページ's changes of e-mail address
//! (the old address told) and of password (other sessions end).

use mamis::{
    auth::password,
    config::Argon2Params,
    domain::Role,
    mail::templates,
    store::{
        audit::{self, AuditKind},
        now,
        users::{self, UserRecord},
    },
};
use reqwest::StatusCode;

use crate::helpers::*;

/// The postcard's initial password of the test member.
const INITIAL: &str = "Hx7pQ2mRt9kWz3Na";

/// A member as an import makes them: no address, a one-time password, no
/// terms agreed yet.
async fn member(app: &TestApp, login_id: &str) {
    let hash = password::hash_blocking(INITIAL, Argon2Params::TESTING).expect("hash");
    let user = UserRecord {
        initial_password_expires_at: None,
        membership: None,
        id: 0,
        login_id: login_id.to_owned(),
        email: String::new(),
        registry_number: String::new(),
        password_hash: hash,
        role: Role::Member,
        person: None,
        association: None,
        session_generation: 0,
        must_change_password: true,
        staff_name: None,
        terms_version: String::new(),
        terms_agreed_at: 0,
        created_at: now(),
        terms_history: Vec::new(),
    };
    app.store
        .write_ok(move |tx| users::create(tx, user))
        .await
        .expect("write the member")
        .expect("a new member");
}

/// The link of the confirmation mail sent to `to`.
pub(crate) async fn confirmation_link(app: &TestApp, to: &str) -> String {
    let mail = app
        .smtp()
        .wait_for(to, templates::EMAIL_CONFIRM_SUBJECT, MAIL_WAIT)
        .await;
    let at = mail.body.find("/email/confirm?token=").expect("a link");
    let start = mail.body[..at].rfind("http").expect("an absolute link");
    let end = mail.body[at..]
        .find(char::is_whitespace)
        .map_or(mail.body.len(), |e| at + e);
    mail.body[start..end].to_owned()
}

pub(crate) fn path_of(link: &str) -> &str {
    let rest = link.split_once("//").map_or(link, |(_, r)| r);
    rest.find('/').map_or("/", |i| &rest[i..])
}

async fn kinds(app: &TestApp) -> Vec<AuditKind> {
    app.store
        .read(|tx| audit::since(tx, 0, 1000))
        .await
        .expect("audit")
        .into_iter()
        .map(|e| e.kind)
        .collect()
}

#[tokio::test]
async fn a_member_goes_through_terms_address_and_password_before_anything_else() {
    let app = spawn_app().await;
    member(&app, "m0000001").await;
    let b = app.browser();
    b.log_in("m0000001", INITIAL)
        .await
        .assert_redirect_to("/first-login/terms");
    // Nothing else opens meanwhile.
    for path in [
        "/mypage",
        "/first-login/email",
        "/password/change",
        "/office",
    ] {
        b.get(path).await.assert_redirect_to("/first-login/terms");
    }
    let terms = b.get("/first-login/terms").await;
    terms.assert_contains("MAMISの利用規約");
    b.post_form("/first-login/terms", &[("agree", "")])
        .await
        .assert_contains("利用規約・個人情報の取り扱いに同意してください。");
    b.post_form("/first-login/terms", &[("agree", "yes")])
        .await
        .assert_redirect_to("/first-login/email");
    b.get("/mypage")
        .await
        .assert_redirect_to("/first-login/email");

    // The address twice, with the registration's messages.
    let refused = b
        .post_form(
            "/first-login/email",
            &[
                ("email", "member@example.jp"),
                ("email_confirm", "other@example.jp"),
            ],
        )
        .await;
    refused.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
    refused.assert_contains("member@example.jp");
    b.post_form(
        "/first-login/email",
        &[
            ("email", "member@example.jp"),
            ("email_confirm", "member@example.jp"),
        ],
    )
    .await
    .assert_redirect_to("/first-login/email/sent");
    b.get("/mypage")
        .await
        .assert_redirect_to("/first-login/email");
    let link = confirmation_link(&app, "member@example.jp").await;
    b.get(path_of(&link))
        .await
        .assert_redirect_to("/password/change");
    // The link works once.
    app.browser()
        .get(path_of(&link))
        .await
        .assert_status(StatusCode::BAD_REQUEST);

    b.get("/password/change")
        .await
        .assert_contains("パスワードの変更");
    b.post_form(
        "/password/change",
        &[
            ("password", "Shinryo#2026a"),
            ("password_confirm", "Shinryo#2026a"),
        ],
    )
    .await
    .assert_redirect_to("/mypage");
    let page = b.get("/mypage").await;
    page.assert_contains("member@example.jp");

    // The postcard's password no longer works; the member's own does.
    app.browser()
        .log_in("m0000001", INITIAL)
        .await
        .assert_status(StatusCode::UNAUTHORIZED);
    app.browser()
        .log_in("m0000001", "Shinryo#2026a")
        .await
        .assert_redirect_to("/mypage");
    let kinds = kinds(&app).await;
    for k in [
        AuditKind::TermsAgreed,
        AuditKind::EmailConfirmationSent,
        AuditKind::EmailChanged,
        AuditKind::PasswordChanged,
    ] {
        assert!(kinds.contains(&k), "{k:?} in {kinds:?}");
    }
}

#[tokio::test]
async fn a_new_version_of_the_terms_is_agreed_again_at_the_next_login_and_both_are_kept() {
    let app = spawn_app().await;
    let who = Applicant::yamada();
    app.register(&who).await;
    // As if the operator had published another text since the registration.
    let mut older = app
        .store
        .read(|tx| users::by_login_id(tx, "doctor01"))
        .await
        .expect("read")
        .expect("registered");
    older.terms_version = "2025-old".to_owned();
    older.terms_agreed_at = 1;
    app.store
        .write_ok(move |tx| {
            tx.open_table(mamis::store::tables::USERS)?
                .insert(older.id, serde_json::to_vec(&older)?.as_slice())?;
            Ok(())
        })
        .await
        .expect("age the agreement");
    let b = app.browser();
    b.log_in(&who.login_id, PASSWORD)
        .await
        .assert_redirect_to("/first-login/terms");
    b.get("/mypage")
        .await
        .assert_redirect_to("/first-login/terms");
    b.get("/first-login/terms").await;
    b.post_form("/first-login/terms", &[("agree", "yes")])
        .await
        .assert_redirect_to("/mypage");
    let user = app
        .store
        .read(|tx| users::by_login_id(tx, "doctor01"))
        .await
        .expect("read")
        .expect("account");
    assert_ne!(user.terms_version, "2025-old");
    assert_eq!(user.terms_history.len(), 1);
    assert_eq!(user.terms_history[0].version, user.terms_version);
    // The next login asks nothing.
    app.browser()
        .log_in(&who.login_id, PASSWORD)
        .await
        .assert_redirect_to("/mypage");
}

#[tokio::test]
async fn the_address_changes_only_from_the_new_address_link_and_the_old_one_is_told() {
    let app = spawn_app().await;
    let who = Applicant::yamada();
    app.register(&who).await;
    let b = app.browser();
    b.log_in(&who.login_id, PASSWORD)
        .await
        .assert_redirect_to("/mypage");
    b.get("/mypage/email")
        .await
        .assert_contains("メールアドレスの変更");
    let wrong = b
        .post_form(
            "/mypage/email",
            &[
                ("current_password", "Wrong#2026xx"),
                ("email", "new@example.jp"),
                ("email_confirm", "new@example.jp"),
            ],
        )
        .await;
    wrong.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
    wrong.assert_contains("現在のパスワードが正しくありません。");
    wrong.assert_contains("new@example.jp");
    b.post_form(
        "/mypage/email",
        &[
            ("current_password", PASSWORD),
            ("email", "new@example.jp"),
            ("email_confirm", "new@example.jp"),
        ],
    )
    .await
    .assert_redirect_to("/mypage/email?sent=1");
    // Nothing changed yet.
    b.get("/mypage").await.assert_contains(&who.email);
    let link = confirmation_link(&app, "new@example.jp").await;
    b.get(path_of(&link))
        .await
        .assert_redirect_to("/mypage?done=email");
    b.get("/mypage?done=email")
        .await
        .assert_contains("new@example.jp");
    app.smtp()
        .wait_for(&who.email, templates::EMAIL_CHANGED_SUBJECT, MAIL_WAIT)
        .await;
    // The forgotten-ID mail now goes to the new address.
    let user = app
        .store
        .read(|tx| users::by_email(tx, "new@example.jp"))
        .await
        .expect("read");
    assert_eq!(user.map(|u| u.login_id).as_deref(), Some("doctor01"));
    let old = app
        .store
        .read(move |tx| users::by_email(tx, "yamada@example.jp"))
        .await
        .expect("read");
    assert!(old.is_none(), "the old address is released");
}

#[tokio::test]
async fn a_password_change_needs_the_current_one_and_ends_the_other_sessions() {
    let app = spawn_app().await;
    let who = Applicant::yamada();
    app.register(&who).await;
    let here = app.browser();
    let elsewhere = app.browser();
    for b in [&here, &elsewhere] {
        b.log_in(&who.login_id, PASSWORD)
            .await
            .assert_redirect_to("/mypage");
    }
    here.get("/mypage/password")
        .await
        .assert_contains("現在のパスワード");
    let wrong = here
        .post_form(
            "/mypage/password",
            &[
                ("current_password", "Wrong#2026xx"),
                ("password", "Shinryo#2026a"),
                ("password_confirm", "Shinryo#2026a"),
            ],
        )
        .await;
    wrong.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
    wrong.assert_contains("現在のパスワードが正しくありません。");
    let weak = here
        .post_form(
            "/mypage/password",
            &[
                ("current_password", PASSWORD),
                ("password", "short"),
                ("password_confirm", "short"),
            ],
        )
        .await;
    weak.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
    here.post_form(
        "/mypage/password",
        &[
            ("current_password", PASSWORD),
            ("password", "Shinryo#2026a"),
            ("password_confirm", "Shinryo#2026a"),
        ],
    )
    .await
    .assert_redirect_to("/mypage?done=password");
    here.get("/mypage?done=password")
        .await
        .assert_contains("パスワードを変更しました。");
    elsewhere.get("/mypage").await.assert_redirect_to("/login");
    app.browser()
        .log_in(&who.login_id, "Shinryo#2026a")
        .await
        .assert_redirect_to("/mypage");
}
