//! The 異動届 on マイページ and the 再提出 of a sent-back application: a
//! record change (氏名, 電話, 勤務先, 送付先) confirmed, filed and applied
//! only when the district approves, with its audit entry, the 医籍登録番号
//! left as it is; a 研修医 out of 医賠責 becoming a B会員 after training,
//! approved by all three levels; transfers within Tokyo and to Osaka,
//! decided at the destination with a 確認依頼 to the source; a join sent
//! back by the district, corrected through the same form and approved.

use reqwest::StatusCode;

use crate::{
    helpers::*,
    office::add_district,
    procedures::{
        application_ids, approve, assert_field_error, assert_no_field_error, file_through_confirm,
        join_form, physician, staff_browser,
    },
};

const CHANGE: &str = "/mypage/applications/change";

/// The person fields of the 記録の変更 form, as the page shows them.
pub(crate) const RECORD_FIELDS: [&str; 16] = [
    "kana_last",
    "kana_first",
    "name_last",
    "name_first",
    "former_kana_last",
    "former_kana_first",
    "former_name_last",
    "former_name_first",
    "postal_code",
    "prefecture",
    "address",
    "building",
    "mobile",
    "tel",
    "fax",
    "wp_name",
];

/// The values a form page shows for `names` (text inputs, or the selected
/// option of a select).
pub(crate) fn shown_values(html: &str, names: &[&str]) -> Vec<(String, String)> {
    names
        .iter()
        .map(|n| {
            let v = input_value(html, n)
                .or_else(|| selected_option(html, n))
                .unwrap_or_default();
            ((*n).to_owned(), v)
        })
        .collect()
}

fn set(fields: &mut Vec<(String, String)>, name: &str, value: &str) {
    fields.retain(|(k, _)| k != name);
    fields.push((name.to_owned(), value.to_owned()));
}

async fn user(app: &TestApp, login_id: &str) -> mamis::store::users::UserRecord {
    let login_id = login_id.to_owned();
    app.store
        .read(move |tx| {
            mamis::store::users::by_login_id(tx, &login_id)?
                .ok_or_else(|| anyhow::anyhow!("no account"))
        })
        .await
        .expect("read account")
}

async fn member_file(app: &TestApp, id: u64) -> mamis::domain::membership::MemberFile {
    app.store
        .read(move |tx| mamis::store::memberships::get(tx, id))
        .await
        .expect("read memberships")
}

/// Joins `district` at `levels` through 確認 and has each level approve
/// (the last with 2026/04/01); the application's id.
async fn member(
    doctor: &Browser,
    district: u64,
    levels: &str,
    extra: &[(&'static str, &str)],
    approvers: &[&Browser],
) -> u64 {
    let mut form = join_form(district, levels);
    for (k, v) in extra {
        form.retain(|(fk, _)| fk != k);
        form.push((k, (*v).to_owned()));
    }
    let id = file_through_confirm(doctor, "/mypage/applications/new", &form, &[]).await;
    for (i, b) in approvers.iter().enumerate() {
        let date = if i + 1 == approvers.len() {
            "2026/04/01"
        } else {
            ""
        };
        approve(b, id, date)
            .await
            .assert_redirect_to(&format!("/office/applications/{id}?done=approve"));
    }
    id
}

#[tokio::test]
async fn a_record_change_is_applied_only_when_the_district_approves_and_keeps_the_registry_number()
{
    let app = spawn_app().await;
    let shinjuku = add_district(&app.store, "新宿区医師会").await;
    let yamada = Applicant::yamada();
    let doctor = physician(&app, &yamada).await;
    let district = staff_browser(&app, "新宿区医師会", "shinjuku01").await;
    member(&doctor, shinjuku.id.0, "d", &[], &[&district]).await;

    let chooser = doctor.get(CHANGE).await;
    chooser.assert_status(StatusCode::OK);
    for kind in ["記録の変更", "会員種別の変更", "所属医師会の移動"] {
        chooser.assert_contains(kind);
    }
    let form = doctor.get(&format!("{CHANGE}?what=record")).await;
    form.assert_status(StatusCode::OK);
    assert_eq!(
        input_value(&form.body, "name_last").as_deref(),
        Some("山田")
    );
    assert_eq!(
        input_value(&form.body, "wp_name").as_deref(),
        Some("東都大学病院")
    );
    assert!(
        !form.body.contains("name=\"registry_number\""),
        "the 医籍登録番号 is not offered"
    );

    let mut fields = shown_values(&form.body, &RECORD_FIELDS);
    for (k, v) in [
        ("what", "record"),
        ("kana_last", "サトウ"),
        ("name_last", "佐藤"),
        ("tel", "03-3946-2121"),
        ("wp_kind", "hospital"),
        ("wp_role", "trainee"),
        ("wp_name", "新都病院"),
        ("wp_postal", "160-0023"),
        ("wp_address", "東京都新宿区西新宿1-1-1"),
        ("wp_phone", "03-1234-5678"),
        ("mail_to", "home"),
        ("desired", "2026/10/01"),
        // Not a field of the form: ignored.
        ("registry_number", "999999"),
    ] {
        set(&mut fields, k, v);
    }
    let confirm = doctor.post_form(CHANGE, &fields).await;
    confirm.assert_status(StatusCode::OK);
    confirm.assert_contains("変更前：山田");
    assert!(!confirm.body.contains("999999"));
    let mut back = crate::procedures::hidden_inputs(&confirm.body);
    back.push(("action".into(), "back".into()));
    let again = doctor.post_form(&format!("{CHANGE}/confirm"), &back).await;
    again.assert_status(StatusCode::OK);
    again.assert_contains("異動届（記録の変更）");
    assert_eq!(
        input_value(&again.body, "name_last").as_deref(),
        Some("佐藤")
    );
    assert_eq!(
        input_value(&again.body, "tel").as_deref(),
        Some("03-3946-2121")
    );
    assert_eq!(
        input_value(&again.body, "wp_name").as_deref(),
        Some("新都病院")
    );
    assert_eq!(
        input_value(&again.body, "desired").as_deref(),
        Some("2026/10/01")
    );
    assert_eq!(checked_values(&again.body, "mail_to"), ["home"]);
    let id = file_through_confirm(
        &doctor,
        CHANGE,
        &fields,
        &["佐藤", "新都病院", "自宅（変更前：勤務先）", "2026/10/01"],
    )
    .await;

    let before = user(&app, &yamada.login_id).await;
    assert_eq!(before.display_name(), "山田 太郎", "pending: unchanged");
    let file = member_file(&app, before.id).await;
    assert_eq!(
        file.workplace.map(|w| w.name).as_deref(),
        Some("東都大学病院")
    );

    approve(&district, id, "2026/10/01")
        .await
        .assert_redirect_to(&format!("/office/applications/{id}?done=approve"));
    let after = user(&app, &yamada.login_id).await;
    assert_eq!(after.display_name(), "佐藤 太郎");
    assert_eq!(after.registry_number, yamada.registry_number);
    let person = after.person.expect("a person");
    assert_eq!(person.registry.number.to_string(), yamada.registry_number);
    let file = member_file(&app, after.id).await;
    assert_eq!(file.workplace.map(|w| w.name).as_deref(), Some("新都病院"));
    assert_eq!(file.mail_to, mamis::domain::membership::MailTo::Home);

    let history = app
        .store
        .read(move |tx| {
            mamis::store::audit::of_target(tx, mamis::store::audit::Target::Person(after.id), 50)
        })
        .await
        .expect("read history");
    let changed = history
        .iter()
        .find(|e| {
            e.kind == mamis::store::audit::AuditKind::MembershipChanged
                && e.changes.iter().any(|c| c.new.contains("佐藤"))
        })
        .expect("the change is in the person's history");
    assert!(changed.changes.iter().any(|c| c.field == "勤務先"));
    assert!(changed.changes.iter().any(|c| c.field == "送付先"));
    assert!(changed.changes.iter().any(|c| c.new == "03-3946-2121"));
}

#[tokio::test]
async fn a_trainee_out_of_liability_becomes_a_b_member_when_all_three_levels_approve() {
    let app = spawn_app().await;
    let shinjuku = add_district(&app.store, "新宿区医師会").await;
    let yamada = Applicant::yamada();
    let doctor = physician(&app, &yamada).await;
    let district = staff_browser(&app, "新宿区医師会", "shinjuku01").await;
    let prefecture = staff_browser(&app, "東京都医師会", "tokyostaff01").await;
    let national = staff_browser(&app, "日本医師会", "jmastaff01").await;
    member(
        &doctor,
        shinjuku.id.0,
        "dpn",
        &[("opt_out", "1")],
        &[&district, &prefecture, &national],
    )
    .await;
    doctor
        .get("/mypage/applications")
        .await
        .assert_contains("C会員");

    let form = doctor.get(&format!("{CHANGE}?what=class")).await;
    form.assert_contains("現在の日医の会員種別");
    form.assert_contains("C会員");
    doctor
        .htmx_post(
            "/mypage/applications/class",
            &[("wp_role", "employed"), ("opt_out", "1")],
        )
        .await
        .assert_contains("B会員");
    let fields = [
        ("what", "class"),
        ("wp_kind", "hospital"),
        ("wp_role", "employed"),
        ("wp_name", "東都大学病院"),
        ("wp_postal", "113-8655"),
        ("wp_address", "東京都文京区本郷7-3-1"),
        ("wp_phone", "03-3815-5411"),
        ("opt_out", "1"),
        ("desired", "2026/04/01"),
    ];
    let id = file_through_confirm(&doctor, CHANGE, &fields, &["B会員（変更前：C会員）"]).await;
    let status = doctor.get("/mypage/applications").await;
    status.assert_contains("異動（種別変更）");
    assert!(!status.body.contains("B会員"), "pending: unchanged");

    approve(&district, id, "").await;
    approve(&prefecture, id, "").await;
    approve(&national, id, "2026/04/01")
        .await
        .assert_redirect_to(&format!("/office/applications/{id}?done=approve"));
    doctor
        .get("/mypage/applications")
        .await
        .assert_contains("B会員");
    let account = user(&app, &yamada.login_id).await;
    let file = member_file(&app, account.id).await;
    let jma = file
        .current(mamis::domain::membership::Level::National)
        .expect("still a 日医 member");
    assert_eq!(jma.jma_class, Some(mamis::domain::membership::JmaClass::B));
    assert_eq!(jma.classes.len(), 2, "C from 入会, B from the 異動日");
}

#[tokio::test]
async fn transfers_are_decided_at_the_destination_and_the_source_confirms() {
    let app = spawn_app().await;
    let shinjuku = add_district(&app.store, "新宿区医師会").await;
    let shibuya = add_district(&app.store, "渋谷区医師会").await;
    let kita = mamis::service::office::add_association(
        &app.store,
        "大阪府医師会",
        "大阪市北区医師会",
        None,
    )
    .await
    .expect("add association")
    .expect("association accepted");
    let source = staff_browser(&app, "新宿区医師会", "shinjuku01").await;
    let tokyo = staff_browser(&app, "東京都医師会", "tokyostaff01").await;
    let dest = staff_browser(&app, "渋谷区医師会", "shibuya01").await;
    let kita_staff = staff_browser(&app, "大阪市北区医師会", "kitaku01").await;
    let osaka = staff_browser(&app, "大阪府医師会", "osakastaff01").await;

    // Within Tokyo: 新宿 → 渋谷.
    let first = Applicant::numbered(1);
    let a = physician(&app, &first).await;
    member(&a, shinjuku.id.0, "dp", &[], &[&source, &tokyo]).await;
    let form = a.get(&format!("{CHANGE}?what=transfer")).await;
    form.assert_contains("現在の所属：東京都医師会　新宿区医師会");
    assert!(
        !form
            .body
            .contains(&format!("option value=\"{}\"", shinjuku.id.0))
    );
    let fields = [
        ("what", "transfer".to_owned()),
        ("to", shibuya.id.0.to_string()),
        ("desired", "2026/10/01".to_owned()),
    ];
    let id = file_through_confirm(&a, CHANGE, &fields, &["渋谷区医師会"]).await;
    source
        .get(&format!("/office/applications/{id}"))
        .await
        .assert_status(StatusCode::NOT_FOUND);
    approve(&dest, id, "2026/10/01")
        .await
        .assert_redirect_to(&format!("/office/applications/{id}?done=approve"));
    let account = user(&app, &first.login_id).await;
    assert_eq!(account.association, Some(shibuya.id));
    let file = member_file(&app, account.id).await;
    assert_eq!(file.district(), Some(shibuya.id));
    use mamis::domain::membership::Level;
    let tokyo_id = file.current(Level::Prefecture).map(|m| m.association);
    source
        .get(&format!("/office/applications/{id}"))
        .await
        .assert_status(StatusCode::OK);
    source
        .post_form(&format!("/office/applications/{id}/confirm"), &[("x", "")])
        .await
        .assert_redirect_to(&format!("/office/applications/{id}?done=confirm"));

    // Across prefectures: 新宿 → 大阪市北区; the prefecture moves too.
    let second = Applicant::numbered(2);
    let b = physician(&app, &second).await;
    member(&b, shinjuku.id.0, "dp", &[], &[&source, &tokyo]).await;
    b.get(&format!("{CHANGE}?what=transfer")).await;
    let fields = [
        ("what", "transfer".to_owned()),
        ("to", kita.id.0.to_string()),
        ("desired", "2026/10/01".to_owned()),
    ];
    let id = file_through_confirm(&b, CHANGE, &fields, &["大阪市北区医師会"]).await;
    osaka
        .get(&format!("/office/applications/{id}"))
        .await
        .assert_status(StatusCode::NOT_FOUND);
    approve(&kita_staff, id, "").await;
    approve(&osaka, id, "2026/10/01")
        .await
        .assert_redirect_to(&format!("/office/applications/{id}?done=approve"));
    let account = user(&app, &second.login_id).await;
    let file = member_file(&app, account.id).await;
    assert_eq!(file.district(), Some(kita.id));
    assert_ne!(
        file.current(Level::Prefecture).map(|m| m.association),
        tokyo_id
    );
    for b in [&source, &tokyo] {
        b.get(&format!("/office/applications/{id}"))
            .await
            .assert_status(StatusCode::OK);
        b.post_form(&format!("/office/applications/{id}/confirm"), &[("x", "")])
            .await
            .assert_redirect_to(&format!("/office/applications/{id}?done=confirm"));
    }
}

#[tokio::test]
async fn a_join_sent_back_by_the_district_is_corrected_resubmitted_and_approved() {
    let app = spawn_app().await;
    let shinjuku = add_district(&app.store, "新宿区医師会").await;
    let yamada = Applicant::yamada();
    let doctor = physician(&app, &yamada).await;
    let district = staff_browser(&app, "新宿区医師会", "shinjuku01").await;
    let id = file_through_confirm(
        &doctor,
        "/mypage/applications/new",
        &join_form(shinjuku.id.0, "d"),
        &[],
    )
    .await;
    let page = district.get(&format!("/office/applications/{id}")).await;
    let version = input_value(&page.body, "version").expect("version");
    district
        .post_form(
            &format!("/office/applications/{id}/decide"),
            &[
                ("version", version.as_str()),
                ("action", "send_back"),
                ("text", "勤務先の電話番号をご確認ください"),
            ],
        )
        .await
        .assert_redirect_to(&format!("/office/applications/{id}?done=send_back"));

    let status = doctor.get("/mypage/applications").await;
    status.assert_contains("勤務先の電話番号をご確認ください");
    status.assert_contains("修正して再提出");
    let edit_url = format!("/mypage/applications/{id}/edit");
    status.assert_contains(&edit_url);
    let form = doctor.get(&edit_url).await;
    form.assert_status(StatusCode::OK);
    form.assert_contains("差戻しされた申請");
    assert_eq!(
        input_value(&form.body, "wp_name").as_deref(),
        Some("東都大学病院")
    );
    assert_eq!(checked_values(&form.body, "levels"), ["d"]);
    assert_eq!(input_value(&form.body, "resubmit"), Some(id.to_string()));
    let app_version = input_value(&form.body, "app_version").expect("the version");

    let mut fields = join_form(shinjuku.id.0, "d");
    fields.retain(|(k, _)| *k != "wp_phone");
    fields.push(("wp_phone", "03-5800-8600".into()));
    fields.push(("resubmit", id.to_string()));
    fields.push(("app_version", app_version));
    let again = file_through_confirm(
        &doctor,
        "/mypage/applications/new",
        &fields,
        &["再提出する", "03-5800-8600"],
    )
    .await;
    assert_eq!(again, id, "the same application");
    assert_eq!(application_ids(&app, &yamada.login_id).await, [id]);
    let steps: Vec<String> = app
        .store
        .read(move |tx| {
            Ok(mamis::store::applications::get(tx, id)?
                .map(|a| {
                    a.steps
                        .iter()
                        .map(|s| s.action.label().to_owned())
                        .collect()
                })
                .unwrap_or_default())
        })
        .await
        .expect("read application");
    assert_eq!(steps, ["提出", "差戻し", "再提出"]);
    // The sent-back application is no longer sent back: its edit leads to
    // 申請状況.
    assert!(
        doctor
            .get(&edit_url)
            .await
            .location()
            .is_some_and(|l| l.starts_with("/mypage/applications"))
    );

    approve(&district, id, "2026/05/01")
        .await
        .assert_redirect_to(&format!("/office/applications/{id}?done=approve"));
    let account = user(&app, &yamada.login_id).await;
    let file = member_file(&app, account.id).await;
    assert_eq!(file.district(), Some(shinjuku.id));
    assert_eq!(
        file.workplace.map(|w| w.phone).as_deref(),
        Some("03-5800-8600")
    );
}

#[tokio::test]
async fn change_errors_are_shown_next_to_their_fields_with_the_answers_kept() {
    let app = spawn_app().await;
    let shinjuku = add_district(&app.store, "新宿区医師会").await;
    let yamada = Applicant::yamada();
    let doctor = physician(&app, &yamada).await;
    let district = staff_browser(&app, "新宿区医師会", "shinjuku01").await;
    member(&doctor, shinjuku.id.0, "d", &[], &[&district]).await;

    // 記録の変更: a registration field (its own message), a 勤務先 field
    // and the 異動日, each next to its field.
    let form = doctor.get(&format!("{CHANGE}?what=record")).await;
    let mut fields = shown_values(&form.body, &RECORD_FIELDS);
    for (k, v) in [
        ("what", "record"),
        ("name_last", "佐藤"),
        ("tel", "でんわ"),
        ("wp_kind", "clinic"),
        ("wp_role", "employed"),
        ("wp_name", ""),
        ("wp_postal", "160-0023"),
        ("wp_address", "東京都新宿区西新宿1-1-1"),
        ("wp_phone", "03-1234-5678"),
        ("mail_to", "home"),
        ("desired", ""),
        ("reason", "開業のため"),
    ] {
        set(&mut fields, k, v);
    }
    let page = doctor.post_form(CHANGE, &fields).await;
    page.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
    assert!(error_of(&page.body, "tel").is_some(), "{}", page.excerpt());
    assert_field_error(&page, "tel", "");
    assert_field_error(&page, "wp_name", "勤務先の名称を入力してください。");
    assert_field_error(&page, "desired", "異動日を入力してください。");
    for ok in ["name_last", "wp_kind", "wp_role", "wp_address", "reason"] {
        assert_no_field_error(&page, ok);
    }
    assert_eq!(
        input_value(&page.body, "name_last").as_deref(),
        Some("佐藤")
    );
    assert_eq!(input_value(&page.body, "tel").as_deref(), Some("でんわ"));
    assert_eq!(
        selected_option(&page.body, "wp_kind").as_deref(),
        Some("clinic")
    );
    assert_eq!(
        input_value(&page.body, "wp_address").as_deref(),
        Some("東京都新宿区西新宿1-1-1")
    );
    assert_eq!(checked_values(&page.body, "mail_to"), ["home"]);
    page.assert_contains("開業のため");

    // 会員種別の変更 that changes nothing: said on 立場.
    doctor.get(&format!("{CHANGE}?what=class")).await;
    let page = doctor
        .post_form(
            CHANGE,
            &[
                ("what", "class"),
                ("wp_kind", "hospital"),
                ("wp_role", "trainee"),
                ("wp_name", "東都大学病院"),
                ("wp_postal", "113-8655"),
                ("wp_address", "東京都文京区本郷7-3-1"),
                ("wp_phone", "03-3815-5411"),
                ("desired", "2026/04/01"),
            ],
        )
        .await;
    page.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
    assert_field_error(
        &page,
        "wp_role",
        "勤務先での立場または医賠責保険の加入を、変更後の内容にしてください。",
    );
    assert_no_field_error(&page, "desired");
    assert_eq!(
        input_value(&page.body, "desired").as_deref(),
        Some("2026/04/01")
    );

    // 所属医師会の移動 with no destination and a day that does not exist.
    doctor.get(&format!("{CHANGE}?what=transfer")).await;
    let page = doctor
        .post_form(
            CHANGE,
            &[("what", "transfer"), ("to", ""), ("desired", "2026/02/30")],
        )
        .await;
    page.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
    assert_field_error(&page, "to", "移動先の郡市区等医師会を選んでください。");
    assert_field_error(&page, "desired", "存在しない日付です。");
    assert_eq!(
        input_value(&page.body, "desired").as_deref(),
        Some("2026/02/30")
    );
    assert!(application_ids(&app, &yamada.login_id).await.len() == 1);
}
