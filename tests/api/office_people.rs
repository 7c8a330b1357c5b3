//! The office's people search (`/office/people`) and its CSV export
//! (`/office/people.csv`) over HTTP: every kind of key the search box takes,
//! the variant characters of names, the scope of each staff member, the
//! htmx fragment, paging, and the bytes of the CSV in both encodings.

use encoding_rs::SHIFT_JIS;
use mamis::{
    domain::{
        AssociationId, RegistrationForm, Role, association::NATIONAL, person::Person,
        validate_registration,
    },
    store::{
        Store, audit,
        users::{self, UserRecord},
    },
};
use reqwest::StatusCode;

use crate::{
    helpers::*,
    office::{add_district, first_login, staff},
};

/// A physician's account as `users::create` takes it: the applicant's
/// example form with `changes`, in `association`.
fn physician(n: u32, changes: &[(&str, &str)], association: Option<AssociationId>) -> UserRecord {
    let who = Applicant::numbered(n);
    let fields = who.fields_with(changes);
    let form = RegistrationForm::from_pairs(&fields).normalized();
    let today = time::macros::date!(2026 - 01 - 01);
    let reg = match validate_registration(&form, today) {
        Ok((reg, _)) => reg,
        Err(e) => panic!("invalid test form {changes:?}: {e:?}"),
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
        created_at: 1_700_000_000 + i64::from(n),
        terms_history: Vec::new(),
        initial_password_expires_at: None,
        membership: None,
    }
}

/// Writes the accounts straight into the store; returns their ids.
async fn put(store: &Store, people: Vec<UserRecord>) -> Vec<u64> {
    store
        .write_ok(move |tx| {
            let mut ids = Vec::new();
            for p in people {
                let id = users::create(tx, p)?.map_err(|c| anyhow::anyhow!("{c:?}"))?;
                ids.push(id);
            }
            Ok(ids)
        })
        .await
        .expect("write people")
}

/// A staff member of `association`, logged in with a password of their own.
async fn staff_browser(app: &TestApp, association: &str, login_id: &str) -> Browser {
    let one_time = staff(app, association, login_id, "担当者").await;
    let b = first_login(app, login_id, &one_time).await;
    b.get("/office").await.assert_status(StatusCode::OK);
    b
}

/// The search page for `q`, encoded.
fn search_url(q: &str) -> String {
    format!(
        "/office/people?{}",
        url::form_urlencoded::Serializer::new(String::new())
            .append_pair("q", q)
            .finish()
    )
}

/// The raw bytes of an answer.
async fn bytes(b: &Browser, path: &str) -> (StatusCode, reqwest::header::HeaderMap, Vec<u8>) {
    let resp = b.client().get(b.url(path)).send().await.expect("request");
    let status = resp.status();
    let headers = resp.headers().clone();
    let body = resp.bytes().await.expect("body").to_vec();
    (status, headers, body)
}

fn rows_in(page: &Page) -> usize {
    page.body.matches("href=\"/office/people/").count()
}

#[tokio::test]
async fn names_are_found_by_kana_in_any_width_and_by_either_form_of_a_variant_character() {
    let app = spawn_app().await;
    put(
        &app.store,
        vec![
            physician(
                1,
                &[
                    ("name_last", "髙橋"),
                    ("name_first", "花子"),
                    ("kana_last", "タカハシ"),
                    ("kana_first", "ハナコ"),
                ],
                None,
            ),
            physician(
                2,
                &[
                    ("name_last", "山\u{FA11}"),
                    ("name_first", "一郎"),
                    ("kana_last", "ヤマサキ"),
                    ("kana_first", "イチロウ"),
                ],
                None,
            ),
            physician(
                3,
                &[
                    ("name_last", "高橋"),
                    ("name_first", "次郎"),
                    ("kana_last", "タカハシ"),
                    ("kana_first", "ジロウ"),
                ],
                None,
            ),
            physician(
                4,
                &[
                    ("name_last", "渡邊"),
                    ("name_first", "健"),
                    ("kana_last", "ワタナベ"),
                    ("kana_first", "ケン"),
                ],
                None,
            ),
        ],
    )
    .await;
    let b = staff_browser(&app, NATIONAL, "jmastaff").await;

    let page = b.get(&search_url("たかは")).await;
    page.assert_status(StatusCode::OK);
    page.assert_contains("髙橋 花子");
    page.assert_contains("高橋 次郎");
    assert_eq!(rows_in(&page), 2, "{}", page.body);
    let half = b.get(&search_url("ﾀｶﾊｼ ﾊﾅ")).await;
    half.assert_contains("髙橋 花子");
    assert_eq!(rows_in(&half), 1);
    // 高 finds 髙 and 髙 finds 高; 崎 finds 﨑; 辺 finds 邊.
    let plain = b.get(&search_url("高橋")).await;
    plain.assert_contains("髙橋 花子");
    plain.assert_contains("高橋 次郎");
    let variant = b.get(&search_url("髙橋")).await;
    variant.assert_contains("高橋 次郎");
    assert_eq!(rows_in(&variant), 2);
    b.get(&search_url("山崎"))
        .await
        .assert_contains("山\u{FA11} 一郎");
    b.get(&search_url("渡辺")).await.assert_contains("渡邊 健");
    // A given name alone, in hiragana.
    let given = b.get(&search_url("はなこ")).await;
    given.assert_contains("髙橋 花子");
    assert_eq!(rows_in(&given), 1);
    // One character: the same people, whether the name indexes or the
    // facets in memory answer.
    let one = b.get(&search_url("た")).await;
    one.assert_contains("髙橋 花子");
    one.assert_contains("高橋 次郎");
    assert_eq!(rows_in(&one), 2, "{}", one.body);
    let given = b.get(&search_url("花")).await;
    given.assert_contains("髙橋 花子");
    assert_eq!(rows_in(&given), 1);
    let none = b.get(&search_url("すずき")).await;
    none.assert_contains("該当する医師はいません。");
}

#[tokio::test]
async fn the_search_box_finds_registry_numbers_addresses_phones_birth_dates_and_login_ids() {
    let app = spawn_app().await;
    let ids = put(
        &app.store,
        vec![
            physician(
                11,
                &[
                    ("name_last", "佐藤"),
                    ("kana_last", "サトウ"),
                    ("mobile", "080-1111-2222"),
                    ("tel", "03-3823-2101"),
                    ("birth_date", "1975/12/24"),
                ],
                None,
            ),
            physician(12, &[("name_last", "鈴木"), ("kana_last", "スズキ")], None),
        ],
    )
    .await;
    let b = staff_browser(&app, NATIONAL, "jmastaff").await;
    let sato = format!("href=\"/office/people/{}\"", ids[0]);
    for q in [
        "300011",              // 医籍登録番号 (Applicant::numbered)
        "doctor11@example.jp", // e-mail
        "DOCTOR11@",           // e-mail prefix, any case
        "080-1111",            // mobile prefix
        "０３３８２３",        // tel prefix, full width
        "1975/12/24",          // birth date
        "昭和50年12月24日",    // birth date in 和暦
        "19751224",            // birth date as digits
        "doctor0011",          // login ID
        "Doctor001",           // login ID prefix, any case
    ] {
        let page = b.get(&search_url(q)).await;
        page.assert_status(StatusCode::OK);
        assert!(page.body.contains(&sato), "{q}: {}", page.excerpt());
        if q != "Doctor001" {
            assert_eq!(rows_in(&page), 1, "{q}");
        }
    }
    // The staff member's own login ID: staff never appear.
    b.get(&search_url("jmastaff"))
        .await
        .assert_contains("該当する医師はいません。");
}

#[tokio::test]
async fn each_office_sees_the_people_of_its_scope_only() {
    let app = spawn_app().await;
    let shinjuku = add_district(&app.store, "新宿区医師会").await;
    let shibuya = add_district(&app.store, "渋谷区医師会").await;
    let tokyo = shinjuku.parent.expect("under 東京都医師会");
    let names = [
        ("新宿", Some(shinjuku.id)),
        ("渋谷", Some(shibuya.id)),
        ("東京", Some(tokyo)),
        ("無所属", None),
    ];
    let people = names
        .iter()
        .enumerate()
        .map(|(i, (name, a))| {
            physician(
                20 + i as u32,
                &[("name_last", name), ("kana_last", "ヤマダ")],
                *a,
            )
        })
        .collect();
    put(&app.store, people).await;

    let district = staff_browser(&app, "新宿区医師会", "shinjuku1").await;
    let page = district.get(&search_url("やまだ")).await;
    page.assert_contains("新宿 太郎");
    assert_eq!(rows_in(&page), 1, "{}", page.body);
    // The empty query lists the scope only, and the filter offers no other.
    let all = district.get("/office/people").await;
    assert_eq!(rows_in(&all), 1);
    assert!(!all.body.contains("渋谷区医師会"));
    assert!(!all.body.contains("所属なし"));
    // Filtering by an association outside the scope finds nobody.
    let outside = district
        .get(&format!("/office/people?association={}", shibuya.id.0))
        .await;
    outside.assert_contains("該当する医師はいません。");
    // Nor does the export.
    let (_, _, csv) = bytes(
        &district,
        "/office/people.csv?q=%E3%82%84%E3%81%BE%E3%81%A0",
    )
    .await;
    let text = String::from_utf8(csv).expect("utf-8");
    assert!(text.contains("新宿 太郎"));
    assert!(!text.contains("渋谷") && !text.contains("東京 太郎") && !text.contains("無所属"));

    // A person moved into the district is seen at the next search (the
    // in-memory facets follow every write).
    let moved = put(
        &app.store,
        vec![physician(29, &[("name_last", "転入")], None)],
    )
    .await[0];
    assert_eq!(rows_in(&district.get(&search_url("やまだ")).await), 1);
    let to = shinjuku.id;
    app.store
        .write_ok(move |tx| users::set_association(tx, moved, Some(to)))
        .await
        .expect("move");
    let page = district.get(&search_url("やまだ")).await;
    page.assert_contains("転入 太郎");
    assert_eq!(rows_in(&page), 2, "{}", page.body);
    app.store
        .write_ok(move |tx| users::set_association(tx, moved, None))
        .await
        .expect("move back");

    let prefecture = staff_browser(&app, "東京都医師会", "tokyostaff1").await;
    let page = prefecture.get(&search_url("やまだ")).await;
    assert_eq!(rows_in(&page), 3, "{}", page.body);
    assert!(!page.body.contains("無所属"));

    let root = staff_browser(&app, NATIONAL, "jmastaff1").await;
    let page = root.get(&search_url("やまだ")).await;
    // The four, and the one moved back out of every association.
    assert_eq!(rows_in(&page), 5);
    page.assert_contains("無所属 太郎");
    let unaffiliated = root.get("/office/people?association=none").await;
    assert_eq!(rows_in(&unaffiliated), 2);
    unaffiliated.assert_contains("無所属 太郎");
    unaffiliated.assert_contains("転入 太郎");
}

#[tokio::test]
async fn physicians_get_404_and_anonymous_visitors_are_sent_to_log_in() {
    let app = spawn_app().await;
    let who = Applicant::yamada();
    app.register(&who).await;
    let b = app.browser();
    b.log_in(&who.login_id, PASSWORD)
        .await
        .assert_redirect_to("/mypage");
    for path in [
        "/office/people",
        "/office/people.csv",
        "/office/people?q=yamada",
    ] {
        b.get(path).await.assert_status(StatusCode::NOT_FOUND);
        app.browser().get(path).await.assert_redirect_to("/login");
    }
}

#[tokio::test]
async fn htmx_gets_the_results_alone_and_pages_are_50_rows() {
    let app = spawn_app().await;
    let people = (0..55).map(|n| physician(100 + n, &[], None)).collect();
    put(&app.store, people).await;
    let b = staff_browser(&app, NATIONAL, "jmastaff1").await;

    let full = b.get(&search_url("やまだ")).await;
    full.assert_contains("<html");
    full.assert_contains("hx-trigger=\"input changed delay:300ms, search\"");
    full.assert_contains("55件中 1〜50件を表示");
    assert_eq!(rows_in(&full), 50);
    assert_eq!(full.header("vary"), Some("HX-Request"));

    let fragment = b.htmx_get(&search_url("やまだ")).await;
    fragment.assert_status(StatusCode::OK);
    assert!(!fragment.body.contains("<html"), "{}", fragment.body);
    assert!(
        !fragment
            .body
            .contains("name=\"q\" value=\"やまだ\" maxlength")
    );
    assert!(fragment.body.starts_with("<section"), "{}", fragment.body);
    fragment.assert_contains("id=\"results\"");
    assert_eq!(rows_in(&fragment), 50);

    let next = b
        .get("/office/people?q=%E3%82%84%E3%81%BE%E3%81%A0&page=2")
        .await;
    next.assert_contains("55件中 51〜55件を表示");
    assert_eq!(rows_in(&next), 5);
    next.assert_contains("前の50件");
    // Newest first by default; フリガナ順 on request.
    let newest = b.get("/office/people").await;
    let first = newest.body.find("doctor0154").expect("newest shown");
    let later = newest.body.find("doctor0150").expect("shown");
    assert!(first < later);
}

#[tokio::test]
async fn the_csv_is_utf8_with_a_bom_or_cp932_with_variants_kept_and_formulas_neutralised() {
    let app = spawn_app().await;
    put(
        &app.store,
        vec![
            physician(
                31,
                &[
                    ("name_last", "髙﨑"),
                    ("name_first", "花子"),
                    ("kana_last", "タカサキ"),
                    ("kana_first", "ハナコ"),
                    ("building", "=HYPERLINK(\"http://example.com\")"),
                ],
                None,
            ),
            physician(32, &[("name_last", "斎藤")], None),
        ],
    )
    .await;
    let b = staff_browser(&app, NATIONAL, "jmastaff1").await;
    let page = b.get(&search_url("たかさき")).await;
    page.assert_contains("CSV出力");
    page.assert_contains("/office/people.csv");

    let (status, headers, body) = bytes(&b, "/office/people.csv?q=%E9%AB%98%E5%B4%8E").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(headers["content-type"], "text/csv; charset=utf-8");
    let disposition = headers["content-disposition"].to_str().expect("ascii");
    assert!(
        disposition.starts_with("attachment; filename=\"people-")
            && disposition.ends_with(".csv\""),
        "{disposition}"
    );
    assert_eq!(&body[..3], b"\xEF\xBB\xBF", "the BOM");
    let text = String::from_utf8(body[3..].to_vec()).expect("utf-8");
    let lines: Vec<&str> = text.split_terminator("\r\n").collect();
    assert_eq!(lines.len(), 2, "{text}");
    assert!(lines[0].starts_with("ID,氏名,フリガナ,"), "{}", lines[0]);
    assert!(!text.replace("\r\n", "").contains('\n'), "CRLF only");
    assert!(lines[1].contains("髙﨑 花子"), "{}", lines[1]);
    assert!(
        lines[1].contains("\"'=HYPERLINK(\"\"http://example.com\"\")\""),
        "{}",
        lines[1]
    );

    let (_, headers, sjis) =
        bytes(&b, "/office/people.csv?q=%E9%AB%98%E5%B4%8E&encoding=sjis").await;
    assert_eq!(headers["content-type"], "text/csv; charset=Shift_JIS");
    assert_ne!(&sjis[..3], b"\xEF\xBB\xBF");
    let (decoded, _, errors) = SHIFT_JIS.decode(&sjis);
    assert!(!errors, "valid CP932");
    assert_eq!(decoded, text, "the same text as the UTF-8 file");
    assert!(decoded.contains("髙﨑 花子"));

    // The export is in the audit log: who, what, how many.
    let entries = app
        .store
        .read(|tx| audit::since(tx, 0, 1000))
        .await
        .expect("audit");
    let exports: Vec<_> = entries
        .iter()
        .filter(|e| e.kind == audit::AuditKind::PeopleExported)
        .collect();
    assert_eq!(exports.len(), 2);
    let detail = exports[0].detail.clone().unwrap_or_default();
    assert!(detail.contains("q=\"高崎\""), "{detail}");
    assert!(detail.contains("1 rows"), "{detail}");
    assert!(
        exports[1]
            .detail
            .as_deref()
            .unwrap_or("")
            .contains("format=sjis")
    );
    assert!(exports[0].actor.is_some());
    assert_eq!(audit::AuditKind::PeopleExported.as_str(), "people_exported");
}

#[tokio::test]
async fn a_character_cp932_lacks_becomes_a_geta_mark_and_a_large_export_streams_every_row() {
    let app = spawn_app().await;
    let mut people = vec![physician(
        40,
        &[("name_last", "\u{20BB7}田"), ("kana_last", "ヨシダ")],
        None,
    )];
    people.extend((0..1_200).map(|n| physician(1_000 + n, &[], None)));
    put(&app.store, people).await;
    let b = staff_browser(&app, NATIONAL, "jmastaff1").await;

    // 𠮷 is found by 吉, and CP932 has no code for it: 〓 takes its place.
    b.get(&search_url("吉田"))
        .await
        .assert_contains("\u{20BB7}田 太郎");
    let (_, _, sjis) = bytes(&b, "/office/people.csv?q=%E5%90%89%E7%94%B0&encoding=sjis").await;
    let (decoded, _, errors) = SHIFT_JIS.decode(&sjis);
    assert!(!errors);
    assert!(decoded.contains("\r\n1,〓田 太郎,"), "{decoded}");

    // Every row of every page, in chunks, without a Content-Length.
    let (status, headers, body) =
        bytes(&b, "/office/people.csv?q=%E3%82%84%E3%81%BE%E3%81%A0").await;
    assert_eq!(status, StatusCode::OK);
    assert!(headers.get("content-length").is_none(), "{headers:?}");
    let text = String::from_utf8(body[3..].to_vec()).expect("utf-8");
    assert_eq!(text.split_terminator("\r\n").count(), 1 + 1_200);
}
