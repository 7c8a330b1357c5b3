//! Announcements managed by a 管理者: 日本医師会's are the login page's
//! システム管理者からのお知らせ, every other association's are shown on its
//! members' マイページ. The list (published or not), a new announcement,
//! editing, deleting. 担当者, other boards' announcements and physicians
//! get the 404 page.

use maud::{Markup, html};
use poem::{
    IntoResponse, Response, handler,
    http::StatusCode,
    web::{CsrfToken, Data, Form, Path, Query, Redirect},
};
use serde::Deserialize;

use crate::{
    auth::guards::StaffAdmin,
    domain::{
        FieldErrors,
        announcement::{AnnouncementForm, BODY_MAX, CATEGORY_MAX, LINK_MAX, TITLE_MAX},
    },
    error::OrInternal,
    error::not_found,
    service::notices::{self, Announcement, Board},
    state::AppState,
    views::{
        components::{Input, error_summary, message, required_mark, text_field},
        layout::{csrf_input, page as layout},
    },
    web::{paths, today},
};

/// The list; a new announcement is posted here.
pub const LIST: &str = "/office/announcements";
/// The form for a new announcement.
pub const NEW: &str = "/office/announcements/new";

fn edit_path(id: u64) -> String {
    format!("{LIST}/{id}")
}

fn day(d: time::Date) -> String {
    format!("{:04}-{:02}-{:02}", d.year(), u8::from(d.month()), d.day())
}

fn opt_day(d: Option<time::Date>) -> String {
    d.map(day).unwrap_or_default()
}

/// Where an announcement stands on `today`.
fn state_label(a: &Announcement, today: time::Date) -> &'static str {
    if a.is_published(today) {
        "掲載中"
    } else if a.publish_from.is_some_and(|from| today < from) {
        "掲載予定"
    } else {
        "掲載終了"
    }
}

#[derive(Debug, Default, Deserialize)]
pub struct DoneQuery {
    #[serde(default)]
    done: String,
}

#[handler]
pub async fn list(
    state: Data<&AppState>,
    csrf: &CsrfToken,
    admin: StaffAdmin,
    Query(d): Query<DoneQuery>,
) -> poem::Result<Response> {
    let all = notices::all(&state.store, &admin).await.or_internal()?;
    let Some(board) = notices::board(&state.store, &admin).await.or_internal()? else {
        return Err(not_found());
    };
    let done = match d.done.as_str() {
        "created" => Some("お知らせを登録しました。"),
        "updated" => Some("お知らせを更新しました。"),
        "deleted" => Some("お知らせを削除しました。"),
        _ => None,
    };
    let now = today();
    let title = "お知らせの管理";
    let body = html! {
        section.card aria-labelledby="notices-admin-title" {
            h1 #notices-admin-title { (title) }
            p { a href=(paths::OFFICE) { "← 事務局TOPに戻る" } }
            @if let Some(done) = done {
                div.helpbox role="status" { p { (done) } }
            }
            @match &board {
                Board::LoginPage => p { "ログインページの「システム管理者からのお知らせ」に、掲載期間内のものが新しい順に表示されます。" },
                Board::Members(name) => p { (name) "の会員（下部の医師会の会員を含みます）のマイページに、掲載期間内のものが新しい順に表示されます。" },
            }
            p.actions { a.button href=(NEW) { "お知らせを登録する" } }
            @if all.is_empty() {
                p { "お知らせはまだありません。" }
            } @else {
                table.mails {
                    caption.sr-only { "お知らせ一覧" }
                    thead { tr { th scope="col" { "日付" } th scope="col" { "分類" } th scope="col" { "タイトル" } th scope="col" { "掲載期間" } th scope="col" { "状態" } } }
                    tbody {
                        @for a in &all {
                            tr {
                                td { (day(a.date)) }
                                td { (a.category) }
                                td { a href=(edit_path(a.id)) { (a.title.as_deref().unwrap_or("（タイトルなし）")) } }
                                td { (opt_day(a.publish_from)) " 〜 " (opt_day(a.withdraw_at)) }
                                td { (state_label(a, now)) }
                            }
                        }
                    }
                }
            }
        }
    };
    Ok(layout(title, Some(csrf), body).into_response())
}

/// The form, new (`id` none) or for an existing announcement.
fn render(
    csrf: &str,
    id: Option<u64>,
    f: &AnnouncementForm,
    title_required: bool,
    errors: &FieldErrors,
) -> Markup {
    let err = |n: &str| errors.message(n);
    let heading = if id.is_some() {
        "お知らせの編集"
    } else {
        "お知らせの登録"
    };
    let action = id.map_or_else(|| LIST.to_owned(), edit_path);
    let body = html! {
        section.card aria-labelledby="notice-form-title" {
            h1 #notice-form-title { (heading) }
            p { a href=(LIST) { "← お知らせの管理に戻る" } }
            (error_summary(errors))
            form method="post" action=(action) novalidate {
                (csrf_input(csrf))
                (text_field(&Input { name: "category", label: "分類", required: true, hint: Some("例：システム停止のお知らせ（50文字以内）"), value: &f.category, error: err("category"), kind: "text", maxlength: Some(CATEGORY_MAX), ..Input::default() }))
                (text_field(&Input { name: "date", label: "日付", required: false, hint: Some("例：2026-04-01（空欄の場合は本日）"), value: &f.date, error: err("date"), kind: "text", maxlength: Some(10), class: Some("short"), ..Input::default() }))
                (text_field(&Input { name: "title", label: "タイトル", required: title_required, hint: Some("（100文字以内）"), value: &f.title, error: err("title"), kind: "text", maxlength: Some(TITLE_MAX), ..Input::default() }))
                div.field #f-body {
                    label for="body" { "本文" (required_mark(true)) }
                    p.hint #h-body { "（2,000文字以内）改行はそのまま表示されます。" }
                    textarea #body name="body" required aria-required="true" maxlength=(BODY_MAX) rows="8"
                        aria-describedby="h-body m-body" aria-invalid=[err("body").map(|_| "true")] { (f.body) }
                    (message("body", err("body"), None, false))
                }
                (text_field(&Input { name: "link", label: "リンク", required: false, hint: Some("http:// または https:// で始まるURL、または / で始まるパス"), value: &f.link, error: err("link"), kind: "text", maxlength: Some(LINK_MAX), inputmode: Some("url"), ..Input::default() }))
                (text_field(&Input { name: "publish_from", label: "掲載開始日", required: false, hint: Some("例：2026-04-01（空欄の場合はすぐに掲載）"), value: &f.publish_from, error: err("publish_from"), kind: "text", maxlength: Some(10), class: Some("short"), ..Input::default() }))
                (text_field(&Input { name: "withdraw_at", label: "掲載終了日", required: false, hint: Some("この日から表示されなくなります（空欄の場合は削除するまで掲載）"), value: &f.withdraw_at, error: err("withdraw_at"), kind: "text", maxlength: Some(10), class: Some("short"), ..Input::default() }))
                div.actions {
                    button type="submit" { @if id.is_some() { "更新する" } @else { "登録する" } }
                    a.button.secondary href=(LIST) { "キャンセル" }
                }
            }
            @if let Some(id) = id {
                form method="post" action={ (edit_path(id)) "/delete" } {
                    (csrf_input(csrf))
                    div.actions { button.secondary type="submit" { "このお知らせを削除する" } }
                }
            }
        }
    };
    layout(heading, Some(csrf), body)
}

fn form_of(a: &Announcement) -> AnnouncementForm {
    AnnouncementForm {
        category: a.category.clone(),
        date: day(a.date),
        title: a.title.clone().unwrap_or_default(),
        body: a.body.clone(),
        link: a.link.clone().unwrap_or_default(),
        publish_from: opt_day(a.publish_from),
        withdraw_at: opt_day(a.withdraw_at),
    }
}

#[handler]
pub async fn new_form(csrf: &CsrfToken, _admin: StaffAdmin) -> poem::Result<Response> {
    let f = AnnouncementForm {
        date: day(today()),
        ..AnnouncementForm::default()
    };
    Ok(render(csrf, None, &f, true, &FieldErrors::default()).into_response())
}

#[handler]
pub async fn create(
    state: Data<&AppState>,
    csrf: &CsrfToken,
    admin: StaffAdmin,
    Form(f): Form<AnnouncementForm>,
) -> poem::Result<Response> {
    let draft = match f.parse(today(), true) {
        Ok(d) => d,
        Err(errors) => {
            return Ok(render(csrf, None, &f, true, &errors)
                .with_status(StatusCode::UNPROCESSABLE_ENTITY)
                .into_response());
        }
    };
    match notices::create(&state.store, &admin, draft)
        .await
        .or_internal()?
    {
        Some(_) => Ok(Redirect::see_other(format!("{LIST}?done=created")).into_response()),
        None => Err(not_found()),
    }
}

#[handler]
pub async fn edit(
    state: Data<&AppState>,
    csrf: &CsrfToken,
    admin: StaffAdmin,
    Path(id): Path<u64>,
) -> poem::Result<Response> {
    let Some(a) = notices::get(&state.store, &admin, id).await.or_internal()? else {
        return Err(not_found());
    };
    let title_required = a.title.is_some();
    Ok(render(
        csrf,
        Some(id),
        &form_of(&a),
        title_required,
        &FieldErrors::default(),
    )
    .into_response())
}

#[handler]
pub async fn update(
    state: Data<&AppState>,
    csrf: &CsrfToken,
    admin: StaffAdmin,
    Path(id): Path<u64>,
    Form(f): Form<AnnouncementForm>,
) -> poem::Result<Response> {
    let Some(current) = notices::get(&state.store, &admin, id).await.or_internal()? else {
        return Err(not_found());
    };
    // A title is optional only for announcements made before titles existed.
    let title_required = current.title.is_some();
    let draft = match f.parse(today(), title_required) {
        Ok(d) => d,
        Err(errors) => {
            return Ok(render(csrf, Some(id), &f, title_required, &errors)
                .with_status(StatusCode::UNPROCESSABLE_ENTITY)
                .into_response());
        }
    };
    match notices::update(&state.store, &admin, id, draft)
        .await
        .or_internal()?
    {
        Some(()) => Ok(Redirect::see_other(format!("{LIST}?done=updated")).into_response()),
        None => Err(not_found()),
    }
}

#[handler]
pub async fn delete(
    state: Data<&AppState>,
    admin: StaffAdmin,
    Path(id): Path<u64>,
) -> poem::Result<Response> {
    match notices::delete(&state.store, &admin, id)
        .await
        .or_internal()?
    {
        Some(()) => Ok(Redirect::see_other(format!("{LIST}?done=deleted")).into_response()),
        None => Err(not_found()),
    }
}
