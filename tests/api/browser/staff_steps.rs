//! The staff story (issue 8): a staff member logs in, lands on 事務局TOP,
//! finds the physician registered earlier by typing part of the カナ name
//! (htmx active search, no Enter), opens the record, corrects the phone
//! number with its inline message, and sees the change in 変更履歴.

use anyhow::{Result, ensure};

use super::{
    cast::{self, STAFF_PASSWORD},
    chromium::Chromium,
};
use crate::helpers::{Applicant, TestApp};

const CLERK: &str = "jmaclerk01";
const OLD_PHONE: &str = "090-1234-5678";
const NEW_PHONE: &str = "080-9999-0000";

/// The story, screen by screen.
pub(super) async fn staff_story(app: &TestApp, b: &mut Chromium) -> Result<()> {
    // 山田 太郎 (ヤマダ タロウ) and 鈴木 花子 registered earlier; a 日本医師会
    // clerk (who sees physicians of no association yet).
    cast::physician(app, &Applicant::yamada(), &[]).await?;
    cast::physician(
        app,
        &Applicant::numbered(2),
        &[
            ("kana_last", "すずき"),
            ("kana_first", "はなこ"),
            ("name_last", "鈴木"),
            ("name_first", "花子"),
        ],
    )
    .await?;
    cast::staff_member(app, "日本医師会", CLERK).await?;

    log_in_to_the_office_top(b).await?;
    find_by_part_of_the_kana(b).await?;
    open_the_record_and_its_correction(b).await?;
    bad_phone_is_told_inline(b).await?;
    save_and_see_the_history(b).await
}

/// Login → 事務局TOP.
async fn log_in_to_the_office_top(b: &mut Chromium) -> Result<()> {
    b.log_in(CLERK, STAFF_PASSWORD).await?;
    b.wait_h1("事務局TOP").await?;
    b.screen("01-office-top", true).await?;
    b.keyboard_focus("01-office-top", 6).await
}

/// 会員検索・CSV出力 → ヤマ typed, 山田 太郎 found without Enter and
/// without a page load; 鈴木 花子 not.
async fn find_by_part_of_the_kana(b: &mut Chromium) -> Result<()> {
    b.follow("会員検索・CSV出力").await?;
    b.wait_for("search box", "document.getElementById('q') !== null")
        .await?;
    b.screen("02-people-search", true).await?;
    b.keyboard_focus("02-people-search", 6).await?;
    b.set_marker().await?;
    b.type_into("#q", "ヤマ").await?;
    b.wait_for(
        "search: 山田 太郎 among the results",
        "document.readyState === 'complete' && document.querySelectorAll('.htmx-request').length === 0 \
         && [...document.querySelectorAll('table.people tbody tr')].length === 1 \
         && document.querySelector('table.people tbody').textContent.includes('山田 太郎')",
    )
    .await?;
    b.check_marker("search: the results came with a page load")
        .await?;
    let rows = b.main_text().await?;
    ensure!(
        !rows.contains("鈴木 花子"),
        "search: ヤマ also found 鈴木 花子"
    );
    b.screen("03-people-found", true).await
}

/// The record, and 登録情報を修正する.
async fn open_the_record_and_its_correction(b: &mut Chromium) -> Result<()> {
    b.follow("山田 太郎").await?;
    b.wait_h1("山田").await?;
    let record = b.main_text().await?;
    ensure!(
        record.contains(OLD_PHONE),
        "record: the phone number {OLD_PHONE} is not shown"
    );
    b.screen("04-person", true).await?;
    b.follow("修正").await?;
    b.wait_h1("登録情報の修正").await?;
    b.wait_value("mobile", OLD_PHONE).await?;
    b.form_semantics("05-person-edit").await?;
    b.screen("05-person-edit", true).await
}

/// A phone number without hyphens gets its message next to the field when
/// left, without a page load; a valid one clears it.
async fn bad_phone_is_told_inline(b: &mut Chromium) -> Result<()> {
    b.set_marker().await?;
    b.fill_and_leave("#mobile", "09012345678").await?;
    // Clearing the field may be checked first ("を入力してください"): wait
    // for the message about the typed number.
    if let Err(e) = b
        .wait_for(
            "phone: inline message about the hyphens",
            "document.querySelectorAll('.htmx-request').length === 0 && \
             document.querySelector('#m-mobile .error')?.textContent\
             .includes('携帯電話番号はハイフンを含めて入力してください')",
        )
        .await
    {
        let msg = b
            .js(
                "return document.querySelector('#m-mobile')?.textContent ?? null",
                vec![],
            )
            .await?;
        return Err(e.context(format!("phone: the message is {msg}")));
    }
    b.check_marker("phone: the message came with a page load")
        .await?;
    let _ = b
        .wait_for(
            "phone: marked invalid",
            "document.querySelector('#mobile')?.getAttribute('aria-invalid') === 'true'",
        )
        .await;
    let invalid = b.attr("#mobile", "aria-invalid").await?;
    if invalid.as_deref() != Some("true") {
        b.problem(format!(
            "person edit: phone shown its error inline, the input is not aria-invalid=\"true\" (got {invalid:?})"
        ));
    }
    b.screen("06-person-edit-phone-message", false).await?;

    b.fill_and_leave("#mobile", NEW_PHONE).await?;
    b.wait_for(
        "phone: message gone for a valid number",
        "document.querySelectorAll('.htmx-request').length === 0 && \
         !document.querySelector('#m-mobile .error')",
    )
    .await?;
    b.check_marker("phone: a page load happened").await
}

/// 修正を保存する (through a confirmation if there is one): the record says
/// so and 変更履歴 shows old → new.
async fn save_and_see_the_history(b: &mut Chromium) -> Result<()> {
    b.submit_through_confirmation(
        "修正を保存する",
        &["修正を確定する", "確定する", "保存する"],
        "07-person-edit-confirm",
    )
    .await?;
    b.wait_text("record: saved", "登録情報を修正しました。")
        .await?;
    let history = b
        .wait_for(
            "record: 変更履歴",
            "[...document.querySelectorAll('h2')].find(h => h.textContent.includes('変更履歴'))\
             ?.closest('section')?.innerText",
        )
        .await?;
    let want = format!("{OLD_PHONE} → {NEW_PHONE}");
    ensure!(
        history.as_str().unwrap_or("").contains(&want),
        "record: 変更履歴 lacks {want}: {history}"
    );
    b.screen("08-person-corrected", true).await
}
