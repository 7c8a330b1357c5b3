//! Mail goes through the outbox: an SMTP server that is down delays the
//! mail, never loses it, and never fails the user's request.

use std::time::{Duration, Instant};

use mamis::{mail::templates, store::outbox};
use reqwest::StatusCode;

use crate::helpers::{SmtpCapture, free_port, link_in, smtp_settings, spawn_app_with_smtp};

#[tokio::test]
async fn mail_queued_while_the_smtp_server_is_down_is_delivered_once_it_is_up() {
    let port = free_port();
    let app = spawn_app_with_smtp(Some(smtp_settings(port))).await;
    let email = "patient.doctor@example.jp";

    // The request succeeds although nothing listens on the SMTP port.
    app.start_registration(email).await;
    app.get("/register/email/sent")
        .await
        .assert_status(StatusCode::OK);

    // The worker tried, failed, and kept the mail for later.
    let started = Instant::now();
    let failed = loop {
        let mails = app.outbox().await;
        if let Some(m) = mails
            .iter()
            .find(|m| m.to == email && m.attempts >= 1 && m.last_error.is_some())
        {
            break m.clone();
        }
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "no failed delivery attempt recorded: {mails:#?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(failed.sent_at, None);
    assert_eq!(failed.subject, templates::REGISTRATION_SUBJECT);

    // The server comes up on that port; the mail arrives by itself.
    let smtp = SmtpCapture::start_on(port);
    let mail = smtp
        .wait_for(
            email,
            templates::REGISTRATION_SUBJECT,
            Duration::from_secs(15),
        )
        .await;
    let link = link_in(&mail.body).expect("registration link");

    // Delivered exactly once, and marked so.
    let started = Instant::now();
    loop {
        let pending = app
            .store
            .read(outbox::pending_count)
            .await
            .expect("pending count");
        if pending == 0 {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "the delivered mail is still pending"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let stored = app
        .outbox()
        .await
        .into_iter()
        .find(|m| m.id == failed.id)
        .expect("the mail is kept");
    assert!(stored.sent_at.is_some());
    assert!(stored.attempts >= 2, "attempts: {}", stored.attempts);
    assert_eq!(smtp.mails_to(email).len(), 1, "delivered more than once");

    // And the delayed link still works.
    app.get(&link).await.assert_redirect_to("/register/form");
}
