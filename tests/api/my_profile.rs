//! マイページ's registered information and the change of contact details:
//! the registration's fields and messages, a confirmation old → new, the
//! save (search index, audit entry, notice mail) seen by staff in the
//! person's history, a record changed meanwhile refused.

use mamis::{
    domain::{RegistrationForm, person_form},
    mail::templates,
    store::{
        audit::{self, AuditKind, Target},
        users::{self, UserRecord},
    },
};
use reqwest::StatusCode;

use crate::{
    helpers::*,
    office::{first_login, staff},
};

const CONTACT_FIELDS: [&str; 7] = [
    "postal_code",
    "prefecture",
    "address",
    "building",
    "mobile",
    "tel",
    "fax",
];

async fn account(app: &TestApp, login_id: &str) -> UserRecord {
    let login_id = login_id.to_owned();
    app.store
        .read(move |tx| users::by_login_id(tx, &login_id))
        .await
        .expect("read account")
        .expect("account exists")
}

/// Yamada registered and signed in, on マイページ.
async fn signed_in_yamada(app: &TestApp) -> (Applicant, Browser) {
    let who = Applicant::yamada();
    app.register(&who).await;
    let b = app.browser();
    b.log_in(&who.login_id, PASSWORD)
        .await
        .assert_redirect_to("/mypage");
    b.get("/mypage").await.assert_status(StatusCode::OK);
    (who, b)
}

/// The contact form's values (and version) with `changes`.
async fn contact_form(b: &Browser, changes: &[(&str, &str)]) -> Vec<(String, String)> {
    let page = b.get("/mypage/contact").await;
    page.assert_status(StatusCode::OK);
    let mut fields: Vec<(String, String)> = CONTACT_FIELDS
        .iter()
        .map(|n| {
            let v = match *n {
                "prefecture" => selected_option(&page.body, n),
                _ => input_value(&page.body, n),
            };
            ((*n).to_owned(), v.unwrap_or_default())
        })
        .collect();
    fields.push((
        "version".to_owned(),
        input_value(&page.body, "version").expect("a version"),
    ));
    with(fields, changes)
}

/// The hidden inputs of the confirmation page, and `action`.
fn confirmed(page: &Page, action: &str) -> Vec<(String, String)> {
    let mut fields: Vec<(String, String)> = CONTACT_FIELDS
        .iter()
        .chain(["version"].iter())
        .map(|n| {
            (
                (*n).to_owned(),
                input_value(&page.body, n).expect("a hidden input"),
            )
        })
        .collect();
    fields.push(("action".to_owned(), action.to_owned()));
    fields
}

async fn ids_by_phone(app: &TestApp, phone: &str) -> Vec<u64> {
    let phone = phone.to_owned();
    app.store
        .read(move |tx| users::ids_by_phone(tx, &phone))
        .await
        .expect("phone index")
}

#[tokio::test]
async fn mypage_shows_the_registered_information_and_only_signed_in_persons_open_it() {
    let app = spawn_app().await;
    let (_, b) = signed_in_yamada(&app).await;
    let page = b.get("/mypage").await;
    for text in [
        "山田 太郎",
        "doctor01",
        "yamada@example.jp",
        "氏名（フリガナ）",
        "ヤマダ",
        "第123456号",
        "自宅現住所",
        "113-8621",
        "文京区本駒込2-28-16",
        "090-1234-5678",
        "東北大学",
        "所属医師会",
        "未所属",
        "連絡先の変更 →",
        "メールアドレスの変更 →",
        "パスワードの変更 →",
    ] {
        page.assert_contains(text);
    }

    let visitor = app.browser();
    for path in ["/mypage", "/mypage/contact"] {
        visitor.get(path).await.assert_redirect_to("/login");
    }

    // Staff have 事務局TOP instead.
    let one_time = staff(&app, "日本医師会", "jmaclerk01", "担当者").await;
    let office = first_login(&app, "jmaclerk01", &one_time).await;
    office.get("/mypage").await.assert_redirect_to("/office");
}

#[tokio::test]
async fn an_invalid_phone_gets_the_registrations_message_next_to_it_with_the_values_kept() {
    let app = spawn_app().await;
    let (_, b) = signed_in_yamada(&app).await;
    let form = contact_form(&b, &[("mobile", "abc"), ("address", "文京区本駒込3-1-1")]).await;
    assert!(form.contains(&("postal_code".to_owned(), "113-8621".to_owned())));
    let page = b.post_form("/mypage/contact", &form).await;
    page.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
    let message = error_of(&page.body, "mobile").expect("a message on 携帯電話番号");
    // The registration's own message for the same value.
    let parsed = RegistrationForm::from_pairs(&[("mobile".to_owned(), "abc".to_owned())]);
    let expected = mamis::domain::check_field(
        &parsed.normalized(),
        mamis::domain::Field::Mobile,
        time::OffsetDateTime::now_utc().date(),
    )
    .expect("registration refuses it");
    assert_eq!(message, expected);
    assert_eq!(error_of(&page.body, "address"), None);
    assert_eq!(
        input_value(&page.body, "address").as_deref(),
        Some("文京区本駒込3-1-1")
    );
    assert_eq!(input_value(&page.body, "mobile").as_deref(), Some("abc"));
    // The inline check answers the person's fields the same way.
    let inline = b
        .htmx_post("/register/check/mobile", &[("mobile", "abc")])
        .await;
    inline.assert_contains(&expected);
    // Nothing was written.
    assert_eq!(
        ids_by_phone(&app, "090-1234-5678").await.len(),
        1,
        "the phone is unchanged"
    );
}

#[tokio::test]
async fn a_confirmed_change_is_saved_audited_mailed_and_shown_in_the_persons_history() {
    let app = spawn_app().await;
    let (who, b) = signed_in_yamada(&app).await;
    let id = account(&app, &who.login_id).await.id;

    // Nothing changed: said, nothing to confirm.
    let same = contact_form(&b, &[]).await;
    let page = b.post_form("/mypage/contact", &same).await;
    page.assert_status(StatusCode::OK);
    page.assert_contains("変更された項目がありません。");

    let form = contact_form(
        &b,
        &[
            ("mobile", "０８０−９９９９−００００"),
            ("building", "本駒込ハイツ101"),
        ],
    )
    .await;
    let confirm = b.post_form("/mypage/contact", &form).await;
    confirm.assert_status(StatusCode::OK);
    for text in [
        "入力内容の確認",
        "携帯電話番号",
        "090-1234-5678",
        "080-9999-0000",
        "建物名、部屋番号など",
        "本駒込ハイツ101",
        "変更する",
    ] {
        confirm.assert_contains(text);
    }
    assert!(!confirm.body.contains("第123456号"), "only what changed");

    // 戻る: the form with the new values.
    let back = b
        .post_form("/mypage/contact/confirm", &confirmed(&confirm, "back"))
        .await;
    back.assert_status(StatusCode::OK);
    assert_eq!(
        input_value(&back.body, "mobile").as_deref(),
        Some("080-9999-0000")
    );
    assert!(ids_by_phone(&app, "080-9999-0000").await.is_empty());

    b.post_form("/mypage/contact/confirm", &confirmed(&confirm, "save"))
        .await
        .assert_redirect_to("/mypage?done=contact");
    let mypage = b.get("/mypage?done=contact").await;
    mypage.assert_contains("連絡先を変更しました。");
    mypage.assert_contains("080-9999-0000");
    mypage.assert_contains("本駒込ハイツ101");

    assert_eq!(ids_by_phone(&app, "080-9999-0000").await, [id]);
    assert!(ids_by_phone(&app, "090-1234-5678").await.is_empty());
    let history = app
        .store
        .read(move |tx| audit::of_target(tx, Target::Person(id), 100))
        .await
        .expect("history");
    let changed: Vec<_> = history
        .iter()
        .filter(|e| e.kind == AuditKind::ContactChanged)
        .collect();
    assert_eq!(changed.len(), 1);
    assert_eq!(changed[0].actor, Some(id));
    let rows: Vec<(&str, &str, &str)> = changed[0]
        .changes
        .iter()
        .map(|c| (c.field.as_str(), c.old.as_str(), c.new.as_str()))
        .collect();
    assert_eq!(
        rows,
        [
            ("建物名、部屋番号など", "", "本駒込ハイツ101"),
            ("携帯電話番号", "090-1234-5678", "080-9999-0000"),
        ]
    );

    let mail = app
        .smtp()
        .wait_for(&who.email, templates::CONTACT_CHANGED_SUBJECT, MAIL_WAIT)
        .await;
    assert!(mail.body.contains("携帯電話番号"), "{}", mail.body);
    assert!(!mail.body.contains("080-9999-0000"), "no values in mail");

    // The same confirmation again changes nothing more.
    let again = b
        .post_form("/mypage/contact/confirm", &confirmed(&confirm, "save"))
        .await;
    again.assert_status(StatusCode::CONFLICT);

    let one_time = staff(&app, "日本医師会", "jmaclerk01", "担当者").await;
    let office = first_login(&app, "jmaclerk01", &one_time).await;
    let page = office.get(&format!("/office/people/{id}")).await;
    page.assert_status(StatusCode::OK);
    for text in [
        "連絡先の変更（本人）",
        "本人",
        "080-9999-0000",
        "090-1234-5678",
    ] {
        page.assert_contains(text);
    }
}

#[tokio::test]
async fn a_change_confirmed_after_the_record_changed_meanwhile_is_refused() {
    let app = spawn_app().await;
    let (who, b) = signed_in_yamada(&app).await;
    let id = account(&app, &who.login_id).await.id;
    let form = contact_form(&b, &[("tel", "03-3946-2121")]).await;
    let confirm = b.post_form("/mypage/contact", &form).await;
    confirm.assert_status(StatusCode::OK);

    // Meanwhile the record changes (as a staff correction would).
    app.store
        .write_ok(move |tx| {
            let user = users::get_for_update(tx, id)?.expect("the person");
            let old = user.person.expect("a person");
            let mut form = person_form::person_form(&old);
            form.address = "文京区本駒込9-9-9".to_owned();
            let new = person_form::validate_person(&form, time::macros::date!(2026 - 01 - 01))
                .expect("valid");
            users::replace_person(tx, id, new)?;
            Ok(())
        })
        .await
        .expect("change the record");

    let refused = b
        .post_form("/mypage/contact/confirm", &confirmed(&confirm, "save"))
        .await;
    refused.assert_status(StatusCode::CONFLICT);
    refused.assert_contains("入力内容は保存されていません。");
    let user = account(&app, &who.login_id).await;
    let person = user.person.expect("a person");
    assert!(person.phones.tel.is_none(), "the tel was not saved");
    assert_eq!(person.address.line.to_string(), "文京区本駒込9-9-9");
    let kinds: Vec<AuditKind> = app
        .store
        .read(move |tx| audit::of_target(tx, Target::Person(id), 100))
        .await
        .expect("history")
        .into_iter()
        .map(|e| e.kind)
        .collect();
    assert!(!kinds.contains(&AuditKind::ContactChanged));
}
