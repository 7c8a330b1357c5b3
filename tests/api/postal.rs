//! 郵便番号 → 住所 on the registration form (issue 3): the fragment htmx
//! swaps in when a complete code has been typed.

use reqwest::StatusCode;

use crate::helpers::*;

#[tokio::test]
async fn a_complete_postal_code_fills_the_prefecture_and_the_address() {
    let app = spawn_app_with_smtp(None).await;
    for typed in ["113-8621", "1138621", "１１３－８６２１"] {
        let page = app
            .htmx_post(
                "/register/postal",
                &[("postal_code", typed), ("address", "")],
            )
            .await;
        page.assert_status(StatusCode::OK);
        assert_eq!(
            selected_option(&page.body, "prefecture").as_deref(),
            Some("東京都"),
            "{typed}: {}",
            page.excerpt()
        );
        assert_eq!(
            input_value(&page.body, "address").as_deref(),
            Some("文京区本駒込"),
            "{typed}"
        );
        page.assert_contains("続けて番地を入力してください。");
        page.assert_contains(r#"data-filled="address""#);
    }
}

#[tokio::test]
async fn an_incomplete_code_answers_nothing_yet() {
    let app = spawn_app_with_smtp(None).await;
    let page = app
        .htmx_post(
            "/register/postal",
            &[("postal_code", "113-86"), ("address", "")],
        )
        .await;
    page.assert_status(StatusCode::OK);
    assert!(
        input_value(&page.body, "address").is_none(),
        "{}",
        page.excerpt()
    );
    assert!(!page.body.contains("見つかりませんでした"));
}

#[tokio::test]
async fn a_code_with_several_towns_offers_a_choice_and_the_choice_fills_the_form() {
    let app = spawn_app_with_smtp(None).await;
    let page = app
        .htmx_post(
            "/register/postal",
            &[("postal_code", "498-0000"), ("address", "")],
        )
        .await;
    page.assert_contains("複数の住所があります");
    page.assert_contains("愛知県");
    page.assert_contains("三重県");
    assert!(
        input_value(&page.body, "address").is_none(),
        "nothing filled before the choice"
    );
    let pick = page
        .body
        .find("三重県")
        .and_then(|i| page.body[..i].rfind("?pick="))
        .map(|i| {
            page.body[i + 6..]
                .chars()
                .take_while(char::is_ascii_digit)
                .collect::<String>()
        })
        .expect("a button for 三重県");
    let chosen = app
        .htmx_post(
            &format!("/register/postal?pick={pick}"),
            &[("postal_code", "498-0000"), ("address", "")],
        )
        .await;
    assert_eq!(
        selected_option(&chosen.body, "prefecture").as_deref(),
        Some("三重県")
    );
    assert!(
        input_value(&chosen.body, "address").is_some_and(|a| a.starts_with("桑名郡木曽岬町")),
        "{}",
        chosen.excerpt()
    );
}

#[tokio::test]
async fn an_address_already_typed_is_not_replaced() {
    let app = spawn_app_with_smtp(None).await;
    let page = app
        .htmx_post(
            "/register/postal",
            &[("postal_code", "100-0001"), ("address", "港区芝公園4-2-8")],
        )
        .await;
    assert!(
        input_value(&page.body, "address").is_none(),
        "{}",
        page.excerpt()
    );
    page.assert_contains("千代田区千代田");
    page.assert_contains("入力済みの住所はそのままにしています");
}

#[tokio::test]
async fn an_unknown_code_says_so_and_does_not_block_the_registration() {
    let app = spawn_app().await;
    let page = app
        .htmx_post(
            "/register/postal",
            &[("postal_code", "000-0000"), ("address", "")],
        )
        .await;
    page.assert_contains("この郵便番号の住所は見つかりませんでした。");
    assert!(input_value(&page.body, "address").is_none());

    let who = Applicant::yamada();
    app.start_registration(&who.email).await;
    let mail = app
        .smtp()
        .wait_for(
            &who.email,
            mamis::mail::templates::REGISTRATION_SUBJECT,
            MAIL_WAIT,
        )
        .await;
    let link = link_in(&mail.body).expect("link");
    app.finish_registration(
        &link,
        &who.fields_with(&[("postal_code", "000-0000"), ("address", "架空町1-1")]),
    )
    .await;
}
