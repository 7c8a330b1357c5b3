//! 事務局TOP: where office staff land after logging in.

use maud::html;
use poem::{
    IntoResponse, Response, handler,
    web::{CsrfToken, Data, Redirect},
};

use crate::{
    auth::guards::Staff,
    domain::StaffRole,
    error::OrInternal,
    service::{associations, office},
    state::AppState,
    views::layout::{csrf_input, page as layout},
    web::{
        member_import, office_announcements, office_associations, office_audit, office_import,
        office_inbox, office_people, office_postcards, office_staff, paths, staff_applications,
    },
};

#[handler]
pub async fn top(state: Data<&AppState>, csrf: &CsrfToken, staff: Staff) -> poem::Result<Response> {
    let Some(top) = office::top(&state.store, &staff).await.or_internal()? else {
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
        section.card aria-labelledby="office-counts" {
            h2 #office-counts { "登録状況" }
            dl.review {
                dt { "登録医師数" } dd { (top.physicians) " 名" }
            }
            p.hint { "所属医師会の範囲（下部の医師会を含みます）に登録されている医師の数です。医師会に未申請の医師は、日本医師会の事務局にのみ表示されます。" }
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
