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

/// The hidden inputs of a page's forms, but the CSRF token (maud writes
/// them as `<input type="hidden" name="…" value="…">`).
pub(crate) fn hidden_inputs(html: &str) -> Vec<(String, String)> {
    let attr = |tag: &str, name: &str| {
        let pat = format!(" {name}=\"");
        let start = tag.find(&pat)? + pat.len();
        let end = tag[start..].find('"')? + start;
        Some(
            tag[start..end]
                .replace("&quot;", "\"")
                .replace("&lt;", "<")
                .replace("&gt;", ">")
                .replace("&amp;", "&"),
        )
    };
    html.split("<input")
        .skip(1)
        .filter_map(|rest| rest.split('>').next())
        .filter(|tag| attr(tag, "type").as_deref() == Some("hidden"))
        .filter_map(|tag| Some((attr(tag, "name")?, attr(tag, "value").unwrap_or_default())))
        .filter(|(n, _)| n != "csrf_token")
        .collect()
}

/// Posts `fields` to the procedure form at `form`, checks that 確認 shows
/// each of `shown`, presses 申請する there and follows to 申請完了; the
/// application's id.
pub(crate) async fn file_through_confirm<K: AsRef<str>, V: AsRef<str>>(
    b: &Browser,
    form: &str,
    fields: &[(K, V)],
    shown: &[&str],
) -> u64 {
    // Opened as a browser would (the form's CSRF token); the chooser of
    // 異動届 has no form: its callers open the form of the kind first.
    b.get(form).await;
    let confirm = b.post_form(form, fields).await;
    confirm.assert_status(StatusCode::OK);
    confirm.assert_contains("<h1 id=\"confirm-title\">確認</h1>");
    for s in shown {
        confirm.assert_contains(s);
    }
    let mut pairs = hidden_inputs(&confirm.body);
    pairs.push(("action".into(), "file".into()));
    let done = b.post_form(&format!("{form}/confirm"), &pairs).await;
    let location = done
        .location()
        .unwrap_or_else(|| panic!("申請する leads to 申請完了: {}", done.excerpt()))
        .to_owned();
    let id = location
        .strip_prefix("/mypage/applications/")
        .and_then(|r| r.strip_suffix("/complete"))
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("not 申請完了: {location}"));
    let complete = b.get(&location).await;
    complete.assert_status(StatusCode::OK);
    complete.assert_contains("申請完了");
    complete.assert_contains("このあとの流れ");
    complete.assert_contains("href=\"/mypage/applications#application-");
    id
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

    let id = file_through_confirm(
        &doctor,
        "/mypage/applications/new",
        &join_form(shinjuku.id.0, "dpn"),
        &["新宿区医師会", "東都大学病院", "A②会員(C)"],
    )
    .await;
    assert_eq!(application_ids(&app, &yamada.login_id).await, [id]);
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
        file_through_confirm(
            doctor,
            "/mypage/applications/new",
            &join_form(shinjuku.id.0, "d"),
            &[],
        )
        .await;
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

#[tokio::test]
async fn back_on_the_confirmation_keeps_every_answer_and_nothing_is_filed_before_filing() {
    let app = spawn_app().await;
    let shinjuku = add_district(&app.store, "新宿区医師会").await;
    let yamada = Applicant::yamada();
    let doctor = physician(&app, &yamada).await;
    doctor.get("/mypage/applications/new").await;
    let mut fields = join_form(shinjuku.id.0, "dpn");
    fields.push(("opt_out", "1".into()));
    fields.push(("desired", "2026/04/01".into()));
    fields.push(("reason", "前任地から転居しました".into()));
    let confirm = doctor.post_form("/mypage/applications/new", &fields).await;
    confirm.assert_status(StatusCode::OK);
    confirm.assert_contains("C会員");
    confirm.assert_contains("加入しない");
    assert!(
        application_ids(&app, &yamada.login_id).await.is_empty(),
        "確認 files nothing"
    );
    let mut pairs = hidden_inputs(&confirm.body);
    pairs.push(("action".into(), "back".into()));
    let form = doctor
        .post_form("/mypage/applications/new/confirm", &pairs)
        .await;
    form.assert_status(StatusCode::OK);
    form.assert_contains("<h1 id=\"join-title\">入会申込</h1>");
    assert_eq!(
        selected_option(&form.body, "district"),
        Some(shinjuku.id.0.to_string())
    );
    assert_eq!(checked_values(&form.body, "levels"), ["dpn"]);
    assert_eq!(checked_values(&form.body, "mail_to"), ["work"]);
    assert_eq!(checked_values(&form.body, "opt_out"), ["1"]);
    assert_eq!(
        selected_option(&form.body, "wp_role").as_deref(),
        Some("trainee")
    );
    assert_eq!(
        input_value(&form.body, "wp_name").as_deref(),
        Some("東都大学病院")
    );
    assert_eq!(
        input_value(&form.body, "desired").as_deref(),
        Some("2026/04/01")
    );
    form.assert_contains("前任地から転居しました");
    assert!(application_ids(&app, &yamada.login_id).await.is_empty());

    // The 退会届 goes through 確認 as well.
    let district = staff_browser(&app, "新宿区医師会", "shinjuku01").await;
    let id = file_through_confirm(
        &doctor,
        "/mypage/applications/new",
        &join_form(shinjuku.id.0, "d"),
        &[],
    )
    .await;
    approve(&district, id, "2026/04/01").await;
    let withdraw = [
        ("scope", "all"),
        ("desired", "2027/03/31"),
        ("reason", "転出のため"),
    ];
    let confirm = doctor
        .post_form("/mypage/applications/withdraw", &withdraw)
        .await;
    confirm.assert_contains("郡市区・都道府県・日医すべて");
    let mut pairs = hidden_inputs(&confirm.body);
    pairs.push(("action".into(), "back".into()));
    let form = doctor
        .post_form("/mypage/applications/withdraw/confirm", &pairs)
        .await;
    assert_eq!(checked_values(&form.body, "scope"), ["all"]);
    assert_eq!(
        input_value(&form.body, "desired").as_deref(),
        Some("2027/03/31")
    );
    let out = file_through_confirm(
        &doctor,
        "/mypage/applications/withdraw",
        &withdraw,
        &["2027/03/31", "転出のため"],
    )
    .await;
    assert_eq!(application_ids(&app, &yamada.login_id).await, [id, out]);
}

/// The opening tag of the element with id `id`.
fn tag_with_id<'a>(html: &'a str, id: &str) -> Option<&'a str> {
    let at = html.find(&format!(" id=\"{id}\""))?;
    let start = html[..at].rfind('<')?;
    let end = html[at..].find('>')? + at + 1;
    Some(&html[start..end])
}

/// An attribute's value in an opening tag (maud writes `name="value"`).
fn attr(tag: &str, name: &str) -> Option<String> {
    let pat = format!(" {name}=\"");
    let start = tag.find(&pat)? + pat.len();
    let end = tag[start..].find('"')? + start;
    Some(tag[start..end].to_owned())
}

/// `message` is next to the field with id `id` (in its `#m-<id>`), its
/// control is `aria-invalid` and described by that region, and the summary
/// at the top links to it.
pub(crate) fn assert_field_error(page: &Page, id: &str, message: &str) {
    let shown = error_of(&page.body, id).unwrap_or_default();
    assert!(
        shown.contains(message),
        "expected {message:?} next to #{id}, got {shown:?}:\n{}",
        page.excerpt()
    );
    let tag = tag_with_id(&page.body, id).unwrap_or_else(|| panic!("no #{id}"));
    assert_eq!(attr(tag, "aria-invalid").as_deref(), Some("true"), "{tag}");
    assert!(
        attr(tag, "aria-describedby").is_some_and(|d| d.split(' ').any(|m| m == format!("m-{id}"))),
        "{tag}"
    );
    let summary = &page.body[page
        .body
        .find("error-summary")
        .unwrap_or_else(|| panic!("no summary"))..];
    let summary = &summary[..summary.find("</ul>").unwrap_or(summary.len())];
    assert!(
        summary.contains(&format!("href=\"#{id}\"")),
        "the summary links to #{id}"
    );
}

/// The field with id `id` shows no error.
pub(crate) fn assert_no_field_error(page: &Page, id: &str) {
    assert_eq!(error_of(&page.body, id), None, "#{id}");
    let tag = tag_with_id(&page.body, id).unwrap_or_else(|| panic!("no #{id}"));
    assert_eq!(attr(tag, "aria-invalid"), None, "{tag}");
}

#[tokio::test]
async fn join_and_withdraw_errors_are_shown_next_to_their_fields_with_the_answers_kept() {
    let app = spawn_app().await;
    add_district(&app.store, "新宿区医師会").await;
    let yamada = Applicant::yamada();
    let doctor = physician(&app, &yamada).await;
    doctor.get("/mypage/applications/new").await;
    let long = "あ".repeat(1001);
    let fields = [
        ("district", ""),
        ("levels", ""),
        ("wp_kind", "other"),
        ("wp_role", "founder"),
        ("wp_name", ""),
        ("wp_postal", "113-8655"),
        ("wp_address", "東京都文京区本郷7-3-1"),
        ("wp_phone", "03-3815-5411"),
        ("mail_to", "work"),
        ("desired", "2026/13/45"),
        ("reason", long.as_str()),
    ];
    let form = doctor.post_form("/mypage/applications/new", &fields).await;
    form.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
    form.assert_contains("<h1 id=\"join-title\">入会申込</h1>");
    assert_field_error(&form, "district", "郡市区等医師会を選んでください。");
    assert_field_error(&form, "levels", "入会する医師会の範囲を選んでください。");
    assert_field_error(&form, "wp_name", "勤務先の名称を入力してください。");
    assert_field_error(
        &form,
        "wp_role",
        "開設者・管理者は病院または診療所の場合に選んでください。",
    );
    assert_field_error(&form, "desired", "存在しない日付です。");
    assert_field_error(&form, "reason", "備考は1,000文字以内で入力してください。");
    for ok in ["wp_kind", "wp_postal", "wp_address", "wp_phone"] {
        assert_no_field_error(&form, ok);
    }
    // Every answer is kept.
    assert_eq!(
        selected_option(&form.body, "wp_kind").as_deref(),
        Some("other")
    );
    assert_eq!(
        selected_option(&form.body, "wp_role").as_deref(),
        Some("founder")
    );
    assert_eq!(
        input_value(&form.body, "wp_address").as_deref(),
        Some("東京都文京区本郷7-3-1")
    );
    assert_eq!(
        input_value(&form.body, "wp_postal").as_deref(),
        Some("113-8655")
    );
    assert_eq!(
        input_value(&form.body, "desired").as_deref(),
        Some("2026/13/45")
    );
    assert_eq!(checked_values(&form.body, "mail_to"), ["work"]);
    form.assert_contains(&long);
    assert!(application_ids(&app, &yamada.login_id).await.is_empty());

    // 勤務なし with a role: the message is on 立場.
    let mut fields = join_form(1, "d");
    fields.retain(|(k, _)| !k.starts_with("wp_"));
    fields.push(("wp_kind", "none".into()));
    fields.push(("wp_role", "employed".into()));
    let form = doctor.post_form("/mypage/applications/new", &fields).await;
    form.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
    assert_field_error(
        &form,
        "wp_role",
        "勤務先がない場合、立場は「勤務なし」を選んでください。",
    );
    assert_no_field_error(&form, "wp_name");

    // 退会届.
    doctor.get("/mypage/applications/withdraw").await;
    let form = doctor
        .post_form(
            "/mypage/applications/withdraw",
            &[
                ("scope", ""),
                ("desired", "2027/02/30"),
                ("reason", "転出のため"),
            ],
        )
        .await;
    form.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
    assert_field_error(&form, "scope", "退会する医師会を選んでください。");
    assert_field_error(&form, "desired", "存在しない日付です。");
    assert_no_field_error(&form, "reason");
    assert_eq!(
        input_value(&form.body, "desired").as_deref(),
        Some("2027/02/30")
    );
    form.assert_contains("転出のため");
    // The 退会日 is 必須.
    let form = doctor
        .post_form("/mypage/applications/withdraw", &[("scope", "all")])
        .await;
    form.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
    assert_field_error(&form, "desired", "退会日を入力してください。");
    assert_no_field_error(&form, "scope");
    assert_eq!(checked_values(&form.body, "scope"), ["all"]);
}
