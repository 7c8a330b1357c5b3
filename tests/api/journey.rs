//! The physician's journey: terms → e-mail → the mailed link → the form
//! (with its inline checks and suggestions) → confirmation → completion →
//! login, and what each screen says when something is wrong.

use mamis::{mail::templates, store::users};
use reqwest::StatusCode;

use crate::helpers::{
    Applicant, MAIL_WAIT, PASSWORD, checked_values, error_of, input_value, link_in, message_region,
    selected_option, spawn_app, with,
};

#[tokio::test]
async fn a_physician_registers_from_the_terms_to_the_completion_mail_and_logs_in() {
    let app = spawn_app().await;
    let who = Applicant::yamada();

    // Screen 2: the terms.
    let terms = app.get("/register").await;
    terms.assert_status(StatusCode::OK);
    terms.assert_contains("利用規約・個人情報の取り扱いに同意する");
    app.post_form("/register", &[("agree", "yes")])
        .await
        .assert_redirect_to("/register/email");

    // Screen 3: the address, twice.
    let email_page = app.get("/register/email").await;
    email_page.assert_status(StatusCode::OK);
    email_page.assert_contains("メールアドレスの入力");
    app.post_form(
        "/register/email",
        &[("email", who.email.as_str()), ("email_confirm", &who.email)],
    )
    .await
    .assert_redirect_to("/register/email/sent");
    let sent = app.get("/register/email/sent").await;
    sent.assert_status(StatusCode::OK);
    sent.assert_contains("確認メール送信完了");
    sent.assert_contains("お手続きはまだ完了していません。");
    sent.assert_contains("URLの有効期限は送信後24時間です。");

    // The confirmation mail, received over SMTP.
    let mail = app
        .smtp()
        .wait_for(&who.email, templates::REGISTRATION_SUBJECT, MAIL_WAIT)
        .await;
    assert_eq!(mail.subject, "【MAMIS】利用者登録のご確認");
    assert_eq!(mail.header_to, who.email);
    assert_eq!(mail.from, "noreply@mamis.test");
    assert!(
        mail.body
            .contains("※このサイトは医師を対象としております。")
    );
    assert!(
        mail.body
            .contains("※URL の有効期間は配信されてから 24 時間です。")
    );
    assert!(
        mail.body.contains("0120-000-000"),
        "help-desk phone missing"
    );
    let link = link_in(&mail.body).expect("the mail has a registration link");
    assert!(
        link.starts_with(&format!("{}/register/verify?token=", app.base)),
        "link {link} does not point at this server"
    );
    let token = link.rsplit('=').next().unwrap_or_default();
    assert!(
        token.len() >= 22,
        "token {token:?} is shorter than 128 bits"
    );

    // The link opens the form (and takes the token out of the address bar).
    let opened = app.get(&link).await;
    opened.assert_redirect_to("/register/form");
    assert_eq!(opened.header("referrer-policy"), Some("no-referrer"));
    let form = app.get("/register/form").await;
    form.assert_status(StatusCode::OK);
    form.assert_contains("メールアドレス（確認済み）");
    form.assert_contains(&who.email);

    // Screen 4 → 5.
    app.post_form("/register/form", &who.fields())
        .await
        .assert_redirect_to("/register/confirm");
    let confirm = app.get("/register/confirm").await;
    confirm.assert_status(StatusCode::OK);
    confirm.assert_contains("入力内容をご確認ください。");
    for shown in [
        "doctor01",
        "第123456号",
        "2008/05/01",
        "ヤマダ",
        "タロウ",
        "山田",
        "太郎",
        "113-8621",
        "東京都",
        "文京区本駒込2-28-16",
        "090-1234-5678",
        "1980/04/01",
        "01内科",
        "東北大学",
        "2006/03",
        "日本内科学会",
        &who.email,
    ] {
        confirm.assert_contains(shown);
    }
    assert!(
        !confirm.body.contains(PASSWORD),
        "the confirmation page shows the password"
    );
    confirm.assert_contains("登録する");

    // 登録する → screen 6.
    app.post_form("/register/confirm", &[] as &[(&str, &str)])
        .await
        .assert_redirect_to("/register/complete");
    let done = app.get("/register/complete").await;
    done.assert_status(StatusCode::OK);
    done.assert_contains("利用者登録が完了しました。");
    done.assert_contains("ログインページよりログインしてください。");
    done.assert_contains("doctor01");

    // The completion mail.
    let mail = app
        .smtp()
        .wait_for(&who.email, templates::COMPLETED_SUBJECT, MAIL_WAIT)
        .await;
    assert_eq!(mail.subject, "【MAMIS】利用者登録完了のお知らせ");
    assert!(mail.body.contains("山田 太郎 様"), "body: {}", mail.body);
    assert!(mail.body.contains("ログインID：doctor01"));
    assert!(
        !mail.body.contains(PASSWORD),
        "the mail contains the password"
    );
    let all = app.smtp().wait_for_mail(2, MAIL_WAIT).await;
    assert_eq!(all.len(), 2, "unexpected mails: {all:#?}");

    // The account, as stored.
    assert_eq!(app.user_count().await, 1);
    let user = app
        .store
        .read(|tx| users::by_login_id(tx, "doctor01"))
        .await
        .expect("read user")
        .expect("the account exists");
    assert_eq!(user.email, who.email);
    assert_eq!(user.registry_number, "123456");
    assert!(!user.terms_version.is_empty(), "terms version not recorded");
    assert!(
        user.terms_agreed_at > 0,
        "terms agreement time not recorded"
    );
    assert!(
        user.password_hash.starts_with("$argon2id$"),
        "password not stored as an argon2id hash"
    );

    // Login with the new credentials, in another browser.
    let b = app.browser();
    b.get("/login").await.assert_status(StatusCode::OK);
    b.log_in("doctor01", PASSWORD)
        .await
        .assert_redirect_to("/mypage");
    let mypage = b.get("/mypage").await;
    mypage.assert_status(StatusCode::OK);
    mypage.assert_contains("山田 太郎");
}

#[tokio::test]
async fn the_terms_must_be_agreed_to_before_the_email_step() {
    let app = spawn_app().await;
    app.get("/register").await;

    let refused = app.post_form("/register", &[] as &[(&str, &str)]).await;
    refused.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        error_of(&refused.body, "agree").as_deref(),
        Some("利用規約・個人情報の取り扱いに同意してください。")
    );
    let refused = app.post_form("/register", &[("agree", "no")]).await;
    refused.assert_status(StatusCode::UNPROCESSABLE_ENTITY);

    // Without the agreement the e-mail step sends back to the terms.
    app.get("/register/email")
        .await
        .assert_redirect_to("/register");
    app.post_form(
        "/register/email",
        &[("email", "a@example.jp"), ("email_confirm", "a@example.jp")],
    )
    .await
    .assert_redirect_to("/register");
    assert!(app.outbox().await.is_empty(), "a mail was queued");

    // Once ticked, the e-mail step opens.
    app.post_form("/register", &[("agree", "yes")])
        .await
        .assert_redirect_to("/register/email");
    app.get("/register/email")
        .await
        .assert_status(StatusCode::OK);
}

#[tokio::test]
async fn addresses_that_do_not_match_are_shown_an_error_and_no_mail_is_sent() {
    let app = spawn_app().await;
    app.get("/register").await;
    app.post_form("/register", &[("agree", "yes")]).await;

    let page = app
        .post_form(
            "/register/email",
            &[
                ("email", "yamada@example.jp"),
                ("email_confirm", "yamada@example.com"),
            ],
        )
        .await;
    page.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        error_of(&page.body, "email_confirm").as_deref(),
        Some("確認用メールアドレスが一致しません。")
    );
    assert_eq!(error_of(&page.body, "email"), None);
    assert_eq!(
        input_value(&page.body, "email").as_deref(),
        Some("yamada@example.jp")
    );
    assert_eq!(
        input_value(&page.body, "email_confirm").as_deref(),
        Some("yamada@example.com")
    );
    assert!(app.outbox().await.is_empty(), "a mail was queued");

    // The inline check says the same.
    let check = app
        .htmx_post(
            "/register/email/check/email_confirm",
            &[
                ("email", "yamada@example.jp"),
                ("email_confirm", "yamada@example.com"),
            ],
        )
        .await;
    check.assert_status(StatusCode::OK);
    assert_eq!(
        error_of(&check.body, "email_confirm").as_deref(),
        Some("確認用メールアドレスが一致しません。")
    );
}

#[tokio::test]
async fn an_address_already_registered_gets_the_same_page_and_a_mail_pointing_to_the_forgotten_password()
 {
    let app = spawn_app().await;
    let who = Applicant::yamada();
    app.register(&who).await;

    // A new address, for comparison.
    let fresh = app.browser();
    fresh.start_registration("newcomer@example.jp").await;
    let fresh_page = fresh.get("/register/email/sent").await;

    // The registered address: the same redirect and the same page.
    let b = app.browser();
    b.start_registration(&who.email).await;
    let known_page = b.get("/register/email/sent").await;
    known_page.assert_status(StatusCode::OK);
    assert_eq!(
        known_page.body, fresh_page.body,
        "the sent page differs for a registered address"
    );

    let mail = app
        .smtp()
        .wait_for(&who.email, templates::ALREADY_REGISTERED_SUBJECT, MAIL_WAIT)
        .await;
    assert!(
        mail.body.contains("既に利用者として登録されています"),
        "body: {}",
        mail.body
    );
    assert!(mail.body.contains("パスワードをお忘れの方はこちら"));
    assert!(mail.body.contains(&format!("{}/login", app.base)));
    assert_eq!(
        link_in(&mail.body),
        None,
        "the mail has a registration link"
    );
    // Only one registration-link mail ever went to that address.
    let links = app
        .smtp()
        .mails_to(&who.email)
        .into_iter()
        .filter(|m| m.subject == templates::REGISTRATION_SUBJECT)
        .count();
    assert_eq!(links, 1);
    // The fresh address did get a link.
    app.registration_link("newcomer@example.jp").await;
}

/// Every optional field filled in, already in the form the page shows back.
fn full_form(who: &Applicant) -> Vec<(String, String)> {
    let mut fields = with(
        who.fields(),
        &[
            ("kana_last", "ヤマダ"),
            ("kana_first", "タロウ"),
            ("registry_date", "2008/05/01"),
            ("birth_date", "1980/04/01"),
            ("graduation", "2006/03"),
            ("postal_code", "113-8621"),
            ("society_query", ""),
            ("former_kana_last", "スズキ"),
            ("former_name_last", "鈴木"),
            ("use_former_name", "1"),
            ("building", "本駒込ハイツ101"),
            ("tel", "03-3946-2121"),
            ("fax", "03-3946-2122"),
            ("gender", "male"),
            ("sub_depts", "02"),
            ("grad_university", "東京大学"),
            ("grad_department", "医学系研究科"),
            ("grad_completion", "2012/03"),
            ("degree_date", "2012/03"),
            ("societies", "日本内科学会"),
        ],
    );
    fields.push(("sub_depts".into(), "05".into()));
    fields.push(("societies".into(), "日本循環器学会".into()));
    fields
}

#[tokio::test]
async fn going_back_from_the_confirmation_returns_the_form_with_every_value_kept() {
    let app = spawn_app().await;
    let who = Applicant::yamada();
    let b = app.browser();
    b.start_registration(&who.email).await;
    let link = app.registration_link(&who.email).await;
    b.get(&link).await.assert_redirect_to("/register/form");

    let fields = full_form(&who);
    b.post_form("/register/form", &fields)
        .await
        .assert_redirect_to("/register/confirm");
    let confirm = b.get("/register/confirm").await;
    confirm.assert_status(StatusCode::OK);
    confirm.assert_contains("href=\"/register/form\"");
    confirm.assert_contains("戻る");

    // 戻る
    let form = b.get("/register/form").await;
    form.assert_status(StatusCode::OK);
    let html = &form.body;
    for (name, value) in &fields {
        match name.as_str() {
            "password" | "society_query" | "sub_depts" | "societies" | "use_former_name"
            | "gender" => {}
            "prefecture" | "main_dept" => assert_eq!(
                selected_option(html, name).as_deref(),
                Some(value.as_str()),
                "{name} not kept"
            ),
            _ => assert_eq!(
                input_value(html, name).as_deref(),
                Some(value.as_str()),
                "{name} not kept"
            ),
        }
    }
    assert_eq!(checked_values(html, "sub_depts"), ["02", "05"]);
    assert_eq!(
        checked_values(html, "societies"),
        ["日本内科学会", "日本循環器学会"]
    );
    assert_eq!(checked_values(html, "gender"), ["male"]);
    assert_eq!(checked_values(html, "use_former_name"), ["1"]);
    // The password is never sent back, but it is kept: the form says so and
    // going on without typing it again works.
    assert_eq!(input_value(html, "password").as_deref(), Some(""));
    assert!(!html.contains(PASSWORD), "the password is in the page");
    assert!(html.contains("パスワードは入力済みです。"));

    let again: Vec<(String, String)> = fields
        .iter()
        .filter(|(k, _)| k != "password")
        .cloned()
        .collect();
    b.post_form("/register/form", &again)
        .await
        .assert_redirect_to("/register/confirm");
    b.post_form("/register/confirm", &[] as &[(&str, &str)])
        .await
        .assert_redirect_to("/register/complete");
    b.log_in(&who.login_id, PASSWORD)
        .await
        .assert_redirect_to("/mypage");
}

#[tokio::test]
async fn submitting_with_errors_shows_every_error_at_once_and_keeps_the_values() {
    let app = spawn_app().await;
    let who = Applicant::yamada();
    let b = app.browser();
    b.start_registration(&who.email).await;
    let link = app.registration_link(&who.email).await;
    b.get(&link).await;

    let bad = who.fields_with(&[
        ("login_id", "ab"),
        ("password", "short"),
        ("registry_number", "12"),
        ("kana_last", "山田"),
        ("postal_code", "12"),
        ("prefecture", "東京"),
        ("mobile", "abc"),
        ("birth_date", "1980/13/45"),
        ("school", ""),
    ]);
    let page = b.post_form("/register/form", &bad).await;
    page.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
    let html = &page.body;
    let failing = [
        "login_id",
        "password",
        "registry_number",
        "kana_last",
        "postal_code",
        "prefecture",
        "mobile",
        "birth_date",
        "school",
    ];
    for name in failing {
        assert!(
            error_of(html, name).is_some(),
            "no error shown for {name}:\n{}",
            page.excerpt()
        );
    }
    assert_eq!(
        error_of(html, "login_id").as_deref(),
        Some("ログインIDの形式が正しくありません。")
    );
    assert_eq!(
        error_of(html, "password").as_deref(),
        Some("パスワードの形式が正しくありません。")
    );
    // The summary at the top counts them and links to each field.
    page.assert_contains(&format!(
        "入力内容に誤りがあります。（{}件）",
        failing.len()
    ));
    for name in failing {
        page.assert_contains(&format!("href=\"#{name}\""));
    }
    // The valid fields have no error.
    for name in [
        "name_last",
        "name_first",
        "kana_first",
        "address",
        "graduation",
    ] {
        assert_eq!(error_of(html, name), None, "{name} marked wrong");
    }
    // Every value is kept (the password is not echoed).
    for (name, value) in [
        ("login_id", "ab"),
        ("registry_number", "12"),
        ("kana_last", "山田"),
        ("postal_code", "12"),
        ("mobile", "abc"),
        ("birth_date", "1980/13/45"),
        ("name_last", "山田"),
        ("address", "文京区本駒込2-28-16"),
    ] {
        assert_eq!(
            input_value(html, name).as_deref(),
            Some(value),
            "{name} not kept"
        );
    }
    assert_eq!(input_value(html, "password").as_deref(), Some(""));
    assert_eq!(checked_values(html, "societies"), ["日本内科学会"]);
    assert_eq!(selected_option(html, "main_dept").as_deref(), Some("01"));
    assert_eq!(app.user_count().await, 0);

    // Not past the form until it is right.
    b.get("/register/confirm")
        .await
        .assert_redirect_to("/register/form");
}

#[tokio::test]
async fn widths_and_kana_are_normalised_and_shown_back() {
    let app = spawn_app().await;
    let who = Applicant::yamada();
    let b = app.browser();
    b.start_registration(&who.email).await;
    let link = app.registration_link(&who.email).await;
    b.get(&link).await;

    // The inline check shows the value back normalised.
    for (name, typed, shown) in [
        ("kana_last", "やまだ", "ヤマダ"),
        ("kana_first", "ﾀﾛｳ", "タロウ"),
        ("login_id", "ＡＢＣdoctor", "ABCdoctor"),
        ("registry_date", "平成20年5月1日", "2008/05/01"),
        ("postal_code", "１１３８６２１", "113-8621"),
    ] {
        let frag = b
            .htmx_post(&format!("/register/check/{name}"), &[(name, typed)])
            .await;
        frag.assert_status(StatusCode::OK);
        assert_eq!(error_of(&frag.body, name), None, "{name}: {}", frag.body);
        assert_eq!(
            input_value(&frag.body, name).as_deref(),
            Some(shown),
            "{name} not shown back normalised: {}",
            frag.body
        );
    }

    // The final submit normalises the same way.
    let fields = who.fields_with(&[("login_id", "ＡＢＣdoctor")]);
    b.post_form("/register/form", &fields)
        .await
        .assert_redirect_to("/register/confirm");
    let confirm = b.get("/register/confirm").await;
    for shown in [
        "ヤマダ",
        "タロウ",
        "ABCdoctor",
        "2008/05/01（平成20年5月1日）",
    ] {
        confirm.assert_contains(shown);
    }
    for raw in ["やまだ", "ﾀﾛｳ", "ＡＢＣ"] {
        assert!(!confirm.body.contains(raw), "{raw} shown as typed");
    }
    let form = b.get("/register/form").await;
    assert_eq!(
        input_value(&form.body, "kana_last").as_deref(),
        Some("ヤマダ")
    );
    assert_eq!(
        input_value(&form.body, "kana_first").as_deref(),
        Some("タロウ")
    );
    assert_eq!(
        input_value(&form.body, "login_id").as_deref(),
        Some("ABCdoctor")
    );
    assert_eq!(
        input_value(&form.body, "registry_date").as_deref(),
        Some("2008/05/01")
    );
}

#[tokio::test]
async fn the_inline_checks_answer_with_the_fields_message() {
    let app = spawn_app().await;
    app.get("/register").await;

    // A field's own rule.
    let frag = app
        .htmx_post("/register/check/login_id", &[("login_id", "ab")])
        .await;
    frag.assert_status(StatusCode::OK);
    assert!(message_region(&frag.body, "login_id").is_some());
    assert_eq!(
        error_of(&frag.body, "login_id").as_deref(),
        Some("ログインIDの形式が正しくありません。")
    );
    let live = app
        .htmx_post(
            "/register/check/login_id?live=1",
            &[("login_id", "doctor01")],
        )
        .await;
    live.assert_status(StatusCode::OK);
    assert!(message_region(&live.body, "login_id").is_some());
    assert_eq!(error_of(&live.body, "login_id"), None);

    // Password equal to the login ID: on the password, and out of band when
    // the login ID changes.
    let pair = [("login_id", "Kusuri12!"), ("password", "kusuri12!")];
    let frag = app.htmx_post("/register/check/password", &pair).await;
    assert_eq!(
        error_of(&frag.body, "password").as_deref(),
        Some("パスワードにログインIDと同じ文字列は使用できません。")
    );
    let frag = app.htmx_post("/register/check/login_id", &pair).await;
    assert_eq!(error_of(&frag.body, "login_id"), None);
    assert_eq!(
        error_of(&frag.body, "password").as_deref(),
        Some("パスワードにログインIDと同じ文字列は使用できません。")
    );
    assert!(frag.body.contains("hx-swap-oob"), "no out-of-band update");
    let ok = app
        .htmx_post(
            "/register/check/password",
            &[("login_id", "Kusuri12!"), ("password", "Other34#x")],
        )
        .await;
    assert_eq!(error_of(&ok.body, "password"), None);

    // Date order: registration after birth.
    let dates = [
        ("registry_date", "1975/04/01"),
        ("birth_date", "1980/04/01"),
    ];
    let frag = app.htmx_post("/register/check/registry_date", &dates).await;
    let msg = error_of(&frag.body, "registry_date").expect("date order message");
    assert!(msg.contains("生年月日より後"), "message: {msg}");
    let frag = app.htmx_post("/register/check/birth_date", &dates).await;
    assert_eq!(error_of(&frag.body, "birth_date"), None);
    assert!(
        error_of(&frag.body, "registry_date").is_some_and(|m| m.contains("生年月日より後")),
        "birth date change does not re-check the registry date: {}",
        frag.body
    );
    let ok = app
        .htmx_post(
            "/register/check/registry_date",
            &[
                ("registry_date", "2008/05/01"),
                ("birth_date", "1980/04/01"),
            ],
        )
        .await;
    assert_eq!(error_of(&ok.body, "registry_date"), None);

    // Unknown fields are not found.
    let nope = app
        .htmx_post("/register/check/nonsense", &[("x", "y")])
        .await;
    nope.assert_status(StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn a_login_id_is_shown_as_taken_once_someone_registered_it() {
    let app = spawn_app().await;
    // Only a registration whose mailed link was opened is told (see
    // registration_attacks.rs for everyone else).
    let other = Applicant {
        email: "other@example.jp".into(),
        ..Applicant::yamada()
    };
    let b = app.browser();
    b.start_registration(&other.email).await;
    let link = app.registration_link(&other.email).await;
    b.get(&link).await;
    let check = |id: &'static str| {
        let b = b.clone();
        async move {
            b.htmx_post("/register/check/login_id?live=1", &[("login_id", id)])
                .await
        }
    };
    assert_eq!(error_of(&check("doctor01").await.body, "login_id"), None);

    app.register(&Applicant::yamada()).await;

    let taken = "このログインIDは既に使用されています。別のログインIDを入力してください。";
    assert_eq!(
        error_of(&check("doctor01").await.body, "login_id").as_deref(),
        Some(taken)
    );
    assert_eq!(
        error_of(&check("DOCTOR01").await.body, "login_id").as_deref(),
        Some(taken),
        "login IDs differing only in case should clash"
    );
    assert_eq!(error_of(&check("doctor02").await.body, "login_id"), None);

    // The final submit says the same; the 医籍登録番号 is not judged there
    // (only 「登録する」 finds it registered).
    let page = b.post_form("/register/form", &other.fields()).await;
    page.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(error_of(&page.body, "login_id").as_deref(), Some(taken));
    assert_eq!(error_of(&page.body, "registry_number"), None);
}

#[tokio::test]
async fn suggestions_find_schools_and_societies_by_part_of_the_name() {
    let app = spawn_app().await;
    for (path, expected) in [
        ("/suggest/school?school=とうほく", "東北大学"),
        ("/suggest/school?school=トウホク", "東北大学"),
        ("/suggest/school?school=東京医科歯科", "東京科学大学"),
        ("/suggest/society?society_query=ないか", "日本内科学会"),
        ("/suggest/university?grad_university=東京大", "東京大学"),
    ] {
        let list = app.htmx_get(path).await;
        list.assert_status(StatusCode::OK);
        assert!(
            list.body.contains(&format!("data-value=\"{expected}\"")),
            "{path}: {expected} not offered:\n{}",
            list.body
        );
        assert!(list.body.contains("role=\"option\""));
    }
    // The renamed school says why it matched.
    let renamed = app.htmx_get("/suggest/school?school=東京医科歯科").await;
    renamed.assert_contains("旧称「東京医科歯科大学」");
    // Nothing for nonsense; not found for an unknown list.
    let none = app.htmx_get("/suggest/school?school=zzzzqqq").await;
    none.assert_status(StatusCode::OK);
    assert!(!none.body.contains("role=\"option\""), "{}", none.body);
    app.htmx_get("/suggest/nothing?q=a")
        .await
        .assert_status(StatusCode::NOT_FOUND);
}
