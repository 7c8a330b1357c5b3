//! The people of the stories who are not the point of them, set up over
//! HTTP and through the use cases: office staff with a password of their
//! own, physicians who registered earlier, a district under 東京都医師会.

use anyhow::{Context, Result, ensure};
use mamis::{domain::Association, mail::templates};

use crate::{
    helpers::{Applicant, TestApp, link_in},
    office::{add_district, staff},
};

/// The password every staff member of the stories chose at their first
/// login.
pub(super) const STAFF_PASSWORD: &str = "Jimu#Kyoku2026x";

/// A 担当者 of `association` who has logged in once and chosen
/// [`STAFF_PASSWORD`].
pub(super) async fn staff_member(app: &TestApp, association: &str, login_id: &str) -> Result<()> {
    let one_time = staff(app, association, login_id, "担当者").await;
    let b = app.browser();
    b.log_in(login_id, &one_time)
        .await
        .expect_redirect_to("/password/change")?;
    b.get("/password/change").await;
    b.post_form(
        "/password/change",
        &[
            ("password", STAFF_PASSWORD),
            ("password_confirm", STAFF_PASSWORD),
        ],
    )
    .await
    .expect_redirect_to("/office")?;
    Ok(())
}

/// `who` registered (the registration's form with `changes`), the mailed
/// link read from the app's outbox.
pub(super) async fn physician(
    app: &TestApp,
    who: &Applicant,
    changes: &[(&str, &str)],
) -> Result<()> {
    let b = app.browser();
    b.start_registration(&who.email).await;
    let mail = app
        .outbox()
        .await
        .into_iter()
        .find(|m| m.to == who.email && m.subject == templates::REGISTRATION_SUBJECT)
        .context("the registration mail in the outbox")?;
    let link = link_in(&mail.body).context("the registration link in the mail")?;
    let done = b
        .finish_registration(&link, &who.fields_with(changes))
        .await;
    ensure!(done.body.contains("利用者登録が完了しました。"));
    Ok(())
}

/// 新宿区医師会 under 東京都医師会.
pub(super) async fn shinjuku(app: &TestApp) -> Association {
    add_district(&app.store, "新宿区医師会").await
}
