//! ID・パスワード通知ハガキ: the postcard batches of the staff member's scope
//! (date, count, 未印刷 / 印刷済 / 締め済), a batch's print view (one
//! 100 × 148 mm はがき per side: the address side, then the message side with
//! the login ID, the initial password, its expiry, the login URL and the
//! help desk), its mail-merge CSV, and 締める (the passwords deleted for
//! good). Other associations' batches and physicians get the 404 page; a
//! closed batch's print view and CSV say that its passwords are gone (410).

use maud::{DOCTYPE, Markup, html};
use poem::{
    IntoResponse, Response, handler,
    http::{StatusCode, header},
    web::{CsrfToken, Data, Path, Query, Redirect},
};
use serde::Deserialize;

use crate::{
    assets,
    auth::guards::Staff,
    error::OrInternal,
    error::not_found,
    service::{
        office::scope_of,
        postcards::{self, Card, Closed, Origin, Printable},
    },
    state::AppState,
    views::layout::{csrf_input, page as layout},
    web::paths,
};

/// The list of batches.
pub const LIST: &str = "/office/postcards";

/// The print view of batch `id`.
pub fn print_path(id: u64) -> String {
    format!("{LIST}/{id}/print")
}

fn csv_path(id: u64) -> String {
    format!("{LIST}/{id}/csv")
}

fn close_path(id: u64) -> String {
    format!("{LIST}/{id}/close")
}

/// What a closed batch's print view and CSV say.
const CLOSED_MESSAGE: &str = "このハガキは締め済みです。初期パスワードはもう表示できません。必要な会員には、会員の詳細画面から新しい初期パスワードを発行してください。";

fn jst(unix: i64) -> time::OffsetDateTime {
    time::OffsetDateTime::from_unix_timestamp(unix)
        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH)
        .to_offset(time::macros::offset!(+9))
}

/// `2026/12/02`
fn day(unix: i64) -> String {
    let d = jst(unix).date();
    format!("{:04}/{:02}/{:02}", d.year(), u8::from(d.month()), d.day())
}

/// `2027年3月2日`
fn day_ja(unix: i64) -> String {
    let d = jst(unix).date();
    format!("{}年{}月{}日", d.year(), u8::from(d.month()), d.day())
}

#[derive(Debug, Default, Deserialize)]
pub struct DoneQuery {
    #[serde(default)]
    done: String,
}

/// The batches.
#[handler]
pub async fn list(
    state: Data<&AppState>,
    csrf: &CsrfToken,
    staff: Staff,
    Query(q): Query<DoneQuery>,
) -> poem::Result<Response> {
    let scope = scope_of(&state.store, staff.association)
        .await
        .or_internal()?;
    let batches = postcards::list(&state.store, &scope).await.or_internal()?;
    let done = match q.done.as_str() {
        "closed" => Some("ハガキを締めました。初期パスワードは削除され、もう表示できません。"),
        _ => None,
    };
    let title = "ID・パスワード通知ハガキ";
    let body = html! {
        section.card aria-labelledby="postcards-title" {
            h1 #postcards-title { (title) }
            p { a href=(paths::OFFICE) { "← 事務局TOPに戻る" } " ｜ " a href=(crate::web::member_import::UPLOAD) { "会員データの取り込み" } }
            @if let Some(done) = done {
                div.helpbox role="status" { p { (done) } }
            }
            p { "取り込みや初期パスワードの再発行ごとに、会員へのハガキがまとめられます。印刷して発送したら「締める」を押してください。締めると初期パスワードは削除され、二度と表示できません。" }
            @if batches.is_empty() {
                p { "ハガキはまだありません。" }
            } @else {
                table.mails {
                    caption.sr-only { "通知ハガキの一覧" }
                    thead { tr { th scope="col" { "作成日" } th scope="col" { "種別" } th scope="col" { "枚数" } th scope="col" { "有効期限" } th scope="col" { "状態" } th scope="col" { "操作" } } }
                    tbody {
                        @for b in &batches {
                            tr {
                                td { (day(b.created_at)) }
                                td { (match b.origin { Origin::Import => "取り込み", Origin::Reissue => "再発行" }) }
                                td { (b.count) "枚" }
                                td { (day(b.expires_at)) }
                                td { (b.state.label()) }
                                td {
                                    @if b.state != postcards::State::Closed {
                                        a href=(print_path(b.id)) { "印刷" }
                                        " ｜ "
                                        a href=(csv_path(b.id)) download=(format!("postcards-{}.csv", b.id)) { "CSV" }
                                        form.inline method="post" action=(close_path(b.id)) {
                                            (csrf_input(&csrf.0))
                                            button.secondary type="submit" { "締める" }
                                        }
                                    } @else {
                                        "—"
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    };
    Ok(layout(title, Some(&csrf.0), body).into_response())
}

/// The batch for the print view or the CSV; 404 outside the scope.
async fn printable(state: &AppState, staff: &Staff, id: u64) -> poem::Result<Printable> {
    let scope = scope_of(&state.store, staff.association)
        .await
        .or_internal()?;
    postcards::printable(&state.store, &scope, id)
        .await
        .or_internal()?
        .ok_or_else(not_found)
}

fn closed_page(id: u64) -> Response {
    let title = "ID・パスワード通知ハガキ";
    let body = html! {
        section.card aria-labelledby="closed-title" {
            h1 #closed-title { (title) }
            div.error-summary role="alert" { p { (CLOSED_MESSAGE) } }
            p { "ハガキ番号：" (id) }
            p { a href=(LIST) { "通知ハガキの一覧に戻る" } }
        }
    };
    (StatusCode::GONE, layout(title, None, body)).into_response()
}

fn card_sides(card: &Card, expires: &str, login_url: &str, h: &crate::config::Helpdesk) -> Markup {
    html! {
        section.postcard.address-side aria-label=(format!("{} 様 宛名面", card.name)) {
            p.postal { "〒" (card.postal_code) }
            p.address { (card.address) }
            p.addressee { (card.name) " 様" }
        }
        section.postcard.message-side aria-label=(format!("{} 様 通信面", card.name)) {
            h2 { "医師会会員情報システム MAMIS" br; "ログインIDと初期パスワードのお知らせ" }
            p { (card.name) " 様" }
            p { "下記のログインIDと初期パスワードでログインし、パスワードを変更してください。" }
            dl.credentials {
                dt { "ログインID" } dd.login-id { (card.login_id) }
                dt { "初期パスワード" } dd.password { (card.initial_password) }
                dt { "有効期限" } dd { (expires) "まで" }
                dt { "ログインURL" } dd.url { (login_url) }
            }
            p.note { "初期パスワードは一度だけ使えます。有効期限を過ぎた場合は所属医師会にお問い合わせください。" }
            div.helpdesk {
                p { "お問い合わせ先：" (h.name) }
                p { "TEL " (h.phone) "（受付時間 " (h.hours) "）" }
                p { "MAIL " (h.email) }
            }
        }
    }
}

/// The print view: two pages (address side, message side) per member.
#[handler]
pub async fn print(
    state: Data<&AppState>,
    staff: Staff,
    Path(id): Path<u64>,
) -> poem::Result<Response> {
    let (id, expires_at, cards) = match printable(&state, &staff, id).await? {
        Printable::Closed { id } => return Ok(closed_page(id)),
        Printable::Open {
            id,
            expires_at,
            cards,
        } => (id, expires_at, cards),
    };
    let expires = day_ja(expires_at);
    let login_url = format!("{}{}", state.config.base_url, paths::LOGIN);
    let h = &state.config.helpdesk;
    let doc = html! {
        (DOCTYPE)
        html lang="ja" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                meta name="referrer" content="no-referrer";
                title { "通知ハガキ（" (id) "） | MAMIS" }
                link rel="stylesheet" href=(assets::url("css/postcards.css"));
            }
            body.postcards {
                header.screen-only {
                    h1 { "ID・パスワード通知ハガキの印刷（" (id) "）" }
                    p { a href=(LIST) { "← 通知ハガキの一覧に戻る" } }
                    p { (cards.len()) "名分（1名につき宛名面と通信面の2ページ）。ブラウザの印刷機能で、用紙「はがき（100 × 148 mm）」、余白なし、両面印刷で印刷してください。" }
                }
                main {
                    @for card in &cards {
                        (card_sides(card, &expires, &login_url, h))
                    }
                }
            }
        }
    };
    Ok(doc.into_response())
}

/// The mail-merge CSV (UTF-8 with a BOM): 郵便番号, 住所, 氏名, ログインID,
/// 初期パスワード, 有効期限.
#[handler]
pub async fn csv(
    state: Data<&AppState>,
    staff: Staff,
    Path(id): Path<u64>,
) -> poem::Result<Response> {
    let (id, expires_at, cards) = match printable(&state, &staff, id).await? {
        Printable::Closed { id } => return Ok(closed_page(id)),
        Printable::Open {
            id,
            expires_at,
            cards,
        } => (id, expires_at, cards),
    };
    let expires = day(expires_at);
    let mut out = ::csv::Writer::from_writer("\u{feff}".as_bytes().to_vec());
    let write = |out: &mut ::csv::Writer<Vec<u8>>| -> anyhow::Result<()> {
        out.write_record([
            "郵便番号",
            "住所",
            "氏名",
            "ログインID",
            "初期パスワード",
            "有効期限",
        ])?;
        for c in &cards {
            out.write_record([
                c.postal_code.as_str(),
                c.address.as_str(),
                c.name.as_str(),
                c.login_id.as_str(),
                c.initial_password.as_str(),
                expires.as_str(),
            ])?;
        }
        out.flush()?;
        Ok(())
    };
    write(&mut out).or_internal()?;
    let bytes = out
        .into_inner()
        .map_err(|e| anyhow::anyhow!("csv: {e}"))
        .or_internal()?;
    Ok(Response::builder()
        .header(header::CONTENT_TYPE, "text/csv; charset=utf-8")
        .header(
            header::CONTENT_DISPOSITION,
            format!("attachment; filename=\"postcards-{id}.csv\""),
        )
        .body(bytes))
}

/// 締める.
#[handler]
pub async fn close(
    state: Data<&AppState>,
    staff: Staff,
    Path(id): Path<u64>,
) -> poem::Result<Response> {
    let scope = scope_of(&state.store, staff.association)
        .await
        .or_internal()?;
    match postcards::close(&state.store, &staff, &scope, id)
        .await
        .or_internal()?
    {
        Closed::NotFound => Err(not_found()),
        Closed::Now | Closed::Already => {
            Ok(Redirect::see_other(format!("{LIST}?done=closed")).into_response())
        }
    }
}
