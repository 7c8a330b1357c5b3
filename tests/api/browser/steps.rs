//! The steps of the registration story in Chromium, one screen or one part
//! of the form each, in the order `journey` takes them.

use anyhow::{Context, Result, ensure};
use fantoccini::{Locator, key::Key};
use serde_json::json;

use super::{EMAIL, LOGIN_ID, PASSWORD, chromium::Chromium};

/// Screen 1: the login page, and its link to the registration.
pub(super) async fn start_at_the_login_page(b: &mut Chromium) -> Result<()> {
    b.goto("/login").await?;
    b.wait_h1("ログイン").await?;
    b.screen("01-login", true).await?;
    b.keyboard_focus("01-login", 8).await?;
    b.c.find(Locator::LinkText("利用者登録"))
        .await
        .context("login page: link 利用者登録")?
        .click()
        .await?;
    Ok(())
}

/// Screen 2: the terms. 次へ without agreeing is refused with a message;
/// the label ticks the checkbox.
pub(super) async fn open_terms_and_agree(b: &mut Chromium) -> Result<()> {
    b.wait_for("terms page", "document.getElementById('agree') !== null")
        .await?;
    b.form_semantics("02-terms").await?;
    b.screen("02-terms", true).await?;
    b.keyboard_focus("02-terms", 8).await?;
    b.button("次へ").await?.click().await?;
    let msg = b
        .wait_for(
            "terms: message when not agreed",
            "document.querySelector('#m-agree .error')?.textContent",
        )
        .await?;
    ensure!(
        msg.as_str().unwrap_or("").contains("同意してください"),
        "terms: unexpected message {msg}"
    );
    b.screen("03-terms-error", false).await?;
    let label = b.c.find(Locator::Css("label[for=agree]")).await?;
    let label_text = label.text().await?;
    ensure!(
        label_text.contains("利用規約・個人情報の取り扱いに同意する"),
        "terms: checkbox label is {label_text:?}"
    );
    label.click().await?;
    ensure!(
        b.c.find(Locator::Id("agree")).await?.is_selected().await?,
        "terms: clicking the label did not tick the checkbox"
    );
    b.button("次へ").await?.click().await?;
    Ok(())
}

/// Screen 3: the e-mail address, twice, and the page saying the mail was sent.
pub(super) async fn enter_email_twice(b: &mut Chromium) -> Result<()> {
    b.wait_for(
        "e-mail page",
        "document.getElementById('email_confirm') !== null",
    )
    .await?;
    b.form_semantics("04-email").await?;
    b.screen("04-email", true).await?;
    b.type_into("#email", EMAIL).await?;
    b.type_into("#email_confirm", EMAIL).await?;
    b.button("送信する").await?.click().await?;
    b.wait_text("sent page", "確認メール送信完了").await?;
    b.screen("05-email-sent", true).await?;
    Ok(())
}

/// The mail, from the local outbox: its link opens screen 4, the form.
pub(super) async fn follow_the_mailed_link(b: &mut Chromium) -> Result<()> {
    let url = b.verify_link_from_outbox().await?;
    b.c.goto(&url).await?;

    // Screen 4: the form.
    b.wait_h1("ログイン情報・利用者登録情報の入力").await?;
    b.form_semantics("07-form").await?;
    b.screen("07-form", true).await?;
    b.keyboard_focus("07-form", 12).await?;
    Ok(())
}

/// A bad login ID gets its message without a page load; a valid one
/// clears it.
pub(super) async fn bad_login_id_is_told_inline(b: &mut Chromium) -> Result<()> {
    b.set_marker().await?;
    b.fill_and_leave("#login_id", "abc").await?;
    b.wait_for(
        "login ID: format message",
        "document.querySelector('#m-login_id')?.textContent.includes('ログインIDの形式が正しくありません。')",
    )
    .await?;
    b.check_marker("login ID: the message came with a page load")
        .await?;
    // The control's state follows its message (give the page's script a moment).
    let _ = b
        .wait_for(
            "login ID: marked invalid",
            "document.querySelector('#login_id')?.getAttribute('aria-invalid') === 'true'",
        )
        .await;
    let invalid = b.attr("#login_id", "aria-invalid").await?;
    if invalid.as_deref() != Some("true") {
        b.problem(format!(
            "login ID: shown its error inline, the input is not aria-invalid=\"true\" (got {invalid:?})"
        ));
    }
    b.screen("08-form-login-id-message", false).await?;

    // A valid login ID clears the message.
    b.fill_and_leave("#login_id", LOGIN_ID).await?;
    b.wait_for(
        "login ID: message gone for a valid ID",
        "!document.querySelector('#m-login_id .error')",
    )
    .await?;
    b.check_marker("login ID: a page load happened").await?;
    Ok(())
}

/// Submitted incomplete: every error at once, the login ID kept, focus on
/// the error summary.
pub(super) async fn submit_too_early_and_see_every_error(b: &mut Chromium) -> Result<()> {
    b.button("確認画面へ進む").await?.click().await?;
    b.wait_for(
        "form: error summary after submitting an incomplete form",
        "document.readyState === 'complete' && document.querySelector('.error-summary li') !== null",
    )
    .await?;
    b.wait_value("login_id", LOGIN_ID).await?;
    let focused = b
        .js("return document.activeElement?.className ?? ''", vec![])
        .await?;
    if !focused.as_str().unwrap_or("").contains("error-summary") {
        b.problem(format!(
            "form with errors: focus is not on the error summary (active element class {focused})"
        ));
    }
    b.form_semantics("09-form-errors").await?;
    b.screen("09-form-errors", true).await?;
    Ok(())
}

/// Every other field, each checked when left: 和暦 and kana normalised, the
/// postal code filling the address. No page load from here on (the marker).
pub(super) async fn fill_the_form_with_live_checks(b: &mut Chromium) -> Result<()> {
    b.set_marker().await?;
    b.fill_and_leave("#password", PASSWORD).await?;
    b.fill_and_leave("#registry_number", "123456").await?;

    // 和暦 is accepted and shown back as a western date with its 和暦 note.
    b.fill_and_leave("#registry_date", "平成20年5月1日").await?;
    b.wait_value("registry_date", "2008/05/01").await?;
    let note = b
        .wait_for(
            "registry date: 和暦 note",
            "document.querySelector('#m-registry_date .note')?.textContent",
        )
        .await?;
    ensure!(
        note.as_str().unwrap_or("").contains("平成20年"),
        "registry date: note is {note}"
    );

    // Hiragana and half-width katakana become full-width katakana.
    b.fill_and_leave("#kana_last", "やまだ").await?;
    b.wait_value("kana_last", "ヤマダ").await?;
    b.fill_and_leave("#kana_first", "ｶﾞｸ").await?;
    b.wait_value("kana_first", "ガク").await?;
    b.fill_and_leave("#name_last", "山田").await?;
    b.fill_and_leave("#name_first", "太郎").await?;

    // A complete postal code fills 都道府県 and 住所 and leaves the cursor
    // after the town, ready for the 番地.
    b.clear_and_type("#postal_code", "１１３８６２１").await?;
    b.wait_value("address", "文京区本駒込").await?;
    b.wait_value("prefecture", "東京都").await?;
    b.wait_for(
        "postal code: cursor moved to the address",
        "document.activeElement && document.activeElement.id === 'address'",
    )
    .await?;
    b.screen("10-form-postal-filled-in", false).await?;
    b.send_keys("#address", "2-28-16").await?;
    b.send_keys("#address", &Key::Tab.to_string()).await?;
    b.wait_value("address", "文京区本駒込2-28-16").await?;
    b.wait_value("postal_code", "113-8621").await?;
    b.fill_and_leave("#mobile", "090-1234-5678").await?;
    b.fill_and_leave("#birth_date", "1980/04/01").await?;
    b.select("main_dept", "01").await?;
    Ok(())
}

/// 出身校 with the keyboard only: type, ArrowDown, Enter; Enter must not
/// submit the form (the page keeps the marker set while filling).
pub(super) async fn pick_school_from_suggestions(b: &mut Chromium) -> Result<()> {
    b.clear_and_type("#school", "とうほく").await?;
    b.wait_for(
        "school: suggestions",
        "document.querySelectorAll('#school-list [role=option]').length > 0",
    )
    .await?;
    let expanded = b.attr("#school", "aria-expanded").await?;
    if expanded.as_deref() != Some("true") {
        b.problem(format!(
            "school combobox: aria-expanded is {expanded:?} while suggestions are shown"
        ));
    }
    b.screen("10-form-school-suggestions", false).await?;
    b.send_keys("#school", &Key::Down.to_string()).await?;
    let active = b.attr("#school", "aria-activedescendant").await?;
    ensure!(
        active.is_some(),
        "school: ArrowDown set no aria-activedescendant"
    );
    b.send_keys("#school", &Key::Enter.to_string()).await?;
    b.wait_value("school", "東北大学").await?;
    b.wait_for(
        "school: list closed after choosing",
        "document.querySelectorAll('#school-list [role=option]').length === 0",
    )
    .await?;
    // Enter picked an option; it must not also have submitted the form.
    b.check_marker("school: Enter in the combobox reloaded the page")
        .await?;

    b.fill_and_leave("#graduation", "2005/03").await?;
    Ok(())
}

/// 所属学会: the same keyboard choice adds a ticked checkbox.
pub(super) async fn pick_society_from_suggestions(b: &mut Chromium) -> Result<()> {
    b.clear_and_type("#society_query", "ないか").await?;
    b.wait_for(
        "society: suggestions",
        "document.querySelectorAll('#society_query-list [role=option]').length > 0",
    )
    .await?;
    b.send_keys("#society_query", &Key::Down.to_string())
        .await?;
    b.send_keys("#society_query", &Key::Enter.to_string())
        .await?;
    b.wait_for(
        "society: 日本内科学会 chosen",
        "[...document.querySelectorAll('#societies-chosen input[type=checkbox]')]\
         .some(c => c.value === '日本内科学会' && c.checked)",
    )
    .await?;
    b.check_marker("society: choosing reloaded the page")
        .await?;
    Ok(())
}

/// Every field message is clear now, and no input is still marked invalid.
pub(super) async fn no_message_is_left_on_the_form(b: &mut Chromium) -> Result<()> {
    b.wait_for(
        "form: htmx requests finished",
        "document.querySelectorAll('.htmx-request').length === 0",
    )
    .await?;
    let errors = b
        .js(
            "return [...document.querySelectorAll('.msg .error')]\
             .map(e => e.closest('.msg').id + ': ' + e.textContent)",
            vec![],
        )
        .await?;
    ensure!(
        errors.as_array().is_some_and(|a| a.is_empty()),
        "form: messages left after filling every field: {errors}"
    );
    let _ = b
        .wait_for(
            "form: no field left marked invalid",
            "document.querySelectorAll('#register-form [aria-invalid=true]').length === 0",
        )
        .await;
    let stale = b
        .js(
            "return [...document.querySelectorAll('#register-form [aria-invalid=true]')].map(e => e.id)",
            vec![],
        )
        .await?;
    if !stale.as_array().is_some_and(|a| a.is_empty()) {
        b.problem(format!(
            "form: corrected fields still aria-invalid=\"true\" (shown red) though their message is gone: {stale}"
        ));
    }
    b.screen("11-form-filled", false).await?;
    Ok(())
}

/// Screens 5 and 6: the confirmation shows what was typed (never the
/// password), and 「登録する」 completes the registration.
pub(super) async fn confirm_and_register(b: &mut Chromium) -> Result<()> {
    // Screen 5: confirmation.
    b.button("確認画面へ進む").await?.click().await?;
    b.wait_text("confirmation page", "入力内容をご確認ください。")
        .await?;
    for shown in [
        "ヤマダ",
        "ガク",
        "東北大学",
        "日本内科学会",
        "東京都",
        LOGIN_ID,
    ] {
        let found = b
            .js(
                "return document.querySelector('main').textContent.includes(arguments[0])",
                vec![json!(shown)],
            )
            .await?;
        ensure!(found == json!(true), "confirmation: {shown} is not shown");
    }
    let leaked = b
        .js(
            "return document.documentElement.outerHTML.includes(arguments[0])",
            vec![json!(PASSWORD)],
        )
        .await?;
    ensure!(
        leaked == json!(false),
        "confirmation: the password is in the page"
    );
    b.screen("12-confirm", true).await?;

    // Screen 6: completion.
    b.button("登録する").await?.click().await?;
    b.wait_h1("利用者登録が完了しました。").await?;
    b.screen("13-complete", true).await?;
    Ok(())
}
