//! Who may open what: the guards in front of the signed-in pages.

use reqwest::StatusCode;

use crate::helpers::{Applicant, PASSWORD, spawn_app};

#[tokio::test]
async fn a_signed_in_physician_gets_the_mypage_and_an_anonymous_visitor_is_sent_to_log_in() {
    let app = spawn_app().await;
    let yamada = Applicant::yamada();
    app.register(&yamada).await;

    let doctor = app.browser();
    doctor
        .log_in(&yamada.login_id, PASSWORD)
        .await
        .assert_redirect_to("/mypage");
    let mypage = doctor.get("/mypage").await;
    mypage.assert_status(StatusCode::OK);
    mypage.assert_contains("マイページ");
    mypage.assert_contains(&yamada.login_id);

    let visitor = app.browser();
    visitor.get("/mypage").await.assert_redirect_to("/login");
    // htmx does not follow a 303 with the whole page: it is told where to go.
    let hx = visitor.htmx_get("/mypage").await;
    hx.assert_status(StatusCode::UNAUTHORIZED);
    assert_eq!(hx.header("HX-Redirect"), Some("/login"));
    assert_eq!(hx.header("Vary"), Some("HX-Request"));
}
