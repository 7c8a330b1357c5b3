//! The membership procedures over HTTP: a 研修医 applies on マイページ to
//! join all three levels, seeing the 日医 class as the answers are given;
//! the district, the prefecture and 日本医師会 approve in turn, each only
//! once it has reached them; the physician follows each step on 申請状況
//! and by mail. Another district's staff get 404; a 差戻し needs a comment;
//! a 理事会 batch is approved at once.

use reqwest::StatusCode;

use crate::{
    helpers::*,
    office::{add_district, first_login, staff},
};

pub(crate) async fn staff_browser(app: &TestApp, association: &str, login_id: &str) -> Browser {
    let one_time = staff(app, association, login_id, "担当者").await;
    first_login(app, login_id, &one_time).await
}

pub(crate) async fn physician(app: &TestApp, who: &Applicant) -> Browser {
    app.register(who).await;
    let b = app.browser();
    b.log_in(&who.login_id, PASSWORD)
        .await
        .assert_redirect_to("/mypage");
    b
}

/// The ids of the applications of `login_id`, oldest first.
pub(crate) async fn application_ids(app: &TestApp, login_id: &str) -> Vec<u64> {
    let login_id = login_id.to_owned();
    app.store
        .read(move |tx| {
            let user = mamis::store::users::by_login_id(tx, &login_id)?
                .ok_or_else(|| anyhow::anyhow!("no account"))?;
            Ok(mamis::store::applications::of_person(tx, user.id)?
                .into_iter()
                .map(|a| a.id)
                .collect())
        })
        .await
        .expect("read applications")
}

pub(crate) fn join_form(district: u64, levels: &str) -> Vec<(&'static str, String)> {
    vec![
        ("district", district.to_string()),
        ("levels", levels.to_owned()),
        ("wp_kind", "hospital".into()),
        ("wp_role", "trainee".into()),
        ("wp_name", "東都大学病院".into()),
        ("wp_postal", "113-8655".into()),
        ("wp_address", "東京都文京区本郷7-3-1".into()),
        ("wp_phone", "03-3815-5411".into()),
        ("mail_to", "work".into()),
    ]
}

/// Approves application `id` from its detail page in `b`'s browser.
pub(crate) async fn approve(b: &Browser, id: u64, date: &str) -> Page {
    let page = b.get(&format!("/office/applications/{id}")).await;
    page.assert_status(StatusCode::OK);
    let version = input_value(&page.body, "version").expect("the version is on the page");
    b.post_form(
        &format!("/office/applications/{id}/decide"),
        &[
            ("version", version.as_str()),
            ("action", "approve"),
            ("date", date),
        ],
    )
    .await
}

#[tokio::test]
async fn a_trainee_joins_all_three_levels_and_each_office_approves_in_turn() {
    let app = spawn_app().await;
    let shinjuku = add_district(&app.store, "新宿区医師会").await;
    let yamada = Applicant::yamada();
    let doctor = physician(&app, &yamada).await;

    let form = doctor.get("/mypage/applications/new").await;
    form.assert_status(StatusCode::OK);
    form.assert_contains("新宿区医師会");
    let class = doctor
        .htmx_post(
            "/mypage/applications/class",
            &[("wp_role", "trainee"), ("opt_out", "")],
        )
        .await;
    class.assert_contains("A②会員(C)");
    let opted_out = doctor
        .htmx_post(
            "/mypage/applications/class",
            &[("wp_role", "trainee"), ("opt_out", "1")],
        )
        .await;
    opted_out.assert_contains("C会員");
    opted_out.assert_contains("医賠責保険は付きません");

    doctor
        .post_form("/mypage/applications/new", &join_form(shinjuku.id.0, "dpn"))
        .await
        .assert_redirect_to("/mypage/applications?done=filed");
    let id = application_ids(&app, &yamada.login_id).await[0];
    let status = doctor.get("/mypage/applications").await;
    status.assert_contains("申請中");
    status.assert_contains("現在ここで確認中です");

    let district = staff_browser(&app, "新宿区医師会", "shinjuku01").await;
    let prefecture = staff_browser(&app, "東京都医師会", "tokyostaff01").await;
    let national = staff_browser(&app, "日本医師会", "jmastaff01").await;
    let shibuya = {
        add_district(&app.store, "渋谷区医師会").await;
        staff_browser(&app, "渋谷区医師会", "shibuya01").await
    };

    // Nobody above the district sees it yet, nor another district.
    for b in [&prefecture, &national, &shibuya] {
        b.get(&format!("/office/applications/{id}"))
            .await
            .assert_status(StatusCode::NOT_FOUND);
    }
    district
        .get("/office/applications")
        .await
        .assert_contains(&format!("/office/applications/{id}"));
    approve(&district, id, "")
        .await
        .assert_redirect_to(&format!("/office/applications/{id}?done=approve"));
    // A second click on the same version is refused, nothing applied twice.
    let again = district
        .post_form(
            &format!("/office/applications/{id}/decide"),
            &[("version", "1"), ("action", "approve"), ("date", "")],
        )
        .await;
    again.assert_status(StatusCode::CONFLICT);
    again.assert_contains("先に処理されています");

    national
        .get(&format!("/office/applications/{id}"))
        .await
        .assert_status(StatusCode::NOT_FOUND);
    approve(&prefecture, id, "")
        .await
        .assert_redirect_to(&format!("/office/applications/{id}?done=approve"));
    // The last approval needs the 入会日.
    approve(&national, id, "")
        .await
        .assert_status(StatusCode::CONFLICT);
    approve(&national, id, "2026/04/01")
        .await
        .assert_redirect_to(&format!("/office/applications/{id}?done=approve"));

    let status = doctor.get("/mypage/applications").await;
    status.assert_contains("完了");
    status.assert_contains("A②会員(C)");
    status.assert_contains("在籍");
    let subjects: Vec<String> = app
        .outbox()
        .await
        .into_iter()
        .filter(|m| m.to == yamada.email && m.subject.contains("入会"))
        .map(|m| m.subject)
        .collect();
    assert_eq!(subjects.len(), 4, "受付, two approvals, 完了: {subjects:?}");
    assert!(subjects.iter().any(|s| s.contains("完了")));
}

#[tokio::test]
async fn a_send_back_needs_a_comment_and_a_board_batch_is_approved_with_one_date() {
    let app = spawn_app().await;
    let shinjuku = add_district(&app.store, "新宿区医師会").await;
    let first = Applicant::numbered(1);
    let second = Applicant::numbered(2);
    let a = physician(&app, &first).await;
    let b = physician(&app, &second).await;
    for doctor in [&a, &b] {
        doctor.get("/mypage/applications/new").await;
        doctor
            .post_form("/mypage/applications/new", &join_form(shinjuku.id.0, "d"))
            .await
            .assert_redirect_to("/mypage/applications?done=filed");
    }
    let one = application_ids(&app, &first.login_id).await[0];
    let two = application_ids(&app, &second.login_id).await[0];
    let district = staff_browser(&app, "新宿区医師会", "shinjuku01").await;

    let page = district.get(&format!("/office/applications/{one}")).await;
    let version = input_value(&page.body, "version").expect("version");
    let refused = district
        .post_form(
            &format!("/office/applications/{one}/decide"),
            &[
                ("version", version.as_str()),
                ("action", "send_back"),
                ("text", " "),
            ],
        )
        .await;
    refused.assert_status(StatusCode::CONFLICT);
    refused.assert_contains("差戻しの理由");
    district
        .post_form(
            &format!("/office/applications/{one}/decide"),
            &[
                ("version", version.as_str()),
                ("action", "send_back"),
                ("text", "勤務先の電話番号をご確認ください"),
            ],
        )
        .await
        .assert_redirect_to(&format!("/office/applications/{one}?done=send_back"));
    a.get("/mypage/applications")
        .await
        .assert_contains("勤務先の電話番号をご確認ください");

    let list = district.get("/office/applications").await;
    list.assert_contains(&format!("value=\"{two}:1\""));
    let done = district
        .post_form(
            "/office/applications/bulk",
            &[("item", format!("{two}:1")), ("date", "2026/05/15".into())],
        )
        .await;
    assert!(
        done.location()
            .unwrap_or_default()
            .starts_with("/office/applications?done="),
        "{:?}",
        done.location()
    );
    let status = b.get("/mypage/applications").await;
    status.assert_contains("2026-05-15");
    status.assert_contains("完了");
}
