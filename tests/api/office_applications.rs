//! The office's side of the procedures over HTTP: 申請一覧 filtered by kind,
//! stage, filed date and association, and exported as CSV within the staff
//! member's scope.

use reqwest::StatusCode;

use crate::{
    helpers::*,
    office::add_district,
    procedures::{
        application_ids, approve, file_through_confirm, join_form, physician, staff_browser,
    },
};

/// The raw bytes of an answer.
async fn bytes(b: &Browser, path: &str) -> (StatusCode, reqwest::header::HeaderMap, Vec<u8>) {
    let resp = b.client().get(b.url(path)).send().await.expect("request");
    let status = resp.status();
    let headers = resp.headers().clone();
    let body = resp.bytes().await.expect("body").to_vec();
    (status, headers, body)
}

fn detail(id: u64) -> String {
    format!("href=\"/office/applications/{id}\"")
}

#[tokio::test]
async fn the_list_filters_by_kind_stage_date_and_association_and_exports_only_what_is_in_scope() {
    let app = spawn_app().await;
    let shinjuku = add_district(&app.store, "新宿区医師会").await;
    let shibuya = add_district(&app.store, "渋谷区医師会").await;
    let first = Applicant::numbered(1);
    let second = Applicant::numbered(2);
    let a = physician(&app, &first).await;
    let b = physician(&app, &second).await;
    file_through_confirm(
        &a,
        "/mypage/applications/new",
        &join_form(shinjuku.id.0, "d"),
        &[],
    )
    .await;
    file_through_confirm(
        &b,
        "/mypage/applications/new",
        &join_form(shibuya.id.0, "dp"),
        &[],
    )
    .await;
    let one = application_ids(&app, &first.login_id).await[0];
    let two = application_ids(&app, &second.login_id).await[0];

    let district = staff_browser(&app, "新宿区医師会", "shinjuku01").await;
    let other = staff_browser(&app, "渋谷区医師会", "shibuya01").await;
    let prefecture = staff_browser(&app, "東京都医師会", "tokyostaff01").await;

    // The default list is the queue; filters narrow it.
    let list = district.get("/office/applications").await;
    list.assert_contains(&detail(one));
    assert!(!list.body.contains(&detail(two)), "another district's");
    let none = district.get("/office/applications?kind=withdraw").await;
    assert!(!none.body.contains(&detail(one)));
    none.assert_contains("貴会の処理待ちの申請はありません");
    district
        .get("/office/applications?kind=join&from=2000/1/1")
        .await
        .assert_contains(&detail(one));
    let old = district
        .get("/office/applications?stage=all&to=%E5%B9%B3%E6%88%9012%E5%B9%B41%E6%9C%881%E6%97%A5")
        .await;
    assert!(
        !old.body.contains(&detail(one)),
        "filed after 平成12年1月1日"
    );
    district
        .get("/office/applications?from=abc")
        .await
        .assert_contains("申請日（から）");

    // htmx gets the results region alone.
    let fragment = district
        .htmx_get("/office/applications?stage=all&kind=join")
        .await;
    fragment.assert_contains(&detail(one));
    assert!(!fragment.body.contains("<html"), "a fragment");

    // The prefecture sees the application once the district approved it.
    let before = prefecture.get("/office/applications?stage=all").await;
    assert!(!before.body.contains(&detail(two)));
    approve(&other, two, "")
        .await
        .assert_redirect_to(&format!("/office/applications/{two}?done=approve"));
    let after = prefecture.get("/office/applications?stage=all").await;
    after.assert_contains(&detail(two));
    assert!(!after.body.contains(&detail(one)), "still at the district");
    let by_district = prefecture
        .get(&format!(
            "/office/applications?stage=all&association={}",
            shinjuku.id.0
        ))
        .await;
    assert!(!by_district.body.contains(&detail(two)));
    prefecture
        .get(&format!(
            "/office/applications?stage=all&association={}",
            shibuya.id.0
        ))
        .await
        .assert_contains(&detail(two));

    // The export: a BOM, the header, the district's rows only.
    let (status, headers, body) = bytes(&district, "/office/applications.csv?stage=all").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        headers
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default(),
        "text/csv; charset=utf-8"
    );
    assert_eq!(&body[..3], b"\xEF\xBB\xBF", "the BOM");
    let text = String::from_utf8(body[3..].to_vec()).expect("utf-8");
    let mut lines = text.split("\r\n");
    assert_eq!(
        lines.next(),
        Some(
            "申請番号,種別,申請日,氏名,フリガナ,医籍登録番号,医師会,現在の段階,状態,入会日・異動日,受付方法"
        )
    );
    let rows: Vec<&str> = lines.filter(|l| !l.is_empty()).collect();
    assert_eq!(rows.len(), 1, "{text}");
    assert!(
        rows[0].starts_with(&format!("{one},入会（郡市区）,")),
        "{}",
        rows[0]
    );
    assert!(rows[0].contains("新宿区医師会"), "{}", rows[0]);
    assert!(rows[0].ends_with(",申請中,,Web"), "{}", rows[0]);

    // Another district's id in the filter matches nothing.
    let (_, _, body) = bytes(
        &district,
        &format!(
            "/office/applications.csv?stage=all&association={}",
            shibuya.id.0
        ),
    )
    .await;
    let text = String::from_utf8(body[3..].to_vec()).expect("utf-8");
    assert_eq!(text.lines().count(), 1, "the header alone: {text}");

    // Shift_JIS on request.
    let (_, headers, body) = bytes(
        &prefecture,
        "/office/applications.csv?stage=all&encoding=sjis",
    )
    .await;
    assert!(
        headers
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .contains("Shift_JIS")
    );
    let (text, _, errors) = encoding_rs::SHIFT_JIS.decode(&body);
    assert!(!errors);
    assert!(text.contains("渋谷区医師会"), "{text}");
    assert!(text.contains("都道府県：東京都医師会"), "{text}");
}

/// The account id of `login_id`.
pub(crate) async fn account_id(app: &TestApp, login_id: &str) -> u64 {
    let login_id = login_id.to_owned();
    app.store
        .read(move |tx| {
            Ok(mamis::store::users::by_login_id(tx, &login_id)?
                .ok_or_else(|| anyhow::anyhow!("no account"))?
                .id)
        })
        .await
        .expect("read account")
}

#[tokio::test]
async fn a_transfer_shows_the_district_before_and_after_to_the_destination() {
    use mamis::{
        config::Config,
        domain::{
            application::Filing,
            procedure::{Change, Procedure},
        },
        mail::worker::MailSignal,
        service::procedures::{self, Filer},
    };
    let app = spawn_app().await;
    let shinjuku = add_district(&app.store, "新宿区医師会").await;
    let shibuya = add_district(&app.store, "渋谷区医師会").await;
    let yamada = Applicant::yamada();
    let doctor = physician(&app, &yamada).await;
    file_through_confirm(
        &doctor,
        "/mypage/applications/new",
        &join_form(shinjuku.id.0, "d"),
        &[],
    )
    .await;
    let join = application_ids(&app, &yamada.login_id).await[0];
    let district = staff_browser(&app, "新宿区医師会", "shinjuku01").await;
    approve(&district, join, "2026/04/01")
        .await
        .assert_redirect_to(&format!("/office/applications/{join}?done=approve"));

    let person = account_id(&app, &yamada.login_id).await;
    let dir = tempfile::tempdir().expect("temp dir");
    let config = Config::for_tests(dir.path().to_path_buf(), None);
    let filing = Filing {
        procedure: Procedure::Change(Change::Transfer {
            to: shibuya.id,
            district_class: String::new(),
            prefecture_class: String::new(),
        }),
        reason: "転居のため".into(),
        desired: None,
    };
    let id = procedures::file(
        &app.store,
        &config,
        &MailSignal::default(),
        Filer::Physician(person),
        person,
        filing,
    )
    .await
    .expect("file")
    .expect("filed");

    let destination = staff_browser(&app, "渋谷区医師会", "shibuya01").await;
    let page = destination.get(&format!("/office/applications/{id}")).await;
    page.assert_status(StatusCode::OK);
    page.assert_contains("<th scope=\"col\">変更前</th>");
    page.assert_contains(
        "<tr><th scope=\"row\">郡市区等医師会</th><td>新宿区医師会</td><td>渋谷区医師会</td></tr>",
    );
    // The source district is told only after completion (確認依頼).
    district
        .get(&format!("/office/applications/{id}"))
        .await
        .assert_status(StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn the_staff_of_the_queue_an_application_enters_are_mailed_its_number_only() {
    let app = spawn_app().await;
    let shinjuku = add_district(&app.store, "新宿区医師会").await;
    let admin = {
        let one_time = crate::office::staff(&app, "東京都医師会", "tokyoadmin01", "管理者").await;
        crate::office::first_login(&app, "tokyoadmin01", &one_time).await
    };
    // A new account with an address, from the creation form.
    admin.get("/office/staff").await;
    let bad = admin
        .post_form(
            "/office/staff",
            &[
                ("name", "事務 次郎"),
                ("login_id", "shinjuku02"),
                ("association", &shinjuku.id.0.to_string()),
                ("role", "担当者"),
                ("email", "not an address"),
            ],
        )
        .await;
    bad.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
    bad.assert_contains("連絡用メールアドレスの形式が正しくありません");
    admin
        .post_form(
            "/office/staff",
            &[
                ("name", "事務 次郎"),
                ("login_id", "shinjuku02"),
                ("association", &shinjuku.id.0.to_string()),
                ("role", "担当者"),
                ("email", "office@shinjuku.example.jp"),
            ],
        )
        .await
        .assert_contains("事務局アカウントを作成しました");
    // The 管理者's own address, set on their account's page.
    let own = account_id(&app, "tokyoadmin01").await;
    admin
        .post_form(
            &format!("/office/staff/{own}/email"),
            &[("email", "office@tokyo.example.jp")],
        )
        .await
        .assert_redirect_to(&format!("/office/staff/{own}?done=email"));
    admin
        .get(&format!("/office/staff/{own}"))
        .await
        .assert_contains("office@tokyo.example.jp");

    let yamada = Applicant::yamada();
    let doctor = physician(&app, &yamada).await;
    file_through_confirm(
        &doctor,
        "/mypage/applications/new",
        &join_form(shinjuku.id.0, "dp"),
        &[],
    )
    .await;
    let id = application_ids(&app, &yamada.login_id).await[0];

    let to = |address: &'static str| {
        let app = &app;
        async move {
            app.outbox()
                .await
                .into_iter()
                .filter(|m| m.to == address)
                .collect::<Vec<_>>()
        }
    };
    let district_mail = to("office@shinjuku.example.jp").await;
    assert_eq!(district_mail.len(), 1, "{district_mail:?}");
    let mail = &district_mail[0];
    assert!(
        mail.subject.contains(&format!("申請番号 {id}")),
        "{}",
        mail.subject
    );
    assert!(mail.subject.contains("入会"));
    assert!(mail.body.contains(&format!("/office/applications/{id}")));
    for personal in ["山田", "ヤマダ", &yamada.email] {
        assert!(!mail.body.contains(personal) && !mail.subject.contains(personal));
    }
    assert!(to("office@tokyo.example.jp").await.is_empty(), "not yet");

    let district = staff_browser(&app, "新宿区医師会", "shinjuku01").await;
    approve(&district, id, "")
        .await
        .assert_redirect_to(&format!("/office/applications/{id}?done=approve"));
    let prefecture_mail = to("office@tokyo.example.jp").await;
    assert_eq!(prefecture_mail.len(), 1, "{prefecture_mail:?}");
    assert!(prefecture_mail[0].subject.contains("処理待ち"));
    assert_eq!(to("office@shinjuku.example.jp").await.len(), 1);
}

#[tokio::test]
async fn a_district_lists_its_classes_and_its_staff_choose_one_when_approving_a_join() {
    let app = spawn_app().await;
    let shinjuku = add_district(&app.store, "新宿区医師会").await;
    let classes_path = format!("/office/associations/{}/classes", shinjuku.id.0);
    let admin = {
        let one_time = crate::office::staff(&app, "新宿区医師会", "shinjukuadm1", "管理者").await;
        crate::office::first_login(&app, "shinjukuadm1", &one_time).await
    };
    let page = admin
        .get(&format!("/office/associations/{}", shinjuku.id.0))
        .await;
    page.assert_contains("会員種別の設定");
    let twice = admin
        .post_form(&classes_path, &[("classes", "A会員\nA会員")])
        .await;
    twice.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
    twice.assert_contains("重複しています");
    admin
        .post_form(&classes_path, &[("classes", "A会員\nB会員\n")])
        .await
        .assert_redirect_to(&format!(
            "/office/associations/{}?done=classes",
            shinjuku.id.0
        ));
    // Nobody else sets them: the prefecture's 管理者, a 担当者.
    let prefecture = {
        let one_time = crate::office::staff(&app, "東京都医師会", "tokyoadmin01", "管理者").await;
        crate::office::first_login(&app, "tokyoadmin01", &one_time).await
    };
    prefecture
        .get(&format!("/office/associations/{}", shinjuku.id.0))
        .await;
    prefecture
        .post_form(&classes_path, &[("classes", "X")])
        .await
        .assert_status(StatusCode::NOT_FOUND);
    let clerk = staff_browser(&app, "新宿区医師会", "shinjuku01").await;
    clerk.get("/office/applications").await;
    clerk
        .post_form(&classes_path, &[("classes", "X")])
        .await
        .assert_status(StatusCode::NOT_FOUND);

    let yamada = Applicant::yamada();
    let doctor = physician(&app, &yamada).await;
    file_through_confirm(
        &doctor,
        "/mypage/applications/new",
        &join_form(shinjuku.id.0, "d"),
        &[],
    )
    .await;
    let id = application_ids(&app, &yamada.login_id).await[0];

    let page = clerk.get(&format!("/office/applications/{id}")).await;
    page.assert_contains("<option value=\"B会員\">B会員</option>");
    let refused = approve(&clerk, id, "2026/04/01").await;
    refused.assert_status(StatusCode::CONFLICT);
    refused.assert_contains("会員種別を選択してください");
    let version = input_value(&refused.body, "version").expect("version");
    clerk
        .post_form(
            &format!("/office/applications/{id}/decide"),
            &[
                ("version", version.as_str()),
                ("action", "approve"),
                ("date", "2026/04/01"),
                ("class", "B会員"),
            ],
        )
        .await
        .assert_redirect_to(&format!("/office/applications/{id}?done=approve"));
    let status = doctor.get("/mypage/applications").await;
    status.assert_contains("完了");
    status.assert_contains("B会員");
    clerk
        .get(&format!("/office/applications/{id}"))
        .await
        .assert_contains("B会員");

    // A 種別変更 (研修修了) filed at the counter: the district chooses the new
    // class from its list when approving, and a new class period begins.
    let person = account_id(&app, &yamada.login_id).await;
    let change_path = format!("/office/people/{person}/change");
    clerk.get(&format!("{change_path}?what=class")).await;
    let mut answers = join_form(shinjuku.id.0, "d");
    answers.retain(|(k, _)| k.starts_with("wp_") && *k != "wp_role");
    for (k, v) in [
        ("wp_role", "employed"),
        ("intake", "counter"),
        ("what", "class"),
        ("desired", "2026/05/01"),
    ] {
        answers.push((k, v.into()));
    }
    clerk.post_form(&change_path, &answers).await;
    let change = *application_ids(&app, &yamada.login_id)
        .await
        .last()
        .expect("the change");
    assert_ne!(change, id);
    let page = clerk.get(&format!("/office/applications/{change}")).await;
    page.assert_contains("<option value=\"A会員\">A会員</option>");
    let version = input_value(&page.body, "version").expect("version");
    clerk
        .post_form(
            &format!("/office/applications/{change}/decide"),
            &[
                ("version", version.as_str()),
                ("action", "approve"),
                ("date", "2026/05/01"),
                ("class", "A会員"),
            ],
        )
        .await
        .assert_redirect_to(&format!("/office/applications/{change}?done=approve"));
    let status = doctor.get("/mypage/applications").await;
    status.assert_contains("A会員");
}

#[tokio::test]
async fn staff_file_a_withdrawal_from_a_paper_form_on_the_members_behalf() {
    let app = spawn_app().await;
    let shinjuku = add_district(&app.store, "新宿区医師会").await;
    add_district(&app.store, "渋谷区医師会").await;
    let yamada = Applicant::yamada();
    let doctor = physician(&app, &yamada).await;
    file_through_confirm(
        &doctor,
        "/mypage/applications/new",
        &join_form(shinjuku.id.0, "d"),
        &[],
    )
    .await;
    let join = application_ids(&app, &yamada.login_id).await[0];
    let district = staff_browser(&app, "新宿区医師会", "shinjuku01").await;
    approve(&district, join, "2026/04/01")
        .await
        .assert_redirect_to(&format!("/office/applications/{join}?done=approve"));
    let person = account_id(&app, &yamada.login_id).await;
    let form_path = format!("/office/people/{person}/withdraw");

    let other = staff_browser(&app, "渋谷区医師会", "shibuya01").await;
    other
        .get(&form_path)
        .await
        .assert_status(StatusCode::NOT_FOUND);

    district
        .get(&format!("/office/people/{person}"))
        .await
        .assert_contains(&form_path);
    district
        .get(&form_path)
        .await
        .assert_contains("退会届の代行入力");
    let missing = district
        .post_form(
            &form_path,
            &[
                ("intake", "counter"),
                ("scope", ""),
                ("desired", "2026/13/40"),
                ("reason", "窓口で受付"),
            ],
        )
        .await;
    missing.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
    // Each message beside its field, the answers kept.
    missing.assert_contains(r#"id="m-scope""#);
    assert!(
        missing
            .body
            .split(r#"id="m-scope""#)
            .nth(1)
            .is_some_and(|after| after
                .split("</div>")
                .next()
                .is_some_and(|region| region.contains("退会する医師会を選んでください"))),
        "{}",
        missing.excerpt()
    );
    missing.assert_contains(r#"id="m-desired""#);
    missing.assert_contains(r#"value="2026/13/40""#);
    missing.assert_contains("窓口で受付");
    missing.assert_contains(r#"value="counter" checked"#);
    let done = district
        .post_form(
            &form_path,
            &[
                ("intake", "paper"),
                ("scope", "all"),
                ("reason", "転居のため（郵送の退会届）"),
            ],
        )
        .await;
    let ids = application_ids(&app, &yamada.login_id).await;
    let id = *ids.last().expect("the withdrawal");
    done.assert_redirect_to(&format!("/office/applications/{id}?done=filed"));
    let page = district.get(&format!("/office/applications/{id}")).await;
    page.assert_contains("退会");
    page.assert_contains("<dt>受付方法</dt><dd>紙</dd>");
    let (_, _, body) = bytes(&district, "/office/applications.csv?kind=withdraw").await;
    let text = String::from_utf8(body[3..].to_vec()).expect("utf-8");
    assert!(
        text.contains(&format!("{id},退会")) && text.contains(",紙"),
        "{text}"
    );
    doctor
        .get("/mypage/applications")
        .await
        .assert_contains("退会");
}

#[tokio::test]
async fn staff_file_a_join_at_the_counter_on_the_members_behalf_within_their_district() {
    let app = spawn_app().await;
    let shinjuku = add_district(&app.store, "新宿区医師会").await;
    let shibuya = add_district(&app.store, "渋谷区医師会").await;
    let yamada = Applicant::yamada();
    let doctor = physician(&app, &yamada).await;
    app.set_association(&yamada.login_id, Some(shinjuku.id))
        .await;
    let person = account_id(&app, &yamada.login_id).await;
    let form_path = format!("/office/people/{person}/join");
    let district = staff_browser(&app, "新宿区医師会", "shinjuku01").await;

    let other = staff_browser(&app, "渋谷区医師会", "shibuya01").await;
    other
        .get(&form_path)
        .await
        .assert_status(StatusCode::NOT_FOUND);
    let mut pairs = join_form(shinjuku.id.0, "d");
    pairs.push(("intake", "counter".into()));
    other
        .post_form(&form_path, &pairs)
        .await
        .assert_status(StatusCode::NOT_FOUND);

    district
        .get(&format!("/office/people/{person}"))
        .await
        .assert_contains(&form_path);
    let form = district.get(&form_path).await;
    form.assert_contains("入会申込の代行入力");
    form.assert_contains("新宿区医師会");
    assert!(!form.body.contains("渋谷区医師会"), "{}", form.body);

    // Another district is not theirs to choose.
    let mut elsewhere = join_form(shibuya.id.0, "d");
    elsewhere.push(("intake", "counter".into()));
    let refused = district.post_form(&form_path, &elsewhere).await;
    refused.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
    refused.assert_contains("担当範囲内のものに限られます");

    // Invalid input: the message, and the values kept.
    let mut invalid = join_form(shinjuku.id.0, "");
    invalid.push(("intake", "counter".into()));
    let missing = district.post_form(&form_path, &invalid).await;
    missing.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
    missing.assert_contains("入会する医師会の範囲を選んでください");
    missing.assert_contains("東都大学病院");
    missing.assert_contains("value=\"counter\" checked");
    assert!(application_ids(&app, &yamada.login_id).await.is_empty());

    let done = district.post_form(&form_path, &pairs).await;
    let ids = application_ids(&app, &yamada.login_id).await;
    let id = *ids.last().expect("the join");
    done.assert_redirect_to(&format!("/office/applications/{id}?done=filed"));
    let page = district.get(&format!("/office/applications/{id}")).await;
    page.assert_contains("入会");
    page.assert_contains("<dt>受付方法</dt><dd>窓口</dd>");
    district
        .get("/office/applications")
        .await
        .assert_contains(&detail(id));
    // The filing is in the person's history, entered by the staff member.
    let history = district.get(&format!("/office/people/{person}")).await;
    history.assert_contains("手続きの申請");
    history.assert_contains("窓口");
    // The 日医 class region answers staff too.
    district
        .post_form(
            "/office/proxy/class",
            &[("wp_role", "trainee"), ("opt_out", "")],
        )
        .await
        .assert_contains("jma-class");
    doctor
        .get("/mypage/applications")
        .await
        .assert_contains(&format!("id=\"application-{id}\""));
}

#[tokio::test]
async fn staff_file_a_change_of_class_from_a_paper_form_on_the_members_behalf() {
    let app = spawn_app().await;
    let shinjuku = add_district(&app.store, "新宿区医師会").await;
    add_district(&app.store, "渋谷区医師会").await;
    let yamada = Applicant::yamada();
    let doctor = physician(&app, &yamada).await;
    file_through_confirm(
        &doctor,
        "/mypage/applications/new",
        &join_form(shinjuku.id.0, "d"),
        &[],
    )
    .await;
    let join = application_ids(&app, &yamada.login_id).await[0];
    let district = staff_browser(&app, "新宿区医師会", "shinjuku01").await;
    approve(&district, join, "2026/04/01")
        .await
        .assert_redirect_to(&format!("/office/applications/{join}?done=approve"));
    let person = account_id(&app, &yamada.login_id).await;
    let form_path = format!("/office/people/{person}/change");

    let other = staff_browser(&app, "渋谷区医師会", "shibuya01").await;
    other
        .get(&form_path)
        .await
        .assert_status(StatusCode::NOT_FOUND);

    district
        .get(&format!("/office/people/{person}"))
        .await
        .assert_contains(&form_path);
    let chooser = district.get(&form_path).await;
    for what in ["record", "class", "transfer"] {
        chooser.assert_contains(&format!("{form_path}?what={what}"));
    }
    let form = district.get(&format!("{form_path}?what=class")).await;
    form.assert_contains("会員種別の変更）の代行入力");
    form.assert_contains("東都大学病院");
    // The JMA class is answered by the office's endpoint, not マイページ's.
    form.assert_contains("hx-post=\"/office/proxy/class\"");

    let mut answers = join_form(shinjuku.id.0, "d");
    answers.retain(|(k, _)| k.starts_with("wp_"));
    answers.retain(|(k, _)| *k != "wp_role");
    answers.push(("wp_role", "employed".into()));
    answers.push(("intake", "paper".into()));
    answers.push(("what", "class".into()));
    let missing = district.post_form(&form_path, &answers).await;
    missing.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
    missing.assert_contains("異動日を入力してください");
    missing.assert_contains("東都大学病院");

    answers.push(("desired", "2026/05/01".into()));
    let done = district.post_form(&form_path, &answers).await;
    let ids = application_ids(&app, &yamada.login_id).await;
    let id = *ids.last().expect("the change");
    assert_ne!(id, join);
    done.assert_redirect_to(&format!("/office/applications/{id}?done=filed"));
    let page = district.get(&format!("/office/applications/{id}")).await;
    page.assert_contains("種別変更");
    page.assert_contains("<dt>受付方法</dt><dd>紙</dd>");
    doctor
        .get("/mypage/applications")
        .await
        .assert_contains(&format!("id=\"application-{id}\""));
}

#[tokio::test]
async fn staff_file_a_change_of_record_at_the_counter_on_the_members_behalf() {
    let app = spawn_app().await;
    let shinjuku = add_district(&app.store, "新宿区医師会").await;
    let yamada = Applicant::yamada();
    let doctor = physician(&app, &yamada).await;
    file_through_confirm(
        &doctor,
        "/mypage/applications/new",
        &join_form(shinjuku.id.0, "d"),
        &[],
    )
    .await;
    let join = application_ids(&app, &yamada.login_id).await[0];
    let district = staff_browser(&app, "新宿区医師会", "shinjuku01").await;
    approve(&district, join, "2026/04/01")
        .await
        .assert_redirect_to(&format!("/office/applications/{join}?done=approve"));
    let person = account_id(&app, &yamada.login_id).await;
    let form_path = format!("/office/people/{person}/change");
    let form = district.get(&format!("{form_path}?what=record")).await;
    form.assert_contains("記録の変更）の代行入力");

    // The form's own fields, with the home phone changed and a bad one first.
    let mut answers = crate::my_change::shown_values(&form.body, &crate::my_change::RECORD_FIELDS);
    for (k, v) in [
        ("what", "record"),
        ("intake", "counter"),
        ("wp_kind", "hospital"),
        ("wp_role", "trainee"),
        ("wp_postal", "113-8655"),
        ("wp_address", "東京都文京区本郷7-3-1"),
        ("wp_phone", "03-3815-5411"),
        ("mail_to", "home"),
        ("desired", "2026/06/01"),
    ] {
        answers.push((k.into(), v.into()));
    }
    let set = |answers: &mut Vec<(String, String)>, k: &str, v: &str| {
        answers.retain(|(n, _)| n != k);
        answers.push((k.into(), v.into()));
    };
    set(&mut answers, "tel", "03-12");
    let bad = district.post_form(&form_path, &answers).await;
    bad.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
    bad.assert_contains("id=\"m-tel\"");
    set(&mut answers, "tel", "03-3946-2121");
    let done = district.post_form(&form_path, &answers).await;
    let id = *application_ids(&app, &yamada.login_id)
        .await
        .last()
        .expect("the change");
    done.assert_redirect_to(&format!("/office/applications/{id}?done=filed"));
    let page = district.get(&format!("/office/applications/{id}")).await;
    page.assert_contains("<dt>受付方法</dt><dd>窓口</dd>");
    page.assert_contains("03-3946-2121");
}
