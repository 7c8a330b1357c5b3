//! 日本医師会's お問合せ inbox and its announcement management: an inquiry sent with the form answered from the inbox (status, note, a reply mailed through the outbox, each audited), who gets the 404 page on every route, and announcements shown on the login page only within their dates.

use mamis::store::audit::{self, AuditEntry, AuditKind};
use reqwest::StatusCode;
use time::Duration;

use crate::{
    helpers::*,
    office::{add_district, first_login, staff},
};

/// Sends an inquiry with the public form, as a visitor would.
async fn send_inquiry(app: &TestApp, subject: &str) {
    app.browser()
        .post_form(
            "/inquiry",
            &[
                ("name", "山田 太郎"),
                ("email", "yamada@example.jp"),
                ("subject", subject),
                ("message", "旧姓の扱いを教えてください。"),
            ],
        )
        .await
        .assert_contains("お問合せを受け付けました");
}

/// A staff member of `association`, logged in with a password of their own.
async fn staff_browser(app: &TestApp, association: &str, login_id: &str, role: &str) -> Browser {
    let one_time = staff(app, association, login_id, role).await;
    first_login(app, login_id, &one_time).await
}

async fn audit_log(app: &TestApp) -> Vec<AuditEntry> {
    app.store
        .read(|tx| audit::since(tx, 0, 10_000))
        .await
        .expect("read the audit log")
}

fn day(d: time::Date) -> String {
    format!("{:04}-{:02}-{:02}", d.year(), u8::from(d.month()), d.day())
}

fn today() -> time::Date {
    time::OffsetDateTime::now_utc()
        .to_offset(time::macros::offset!(+9))
        .date()
}

/// The login page's announcements region.
async fn login_notices(app: &TestApp) -> String {
    let page = app.browser().get("/login").await;
    let start = page
        .body
        .find("システム管理者からのお知らせ")
        .expect("the login page lists announcements");
    page.body[start..].to_owned()
}

/// The id in the edit link of the announcement titled `title` on the list.
fn announcement_id(list: &str, title: &str) -> u64 {
    let at = list.find(title).expect("the announcement is on the list");
    let before = &list[..at];
    let href = before
        .rfind("/office/announcements/")
        .expect("an edit link");
    before[href + "/office/announcements/".len()..]
        .split('"')
        .next()
        .and_then(|s| s.parse().ok())
        .expect("a numeric id")
}

#[tokio::test]
async fn an_inquiry_sent_with_the_form_is_answered_from_the_national_inbox() {
    let app = spawn_app().await;
    send_inquiry(&app, "登録について").await;
    let b = staff_browser(&app, "日本医師会", "jmaclerk01", "担当者").await;

    let top = b.get("/office").await;
    top.assert_contains("お問合せ（未対応 1 件）");
    let inbox = b.get("/office/inquiries").await;
    inbox.assert_status(StatusCode::OK);
    inbox.assert_contains("登録について");
    inbox.assert_contains("山田 太郎");
    inbox.assert_contains("未対応");

    let page = b.get("/office/inquiries/1").await;
    page.assert_contains("yamada@example.jp");
    page.assert_contains("旧姓の扱いを教えてください。");

    // Status and note: saved, shown, audited with who and old → new.
    b.post_form(
        "/office/inquiries/1/status",
        &[("status", "in_progress"), ("note", "会員課に確認中")],
    )
    .await
    .assert_redirect_to("/office/inquiries/1?done=status");
    let page = b.get("/office/inquiries/1?done=status").await;
    page.assert_contains("対応状況とメモを保存しました。");
    page.assert_contains("会員課に確認中");
    b.get("/office/inquiries?status=open")
        .await
        .assert_contains("該当するお問合せはありません。");
    b.get("/office/inquiries?status=in_progress")
        .await
        .assert_contains("登録について");
    let log = audit_log(&app).await;
    let changed = log
        .iter()
        .find(|e| e.kind == AuditKind::InquiryUpdated)
        .expect("the status change is audited");
    assert_eq!(changed.login_id.as_deref(), Some("jmaclerk01"));
    let detail = changed.detail.as_deref().unwrap_or_default();
    assert!(detail.contains("status 未対応 → 対応中"), "{detail}");
    assert!(detail.contains("会員課に確認中"), "{detail}");

    // An empty reply is refused with its message; a reply is mailed.
    let empty = b
        .post_form(
            "/office/inquiries/1/reply",
            &[("subject", "Re: 登録について"), ("body", "")],
        )
        .await;
    empty.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
    empty.assert_contains("本文を入力してください。");
    b.post_form(
        "/office/inquiries/1/reply",
        &[
            ("subject", "Re: 登録について"),
            ("body", "旧姓は登録後にマイページから追加できます。"),
        ],
    )
    .await
    .assert_redirect_to("/office/inquiries/1?done=reply");
    let mail = app
        .smtp()
        .wait_for("yamada@example.jp", "【MAMIS】Re: 登録について", MAIL_WAIT)
        .await;
    assert!(
        mail.body
            .contains("旧姓は登録後にマイページから追加できます。")
    );
    assert!(mail.body.contains("受付番号 1"));
    let log = audit_log(&app).await;
    let replied = log
        .iter()
        .find(|e| e.kind == AuditKind::InquiryReplied)
        .expect("the reply is audited");
    assert_eq!(replied.login_id.as_deref(), Some("jmaclerk01"));
    assert!(
        replied
            .detail
            .as_deref()
            .is_some_and(|d| d.contains("yamada@example.jp")),
        "{replied:?}"
    );

    b.post_form(
        "/office/inquiries/1/status",
        &[("status", "done"), ("note", "回答済み")],
    )
    .await
    .assert_redirect_to("/office/inquiries/1?done=status");
    b.get("/office/inquiries?status=done")
        .await
        .assert_contains("登録について");
    b.get("/office")
        .await
        .assert_contains("お問合せ（未対応 0 件）");
}

/// Every inbox and announcement route, with a form for the POSTs.
const ROUTES: &[(&str, &str)] = &[
    ("GET", "/office/inquiries"),
    ("GET", "/office/inquiries/1"),
    ("POST", "/office/inquiries/1/status"),
    ("POST", "/office/inquiries/1/reply"),
    ("GET", "/office/announcements"),
    ("GET", "/office/announcements/new"),
    ("POST", "/office/announcements"),
    ("GET", "/office/announcements/1"),
    ("POST", "/office/announcements/1"),
    ("POST", "/office/announcements/1/delete"),
];

const FORM: &[(&str, &str)] = &[
    ("status", "done"),
    ("note", "書き換え"),
    ("subject", "件名"),
    ("body", "本文"),
    ("category", "お知らせ"),
    ("title", "書き換え"),
];

async fn assert_not_found(b: &Browser, routes: &[(&str, &str)], who: &str) {
    for (method, path) in routes {
        let page = match *method {
            "GET" => b.get(path).await,
            _ => b.post_form(path, FORM).await,
        };
        assert_eq!(page.status, StatusCode::NOT_FOUND, "{who}: {method} {path}");
    }
}

#[tokio::test]
async fn district_staff_and_physicians_find_neither_the_inbox_nor_the_announcements() {
    let app = spawn_app().await;
    send_inquiry(&app, "登録について").await;
    let admin = staff_browser(&app, "日本医師会", "jmaadmin01", "管理者").await;
    admin
        .post_form(
            "/office/announcements",
            &[
                ("category", "お知らせ"),
                ("title", "元のタイトル"),
                ("body", "本文"),
            ],
        )
        .await
        .assert_redirect_to("/office/announcements?done=created");

    add_district(&app.store, "新宿区医師会").await;
    let district = staff_browser(&app, "新宿区医師会", "shinjuku01", "管理者").await;
    // Their own board's list opens; 日本医師会's announcement 1 does not.
    let others: Vec<(&str, &str)> = ROUTES[..4].iter().chain(&ROUTES[7..]).copied().collect();
    assert_not_found(&district, &others, "district 管理者").await;
    district
        .get("/office/announcements")
        .await
        .assert_contains("新宿区医師会の会員");
    district.get("/office").await.assert_status(StatusCode::OK);
    assert!(
        !district
            .get("/office")
            .await
            .body
            .contains("/office/inquiries")
    );
    let prefecture = staff_browser(&app, "東京都医師会", "tokyo0001", "管理者").await;
    assert_not_found(&prefecture, &others, "prefecture 管理者").await;

    let yamada = Applicant::yamada();
    app.register(&yamada).await;
    let physician = app.browser();
    physician
        .log_in(&yamada.login_id, PASSWORD)
        .await
        .assert_redirect_to("/mypage");
    // The signed-in page's form carries the session's CSRF token.
    physician.get("/mypage").await.assert_status(StatusCode::OK);
    assert_not_found(&physician, ROUTES, "physician").await;

    // A 担当者 of 日本医師会 has the inbox but not the announcements.
    let clerk = staff_browser(&app, "日本医師会", "jmaclerk01", "担当者").await;
    assert_not_found(&clerk, &ROUTES[4..], "national 担当者").await;
    clerk
        .get("/office/inquiries")
        .await
        .assert_status(StatusCode::OK);
    assert!(
        !clerk
            .get("/office")
            .await
            .body
            .contains("/office/announcements")
    );

    // Nothing the refused posts carried was kept.
    let inquiry = admin.get("/office/inquiries/1").await;
    inquiry.assert_contains("未対応");
    assert!(!inquiry.body.contains("書き換え"));
    let list = admin.get("/office/announcements").await;
    list.assert_contains("元のタイトル");
    assert!(!list.body.contains("書き換え"));
    assert!(!audit_log(&app).await.iter().any(|e| matches!(
        e.kind,
        AuditKind::InquiryUpdated
            | AuditKind::InquiryReplied
            | AuditKind::AnnouncementChanged
            | AuditKind::AnnouncementDeleted
    )));
}

#[tokio::test]
async fn announcements_are_shown_on_the_login_page_only_within_their_dates() {
    let app = spawn_app().await;
    let b = staff_browser(&app, "日本医師会", "jmaadmin01", "管理者").await;
    b.get("/office").await.assert_contains("お知らせの管理");
    let tomorrow = day(today() + Duration::days(1));
    let now = day(today());

    // A bad link and a missing title are refused with their messages.
    let refused = b
        .post_form(
            "/office/announcements",
            &[
                ("category", "お知らせ"),
                ("title", ""),
                ("body", "本文"),
                ("link", "javascript:alert(1)"),
            ],
        )
        .await;
    refused.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
    refused.assert_contains("タイトルを入力してください。");
    refused.assert_contains("リンクは http:// または https:// で始まるURL");

    b.post_form(
        "/office/announcements",
        &[
            ("category", "メンテナンス"),
            ("title", "システム停止のお知らせ"),
            ("body", "12月10日 2時から4時まで停止します。"),
            ("link", "https://www.med.or.jp/"),
            ("publish_from", tomorrow.as_str()),
        ],
    )
    .await
    .assert_redirect_to("/office/announcements?done=created");
    let list = b.get("/office/announcements").await;
    list.assert_contains("掲載予定");
    let id = announcement_id(&list.body, "システム停止のお知らせ");
    assert!(!login_notices(&app).await.contains("システム停止のお知らせ"));

    // Its publish date is today: on the login page, with its link.
    let edit = format!("/office/announcements/{id}");
    b.get(&edit).await.assert_contains(&tomorrow);
    b.post_form(
        &edit,
        &[
            ("category", "メンテナンス"),
            ("date", now.as_str()),
            ("title", "システム停止のお知らせ"),
            ("body", "12月10日 2時から4時まで停止します。"),
            ("link", "https://www.med.or.jp/"),
            ("publish_from", now.as_str()),
        ],
    )
    .await
    .assert_redirect_to("/office/announcements?done=updated");
    let shown = login_notices(&app).await;
    assert!(shown.contains("システム停止のお知らせ"), "{shown}");
    assert!(shown.contains("href=\"https://www.med.or.jp/\""), "{shown}");

    // Withdrawn from today: gone again.
    b.post_form(
        &edit,
        &[
            ("category", "メンテナンス"),
            ("date", now.as_str()),
            ("title", "システム停止のお知らせ"),
            ("body", "12月10日 2時から4時まで停止します。"),
            ("publish_from", ""),
            ("withdraw_at", now.as_str()),
        ],
    )
    .await
    .assert_redirect_to("/office/announcements?done=updated");
    assert!(!login_notices(&app).await.contains("システム停止のお知らせ"));
    b.get("/office/announcements")
        .await
        .assert_contains("掲載終了");

    b.post_form(&format!("{edit}/delete"), &[] as &[(&str, &str)])
        .await
        .assert_redirect_to("/office/announcements?done=deleted");
    b.get(&edit).await.assert_status(StatusCode::NOT_FOUND);

    let kinds: Vec<AuditKind> = audit_log(&app)
        .await
        .into_iter()
        .filter(|e| e.login_id.as_deref() == Some("jmaadmin01"))
        .map(|e| e.kind)
        .filter(|k| {
            matches!(
                k,
                AuditKind::AnnouncementAdded
                    | AuditKind::AnnouncementChanged
                    | AuditKind::AnnouncementDeleted
            )
        })
        .collect();
    assert_eq!(
        kinds,
        [
            AuditKind::AnnouncementAdded,
            AuditKind::AnnouncementChanged,
            AuditKind::AnnouncementChanged,
            AuditKind::AnnouncementDeleted
        ]
    );
}

#[tokio::test]
async fn announcements_added_by_the_operator_command_stay_on_the_login_page_and_edit_without_a_title()
 {
    let app = spawn_app().await;
    app.store
        .write_ok(|tx| {
            mamis::store::announcements::add(tx, today(), "運用", "旧形式のお知らせです。", None)
        })
        .await
        .expect("add an announcement as `mamis admin announce` does");
    assert!(login_notices(&app).await.contains("旧形式のお知らせです。"));
    let b = staff_browser(&app, "日本医師会", "jmaadmin01", "管理者").await;
    let list = b.get("/office/announcements").await;
    list.assert_contains("（タイトルなし）");
    b.post_form(
        "/office/announcements/1",
        &[
            ("category", "運用"),
            ("title", ""),
            ("body", "書き直したお知らせです。"),
        ],
    )
    .await
    .assert_redirect_to("/office/announcements?done=updated");
    assert!(
        login_notices(&app)
            .await
            .contains("書き直したお知らせです。")
    );
}

#[tokio::test]
async fn a_district_announces_to_its_own_members_on_their_mypage_only() {
    let app = spawn_app().await;
    let shinjuku = add_district(&app.store, "新宿区医師会").await;
    add_district(&app.store, "渋谷区医師会").await;
    let district = staff_browser(&app, "新宿区医師会", "shinjuku01", "管理者").await;
    district
        .get("/office")
        .await
        .assert_contains("/office/announcements");
    district
        .post_form(
            "/office/announcements",
            &[
                ("category", "理事会"),
                ("title", "新宿区医師会 総会のご案内"),
                ("body", "会員各位"),
            ],
        )
        .await
        .assert_redirect_to("/office/announcements?done=created");
    let id = announcement_id(
        &district.get("/office/announcements").await.body,
        "新宿区医師会 総会のご案内",
    );
    assert!(!login_notices(&app).await.contains("総会のご案内"));

    // A member of 新宿区医師会 sees it; a physician of no association does not.
    let member = Applicant::yamada();
    app.register(&member).await;
    let other = Applicant::numbered(2);
    app.register(&other).await;
    app.set_association(&member.login_id, Some(shinjuku.id))
        .await;
    for (applicant, sees) in [(&member, true), (&other, false)] {
        let b = app.browser();
        b.log_in(&applicant.login_id, PASSWORD)
            .await
            .assert_redirect_to("/mypage");
        let page = b.get("/mypage").await;
        assert_eq!(
            page.body.contains("新宿区医師会 総会のご案内"),
            sees,
            "{}",
            applicant.login_id
        );
    }

    // Another district's 管理者 and 日本医師会's do not manage it.
    let shibuya = staff_browser(&app, "渋谷区医師会", "shibuya01", "管理者").await;
    let national = staff_browser(&app, "日本医師会", "jmaadmin01", "管理者").await;
    for b in [&shibuya, &national] {
        b.get(&format!("/office/announcements/{id}"))
            .await
            .assert_status(StatusCode::NOT_FOUND);
        assert!(
            !b.get("/office/announcements")
                .await
                .body
                .contains("総会のご案内")
        );
    }
}
