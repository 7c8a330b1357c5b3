//! The association's office (事務局): the seeded tree, operators adding districts and staff through the socket, a staff member's first login, 事務局TOP and who may open it.

use mamis::{
    auth::password::Hasher,
    config::Argon2Params,
    domain::association::NATIONAL,
    service::office::{self, NewStaff},
    store::{Store, associations},
};
use reqwest::StatusCode;

use crate::helpers::*;

/// A password of the staff member's own choosing.
const STAFF_PASSWORD: &str = "Jimu#Kyoku2026";

/// Makes a staff account directly through the use case; returns its
/// one-time password.
pub(crate) async fn staff(app: &TestApp, association: &str, login_id: &str, role: &str) -> String {
    let hasher = Hasher::new(1, Argon2Params::TESTING);
    let new = NewStaff {
        association,
        login_id,
        name: Some("事務 花子"),
        role: Some(role),
        email: None,
    };
    office::add_staff(&app.store, &hasher, new)
        .await
        .expect("add staff")
        .expect("staff accepted")
        .one_time_password
}

/// Logs `login_id` in with its one-time password and replaces it with
/// `STAFF_PASSWORD`; the browser ends on 事務局TOP's redirect.
pub(crate) async fn first_login(app: &TestApp, login_id: &str, one_time: &str) -> Browser {
    let b = app.browser();
    b.log_in(login_id, one_time)
        .await
        .assert_redirect_to("/password/change");
    b.get("/password/change")
        .await
        .assert_contains("パスワードの変更");
    b.post_form(
        "/password/change",
        &[
            ("password", STAFF_PASSWORD),
            ("password_confirm", STAFF_PASSWORD),
        ],
    )
    .await
    .assert_redirect_to("/office");
    b
}

pub(crate) async fn add_district(store: &Store, name: &str) -> mamis::domain::Association {
    office::add_association(store, "東京都医師会", name, None)
        .await
        .expect("add association")
        .expect("association accepted")
}

#[tokio::test]
async fn the_tree_holds_the_nation_and_47_prefectures_under_it_from_the_first_start() {
    let app = spawn_app().await;
    let all = app.store.read(associations::all).await.expect("read tree");
    assert_eq!(all.len(), 48);
    let national = all.iter().find(|a| a.name == NATIONAL).expect("日本医師会");
    assert_eq!(national.parent, None);
    for name in [
        "北海道医師会",
        "東京都医師会",
        "京都府医師会",
        "大阪府医師会",
        "沖縄県医師会",
    ] {
        let a = all.iter().find(|a| a.name == name).expect(name);
        assert_eq!(a.parent, Some(national.id), "{name}");
    }
}

#[tokio::test]
async fn operators_add_a_district_and_its_staff_through_the_running_server() {
    let dir = tempfile::tempdir().expect("temp dir");
    let data = dir.path().join("data");
    let mut server = Binary::start(&data, dir.path().join("serve.log"), None, &[]);
    server.wait_ready().await;
    let run = |args: &[&str]| run_mamis(dir.path(), &data, args);

    let out = run(&[
        "admin",
        "association",
        "add",
        "--parent",
        "東京都医師会",
        "--name",
        "新宿区医師会",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // The same name again, and an unknown parent: refused, saying why.
    let out = run(&[
        "admin",
        "association",
        "add",
        "--parent",
        "東京都医師会",
        "--name",
        "新宿区医師会",
    ]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("exists already"));
    let out = run(&[
        "admin",
        "association",
        "add",
        "--parent",
        "東京医師会",
        "--name",
        "渋谷区医師会",
        "--kind",
        "郡市区",
    ]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("no association is named") && err.contains("東京医師会"),
        "{err}"
    );

    let out = run(&[
        "admin",
        "staff",
        "add",
        "--association",
        "新宿区医師会",
        "--login-id",
        "shinjuku01",
        "--name",
        "新宿 事務",
        "--role",
        "担当者",
        "--email",
        "not-an-address",
    ]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("--email"));
    let out = run(&[
        "admin",
        "staff",
        "add",
        "--association",
        "新宿区医師会",
        "--login-id",
        "shinjuku01",
        "--name",
        "新宿 事務",
        "--role",
        "担当者",
        "--email",
        "office@shinjuku.example.jp",
    ]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let password = stdout.lines().last().expect("a last line").to_owned();
    assert!(password.len() >= 16, "{stdout}");
    assert!(
        !password.contains(['0', 'O', '1', 'l', 'I', ' ']),
        "{password}"
    );
    let out = run(&[
        "admin",
        "staff",
        "add",
        "--association",
        "新宿区医師会",
        "--login-id",
        "shinjuku01",
    ]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("taken"));

    // The password logs in, and the account is sent to change it first.
    let b = Browser::new(&server.base);
    b.log_in("shinjuku01", &password)
        .await
        .assert_redirect_to("/password/change");
    b.get("/office")
        .await
        .assert_redirect_to("/password/change");

    let out = run(&["admin", "audit", "--since", "1h"]);
    let log = String::from_utf8_lossy(&out.stdout);
    assert!(log.contains("association_added"), "{log}");
    assert!(
        log.contains("staff_added") && log.contains("login_id=shinjuku01"),
        "{log}"
    );
    server.stop();
}

#[tokio::test]
async fn a_new_staff_member_must_choose_a_password_before_anything_else() {
    let app = spawn_app().await;
    let one_time = staff(&app, NATIONAL, "jmaoffice01", "管理者").await;
    let b = app.browser();
    b.log_in("jmaoffice01", &one_time)
        .await
        .assert_redirect_to("/password/change");
    for path in ["/office", "/mypage", "/inquiry"] {
        b.get(path).await.assert_redirect_to("/password/change");
    }
    let page = b.get("/password/change").await;
    page.assert_contains("パスワードを変更する");
    // The registration's rules: a common password, a mismatch.
    let page = b
        .post_form(
            "/password/change",
            &[
                ("password", "Password123!"),
                ("password_confirm", "Password123!"),
            ],
        )
        .await;
    page.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
    let page = b
        .post_form(
            "/password/change",
            &[
                ("password", STAFF_PASSWORD),
                ("password_confirm", "Other#Pass2026"),
            ],
        )
        .await;
    page.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
    page.assert_contains("確認用のパスワードが一致しません。");
    b.post_form(
        "/password/change",
        &[
            ("password", STAFF_PASSWORD),
            ("password_confirm", STAFF_PASSWORD),
        ],
    )
    .await
    .assert_redirect_to("/office");
    let top = b.get("/office").await;
    top.assert_status(StatusCode::OK);
    top.assert_contains("事務局TOP");
    top.assert_contains(NATIONAL);
    top.assert_contains("管理者");
    // Done once: the page sends it on, and the new password logs in
    // straight to 事務局TOP while the one-time password no longer does.
    b.get("/password/change")
        .await
        .assert_redirect_to("/office");
    let again = app.browser();
    again
        .log_in("jmaoffice01", &one_time)
        .await
        .assert_status(StatusCode::UNAUTHORIZED);
    again
        .log_in("jmaoffice01", STAFF_PASSWORD)
        .await
        .assert_redirect_to("/office");
}

#[tokio::test]
async fn physicians_do_not_find_the_office_and_anonymous_visitors_are_sent_to_log_in() {
    let app = spawn_app().await;
    app.browser()
        .get("/office")
        .await
        .assert_redirect_to("/login");
    let yamada = Applicant::yamada();
    app.register(&yamada).await;
    let b = app.browser();
    b.log_in(&yamada.login_id, PASSWORD)
        .await
        .assert_redirect_to("/mypage");
    let page = b.get("/office").await;
    page.assert_status(StatusCode::NOT_FOUND);
    assert!(!page.body.contains("事務局TOP"));
}

#[tokio::test]
async fn registered_physicians_are_counted_for_the_national_office_only() {
    let app = spawn_app().await;
    app.register(&Applicant::yamada()).await;
    add_district(&app.store, "新宿区医師会").await;
    let national = staff(&app, NATIONAL, "jmaoffice01", "管理者").await;
    let district = staff(&app, "新宿区医師会", "shinjuku01", "担当者").await;

    let b = first_login(&app, "jmaoffice01", &national).await;
    b.get("/office").await.assert_contains("1 名");
    let b = first_login(&app, "shinjuku01", &district).await;
    let top = b.get("/office").await;
    top.assert_contains("新宿区医師会");
    top.assert_contains("担当者");
    top.assert_contains("0 名");
}

#[tokio::test]
async fn a_district_office_sees_neither_another_district_nor_its_prefecture() {
    let app = spawn_app().await;
    let shinjuku = add_district(&app.store, "新宿区医師会").await;
    let shibuya = add_district(&app.store, "渋谷区医師会").await;
    let tokyo = shinjuku.parent.expect("under 東京都医師会");
    let scope = office::scope_of(&app.store, shinjuku.id)
        .await
        .expect("scope");
    assert!(scope.allows(shinjuku.id));
    assert!(!scope.allows(shibuya.id));
    assert!(!scope.allows(tokyo));
    assert!(!scope.allows_unaffiliated());
    let prefecture = office::scope_of(&app.store, tokyo).await.expect("scope");
    assert!(prefecture.allows(shinjuku.id) && prefecture.allows(shibuya.id));
    assert!(!prefecture.allows_unaffiliated());
}
