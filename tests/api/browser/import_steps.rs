//! The import story (issue 9): a district's staff import a small CSV, open
//! the postcard print view (screenshots on screen and as printed), and the
//! member logs in with what the postcard says and completes the first
//! login: 利用規約, the e-mail address twice, the mailed link, a password of
//! their own, マイページ.

use anyhow::{Context, Result, ensure};
use fantoccini::Locator;
use serde_json::json;

use super::{
    cast::{self, STAFF_PASSWORD},
    checks::Cdp,
    chromium::Chromium,
};
use crate::helpers::TestApp;

const CLERK: &str = "shinjuku01";
const HEADER: &str = "氏名,フリガナ,生年月日,性別,医籍登録番号,医籍登録日,郵便番号,都道府県,住所,建物名,電話番号,会員種別,入会日,所属医師会";
const MEMBER_EMAIL: &str = "sato.hanako@example.jp";
const OWN_PASSWORD: &str = "Kusuri#Hako2027";

/// What the postcard says.
struct Postcard {
    login_id: String,
    password: String,
}

/// The story, screen by screen.
pub(super) async fn import_story(app: &TestApp, b: &mut Chromium) -> Result<()> {
    cast::shinjuku(app).await;
    cast::staff_member(app, "新宿区医師会", CLERK).await?;
    let dir = tempfile::tempdir()?;
    let file = dir.path().join("members.csv");
    std::fs::write(&file, small_csv())?;

    b.log_in(CLERK, STAFF_PASSWORD).await?;
    b.wait_h1("事務局TOP").await?;
    upload_and_check(b, &file).await?;
    import(b).await?;
    let card = print_the_postcards(b).await?;
    b.log_out("/office").await?;
    first_login(b, &card).await
}

/// Two members of 新宿区医師会, UTF-8 with a BOM (as Excel saves it).
fn small_csv() -> Vec<u8> {
    let row = |name: &str, kana: &str, registry: &str| {
        format!(
            "{name},{kana},1975/06/15,女,{registry},2001/05/01,113-8621,東京都,文京区本駒込2-28-16,,03-3946-2121,A①会員,2005/04/01,\r\n"
        )
    };
    let text = format!(
        "{HEADER}\r\n{}{}",
        row("佐藤 花子", "サトウ ハナコ", "200001"),
        row("鈴木 一郎", "スズキ イチロウ", "200002")
    );
    let mut bytes = b"\xEF\xBB\xBF".to_vec();
    bytes.extend_from_slice(text.as_bytes());
    bytes
}

/// 会員のCSV取り込み: the file chosen, 内容を確認する, the dry run's table.
async fn upload_and_check(b: &mut Chromium, file: &std::path::Path) -> Result<()> {
    b.follow("会員のCSV取り込み").await?;
    b.wait_for("import form", "document.getElementById('file') !== null")
        .await?;
    b.form_semantics("02-import").await?;
    b.screen("02-import", true).await?;
    b.keyboard_focus("02-import", 7).await?;
    b.choose_file("#file", file).await?;
    b.submit("内容を確認する").await?;
    b.wait_h1("取り込み内容の確認").await?;
    let text = b.main_text().await?;
    for want in ["佐藤 花子", "鈴木 一郎", "作成 2 名"] {
        ensure!(text.contains(want), "dry run: {want} not shown:\n{text}");
    }
    b.screen("03-import-dry-run", true).await
}

/// 取り込む (through a confirmation if there is one).
async fn import(b: &mut Chromium) -> Result<()> {
    b.submit_through_confirmation(
        "取り込む",
        &["取り込みを確定する", "確定する"],
        "04-import-confirm",
    )
    .await?;
    b.wait_text("import: done", "2名の会員を取り込みました")
        .await?;
    b.screen("05-import-done", true).await
}

/// ID・パスワード通知ハガキ: the list, the print view (and as printed);
/// the first postcard read.
async fn print_the_postcards(b: &mut Chromium) -> Result<Postcard> {
    b.goto("/office").await?;
    b.wait_h1("事務局TOP").await?;
    b.follow("ID・パスワード通知ハガキ").await?;
    b.wait_text("postcard list", "未印刷").await?;
    b.screen("06-postcards", true).await?;
    b.follow("印刷").await?;
    b.wait_for(
        "print view",
        "document.querySelectorAll('dd.login-id').length === 2",
    )
    .await?;
    b.screen("07-postcards-print", true).await?;
    print_media_screenshot(b, "07-postcards-print-media").await?;
    let card = Postcard {
        login_id: postcard_field(b, "login-id").await?,
        password: postcard_field(b, "password").await?,
    };
    let name =
        b.c.find(Locator::Css("p.addressee"))
            .await
            .context("print view: the addressee")?
            .text()
            .await?;
    ensure!(
        name.contains("佐藤 花子"),
        "print view: first card is {name}"
    );
    Ok(card)
}

/// The text of the first postcard's `dd.{class}`.
async fn postcard_field(b: &Chromium, class: &str) -> Result<String> {
    let v = b
        .js(
            "return document.querySelector('dd.' + arguments[0])?.textContent.trim() ?? null",
            vec![json!(class)],
        )
        .await?;
    v.as_str()
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .with_context(|| format!("print view: no dd.{class}"))
}

/// The print layout as the printer gets it (CSS print media emulated
/// through Chrome DevTools), at desktop width; back to screen media after.
async fn print_media_screenshot(b: &Chromium, name: &str) -> Result<()> {
    b.c.issue_cmd(Cdp::new(
        "Emulation.setEmulatedMedia",
        json!({ "media": "print" }),
    ))
    .await
    .context("Emulation.setEmulatedMedia print")?;
    let shot = b.full_screenshot().await;
    b.c.issue_cmd(Cdp::new(
        "Emulation.setEmulatedMedia",
        json!({ "media": "" }),
    ))
    .await
    .context("Emulation.setEmulatedMedia back to screen")?;
    b.save_png(name, &shot?)
}

/// The member with the postcard: terms, e-mail twice, the mailed link, own
/// password, マイページ.
async fn first_login(b: &mut Chromium, card: &Postcard) -> Result<()> {
    b.log_in(&card.login_id, &card.password).await?;
    b.wait_h1("利用規約").await?;
    b.form_semantics("08-first-terms").await?;
    b.screen("08-first-terms", true).await?;
    b.c.find(Locator::Css("label[for=agree]"))
        .await
        .context("terms: the label of the checkbox")?
        .click()
        .await?;
    b.submit("同意して次へ").await?;

    b.wait_h1("メールアドレスの登録").await?;
    b.form_semantics("09-first-email").await?;
    b.screen("09-first-email", true).await?;
    b.type_into("#email", MEMBER_EMAIL).await?;
    b.type_into("#email_confirm", MEMBER_EMAIL).await?;
    b.submit("確認メールを送信する").await?;
    b.wait_h1("確認メールを送信しました").await?;
    b.screen("10-first-email-sent", true).await?;

    let url = b
        .link_from_outbox("メールアドレスのご確認", "/email/confirm", "11-outbox-mail")
        .await?;
    b.c.goto(&url).await?;
    b.wait_h1("パスワードの変更").await?;
    b.form_semantics("12-first-password").await?;
    b.screen("12-first-password", true).await?;
    b.type_into("#password", OWN_PASSWORD).await?;
    b.type_into("#password_confirm", OWN_PASSWORD).await?;
    b.submit("パスワードを変更する").await?;
    b.wait_h1("マイページ").await?;
    b.screen("13-mypage", true).await
}
