//! The procedure story (issue 10): a 研修医 applies on マイページ to join all
//! three levels (the 日医 class shown as the answers are given), the
//! district's, the prefecture's and 日本医師会's staff approve in turn in
//! 申請一覧, and after each step the physician sees it on 申請状況 and has
//! its mail. One browser; the actors log out and in.

use anyhow::{Result, ensure};
use fantoccini::Locator;

use super::{
    cast::{self, STAFF_PASSWORD},
    chromium::Chromium,
};
use crate::helpers::{Applicant, PASSWORD, TestApp};

/// The office staff, in the order they approve: login ID, association,
/// screen-name prefix.
const OFFICES: [(&str, &str, &str); 3] = [
    ("shinjuku01", "新宿区医師会", "06-district"),
    ("tokyostaff01", "東京都医師会", "07-prefecture"),
    ("jmastaff01", "日本医師会", "08-national"),
];
/// 申請状況 when the page has no link to it.
/// The date each office approves with (the last one's is the 入会日).
const DATE: &str = "2026/04/01";

/// The story, screen by screen.
pub(super) async fn procedure_story(app: &TestApp, b: &mut Chromium) -> Result<()> {
    cast::shinjuku(app).await;
    for (login_id, association, _) in OFFICES {
        cast::staff_member(app, association, login_id).await?;
    }
    let doctor = Applicant::yamada();
    cast::physician(app, &doctor, &[]).await?;

    physician_logs_in(b, &doctor, true).await?;
    open_the_join_form(b).await?;
    submit_empty_and_see_each_error(b).await?;
    fill_in_as_a_trainee(b).await?;
    file_it(b).await?;
    b.wait_h1("申請完了").await?;
    b.screen("05-join-complete", true).await?;
    b.follow("申請状況を見る").await?;
    let mut done = status_shows(b, "05-status-filed", None).await?;
    mails_arrived(b, &doctor, 1, "受付").await?;
    b.log_out("/mypage").await?;

    for (i, (login_id, _, who)) in OFFICES.into_iter().enumerate() {
        approve_in_the_queue(b, login_id, who, i == 0).await?;
        b.log_out("/office").await?;
        physician_logs_in(b, &doctor, false).await?;
        open_status(b).await?;
        let last = i + 1 == OFFICES.len();
        done = status_shows(b, &format!("{who}-status"), Some(done)).await?;
        if last {
            let status = b.main_text().await?;
            ensure!(
                status.contains("完了") && status.contains("A②会員(C)"),
                "申請状況 after the last approval:\n{status}"
            );
        }
        mails_arrived(b, &doctor, i + 2, if last { "完了" } else { "承認" }).await?;
        b.log_out("/mypage").await?;
    }
    Ok(())
}

/// The physician logs in and lands on マイページ (checked as a screen the
/// first time, `first`).
async fn physician_logs_in(b: &mut Chromium, who: &Applicant, first: bool) -> Result<()> {
    b.log_in(&who.login_id, PASSWORD).await?;
    b.wait_h1("マイページ").await?;
    if first {
        b.screen("01-mypage", true).await?;
    }
    Ok(())
}

/// From マイページ to 申請状況, by its link.
async fn open_status(b: &mut Chromium) -> Result<()> {
    b.follow("申請状況").await?;
    b.wait_for(
        "申請状況",
        "document.readyState === 'complete' && document.querySelector('ol.timeline') !== null",
    )
    .await?;
    Ok(())
}

/// マイページ → 入会申込, by its link.
async fn open_the_join_form(b: &mut Chromium) -> Result<()> {
    b.follow("入会申込").await?;
    b.wait_h1("入会申込").await?;
    b.screen("02-join", true).await?;
    b.keyboard_focus("02-join", 10).await
}

/// The district, all three levels, a hospital's 研修医: the 日医 class
/// A②会員(C) appears without a page load.
async fn fill_in_as_a_trainee(b: &mut Chromium) -> Result<()> {
    b.set_marker().await?;
    b.select_by_text("district", "新宿区医師会").await?;
    b.c.find(Locator::Css("input[name=levels][value=dpn]"))
        .await?
        .click()
        .await?;
    b.select("wp_kind", "hospital").await?;
    b.select("wp_role", "trainee").await?;
    b.wait_for(
        "join: the 日医 class for a 研修医",
        "document.querySelectorAll('.htmx-request').length === 0 && \
         document.getElementById('jma-class')?.textContent.includes('A②会員(C)')",
    )
    .await?;
    b.fill_and_leave("#wp_name", "東都大学病院").await?;
    b.fill_and_leave("#wp_postal", "113-8655").await?;
    b.fill_and_leave("#wp_address", "東京都文京区本郷7-3-1")
        .await?;
    b.fill_and_leave("#wp_phone", "03-3815-5411").await?;
    b.c.find(Locator::Css("input[name=mail_to][value=work]"))
        .await?
        .click()
        .await?;
    b.check_marker("join: the class came with a page load")
        .await?;
    b.form_semantics("03-join-filled").await?;
    b.screen("03-join-filled", true).await
}

/// 確認画面へ進む on the empty form: the summary on top and each message
/// next to its field (checked by `form_semantics` and axe).
async fn submit_empty_and_see_each_error(b: &mut Chromium) -> Result<()> {
    b.button("確認画面へ進む").await?.click().await?;
    let msg = b
        .wait_for(
            "join: the message next to the district",
            "document.querySelector('#m-district .error')?.textContent",
        )
        .await?;
    ensure!(
        msg.as_str().unwrap_or("").contains("医師会"),
        "join: unexpected message for the district {msg}"
    );
    let invalid = b
        .js(
            "return document.getElementById('district').getAttribute('aria-invalid')",
            vec![],
        )
        .await?;
    ensure!(
        invalid.as_str() == Some("true"),
        "join: the district select is not aria-invalid ({invalid})"
    );
    b.form_semantics("02-join-errors").await?;
    b.screen("02-join-errors", false).await
}

/// 申請する, through a 確認 screen when there is one.
async fn file_it(b: &mut Chromium) -> Result<()> {
    let first = b
        .first_button(&["申請する", "確認画面へ進む", "確認する", "内容を確認する"])
        .await?;
    let Some(first) = first else {
        anyhow::bail!("join form: no 申請する or 確認 button");
    };
    b.submit_through_confirmation(
        first,
        &[
            "申請する",
            "この内容で申請する",
            "申請を確定する",
            "確定する",
        ],
        "04-join-confirm",
    )
    .await?;
    Ok(())
}

/// 申請状況 with its timeline: checked as screen `shot`; more steps done
/// than `before` (when given). Returns how many are done.
async fn status_shows(b: &mut Chromium, shot: &str, before: Option<u64>) -> Result<u64> {
    b.wait_for(
        "申請状況",
        "document.readyState === 'complete' && document.querySelector('ol.timeline li') !== null",
    )
    .await?;
    let done = b
        .js(
            "return document.querySelectorAll('ol.timeline li.done').length",
            vec![],
        )
        .await?
        .as_u64()
        .unwrap_or(0);
    if let Some(before) = before {
        ensure!(
            done > before,
            "{shot}: {done} steps done on 申請状況, {before} before this approval"
        );
    }
    let text = b.main_text().await?;
    ensure!(text.contains("申請"), "{shot}: no application shown");
    b.screen(shot, shot.starts_with("05")).await?;
    Ok(done)
}

/// The `n`-th mail about the 入会 reached the physician, the newest about
/// `what` (受付, 承認, 完了).
async fn mails_arrived(b: &mut Chromium, who: &Applicant, n: usize, what: &str) -> Result<()> {
    let subjects = b.wait_for_mails(&who.email, "入会", n).await?;
    ensure!(
        subjects.len() == n && subjects[0].contains(what),
        "mails to the physician: {subjects:?}, the newest should be about {what}"
    );
    Ok(())
}

/// A staff member logs in, opens 申請一覧 and the application, and
/// approves it with a date (through a confirmation when there is one).
async fn approve_in_the_queue(
    b: &mut Chromium,
    login_id: &str,
    who: &str,
    desktop: bool,
) -> Result<()> {
    b.log_in(login_id, STAFF_PASSWORD).await?;
    b.wait_h1("事務局TOP").await?;
    b.follow("申請一覧").await?;
    b.wait_h1("申請一覧").await?;
    b.screen(&format!("{who}-queue"), desktop).await?;
    b.click_and_wait("main table a[href^='/office/applications/']")
        .await?;
    b.wait_h1("申請詳細").await?;
    b.form_semantics(&format!("{who}-application")).await?;
    b.screen(&format!("{who}-application"), desktop).await?;
    b.clear_and_type("#date", DATE).await?;
    b.submit_through_confirmation(
        "承認",
        &["承認する", "確定する"],
        &format!("{who}-approve-confirm"),
    )
    .await?;
    b.wait_text("approval done", "承認しました。").await?;
    b.screen(&format!("{who}-approved"), false).await
}
