//! The member import and the ID・パスワード通知ハガキ: a district's staff check
//! and import a CSV (UTF-8 with and without a BOM, Shift_JIS), refused rows
//! with their line and the registration form's message, nothing imported
//! then, the same file twice creating nothing new, the scope of 所属医師会;
//! the postcards printed, a member logging in with them and going through
//! the first login's steps to their own password, an expired and a replaced initial password refused, the
//! batch closed (its passwords gone); physicians finding none of it.

use mamis::{
    domain::Role,
    store::{postcards, users},
};
use reqwest::StatusCode;

use crate::{
    helpers::*,
    my_account::{confirmation_link, path_of},
    office::{add_district, first_login, staff},
};

const HEADER: &str = "氏名,フリガナ,生年月日,性別,医籍登録番号,医籍登録日,郵便番号,都道府県,住所,建物名,電話番号,会員種別,入会日,所属医師会";
const IMPORT: &str = "/office/members/import";
const RUN: &str = "/office/members/import/run";
/// Where a member's first login begins (the lead's steps: terms, address,
/// own password).
const FIRST_LOGIN: &str = "/first-login/terms";
/// A password of the member's own choosing.
const OWN_PASSWORD: &str = "Kusuri#Hako2027";

/// A member row: name, kana, registry number, association (may be empty).
fn row(name: &str, kana: &str, registry: &str, association: &str) -> String {
    format!(
        "{name},{kana},1975/06/15,女,{registry},2001/05/01,113-8621,東京都,文京区本駒込2-28-16,,03-3946-2121,A①会員,2005/04/01,{association}"
    )
}

fn csv(rows: &[String]) -> String {
    let mut s = format!("{HEADER}\r\n");
    for r in rows {
        s.push_str(r);
        s.push_str("\r\n");
    }
    s
}

fn with_bom(text: &str) -> Vec<u8> {
    let mut b = b"\xEF\xBB\xBF".to_vec();
    b.extend_from_slice(text.as_bytes());
    b
}

/// A staff member of `association` signed in, on the import page.
async fn staff_on_import(app: &TestApp, association: &str, login_id: &str, role: &str) -> Browser {
    let one_time = staff(app, association, login_id, role).await;
    let b = first_login(app, login_id, &one_time).await;
    b.get(IMPORT).await.assert_contains("会員データの取り込み");
    b
}

/// The value of the hidden `reference` of the dry-run page.
fn reference(page: &Page) -> String {
    input_value(&page.body, "reference").expect("the dry run offers 取り込む")
}

/// Uploads `bytes`, expects the dry run to offer 取り込む, imports; the id
/// of the postcard batch made.
async fn import(b: &Browser, bytes: Vec<u8>) -> u64 {
    let dry = b.post_file(IMPORT, "file", "members.csv", bytes).await;
    dry.assert_status(StatusCode::OK);
    dry.assert_contains("取り込み内容の確認");
    let done = b.post_form(RUN, &[("reference", reference(&dry))]).await;
    done.assert_status(StatusCode::OK);
    done.assert_contains("の会員を取り込みました");
    let at = done
        .body
        .find("/office/postcards/")
        .expect("a link to the batch");
    done.body[at + "/office/postcards/".len()..]
        .split('/')
        .next()
        .and_then(|id| id.parse().ok())
        .expect("a batch id")
}

/// Every text between `<dd class="{class}">` and `</dd>`.
fn dd_values(body: &str, class: &str) -> Vec<String> {
    let open = format!("<dd class=\"{class}\">");
    body.split(&open)
        .skip(1)
        .filter_map(|s| s.split("</dd>").next())
        .map(str::to_owned)
        .collect()
}

async fn account(app: &TestApp, registry: &'static str) -> users::UserRecord {
    let id = app
        .store
        .read(move |tx| users::id_by_registry_number(tx, registry))
        .await
        .expect("read")
        .expect("imported");
    app.store
        .read(move |tx| users::get(tx, id))
        .await
        .expect("read")
        .expect("account")
}

#[tokio::test]
async fn a_bom_file_is_checked_imported_printed_logged_in_with_and_closed() {
    let app = spawn_app().await;
    let district = add_district(&app.store, "新宿区医師会").await;
    let b = staff_on_import(&app, "新宿区医師会", "shinjuku01", "担当者").await;
    let before = app.user_count().await;
    let text = csv(&[
        row("佐藤 花子", "サトウ ハナコ", "200001", ""),
        row("鈴木 一郎", "すずき いちろう", "200002", ""),
    ]);
    let dry = b
        .post_file(IMPORT, "file", "members.csv", with_bom(&text))
        .await;
    dry.assert_contains("UTF-8（BOM付き）");
    dry.assert_contains("作成 <strong>2</strong> 名");
    dry.assert_contains("新宿区医師会の会員として作成します。");
    // Nothing is written by the dry run.
    assert_eq!(app.user_count().await, before);

    let batch = {
        let done = b.post_form(RUN, &[("reference", reference(&dry))]).await;
        done.assert_contains("2名の会員を取り込みました");
        let at = done.body.find("/office/postcards/").expect("batch link");
        done.body[at + 18..]
            .split('/')
            .next()
            .and_then(|id| id.parse::<u64>().ok())
            .expect("batch id")
    };
    assert_eq!(app.user_count().await, before + 2);
    let sato = account(&app, "200001").await;
    assert_eq!(sato.role, Role::Member);
    assert_eq!(sato.association, Some(district.id));
    assert!(sato.must_change_password);
    assert_eq!(sato.display_name(), "佐藤 花子");
    assert!(sato.password_hash.starts_with("$mamis-initial$v=1$"));
    let m = sato.membership.clone().expect("membership kept");
    assert_eq!(m.class.as_deref(), Some("A①会員"));
    // The person page and its correction form open for an imported member
    // (whose 携帯電話番号, 主たる科名, 出身校 and 卒業年月 are unknown).
    let person = b.get(&format!("/office/people/{}", sato.id)).await;
    person.assert_status(StatusCode::OK);
    person.assert_contains("佐藤");
    b.get(&format!("/office/people/{}/edit", sato.id))
        .await
        .assert_status(StatusCode::OK);
    // The import's reference is used up.
    b.post_form(RUN, &[("reference", reference(&dry))])
        .await
        .assert_contains("この確認結果はもう使えません");

    let list = b.get("/office/postcards").await;
    list.assert_contains("2枚");
    list.assert_contains("未印刷");
    let print = b.get(&format!("/office/postcards/{batch}/print")).await;
    print.assert_status(StatusCode::OK);
    print.assert_contains("〒113-8621");
    print.assert_contains("佐藤 花子 様");
    print.assert_contains("/login");
    print.assert_contains("MAMIS お問合せ窓口");
    let ids = dd_values(&print.body, "login-id");
    let passwords = dd_values(&print.body, "password");
    assert_eq!(ids.len(), 2);
    assert_eq!(ids[0], sato.login_id);
    assert!(ids[0].starts_with('m') && ids[0].len() == 8, "{}", ids[0]);
    assert_eq!(passwords[0].len(), 20);
    assert!(!passwords[0].contains(['0', 'O', '1', 'l', 'I']));
    b.get("/office/postcards").await.assert_contains("印刷済");
    let merge = b.get(&format!("/office/postcards/{batch}/csv")).await;
    assert!(
        merge
            .body
            .starts_with("\u{feff}郵便番号,住所,氏名,ログインID,初期パスワード,有効期限")
    );
    assert!(
        merge
            .body
            .contains(&format!("佐藤 花子,{},{}", ids[0], passwords[0]))
    );

    // The member logs in with the postcard: the first login's steps
    // (terms, address, own password) before anything else.
    let member = app.browser();
    member
        .log_in(&ids[0], &passwords[0])
        .await
        .assert_redirect_to(FIRST_LOGIN);
    member.get("/mypage").await.assert_redirect_to(FIRST_LOGIN);
    member.get(FIRST_LOGIN).await.assert_status(StatusCode::OK);
    member
        .post_form(FIRST_LOGIN, &[("agree", "yes")])
        .await
        .assert_redirect_to("/first-login/email");
    member
        .post_form(
            "/first-login/email",
            &[
                ("email", "sato@example.jp"),
                ("email_confirm", "sato@example.jp"),
            ],
        )
        .await
        .assert_redirect_to("/first-login/email/sent");
    let link = confirmation_link(&app, "sato@example.jp").await;
    member
        .get(path_of(&link))
        .await
        .assert_redirect_to("/password/change");
    member
        .get("/password/change")
        .await
        .assert_status(StatusCode::OK);
    member
        .post_form(
            "/password/change",
            &[
                ("password", OWN_PASSWORD),
                ("password_confirm", OWN_PASSWORD),
            ],
        )
        .await
        .assert_redirect_to("/mypage");
    // The initial password no longer works; the new one does.
    let again = app.browser();
    let refused = again.log_in(&ids[0], &passwords[0]).await;
    refused.assert_status(StatusCode::UNAUTHORIZED);
    refused.assert_contains("ログインIDまたはパスワードが正しくありません。");
    again
        .log_in(&ids[0], OWN_PASSWORD)
        .await
        .assert_redirect_to("/mypage");

    // Closing deletes the passwords for good.
    b.get("/office/postcards").await;
    b.post_form(&format!("/office/postcards/{batch}/close"), &[("x", "")])
        .await
        .assert_redirect_to("/office/postcards?done=closed");
    b.get("/office/postcards").await.assert_contains("締め済");
    for path in [
        format!("/office/postcards/{batch}/print"),
        format!("/office/postcards/{batch}/csv"),
    ] {
        let page = b.get(&path).await;
        page.assert_status(StatusCode::GONE);
        page.assert_contains("初期パスワードはもう表示できません");
        assert!(!page.body.contains(&passwords[1]), "{path}");
    }
    let stored = app
        .store
        .read(move |tx| postcards::get(tx, batch))
        .await
        .expect("read")
        .expect("batch");
    assert!(
        stored
            .postcards
            .iter()
            .all(|p| p.initial_password.is_none())
    );
    // The second member's password was never used and still logs in
    // (closing the batch only stops showing it).
    app.browser()
        .log_in(&ids[1], &passwords[1])
        .await
        .assert_redirect_to(FIRST_LOGIN);
}

#[tokio::test]
async fn utf8_without_a_bom_and_shift_jis_files_keep_their_names() {
    let app = spawn_app().await;
    let b = staff_on_import(&app, "東京都医師会", "tokyo0001", "管理者").await;
    let plain = csv(&[row("田中 次郎", "タナカ ジロウ", "210001", "")]);
    let dry = b
        .post_file(IMPORT, "file", "plain.csv", plain.clone().into_bytes())
        .await;
    dry.assert_contains("（UTF-8）");
    import(&b, plain.into_bytes()).await;
    assert_eq!(account(&app, "210001").await.display_name(), "田中 次郎");

    let sjis_text = csv(&[
        row("髙橋 﨑子", "たかはし さきこ", "210002", ""),
        row("山﨑 太郎", "ﾔﾏｻﾞｷ ﾀﾛｳ", "210003", ""),
    ]);
    let (bytes, _, unmappable) = encoding_rs::SHIFT_JIS.encode(&sjis_text);
    assert!(!unmappable, "髙 and 﨑 are in CP932");
    let bytes = bytes.into_owned();
    assert!(std::str::from_utf8(&bytes).is_err());
    let dry = b.post_file(IMPORT, "file", "sjis.csv", bytes.clone()).await;
    dry.assert_contains("Shift_JIS");
    dry.assert_contains("髙橋 﨑子");
    import(&b, bytes).await;
    let takahashi = account(&app, "210002").await;
    assert_eq!(takahashi.display_name(), "髙橋 﨑子");
    let person = takahashi.person.expect("person");
    assert_eq!(person.kana.last.as_str(), "タカハシ");
    assert_eq!(
        person.phones.tel.map(|t| t.as_str().to_owned()).as_deref(),
        Some("03-3946-2121")
    );
    assert_eq!(person.departments.main, None);
    assert_eq!(account(&app, "210003").await.display_name(), "山﨑 太郎");
}

#[tokio::test]
async fn a_bad_row_or_a_repeated_one_is_refused_with_its_line_and_nothing_is_imported() {
    let app = spawn_app().await;
    let b = staff_on_import(&app, "東京都医師会", "tokyo0001", "担当者").await;
    let before = app.user_count().await;
    let text = csv(&[
        row("佐藤 花子", "サトウ ハナコ", "220001", ""),
        row("鈴木 一郎", "スズキ イチロウ", "22000", ""),
        row("高田 三郎", "タカダ サブロウ", "220001", ""),
    ]);
    let dry = b
        .post_file(IMPORT, "file", "bad.csv", with_bom(&text))
        .await;
    dry.assert_status(StatusCode::OK);
    dry.assert_contains("取り込めない行があります");
    dry.assert_contains("<td>3</td><td>鈴木 一郎</td><td><strong>エラー</strong></td>");
    dry.assert_contains("医籍登録番号は半角数字6文字で入力してください。");
    dry.assert_contains("<td>4</td>");
    dry.assert_contains("医籍登録番号「220001」は2行目と重複しています。");
    assert!(input_value(&dry.body, "reference").is_none(), "no 取り込む");
    // A made-up reference imports nothing either.
    b.post_form(RUN, &[("reference", "made-up")])
        .await
        .assert_contains("この確認結果はもう使えません");
    assert_eq!(app.user_count().await, before);

    // A file that is not CSV with the columns: said so, nothing kept.
    let page = b
        .post_file(IMPORT, "file", "x.csv", b"name,birth\r\nx,y\r\n".to_vec())
        .await;
    page.assert_status(StatusCode::BAD_REQUEST);
    page.assert_contains("見出し行に必須の列がありません");
}

#[tokio::test]
async fn the_same_file_twice_creates_nothing_new_and_registered_people_are_matched() {
    let app = spawn_app().await;
    let yamada = Applicant::yamada();
    app.register(&yamada).await;
    let b = staff_on_import(&app, "東京都医師会", "tokyo0001", "管理者").await;
    let text = csv(&[
        row("佐藤 花子", "サトウ ハナコ", "230001", ""),
        row("佐々木 健", "ササキ ケン", "230002", ""),
    ]);
    import(&b, with_bom(&text).to_vec()).await;
    let after_first = app.user_count().await;
    let batches_after_first = app
        .store
        .read(|tx| postcards::list(tx, |_| true))
        .await
        .expect("list")
        .len();

    // The same file, plus the registered physician by 医籍登録番号 and by
    // 氏名 and 生年月日 under another number.
    let mut rows = vec![
        row("佐藤 花子", "サトウ ハナコ", "230001", ""),
        row("佐々木 健", "ササキ ケン", "230002", ""),
    ];
    rows.push(row(
        "山田 太郎",
        "ヤマダ タロウ",
        &yamada.registry_number,
        "",
    ));
    rows.push(
        "山田 太郎,ヤマダ タロウ,1980/04/01,男,239999,2008/05/01,113-8621,東京都,文京区,,090-1234-5678,,,"
            .to_owned(),
    );
    let dry = b
        .post_file(IMPORT, "file", "again.csv", with_bom(&csv(&rows)))
        .await;
    dry.assert_contains("作成 <strong>0</strong> 名、既存と一致 <strong>4</strong> 名");
    dry.assert_contains("同じ医籍登録番号の方が登録済みです");
    dry.assert_contains("同じ氏名・生年月日の方が登録済みです");
    dry.assert_contains("新しく作成する会員はいません。");
    assert!(input_value(&dry.body, "reference").is_none());
    assert_eq!(app.user_count().await, after_first);
    let batches = app
        .store
        .read(|tx| postcards::list(tx, |_| true))
        .await
        .expect("list");
    assert_eq!(batches.len(), batches_after_first);
}

#[tokio::test]
async fn a_district_places_members_only_in_its_own_scope() {
    let app = spawn_app().await;
    let shinjuku = add_district(&app.store, "新宿区医師会").await;
    add_district(&app.store, "渋谷区医師会").await;
    let district = staff_on_import(&app, "新宿区医師会", "shinjuku01", "管理者").await;
    let text = csv(&[
        row("佐藤 花子", "サトウ ハナコ", "240001", "新宿区医師会"),
        row("鈴木 一郎", "スズキ イチロウ", "240002", "渋谷区医師会"),
        row("高田 三郎", "タカダ サブロウ", "240003", "東京都医師会"),
    ]);
    let dry = district
        .post_file(IMPORT, "file", "scope.csv", with_bom(&text))
        .await;
    dry.assert_contains("作成 <strong>1</strong> 名、既存と一致 <strong>0</strong> 名、エラー <strong>2</strong> 件");
    dry.assert_contains(
        "所属医師会「渋谷区医師会」は取り込める医師会（自医師会とその下部の医師会）ではありません。",
    );
    dry.assert_contains("所属医師会「東京都医師会」は取り込める医師会");
    assert!(input_value(&dry.body, "reference").is_none());

    // The prefecture may place members in any district below it.
    let prefecture = staff_on_import(&app, "東京都医師会", "tokyo0001", "担当者").await;
    import(&prefecture, with_bom(&text).to_vec()).await;
    assert_eq!(account(&app, "240001").await.association, Some(shinjuku.id));
    // The district does not see the prefecture's batch; a 担当者 cannot
    // change the validity.
    district
        .get("/office/postcards")
        .await
        .assert_contains("ハガキはまだありません。");
    district
        .get("/office/postcards/1/print")
        .await
        .assert_status(StatusCode::NOT_FOUND);
    prefecture.get(IMPORT).await;
    prefecture
        .post_form(
            "/office/members/import/settings",
            &[("validity_days", "30")],
        )
        .await
        .assert_status(StatusCode::NOT_FOUND);
    district.get(IMPORT).await;
    district
        .post_form(
            "/office/members/import/settings",
            &[("validity_days", "30")],
        )
        .await
        .assert_contains("初期パスワードの有効期間を保存しました。");
}

#[tokio::test]
async fn an_expired_initial_password_is_refused_only_once_it_matched() {
    let app = spawn_app().await;
    let b = staff_on_import(&app, "東京都医師会", "tokyo0001", "管理者").await;
    let batch = import(
        &b,
        with_bom(&csv(&[row("佐藤 花子", "サトウ ハナコ", "250001", "")])),
    )
    .await;
    let print = b.get(&format!("/office/postcards/{batch}/print")).await;
    let (login_id, password) = (
        dd_values(&print.body, "login-id").remove(0),
        dd_values(&print.body, "password").remove(0),
    );
    let sato = account(&app, "250001").await;
    let (id, hash) = (sato.id, sato.password_hash.clone());
    app.store
        .write_ok(move |tx| users::set_initial_password(tx, id, hash, 1_000_000_000))
        .await
        .expect("expire");
    let m = app.browser();
    let refused = m.log_in(&login_id, &password).await;
    refused.assert_status(StatusCode::UNAUTHORIZED);
    refused.assert_contains(
        "初期パスワードの有効期限が切れています。所属医師会にお問い合わせください。",
    );
    // A wrong password learns nothing about the expiry.
    let wrong = m.log_in(&login_id, "Wrong#Password1").await;
    wrong.assert_contains("ログインIDまたはパスワードが正しくありません。");
    assert!(!wrong.body.contains("有効期限"));
}

#[tokio::test]
async fn physicians_find_none_of_the_import_and_postcard_pages() {
    let app = spawn_app().await;
    let yamada = Applicant::yamada();
    app.register(&yamada).await;
    let physician = app.browser();
    physician
        .log_in(&yamada.login_id, PASSWORD)
        .await
        .assert_redirect_to("/mypage");
    physician.get("/mypage").await.assert_status(StatusCode::OK);
    for path in [
        IMPORT,
        "/office/members/template.csv",
        "/office/postcards",
        "/office/postcards/1/print",
        "/office/postcards/1/csv",
    ] {
        physician
            .get(path)
            .await
            .assert_status(StatusCode::NOT_FOUND);
    }
    for path in [
        RUN,
        "/office/members/import/settings",
        "/office/postcards/1/close",
    ] {
        physician
            .post_form(path, &[("reference", "x"), ("validity_days", "30")])
            .await
            .assert_status(StatusCode::NOT_FOUND);
    }
    physician
        .post_file(IMPORT, "file", "m.csv", with_bom(&csv(&[])))
        .await
        .assert_status(StatusCode::NOT_FOUND);
    // Staff get the template: UTF-8 with a BOM, the header and an example.
    let b = staff_on_import(&app, "東京都医師会", "tokyo0001", "担当者").await;
    let template = b.get("/office/members/template.csv").await;
    template.assert_status(StatusCode::OK);
    assert!(
        template
            .body
            .starts_with(&format!("\u{feff}{HEADER}\r\n日医 太郎,"))
    );
}

#[tokio::test]
async fn a_reissued_initial_password_replaces_the_old_one_in_a_batch_of_its_own() {
    let app = spawn_app().await;
    let b = staff_on_import(&app, "東京都医師会", "tokyo0001", "管理者").await;
    let batch = import(
        &b,
        with_bom(&csv(&[row("佐藤 花子", "サトウ ハナコ", "260001", "")])),
    )
    .await;
    let print = b.get(&format!("/office/postcards/{batch}/print")).await;
    let (login_id, old) = (
        dd_values(&print.body, "login-id").remove(0),
        dd_values(&print.body, "password").remove(0),
    );
    let sato = account(&app, "260001").await;
    // The person page shows the membership and offers the new password.
    let person = b.get(&format!("/office/people/{}", sato.id)).await;
    person.assert_contains("所属状況");
    person.assert_contains("初期パスワードを再発行してハガキを作成する");
    let reissued = b
        .post_form(
            &format!("/office/people/{}/initial-password", sato.id),
            &[("_", "")],
        )
        .await;
    let second: u64 = reissued
        .location()
        .and_then(|l| l.strip_prefix("/office/postcards/"))
        .and_then(|l| l.strip_suffix("/print"))
        .and_then(|id| id.parse().ok())
        .expect("redirect to the new batch's print view");
    assert_ne!(second, batch);
    b.get("/office/postcards").await.assert_contains("再発行");
    let print = b.get(&format!("/office/postcards/{second}/print")).await;
    let new = dd_values(&print.body, "password").remove(0);
    assert_ne!(new, old);
    app.browser()
        .log_in(&login_id, &old)
        .await
        .assert_status(StatusCode::UNAUTHORIZED);
    app.browser()
        .log_in(&login_id, &new)
        .await
        .assert_redirect_to(FIRST_LOGIN);
    // Outside the scope: the page and the button are missing.
    add_district(&app.store, "新宿区医師会").await;
    let other = staff_on_import(&app, "新宿区医師会", "shinjuku01", "管理者").await;
    other
        .get(&format!("/office/people/{}", sato.id))
        .await
        .assert_status(StatusCode::NOT_FOUND);
    other
        .post_form(
            &format!("/office/people/{}/initial-password", sato.id),
            &[("_", "")],
        )
        .await
        .assert_status(StatusCode::NOT_FOUND);
    app.browser()
        .log_in(&login_id, &new)
        .await
        .assert_redirect_to(FIRST_LOGIN);
}
