//! How audit entries read on the office's pages: each kind's Japanese name,
//! and the table of entries (time in JST, what, who, which record, which
//! fields old → new) shown on a person's page and in the 管理者's search.

use maud::{Markup, html};

use crate::{
    mail::templates::jst,
    service::person_record::{AuditKind, HistoryRow},
};

/// The people's list; a person's page is below it.
pub const PEOPLE: &str = "/office/people";

/// A person's page.
pub fn person_path(id: u64) -> String {
    format!("{PEOPLE}/{id}")
}

/// Every kind, in the order the search's select shows them.
pub const KINDS: [AuditKind; 43] = [
    AuditKind::PersonCorrected,
    AuditKind::ContactChanged,
    AuditKind::ApplicationFiled,
    AuditKind::ApplicationResubmitted,
    AuditKind::ApplicationWithdrawn,
    AuditKind::ApplicationApproved,
    AuditKind::ApplicationSentBack,
    AuditKind::ApplicationRejected,
    AuditKind::MembershipChanged,
    AuditKind::NoticeConfirmed,
    AuditKind::PasswordResetSentByStaff,
    AuditKind::RegistrationCompleted,
    AuditKind::RegistrationRefused,
    AuditKind::RegistrationLinkSent,
    AuditKind::RegistrationLinkOpened,
    AuditKind::LoginSucceeded,
    AuditKind::LoginFailed,
    AuditKind::LoginThrottled,
    AuditKind::Logout,
    AuditKind::PasswordResetRequested,
    AuditKind::PasswordResetLinkOpened,
    AuditKind::PasswordChanged,
    AuditKind::LoginIdReminderRequested,
    AuditKind::MailGivenUp,
    AuditKind::AssociationAdded,
    AuditKind::StaffAdded,
    AuditKind::InquiryUpdated,
    AuditKind::InquiryReplied,
    AuditKind::AnnouncementAdded,
    AuditKind::AnnouncementChanged,
    AuditKind::AnnouncementDeleted,
    AuditKind::TermsAgreed,
    AuditKind::EmailConfirmationSent,
    AuditKind::EmailChanged,
    AuditKind::AssociationChanged,
    AuditKind::StaffChanged,
    AuditKind::StaffPasswordReissued,
    AuditKind::MemberImported,
    AuditKind::PostcardBatchClosed,
    AuditKind::InitialPasswordReissued,
    AuditKind::ImportSettingsChanged,
    AuditKind::PeopleExported,
    AuditKind::ApplicationsExported,
];

/// The kind's name on screen.
pub fn kind_label(kind: AuditKind) -> &'static str {
    match kind {
        AuditKind::LoginSucceeded => "ログイン",
        AuditKind::LoginFailed => "ログイン失敗",
        AuditKind::LoginThrottled => "ログイン制限",
        AuditKind::Logout => "ログアウト",
        AuditKind::PasswordResetRequested => "パスワード再設定の申請",
        AuditKind::PasswordResetLinkOpened => "パスワード再設定URLの利用",
        AuditKind::PasswordChanged => "パスワード変更",
        AuditKind::LoginIdReminderRequested => "ログインIDの問合せ",
        AuditKind::RegistrationLinkSent => "登録用URLの送信",
        AuditKind::RegistrationLinkOpened => "登録用URLの利用",
        AuditKind::RegistrationCompleted => "利用者登録",
        AuditKind::RegistrationRefused => "利用者登録の拒否（医籍登録番号重複）",
        AuditKind::MailGivenUp => "メール送信の断念",
        AuditKind::AssociationAdded => "医師会の追加",
        AuditKind::StaffAdded => "職員アカウントの作成",
        AuditKind::InquiryUpdated => "お問合せの対応状況変更",
        AuditKind::InquiryReplied => "お問合せへの返信",
        AuditKind::AnnouncementAdded => "お知らせの追加",
        AuditKind::AnnouncementChanged => "お知らせの変更",
        AuditKind::AnnouncementDeleted => "お知らせの削除",
        AuditKind::PersonCorrected => "登録情報の修正",
        AuditKind::PasswordResetSentByStaff => "パスワード再設定メールの送信（事務局）",
        AuditKind::TermsAgreed => "利用規約への同意",
        AuditKind::EmailConfirmationSent => "メールアドレス確認メールの送信",
        AuditKind::EmailChanged => "メールアドレスの変更",
        AuditKind::AssociationChanged => "医師会の連絡先の変更",
        AuditKind::StaffChanged => "事務局アカウントの権限の変更",
        AuditKind::StaffPasswordReissued => "事務局アカウントの初期パスワードの再発行",
        AuditKind::ContactChanged => "連絡先の変更（本人）",
        AuditKind::MemberImported => "会員データの取り込み",
        AuditKind::PostcardBatchClosed => "通知ハガキの締め（初期パスワードの削除）",
        AuditKind::InitialPasswordReissued => "会員の初期パスワードの再発行",
        AuditKind::ImportSettingsChanged => "初期パスワードの有効期間の変更",
        AuditKind::ApplicationFiled => "手続きの申請",
        AuditKind::ApplicationResubmitted => "手続きの再申請",
        AuditKind::ApplicationWithdrawn => "手続きの取下げ",
        AuditKind::ApplicationApproved => "手続きの承認",
        AuditKind::ApplicationSentBack => "手続きの差戻し",
        AuditKind::ApplicationRejected => "手続きの却下",
        AuditKind::MembershipChanged => "所属・会員種別の変更",
        AuditKind::NoticeConfirmed => "確認依頼の確認",
        AuditKind::PeopleExported => "会員一覧のCSV出力",
        AuditKind::ApplicationsExported => "申請一覧のCSV出力",
    }
}

/// The kind named by its stored name (`person_corrected`), if any.
pub fn kind_from_key(key: &str) -> Option<AuditKind> {
    KINDS.into_iter().find(|k| k.as_str() == key)
}

/// The entries as a table; `with_record` adds the column of the record each
/// is about (linked to the person's page).
pub fn entries_table(caption: &str, rows: &[HistoryRow], with_record: bool) -> Markup {
    html! {
        table.mails.history {
            caption.sr-only { (caption) }
            thead {
                tr {
                    th scope="col" { "日時" }
                    th scope="col" { "操作" }
                    th scope="col" { "操作者" }
                    @if with_record { th scope="col" { "対象" } }
                    th scope="col" { "変更内容" }
                }
            }
            tbody {
                @for r in rows {
                    tr {
                        td { (jst(r.at)) }
                        td { (kind_label(r.kind)) }
                        td { (r.who) }
                        @if with_record {
                            td {
                                @if let Some((id, name)) = &r.person {
                                    a href=(person_path(*id)) {
                                        @if name.is_empty() { "#" (id) } @else { (name) }
                                    }
                                }
                            }
                        }
                        td {
                            @if !r.changes.is_empty() {
                                ul.changes {
                                    @for c in &r.changes {
                                        li {
                                            (c.field) "："
                                            @if c.old.is_empty() { "（なし）" } @else { (c.old) }
                                            " → "
                                            @if c.new.is_empty() { "（なし）" } @else { (c.new) }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_has_a_name_and_is_found_by_its_key() {
        for k in KINDS {
            assert!(!kind_label(k).is_empty());
            assert_eq!(kind_from_key(k.as_str()), Some(k));
        }
        let mut keys: Vec<&str> = KINDS.iter().map(|k| k.as_str()).collect();
        keys.sort_unstable();
        keys.dedup();
        assert_eq!(keys.len(), KINDS.len());
        assert_eq!(kind_from_key("nothing"), None);
    }
}
