//! 事務局TOP over HTTP: the association's procedure queues with their
//! counts and oldest waiting age, the new registrations of the last 30 days
//! and the latest registrations, each within the staff member's scope only.

use mamis::{
    domain::{AssociationId, RegistrationForm, Role, person::Person, validate_registration},
    store::{
        Store, now,
        users::{self, UserRecord},
    },
};
use reqwest::StatusCode;

use crate::{
    helpers::*,
    office::{add_district, first_login, staff},
};

/// A physician's account registered at `created_at`, in `association`.
pub(crate) fn physician(
    n: u32,
    names: [&str; 4],
    association: Option<AssociationId>,
    created_at: i64,
) -> UserRecord {
    let who = Applicant::numbered(n);
    let [name_last, name_first, kana_last, kana_first] = names;
    let fields = who.fields_with(&[
        ("name_last", name_last),
        ("name_first", name_first),
        ("kana_last", kana_last),
        ("kana_first", kana_first),
    ]);
    let form = RegistrationForm::from_pairs(&fields).normalized();
    let today = time::macros::date!(2026 - 01 - 01);
    let reg = match validate_registration(&form, today) {
        Ok((reg, _)) => reg,
        Err(e) => panic!("invalid test form {names:?}: {e:?}"),
    };
    UserRecord {
        id: 0,
        login_id: who.login_id,
        email: who.email,
        registry_number: who.registry_number,
        password_hash: String::new(),
        role: Role::Physician,
        person: Some(Person::from(reg)),
        association,
        session_generation: 0,
        must_change_password: false,
        staff_name: None,
        terms_version: "t".into(),
        terms_agreed_at: 0,
        created_at,
        terms_history: Vec::new(),
        initial_password_expires_at: None,
        membership: None,
    }
}

pub(crate) async fn put(store: &Store, people: Vec<UserRecord>) -> Vec<u64> {
    store
        .write_ok(move |tx| {
            let mut ids = Vec::new();
            for p in people {
                ids.push(users::create(tx, p)?.map_err(|c| anyhow::anyhow!("{c:?}"))?);
            }
            Ok(ids)
        })
        .await
        .expect("write people")
}

async fn staff_browser(app: &TestApp, association: &str, login_id: &str) -> Browser {
    let one_time = staff(app, association, login_id, "担当者").await;
    first_login(app, login_id, &one_time).await
}

/// The text of the table row that starts with `label`.
fn row<'a>(body: &'a str, label: &str) -> &'a str {
    let start = body
        .find(&format!("<th scope=\"row\">{label}</th>"))
        .unwrap_or_else(|| panic!("no row {label}"));
    let rest = &body[start..];
    &rest[..rest.find("</tr>").unwrap_or(rest.len())]
}

#[tokio::test]
async fn the_top_page_counts_the_queues_and_lists_the_latest_registrations_in_scope() {
    let app = spawn_app().await;
    let shinjuku = add_district(&app.store, "新宿区医師会").await;
    let shibuya = add_district(&app.store, "渋谷区医師会").await;
    let day = 86_400;
    let ids = put(
        &app.store,
        vec![
            // Registered long ago: counted, but not new.
            physician(
                11,
                ["古川", "一郎", "ふるかわ", "いちろう"],
                Some(shinjuku.id),
                now() - 400 * day,
            ),
            physician(
                12,
                ["佐藤", "花子", "さとう", "はなこ"],
                Some(shinjuku.id),
                now() - 2 * day,
            ),
            physician(
                13,
                ["鈴木", "次郎", "すずき", "じろう"],
                Some(shibuya.id),
                now() - day,
            ),
        ],
    )
    .await;

    // A physician of no association asks to join 新宿区医師会.
    let yamada = Applicant::yamada();
    app.register(&yamada).await;
    let doctor = app.browser();
    doctor
        .log_in(&yamada.login_id, PASSWORD)
        .await
        .assert_redirect_to("/mypage");
    crate::procedures::file_through_confirm(
        &doctor,
        "/mypage/applications/new",
        &[
            ("district", shinjuku.id.0.to_string()),
            ("levels", "d".to_owned()),
            ("wp_kind", "hospital".into()),
            ("wp_role", "trainee".into()),
            ("wp_name", "東都大学病院".into()),
            ("wp_postal", "113-8655".into()),
            ("wp_address", "東京都文京区本郷7-3-1".into()),
            ("wp_phone", "03-3815-5411".into()),
            ("mail_to", "work".into()),
        ],
        &[],
    )
    .await;

    let district = staff_browser(&app, "新宿区医師会", "shinjuku01").await;
    let top = district.get("/office").await;
    top.assert_status(StatusCode::OK);
    top.assert_contains("<h1 id=\"office-title\">事務局TOP</h1>");
    let join = row(&top.body, "入会");
    assert!(
        join.contains("href=\"/office/applications?kind=join\">1 件"),
        "{join}"
    );
    assert!(join.contains("最長 0 日待ち"), "{join}");
    let change = row(&top.body, "異動");
    assert!(change.contains("?kind=change\">0 件"), "{change}");
    assert!(row(&top.body, "退会").contains("?kind=withdraw\">0 件"));
    assert!(row(&top.body, "確認依頼").contains("0 件"));
    // Two of the district's people, one of them new; the other district's
    // and the unaffiliated applicant are not counted or listed.
    top.assert_contains("<dd>2 名</dd>");
    top.assert_contains(">1 名</a>");
    top.assert_contains(&format!("href=\"/office/people/{}\">佐藤 花子", ids[1]));
    top.assert_contains("サトウ ハナコ");
    top.assert_contains(&format!("href=\"/office/people/{}\">古川 一郎", ids[0]));
    assert!(
        !top.body.contains("鈴木"),
        "another district's registration"
    );
    assert!(!top.body.contains("山田"), "an unaffiliated registration");
    // The newest first.
    let (sato, furukawa) = (
        top.body.find("佐藤 花子").unwrap_or_default(),
        top.body.find("古川 一郎").unwrap_or_default(),
    );
    assert!(sato < furukawa);

    // The other district sees its own, and no queue.
    let other = staff_browser(&app, "渋谷区医師会", "shibuya01").await;
    let top = other.get("/office").await;
    assert!(row(&top.body, "入会").contains("0 件"));
    top.assert_contains(&format!("href=\"/office/people/{}\">鈴木 次郎", ids[2]));
    assert!(!top.body.contains("佐藤 花子") && !top.body.contains("古川 一郎"));

    // 日本医師会 sees everyone: the four, three of them new.
    let national = staff_browser(&app, "日本医師会", "jmastaff01").await;
    let top = national.get("/office").await;
    top.assert_contains("<dd>4 名</dd>");
    top.assert_contains(">3 名</a>");
    top.assert_contains("山田 太郎");
    top.assert_contains("鈴木 次郎");
}
