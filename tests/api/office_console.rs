//! The office console's association tree and staff accounts: a prefecture's 管理者 adds a district (form errors beside the fields, the audit entry with its actor) and imports districts from a CSV file (dry run, all or nothing, twice adds nothing, UTF-8 with BOM and Shift_JIS); a district's staff see only their own; 管理者 make staff accounts whose one-time password is shown once; 担当者 and physicians find none of it.

use mamis::{
    domain::Association,
    service::office,
    store::{
        associations,
        audit::{self, AuditKind, Target},
        users,
    },
};
use reqwest::StatusCode;

use crate::{
    helpers::*,
    office::{add_district, first_login, staff},
};

async fn association(app: &TestApp, name: &str) -> Association {
    let name = name.to_owned();
    app.store
        .read(move |tx| associations::by_name(tx, &name))
        .await
        .expect("read association")
        .expect("association exists")
}

async fn association_count(app: &TestApp) -> usize {
    app.store
        .read(associations::all)
        .await
        .expect("read tree")
        .len()
}

async fn user_id(app: &TestApp, login_id: &str) -> u64 {
    let login_id = login_id.to_owned();
    app.store
        .read(move |tx| users::by_login_id(tx, &login_id))
        .await
        .expect("read user")
        .expect("user exists")
        .id
}

async fn history(app: &TestApp, target: Target) -> Vec<audit::AuditEntry> {
    app.store
        .read(move |tx| audit::of_target(tx, target, 10))
        .await
        .expect("read history")
}

/// A staff member of `association` with `role`, logged in with their own
/// password.
async fn staff_browser(app: &TestApp, association: &str, login_id: &str, role: &str) -> Browser {
    let one_time = staff(app, association, login_id, role).await;
    first_login(app, login_id, &one_time).await
}

fn district_form<'a>(
    name: &'a str,
    parent: &'a str,
    postal_code: &'a str,
) -> Vec<(&'a str, &'a str)> {
    vec![
        ("name", name),
        ("kind", "郡市区"),
        ("parent", parent),
        ("postal_code", postal_code),
        ("address", "東京都新宿区西新宿1-1-1"),
        ("phone", "03-3946-2121"),
    ]
}

#[tokio::test]
async fn a_prefecture_admin_adds_a_district_in_the_console_with_its_audit_entry() {
    let app = spawn_app().await;
    let b = staff_browser(&app, "東京都医師会", "tokyoadmin01", "管理者").await;
    let tokyo = association(&app, "東京都医師会").await;
    let tokyo_id = tokyo.id.0.to_string();
    let page = b.get("/office/associations").await;
    page.assert_status(StatusCode::OK);
    page.assert_contains("東京都医師会");
    page.assert_contains("郡市区等医師会の追加");
    assert!(!page.body.contains("大阪府医師会"), "only the own scope");

    // A bad postal code: its message beside the field, every value kept.
    let page = b
        .post_form(
            "/office/associations",
            &district_form("新宿区医師会", &tokyo_id, "12-34"),
        )
        .await;
    page.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        error_of(&page.body, "postal_code").as_deref(),
        Some("郵便番号は半角数字7桁で入力してください（例：113-8621）。")
    );
    assert_eq!(
        input_value(&page.body, "name").as_deref(),
        Some("新宿区医師会")
    );
    assert_eq!(
        input_value(&page.body, "postal_code").as_deref(),
        Some("12-34")
    );
    assert_eq!(
        selected_option(&page.body, "kind").as_deref(),
        Some("郡市区")
    );
    assert_eq!(
        selected_option(&page.body, "parent").as_deref(),
        Some(tokyo_id.as_str())
    );
    assert_eq!(association_count(&app).await, 48);

    b.post_form(
        "/office/associations",
        &district_form("新宿区医師会", &tokyo_id, "１６０－００２３"),
    )
    .await
    .assert_redirect_to("/office/associations?done=added");
    let page = b.get("/office/associations?done=added").await;
    page.assert_contains("医師会を追加しました。");
    page.assert_contains("新宿区医師会");
    page.assert_contains("160-0023");
    let shinjuku = association(&app, "新宿区医師会").await;
    assert_eq!(shinjuku.parent, Some(tokyo.id));
    assert_eq!(
        shinjuku.postal_code.as_ref().map(|p| p.as_str()),
        Some("160-0023")
    );

    // The same name again: refused beside the name.
    let page = b
        .post_form(
            "/office/associations",
            &district_form("新宿区医師会", &tokyo_id, ""),
        )
        .await;
    page.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
    assert!(error_of(&page.body, "name").is_some_and(|m| m.contains("既に登録")));

    let admin = user_id(&app, "tokyoadmin01").await;
    let added = history(&app, Target::Association(shinjuku.id)).await;
    assert_eq!(added.len(), 1);
    assert_eq!(added[0].kind, AuditKind::AssociationAdded);
    assert_eq!(added[0].actor, Some(admin));
    assert!(
        added[0]
            .changes
            .iter()
            .any(|c| c.field == "郵便番号" && c.new == "160-0023")
    );

    // Its contact details change, old → new in the audit entry.
    let path = format!("/office/associations/{}", shinjuku.id.0);
    b.get(&path).await.assert_contains("連絡先の変更");
    b.post_form(
        &path,
        &[
            ("postal_code", "160-0023"),
            ("address", "東京都新宿区西新宿1-1-1"),
            ("phone", "03-5555-0000"),
        ],
    )
    .await
    .assert_redirect_to(&format!("{path}?done=changed"));
    let page = b.post_form(&path, &[("phone", "0355550000")]).await;
    page.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
    assert!(error_of(&page.body, "phone").is_some());
    let changed = history(&app, Target::Association(shinjuku.id)).await;
    assert_eq!(changed[0].kind, AuditKind::AssociationChanged);
    assert_eq!(changed[0].actor, Some(admin));
    assert_eq!(changed[0].changes.len(), 1, "{:?}", changed[0].changes);
    assert_eq!(
        (
            changed[0].changes[0].old.as_str(),
            changed[0].changes[0].new.as_str()
        ),
        ("03-3946-2121", "03-5555-0000")
    );
}

#[tokio::test]
async fn a_district_admin_cannot_add_and_sees_no_other_association() {
    let app = spawn_app().await;
    let shinjuku = add_district(&app.store, "新宿区医師会").await;
    let shibuya = add_district(&app.store, "渋谷区医師会").await;
    let tokyo = shinjuku.parent.expect("under 東京都医師会");
    let b = staff_browser(&app, "新宿区医師会", "shinjuku01", "管理者").await;

    let page = b.get("/office/associations").await;
    page.assert_status(StatusCode::OK);
    page.assert_contains("新宿区医師会");
    assert!(!page.body.contains("渋谷区医師会"));
    assert!(!page.body.contains("郡市区等医師会の追加"));
    let tokyo_id = tokyo.0.to_string();
    b.post_form(
        "/office/associations",
        &district_form("中野区医師会", &tokyo_id, ""),
    )
    .await
    .assert_status(StatusCode::NOT_FOUND);
    assert_eq!(association_count(&app).await, 50);

    // Its own page it may open and change; any other is missing.
    b.get(&format!("/office/associations/{}", shinjuku.id.0))
        .await
        .assert_status(StatusCode::OK);
    for path in [
        format!("/office/associations/{}", shibuya.id.0),
        format!("/office/associations/{}", tokyo.0),
        "/office/associations/99999".to_owned(),
        "/office/associations/abc".to_owned(),
        "/office/associations/import".to_owned(),
        "/office/associations/template.csv".to_owned(),
    ] {
        b.get(&path).await.assert_status(StatusCode::NOT_FOUND);
    }
    b.post_form(
        &format!("/office/associations/{}", shibuya.id.0),
        &[("phone", "03-5555-0000")],
    )
    .await
    .assert_status(StatusCode::NOT_FOUND);
    assert_eq!(association(&app, "渋谷区医師会").await.phone, None);
}

const HEADER: &str = "名称,種別,都道府県,郵便番号,住所,電話番号\r\n";

/// Opens the import page and uploads `bytes`; returns the dry run's page.
async fn upload(b: &Browser, bytes: Vec<u8>) -> Page {
    let page = b.get("/office/associations/import").await;
    page.assert_status(StatusCode::OK);
    let token = input_value(&page.body, "csrf_token").expect("csrf token");
    assert!(
        input_value(&page.body, "csrf_multipart").is_none(),
        "the token is sent once, as its own part"
    );
    b.post_multipart(
        "/office/associations/import",
        &[("csrf_token", &token)],
        ("file", "districts.csv", bytes),
    )
    .await
}

#[tokio::test]
async fn a_csv_import_is_checked_first_then_added_all_or_nothing_and_only_once() {
    let app = spawn_app().await;
    let b = staff_browser(&app, "東京都医師会", "tokyoadmin01", "管理者").await;
    let template = b.get("/office/associations/template.csv").await;
    template.assert_status(StatusCode::OK);
    assert!(template.body.starts_with("\u{feff}名称,種別,都道府県"));

    // UTF-8 with BOM, a bad line and a line outside the scope: refused
    // with their line numbers, and nothing can be imported.
    let bad = format!(
        "\u{feff}{HEADER}新宿区医師会,郡市区,東京都,160-0023,東京都新宿区西新宿1-1-1,03-1234-5678\r\n\
         渋谷区医師会,郡市区,東京都,12-34,,\r\n\
         大阪市医師会,郡市区,大阪府,,,\r\n"
    );
    let page = upload(&b, bad.into_bytes()).await;
    page.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
    page.assert_contains("文字コード：UTF-8");
    page.assert_contains("3行目");
    page.assert_contains("郵便番号は半角数字7桁で入力してください（例：113-8621）。");
    page.assert_contains("4行目");
    page.assert_contains("大阪府医師会の下には追加できません");
    page.assert_contains("追加します（東京都医師会の下）");
    assert!(!page.body.contains("取り込む（"), "{}", page.body);
    assert_eq!(association_count(&app).await, 48);

    // Shift_JIS (CP932, as Excel saves it): checked, then imported.
    let good = format!(
        "{HEADER}新宿区医師会,郡市区,東京都,160-0023,東京都新宿区西新宿１－１－１,03-1234-5678\r\n\
         東京大学医師会,大学,東京都医師会,,,\r\n\
         港区医師会,郡市区医師会,13,,,\r\n"
    );
    let (sjis, _, unmappable) = encoding_rs::SHIFT_JIS.encode(&good);
    assert!(!unmappable);
    let sjis = sjis.into_owned();
    let page = upload(&b, sjis.clone()).await;
    page.assert_status(StatusCode::OK);
    page.assert_contains("文字コード：Shift_JIS");
    page.assert_contains("取り込む（3件を追加）");
    let digest = input_value(&page.body, "digest").expect("digest");

    // Meanwhile another prefecture takes one of the names: 取り込む checks
    // again and adds nothing at all.
    office::add_association(&app.store, "大阪府医師会", "港区医師会", None)
        .await
        .expect("add")
        .expect("added");
    let page = b
        .post_form("/office/associations/import/commit", &[("digest", &digest)])
        .await;
    page.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
    page.assert_contains("この名称は他の医師会で使われています。");
    assert_eq!(association_count(&app).await, 49);

    // Without that line, the file goes in whole, each with its entry.
    let good = good.replace("港区医師会,郡市区医師会,13,,,\r\n", "");
    let (sjis, _, _) = encoding_rs::SHIFT_JIS.encode(&good);
    let sjis = sjis.into_owned();
    let page = upload(&b, sjis.clone()).await;
    let digest = input_value(&page.body, "digest").expect("digest");
    b.post_form("/office/associations/import/commit", &[("digest", &digest)])
        .await
        .assert_redirect_to("/office/associations/import?added=2");
    assert_eq!(association_count(&app).await, 51);
    let university = association(&app, "東京大学医師会").await;
    assert_eq!(university.kind, mamis::domain::AssociationKind::University);
    let admin = user_id(&app, "tokyoadmin01").await;
    let entries = history(&app, Target::Association(university.id)).await;
    assert_eq!(entries.len(), 1);
    assert_eq!(
        (entries[0].kind, entries[0].actor),
        (AuditKind::AssociationAdded, Some(admin))
    );
    // Committing the same check again adds nothing (it was used up).
    b.post_form("/office/associations/import/commit", &[("digest", &digest)])
        .await
        .assert_status(StatusCode::UNPROCESSABLE_ENTITY);

    // The same file twice: every line is 登録済み, nothing to import.
    let page = upload(&b, sjis).await;
    page.assert_status(StatusCode::OK);
    assert_eq!(page.body.matches("登録済み（飛ばします）").count(), 2);
    page.assert_contains("新しく追加する医師会はありません。");
    assert!(!page.body.contains("取り込む（"));
    assert_eq!(association_count(&app).await, 51);

    // A file that is not the template's.
    let page = upload(&b, "name,kind\nA,B\n".as_bytes().to_vec()).await;
    page.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
    page.assert_contains("1行目（見出し）");
}

#[tokio::test]
async fn a_clerk_finds_no_staff_management_and_changes_nothing() {
    let app = spawn_app().await;
    let b = staff_browser(&app, "東京都医師会", "tokyoclerk01", "担当者").await;
    b.get("/office/staff")
        .await
        .assert_status(StatusCode::NOT_FOUND);
    b.get("/office/associations").await; // a page with a CSRF token
    b.post_form(
        "/office/staff",
        &[
            ("name", "事務 次郎"),
            ("login_id", "tokyoclerk02"),
            ("association", "2"),
            ("role", "管理者"),
        ],
    )
    .await
    .assert_status(StatusCode::NOT_FOUND);
    let page = b.get("/office/associations").await;
    page.assert_status(StatusCode::OK);
    assert!(!page.body.contains("郡市区等医師会の追加"));
    let tokyo = association(&app, "東京都医師会").await;
    let page = b.get(&format!("/office/associations/{}", tokyo.id.0)).await;
    page.assert_status(StatusCode::OK);
    assert!(!page.body.contains("連絡先の変更"));
    b.post_form(
        "/office/associations",
        &district_form("新宿区医師会", &tokyo.id.0.to_string(), ""),
    )
    .await
    .assert_status(StatusCode::NOT_FOUND);
    b.get("/office/associations/import")
        .await
        .assert_status(StatusCode::NOT_FOUND);
    assert_eq!(association_count(&app).await, 48);
    let login = "tokyoclerk02".to_owned();
    let made = app
        .store
        .read(move |tx| users::by_login_id(tx, &login))
        .await
        .expect("read");
    assert!(made.is_none());
}

/// The one-time password on the page that answers a new account.
fn one_time_password(html: &str) -> String {
    let start = html
        .find("id=\"one-time-password\">")
        .map(|i| i + "id=\"one-time-password\">".len())
        .expect("the one-time password is shown");
    let rest = &html[start..];
    rest[..rest.find('<').expect("end of the password")].to_owned()
}

#[tokio::test]
async fn an_admin_makes_a_clerk_whose_one_time_password_is_shown_once_and_must_be_changed() {
    let app = spawn_app().await;
    let shinjuku = add_district(&app.store, "新宿区医師会").await;
    let osaka = association(&app, "大阪府医師会").await;
    let b = staff_browser(&app, "東京都医師会", "tokyoadmin01", "管理者").await;
    let page = b.get("/office/staff").await;
    page.assert_status(StatusCode::OK);
    page.assert_contains("tokyoadmin01");
    page.assert_contains("新宿区医師会");
    assert!(!page.body.contains("大阪府医師会"));

    let shinjuku_id = shinjuku.id.0.to_string();
    let form = |login_id: &'static str, association: String| {
        vec![
            ("name", "新宿 事務".to_owned()),
            ("login_id", login_id.to_owned()),
            ("association", association),
            ("role", "担当者".to_owned()),
        ]
    };
    // A login ID too short: the message beside it, values kept.
    let page = b
        .post_form("/office/staff", &form("short", shinjuku_id.clone()))
        .await;
    page.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
    assert!(error_of(&page.body, "login_id").is_some());
    assert_eq!(
        input_value(&page.body, "name").as_deref(),
        Some("新宿 事務")
    );
    // Another prefecture's association: missing.
    b.post_form(
        "/office/staff",
        &form("osakaclerk01", osaka.id.0.to_string()),
    )
    .await
    .assert_status(StatusCode::NOT_FOUND);
    let login = "osakaclerk01".to_owned();
    assert!(
        app.store
            .read(move |tx| users::by_login_id(tx, &login))
            .await
            .expect("read")
            .is_none()
    );

    let page = b
        .post_form(
            "/office/staff",
            &form("shinjukuclerk01", shinjuku_id.clone()),
        )
        .await;
    page.assert_status(StatusCode::OK);
    page.assert_contains("初期パスワード（この画面でのみ表示されます）");
    assert_eq!(
        page.headers
            .get("cache-control")
            .and_then(|v| v.to_str().ok()),
        Some("no-store")
    );
    let password = one_time_password(&page.body);
    assert!(password.len() >= 16, "{password}");
    // Never shown again.
    let list = b.get("/office/staff").await;
    list.assert_contains("shinjukuclerk01");
    list.assert_contains("初回ログイン待ち");
    assert!(!list.body.contains(&password));
    // The same login ID again: taken.
    let page = b
        .post_form("/office/staff", &form("shinjukuclerk01", shinjuku_id))
        .await;
    page.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
    assert!(error_of(&page.body, "login_id").is_some_and(|m| m.contains("既に使用")));

    let clerk = user_id(&app, "shinjukuclerk01").await;
    let admin = user_id(&app, "tokyoadmin01").await;
    let entries = history(&app, Target::Staff(clerk)).await;
    assert_eq!(entries.len(), 1);
    assert_eq!(
        (entries[0].kind, entries[0].actor, entries[0].association),
        (AuditKind::StaffAdded, Some(admin), Some(shinjuku.id))
    );

    // The password logs in once, to be changed first.
    let c = first_login(&app, "shinjukuclerk01", &password).await;
    let top = c.get("/office").await;
    top.assert_contains("新宿区医師会");
    top.assert_contains("担当者");
    c.get("/office/staff")
        .await
        .assert_status(StatusCode::NOT_FOUND);
    b.get("/office/staff").await.assert_contains("利用中");
}

#[tokio::test]
async fn physicians_find_none_of_the_console_routes() {
    let app = spawn_app().await;
    let shinjuku = add_district(&app.store, "新宿区医師会").await;
    let yamada = Applicant::yamada();
    app.register(&yamada).await;
    let b = app.browser();
    b.log_in(&yamada.login_id, PASSWORD)
        .await
        .assert_redirect_to("/mypage");
    let own = format!("/office/associations/{}", shinjuku.id.0);
    for path in [
        "/office/associations",
        own.as_str(),
        "/office/associations/import",
        "/office/associations/template.csv",
        "/office/staff",
    ] {
        b.get(path).await.assert_status(StatusCode::NOT_FOUND);
    }
    b.get("/mypage").await; // a page with a CSRF token
    for path in [
        "/office/associations",
        own.as_str(),
        "/office/associations/import/commit",
        "/office/staff",
    ] {
        b.post_form(path, &[("name", "x"), ("phone", "03-1234-5678")])
            .await
            .assert_status(StatusCode::NOT_FOUND);
    }
    let token = b.csrf_token().await;
    b.post_multipart(
        "/office/associations/import",
        &[("csrf_token", &token)],
        ("file", "a.csv", HEADER.as_bytes().to_vec()),
    )
    .await
    .assert_status(StatusCode::NOT_FOUND);
    assert_eq!(association_count(&app).await, 49);
}

#[tokio::test]
async fn an_admin_changes_a_role_and_reissues_a_one_time_password_below_but_not_their_own() {
    let app = spawn_app().await;
    add_district(&app.store, "新宿区医師会").await;
    let admin = staff_browser(&app, "東京都医師会", "tokyoadmin01", "管理者").await;
    let clerk = staff_browser(&app, "新宿区医師会", "shinjuku01", "担当者").await;
    let osaka = staff(&app, "大阪府医師会", "osakaadmin01", "管理者").await;
    assert!(!osaka.is_empty());
    let (admin_id, clerk_id, osaka_id) = (
        user_id(&app, "tokyoadmin01").await,
        user_id(&app, "shinjuku01").await,
        user_id(&app, "osakaadmin01").await,
    );
    clerk
        .get("/office/staff")
        .await
        .assert_status(StatusCode::NOT_FOUND);

    let page = admin.get(&format!("/office/staff/{clerk_id}")).await;
    page.assert_status(StatusCode::OK);
    page.assert_contains("権限の変更");
    admin
        .post_form(
            &format!("/office/staff/{clerk_id}/role"),
            &[("role", "管理者")],
        )
        .await
        .assert_redirect_to(&format!("/office/staff/{clerk_id}?done=role"));
    // The new role holds at the clerk's next request.
    clerk
        .get("/office/staff")
        .await
        .assert_status(StatusCode::OK);
    let entries = history(&app, Target::Staff(clerk_id)).await;
    assert_eq!(entries[0].kind, AuditKind::StaffChanged);
    assert_eq!(entries[0].actor, Some(admin_id));
    assert_eq!(
        (
            entries[0].changes[0].old.as_str(),
            entries[0].changes[0].new.as_str()
        ),
        ("担当者", "管理者")
    );

    // A new one-time password: shown once; the old password and the
    // signed-in session end; the new one must be changed.
    let page = admin
        .post_form(
            &format!("/office/staff/{clerk_id}/password"),
            &[] as &[(&str, &str)],
        )
        .await;
    page.assert_status(StatusCode::OK);
    page.assert_contains("初期パスワード（この画面でのみ表示されます）");
    let password = one_time_password(&page.body);
    clerk.get("/office").await.assert_redirect_to("/login");
    app.browser()
        .log_in("shinjuku01", "Jimu#Kyoku2026")
        .await
        .assert_status(StatusCode::UNAUTHORIZED);
    first_login(&app, "shinjuku01", &password).await;
    let entries = history(&app, Target::Staff(clerk_id)).await;
    assert_eq!(
        (entries[0].kind, entries[0].actor),
        (AuditKind::StaffPasswordReissued, Some(admin_id))
    );
    assert!(!admin.get("/office/staff").await.body.contains(&password));

    // Their own account: shown, not changed; another prefecture's: missing.
    let own = admin.get(&format!("/office/staff/{admin_id}")).await;
    own.assert_status(StatusCode::OK);
    assert!(!own.body.contains("権限の変更"));
    admin
        .post_form(
            &format!("/office/staff/{admin_id}/role"),
            &[("role", "担当者")],
        )
        .await
        .assert_status(StatusCode::NOT_FOUND);
    admin
        .get(&format!("/office/staff/{osaka_id}"))
        .await
        .assert_status(StatusCode::NOT_FOUND);
    admin
        .get("/office/staff/abc")
        .await
        .assert_status(StatusCode::NOT_FOUND);
    for action in ["role", "password"] {
        admin
            .post_form(
                &format!("/office/staff/{osaka_id}/{action}"),
                &[("role", "担当者")],
            )
            .await
            .assert_status(StatusCode::NOT_FOUND);
    }
    let osaka_history = history(&app, Target::Staff(osaka_id)).await;
    assert_eq!(osaka_history.len(), 1, "only its creation");
}

#[tokio::test]
async fn the_national_admin_chooses_the_prefecture_and_large_files_are_refused() {
    let app = spawn_app().await;
    let b = staff_browser(&app, "日本医師会", "jmaadmin01", "管理者").await;
    let page = b.get("/office/associations").await;
    page.assert_contains("北海道医師会");
    page.assert_contains("沖縄県医師会");
    let osaka = association(&app, "大阪府医師会").await;
    b.post_form(
        "/office/associations",
        &district_form("大阪市医師会", &osaka.id.0.to_string(), ""),
    )
    .await
    .assert_redirect_to("/office/associations?done=added");
    assert_eq!(
        association(&app, "大阪市医師会").await.parent,
        Some(osaka.id)
    );
    // Not under 日本医師会 itself, nor under a district.
    let national = association(&app, "日本医師会").await;
    let city = association(&app, "大阪市医師会").await;
    for parent in [national.id.0, city.id.0] {
        b.post_form(
            "/office/associations",
            &district_form("北区医師会", &parent.to_string(), ""),
        )
        .await
        .assert_status(StatusCode::NOT_FOUND);
    }
    // A file over the request limit never reaches the import.
    let mut big = HEADER.as_bytes().to_vec();
    big.resize(70 * 1024, b'#');
    upload(&b, big)
        .await
        .assert_status(StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(association_count(&app).await, 49);
}

#[tokio::test]
async fn a_file_of_hundreds_of_lines_goes_in_whole() {
    let app = spawn_app().await;
    let b = staff_browser(&app, "東京都医師会", "tokyoadmin01", "管理者").await;
    let mut csv = HEADER.to_owned();
    for i in 0..400 {
        csv.push_str(&format!(
            "第{i}職域医師会,職域,東京都,100-0001,東京都千代田区千代田{i}-1,03-1234-{i:04}\r\n"
        ));
    }
    let (sjis, _, _) = encoding_rs::SHIFT_JIS.encode(&csv);
    let page = upload(&b, sjis.into_owned()).await;
    page.assert_status(StatusCode::OK);
    page.assert_contains("取り込む（400件を追加）");
    let digest = input_value(&page.body, "digest").expect("digest");
    b.post_form("/office/associations/import/commit", &[("digest", &digest)])
        .await
        .assert_redirect_to("/office/associations/import?added=400");
    assert_eq!(association_count(&app).await, 448);
}
