//! 事務局TOP: where office staff land after logging in.

use maud::{Markup, html};
use poem::{
    IntoResponse, Response, handler,
    web::{CsrfToken, Data, Redirect},
};

use crate::{
    auth::guards::Staff,
    domain::StaffRole,
    error::OrInternal,
    service::{
        associations, office,
        procedures::{QueueCount, QueueCounts},
    },
    state::AppState,
    views::layout::{csrf_input, page as layout},
    web::{
        member_import, office_announcements, office_associations, office_audit, office_import,
        office_inbox, office_people, office_postcards, office_staff, paths, staff_applications,
    },
};

#[handler]
pub async fn top(state: Data<&AppState>, csrf: &CsrfToken, staff: Staff) -> poem::Result<Response> {
    let Some(top) = office::top(
        &state.store,
        &staff,
        time::OffsetDateTime::now_utc().unix_timestamp(),
    )
    .await
    .or_internal()?
    else {
        return Ok(Redirect::see_other(paths::LOGIN).into_response());
    };
    let may_import = associations::may_import(&state.store, &staff)
        .await
        .or_internal()?;
    let admin = staff.role == StaffRole::Admin;
    let title = "事務局TOP";
    let body = html! {
        section.card aria-labelledby="office-title" {
            h1 #office-title { (title) }
            p.lead {
                (top.association) " 事務局"
                @if !top.staff_name.is_empty() { "　" (top.staff_name) " 様" }
            }
            dl.review {
                dt { "所属医師会" } dd { (top.association) }
                dt { "権限" } dd { (top.role.label()) }
                dt { "ログインID" } dd { (staff.account.login_id) }
            }
        }
        (queues_card(&top.queues))
        section.card aria-labelledby="office-counts" {
            h2 #office-counts { "登録状況" }
            dl.review {
                dt { "登録医師数" } dd { (top.physicians) " 名" }
                dt { "新規登録（過去" (office::NEW_REGISTRATION_DAYS) "日）" }
                dd { a href=(office_people::SEARCH) { (top.new_registrations) " 名" } }
            }
            p.hint { "所属医師会の範囲（下部の医師会を含みます）に登録されている医師の数です。医師会に未申請の医師は、日本医師会の事務局にのみ表示されます。" }
            h3 #office-latest { "最近の登録" }
            @if top.latest.is_empty() {
                p { "登録はまだありません。" }
            } @else {
                table aria-labelledby="office-latest" {
                    thead { tr {
                        th scope="col" { "氏名" } th scope="col" { "フリガナ" } th scope="col" { "登録日" }
                    } }
                    tbody {
                        @for r in &top.latest {
                            tr {
                                td { a href={ (office_people::SEARCH) "/" (r.id) } { (r.name) } }
                                td { (r.kana) }
                                td { (jst_date(r.created_at)) }
                            }
                        }
                    }
                }
            }
            p { a href=(office_people::SEARCH) { "会員検索で一覧を見る →" } }
        }
        section.card aria-labelledby="office-links" {
            h2 #office-links { "業務メニュー" }
            ul.linklist {
                li { a href=(office_people::SEARCH) { "会員検索・CSV出力 →" } }
                li { a href=(staff_applications::LIST) { "申請一覧 →" } }
                li { a href=(member_import::UPLOAD) { "会員のCSV取り込み →" } }
                li { a href=(office_postcards::LIST) { "ID・パスワード通知ハガキ →" } }
                @if let Some(open) = top.open_inquiries {
                    li { a href={ (office_inbox::INBOX) "?status=open" } { "お問合せ（未対応 " (open) " 件）→" } }
                }
                li { a href=(office_associations::LIST) { "医師会の一覧 →" } }
                @if may_import {
                    li { a href=(office_import::IMPORT) { "医師会のCSV取り込み →" } }
                }
                @if admin {
                    li { a href=(office_staff::LIST) { "事務局アカウントの管理 →" } }
                    li { a href=(office_audit::AUDIT) { "変更履歴の検索 →" } }
                }
                @if top.manages_announcements {
                    li { a href=(office_announcements::LIST) { "お知らせの管理 →" } }
                }
            }
        }
        section.card {
            form method="post" action="/logout" {
                (csrf_input(csrf))
                div.actions { button.secondary type="submit" { "ログアウト" } }
            }
        }
    };
    Ok(layout(title, Some(csrf), body).into_response())
}

/// A Unix time as a Japanese date, e.g. `2026年12月3日`.
fn jst_date(unix: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp(unix)
        .map(|t| t.to_offset(time::macros::offset!(+9)))
        .map(|t| format!("{}年{}月{}日", t.year(), u8::from(t.month()), t.day()))
        .unwrap_or_default()
}

/// Whole days of `secs`.
fn days(secs: i64) -> i64 {
    secs / 86_400
}

/// One queue's row: its count (a link to the list of that queue) and the
/// oldest waiting age.
fn queue_row(label: &str, href: &str, q: QueueCount) -> Markup {
    html! {
        tr {
            th scope="row" { (label) }
            td { a href=(href) { (q.count) " 件" } }
            td {
                @match q.oldest_secs {
                    Some(secs) => { "最長 " (days(secs)) " 日待ち" }
                    None => { "—" }
                }
            }
        }
    }
}

/// The association's procedure queues (入会 / 異動 / 退会 / 確認依頼).
fn queues_card(q: &QueueCounts) -> Markup {
    let list = staff_applications::LIST;
    html! {
        section.card aria-labelledby="office-queues" {
            h2 #office-queues { "処理待ち" }
            table aria-labelledby="office-queues" {
                thead { tr {
                    th scope="col" { "種類" } th scope="col" { "件数" } th scope="col" { "待ち期間" }
                } }
                tbody {
                    (queue_row("入会", &format!("{list}?kind=join"), q.join))
                    (queue_row("異動", &format!("{list}?kind=change"), q.change))
                    (queue_row("退会", &format!("{list}?kind=withdraw"), q.withdraw))
                    (queue_row("確認依頼", &format!("{list}#notices-title"), q.notices))
                }
            }
        }
    }
}
