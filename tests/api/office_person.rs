//! A person's page for office staff: who may open it (scope, 404 for the
//! rest), corrections through the registration's fields and rules with
//! their audit entry, the password-reset mail staff may send, and the
//! 管理者's search of the audit history.

use mamis::{
    domain::AssociationId,
    mail::templates,
    store::{
        audit::{self, AuditKind, Target},
        encode, tables,
        users::{self, UserRecord},
    },
};
use reqwest::StatusCode;

use crate::{
    helpers::*,
    office::{add_district, first_login, staff},
};

/// The account of `login_id`.
async fn account(app: &TestApp, login_id: &str) -> UserRecord {
    let login_id = login_id.to_owned();
    app.store
        .read(move |tx| users::by_login_id(tx, &login_id))
        .await
        .expect("read account")
        .expect("account exists")
}

/// Puts person `id` into `association` (the procedures will do this).
async fn affiliate(app: &TestApp, id: u64, association: AssociationId) {
    app.store
        .write_ok(move |tx| {
            let mut user = users::get_for_update(tx, id)?.expect("person exists");
            user.association = Some(association);
            tx.open_table(tables::USERS)?
                .insert(id, encode(&user)?.as_slice())?;
            Ok(())
        })
        .await
        .expect("set association");
}

/// A staff member of `association`, signed in with their own password.
async fn signed_in_staff(app: &TestApp, association: &str, login_id: &str, role: &str) -> Browser {
    let one_time = staff(app, association, login_id, role).await;
    first_login(app, login_id, &one_time).await
}

/// The correction form's fields for `who` with `changes`, and `version`.
fn correction(who: &Applicant, version: &str, changes: &[(&str, &str)]) -> Vec<(String, String)> {
    let mut fields: Vec<(String, String)> = who
        .fields_with(changes)
        .into_iter()
        .filter(|(k, _)| k != "login_id" && k != "password")
        .collect();
    fields.push(("version".to_owned(), version.to_owned()));
    fields
}

/// Opens the correction form of person `id` and returns its version.
async fn open_edit(b: &Browser, id: u64) -> String {
    let page = b.get(&format!("/office/people/{id}/edit")).await;
    page.assert_status(StatusCode::OK);
    input_value(&page.body, "version").expect("version input")
}

async fn history(app: &TestApp, id: u64) -> Vec<audit::AuditEntry> {
    app.store
        .read(move |tx| audit::of_target(tx, Target::Person(id), 100))
        .await
        .expect("read history")
}

#[tokio::test]
async fn root_staff_open_a_registered_physicians_page_with_every_field_and_the_account_state() {
    let app = spawn_app().await;
    let who = Applicant::yamada();
    app.register(&who).await;
    let id = account(&app, &who.login_id).await.id;
    let b = signed_in_staff(&app, "日本医師会", "jmaclerk01", "担当者").await;

    let page = b.get(&format!("/office/people/{id}")).await;
    page.assert_status(StatusCode::OK);
    for text in [
        "山田 太郎",
        "doctor01",
        "yamada@example.jp",
        "第123456号",
        "ヤマダ",
        "113-8621",
        "文京区本駒込2-28-16",
        "携帯電話番号",
        "090-1234-5678",
        "01内科",
        "東北大学",
        "日本内科学会",
        "未所属",
        "最終ログイン",
        "記録なし",
        "ロック状態",
        "初回ログイン待ち",
        "変更履歴はありません。",
    ] {
        page.assert_contains(text);
    }

    // After the physician logs in, the page shows when.
    let doctor = app.browser();
    doctor.log_in(&who.login_id, PASSWORD).await;
    let page = b.get(&format!("/office/people/{id}")).await;
    assert!(
        !page.body.contains("記録なし"),
        "the last login is shown: {}",
        page.excerpt()
    );
    // The physician does not find staff pages.
    doctor
        .get(&format!("/office/people/{id}"))
        .await
        .assert_status(StatusCode::NOT_FOUND);
    doctor
        .get("/office/audit")
        .await
        .assert_status(StatusCode::NOT_FOUND);

    // Wrong passwords from another browser throttle the login ID: shown.
    let guesser = app.browser();
    for _ in 0..5 {
        guesser.log_in(&who.login_id, "Wrong#Pass1").await;
    }
    let page = b.get(&format!("/office/people/{id}")).await;
    page.assert_contains("ログイン制限中");
}

#[tokio::test]
async fn a_corrected_registry_number_moves_its_key_and_one_held_by_another_is_refused() {
    let app = spawn_app().await;
    let who = Applicant::yamada();
    let other = Applicant::numbered(2);
    app.register(&who).await;
    app.register(&other).await;
    let id = account(&app, &who.login_id).await.id;
    let b = signed_in_staff(&app, "日本医師会", "jmaclerk01", "担当者").await;

    let version = open_edit(&b, id).await;
    let refused = b
        .post_form(
            &format!("/office/people/{id}/edit"),
            &correction(
                &who,
                &version,
                &[("registry_number", &other.registry_number)],
            ),
        )
        .await;
    refused.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        error_of(&refused.body, "registry_number").as_deref(),
        Some("この医籍登録番号は他の利用者に登録されています。")
    );
    assert!(history(&app, id).await.is_empty());

    b.post_form(
        &format!("/office/people/{id}/edit"),
        &correction(&who, &version, &[("registry_number", "654321")]),
    )
    .await
    .assert_redirect_to(&format!("/office/people/{id}?done=corrected"));
    let (old_holder, new_holder) = app
        .store
        .read(|tx| {
            Ok((
                users::id_by_registry_number(tx, "123456")?,
                users::id_by_registry_number(tx, "654321")?,
            ))
        })
        .await
        .expect("read keys");
    assert_eq!((old_holder, new_holder), (None, Some(id)));
    let stored = account(&app, &who.login_id).await;
    assert_eq!(stored.registry_number, "654321");
    assert_eq!(
        stored.person.expect("person").registry.number.to_string(),
        "654321"
    );
    let entries = history(&app, id).await;
    assert_eq!(entries.len(), 1);
    assert_eq!(entries[0].changes[0].old, "第123456号");
    assert_eq!(entries[0].changes[0].new, "第654321号");
}

#[tokio::test]
async fn district_staff_find_only_the_people_of_their_district() {
    let app = spawn_app().await;
    let unaffiliated = Applicant::yamada();
    let neighbour = Applicant::numbered(2);
    let own = Applicant::numbered(3);
    for who in [&unaffiliated, &neighbour, &own] {
        app.register(who).await;
    }
    let shinjuku = add_district(&app.store, "新宿区医師会").await;
    let shibuya = add_district(&app.store, "渋谷区医師会").await;
    let unaffiliated_id = account(&app, &unaffiliated.login_id).await.id;
    let neighbour_id = account(&app, &neighbour.login_id).await.id;
    let own_id = account(&app, &own.login_id).await.id;
    affiliate(&app, neighbour_id, shibuya.id).await;
    affiliate(&app, own_id, shinjuku.id).await;
    let b = signed_in_staff(&app, "新宿区医師会", "shinjuku01", "担当者").await;
    let staff_id = account(&app, "shinjuku01").await.id;

    let own_page = b.get(&format!("/office/people/{own_id}")).await;
    own_page.assert_status(StatusCode::OK);
    own_page.assert_contains("新宿区医師会");
    for path in [
        format!("/office/people/{unaffiliated_id}"),
        format!("/office/people/{neighbour_id}"),
        format!("/office/people/{neighbour_id}/edit"),
        "/office/people/99999".to_owned(),
        "/office/people/abc".to_owned(),
        format!("/office/people/{staff_id}"),
    ] {
        b.get(&path).await.assert_status(StatusCode::NOT_FOUND);
    }
    // Writes outside the scope are refused the same way, and change nothing.
    b.get(&format!("/office/people/{own_id}")).await;
    b.post_form(
        &format!("/office/people/{neighbour_id}/edit"),
        &correction(&neighbour, "x", &[("mobile", "080-0000-1111")]),
    )
    .await
    .assert_status(StatusCode::NOT_FOUND);
    b.post_form(
        &format!("/office/people/{unaffiliated_id}/password-reset"),
        &[("x", "y")],
    )
    .await
    .assert_status(StatusCode::NOT_FOUND);
    assert!(history(&app, neighbour_id).await.is_empty());
    assert!(history(&app, unaffiliated_id).await.is_empty());
}

#[tokio::test]
async fn an_invalid_phone_number_is_shown_next_to_its_field_with_the_values_kept_and_nothing_changes()
 {
    let app = spawn_app().await;
    let who = Applicant::yamada();
    app.register(&who).await;
    let id = account(&app, &who.login_id).await.id;
    let b = signed_in_staff(&app, "日本医師会", "jmaclerk01", "担当者").await;

    let edit = b.get(&format!("/office/people/{id}/edit")).await;
    edit.assert_contains("登録情報の修正");
    assert_eq!(
        input_value(&edit.body, "mobile").as_deref(),
        Some("090-1234-5678")
    );
    assert_eq!(
        input_value(&edit.body, "name_last").as_deref(),
        Some("山田")
    );
    assert!(
        input_value(&edit.body, "login_id").is_none(),
        "the login ID is not part of the form"
    );
    assert!(input_value(&edit.body, "password").is_none());
    let version = input_value(&edit.body, "version").expect("version");

    let refused = b
        .post_form(
            &format!("/office/people/{id}/edit"),
            &correction(
                &who,
                &version,
                &[("mobile", "09012345678"), ("address", "文京区本駒込3-1-1")],
            ),
        )
        .await;
    refused.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        error_of(&refused.body, "mobile").as_deref(),
        Some("携帯電話番号はハイフンを含めて入力してください（例：090-1234-5678）。")
    );
    assert_eq!(
        input_value(&refused.body, "mobile").as_deref(),
        Some("09012345678")
    );
    assert_eq!(
        input_value(&refused.body, "address").as_deref(),
        Some("文京区本駒込3-1-1")
    );
    assert_eq!(error_of(&refused.body, "address"), None);

    let stored = account(&app, &who.login_id).await.person.expect("person");
    assert_eq!(
        stored
            .phones
            .mobile
            .as_ref()
            .map(|m| m.as_str())
            .unwrap_or_default(),
        "090-1234-5678"
    );
    assert_eq!(stored.address.line.as_str(), "文京区本駒込2-28-16");
    assert!(history(&app, id).await.is_empty());

    // The inline check of the form answers with the same message.
    let check = b
        .htmx_post(
            "/register/check/mobile",
            &correction(&who, &version, &[("mobile", "09012345678")]),
        )
        .await;
    assert_eq!(
        error_of(&check.body, "mobile").as_deref(),
        Some("携帯電話番号はハイフンを含めて入力してください（例：090-1234-5678）。")
    );
}

#[tokio::test]
async fn a_valid_correction_moves_the_index_and_writes_one_audit_entry_shown_on_the_page() {
    let app = spawn_app().await;
    let who = Applicant::yamada();
    app.register(&who).await;
    let id = account(&app, &who.login_id).await.id;
    let b = signed_in_staff(&app, "日本医師会", "jmaclerk01", "担当者").await;
    let staff_id = account(&app, "jmaclerk01").await.id;

    let version = open_edit(&b, id).await;
    b.post_form(
        &format!("/office/people/{id}/edit"),
        &correction(&who, &version, &[("mobile", "０８０-9999-0000")]),
    )
    .await
    .assert_redirect_to(&format!("/office/people/{id}?done=corrected"));

    let stored = account(&app, &who.login_id).await;
    assert_eq!(
        stored
            .person
            .expect("person")
            .phones
            .mobile
            .map(|m| m.as_str().to_owned())
            .unwrap_or_default(),
        "080-9999-0000"
    );
    let found = app
        .store
        .read(|tx| {
            Ok((
                users::ids_by_phone(tx, "080-9999-0000")?,
                users::ids_by_phone(tx, "090-1234-5678")?,
            ))
        })
        .await
        .expect("search phones");
    assert_eq!(found, (vec![id], vec![]));

    let entries = history(&app, id).await;
    assert_eq!(entries.len(), 1, "{entries:#?}");
    let entry = &entries[0];
    assert_eq!(entry.kind, AuditKind::PersonCorrected);
    assert_eq!(entry.actor, Some(staff_id));
    assert_eq!(entry.association, None);
    assert_eq!(entry.changes.len(), 1);
    assert_eq!(
        (
            entry.changes[0].field.as_str(),
            entry.changes[0].old.as_str(),
            entry.changes[0].new.as_str()
        ),
        ("携帯電話番号", "090-1234-5678", "080-9999-0000")
    );

    let page = b.get(&format!("/office/people/{id}?done=corrected")).await;
    page.assert_contains("登録情報を修正しました。");
    page.assert_contains("登録情報の修正");
    page.assert_contains("携帯電話番号：090-1234-5678 → 080-9999-0000");
    page.assert_contains("事務 花子（日本医師会）");

    // Saving the same values again writes nothing.
    let version = open_edit(&b, id).await;
    b.post_form(
        &format!("/office/people/{id}/edit"),
        &correction(&who, &version, &[("mobile", "080-9999-0000")]),
    )
    .await
    .assert_redirect_to(&format!("/office/people/{id}?done=unchanged"));
    assert_eq!(history(&app, id).await.len(), 1);
}

#[tokio::test]
async fn a_correction_from_a_form_opened_before_another_change_is_refused_with_the_values_kept() {
    let app = spawn_app().await;
    let who = Applicant::yamada();
    app.register(&who).await;
    let id = account(&app, &who.login_id).await.id;
    let first = signed_in_staff(&app, "日本医師会", "jmaclerk01", "担当者").await;
    let second = signed_in_staff(&app, "日本医師会", "jmaclerk02", "担当者").await;

    let v1 = open_edit(&first, id).await;
    let v2 = open_edit(&second, id).await;
    assert_eq!(v1, v2);
    first
        .post_form(
            &format!("/office/people/{id}/edit"),
            &correction(&who, &v1, &[("address", "文京区本駒込3-1-1")]),
        )
        .await
        .assert_redirect_to(&format!("/office/people/{id}?done=corrected"));
    let stale = second
        .post_form(
            &format!("/office/people/{id}/edit"),
            &correction(&who, &v2, &[("address", "文京区千駄木1-1-1")]),
        )
        .await;
    stale.assert_status(StatusCode::CONFLICT);
    stale.assert_contains("他の職員によって変更されました");
    assert_eq!(
        input_value(&stale.body, "address").as_deref(),
        Some("文京区千駄木1-1-1")
    );
    let stored = account(&app, &who.login_id).await.person.expect("person");
    assert_eq!(stored.address.line.as_str(), "文京区本駒込3-1-1");
    assert_eq!(history(&app, id).await.len(), 1);
}

#[tokio::test]
async fn staff_send_the_password_reset_mail_without_seeing_the_link() {
    let app = spawn_app().await;
    let who = Applicant::yamada();
    app.register(&who).await;
    let id = account(&app, &who.login_id).await.id;
    let b = signed_in_staff(&app, "日本医師会", "jmaclerk01", "担当者").await;
    let staff_id = account(&app, "jmaclerk01").await.id;

    b.get(&format!("/office/people/{id}")).await;
    let sent = b
        .post_form(&format!("/office/people/{id}/password-reset"), &[("x", "")])
        .await;
    sent.assert_redirect_to(&format!("/office/people/{id}?done=reset"));
    let page = b.get(&format!("/office/people/{id}?done=reset")).await;
    page.assert_contains("パスワード再設定のメールを送信しました");
    page.assert_contains("パスワード再設定メールの送信（事務局）");
    assert!(!page.body.contains("token="), "staff never see the link");

    let mail = app
        .smtp()
        .wait_for(&who.email, templates::RESET_SUBJECT, MAIL_WAIT)
        .await;
    assert!(mail.body.contains("/forgot/password/reset?token="));
    // htmx gets the region back with the same words.
    let region = b
        .htmx_post(&format!("/office/people/{id}/password-reset"), &[("x", "")])
        .await;
    region.assert_status(StatusCode::OK);
    region.assert_contains("パスワード再設定のメールを送信しました");
    assert!(!region.body.contains("<html"), "a fragment, not a page");
    assert!(!region.body.contains("token="));
    assert_eq!(region.header("vary"), Some("HX-Request"));
    let entries = history(&app, id).await;
    assert_eq!(entries.len(), 2);
    assert!(
        entries
            .iter()
            .all(|e| e.kind == AuditKind::PasswordResetSentByStaff)
    );
    assert_eq!(entries[0].kind, AuditKind::PasswordResetSentByStaff);
    assert_eq!(entries[0].actor, Some(staff_id));
}

#[tokio::test]
async fn admins_search_the_history_of_the_records_in_their_scope_only() {
    let app = spawn_app().await;
    let unaffiliated = Applicant::yamada();
    let member = Applicant::numbered(2);
    app.register(&unaffiliated).await;
    app.register(&member).await;
    let shinjuku = add_district(&app.store, "新宿区医師会").await;
    let unaffiliated_id = account(&app, &unaffiliated.login_id).await.id;
    let member_id = account(&app, &member.login_id).await.id;
    affiliate(&app, member_id, shinjuku.id).await;

    let root = signed_in_staff(&app, "日本医師会", "jmaadmin01", "管理者").await;
    for (who, id, mobile) in [
        (&unaffiliated, unaffiliated_id, "080-1111-0000"),
        (&member, member_id, "080-2222-0000"),
    ] {
        let version = open_edit(&root, id).await;
        root.post_form(
            &format!("/office/people/{id}/edit"),
            &correction(who, &version, &[("mobile", mobile)]),
        )
        .await
        .assert_redirect_to(&format!("/office/people/{id}?done=corrected"));
    }

    let all = root.get("/office/audit").await;
    all.assert_status(StatusCode::OK);
    all.assert_contains("080-1111-0000");
    all.assert_contains("080-2222-0000");
    all.assert_contains(&format!("href=\"/office/people/{unaffiliated_id}\""));
    all.assert_contains("<td>ログイン</td>");
    let filtered = root
        .get(&format!(
            "/office/audit?kind=person_corrected&target={}",
            unaffiliated.login_id
        ))
        .await;
    filtered.assert_contains("080-1111-0000");
    assert!(!filtered.body.contains("080-2222-0000"));
    let by_id = root
        .get(&format!("/office/audit?target={member_id}&from=2000-01-01"))
        .await;
    by_id.assert_contains("080-2222-0000");
    assert!(!by_id.body.contains("080-1111-0000"));
    let bad_date = root.get("/office/audit?from=yesterday").await;
    assert!(error_of(&bad_date.body, "from").is_some());

    let district = signed_in_staff(&app, "新宿区医師会", "shinjuku01", "管理者").await;
    let theirs = district.get("/office/audit").await;
    theirs.assert_status(StatusCode::OK);
    theirs.assert_contains("080-2222-0000");
    assert!(
        !theirs.body.contains("080-1111-0000"),
        "a person of no association is the root's only"
    );
    let logins = district.get("/office/audit?kind=login_succeeded").await;
    logins.assert_contains("該当する記録はありません。");

    let clerk = signed_in_staff(&app, "日本医師会", "jmaclerk01", "担当者").await;
    clerk
        .get("/office/audit")
        .await
        .assert_status(StatusCode::NOT_FOUND);
}
