//! The mails of the membership procedures: the applicant is told of every
//! step (受付, each approval, 完了, 差戻し, 却下, 取下げ).

use crate::config::Config;

/// A step the applicant is told of.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Event {
    /// 提出 or 再提出 received; waits at the named association.
    Filed {
        waits_at: String,
    },
    /// Approved at one level; waits at the next.
    Advanced {
        by: String,
        waits_at: String,
    },
    /// Completed on this date (入会日 / effective date, `YYYY-MM-DD`).
    Completed {
        date: String,
    },
    SentBack {
        by: String,
        comment: String,
    },
    Rejected {
        by: String,
        reason: String,
    },
    Withdrawn,
}

/// The subject prefix of every procedure mail.
pub const SUBJECT_PREFIX: &str = "【MAMIS】";

/// The mail to `name` about application `id` (`summary`: 「入会（郡市区）」).
pub fn to_applicant(
    config: &Config,
    name: &str,
    id: u64,
    summary: &str,
    event: &Event,
) -> (String, String) {
    let (what, text) = match event {
        Event::Filed { waits_at } => (
            "受付",
            format!("申請を受け付けました。現在、{waits_at}で確認中です。"),
        ),
        Event::Advanced { by, waits_at } => (
            "承認",
            format!("{by}で承認されました。現在、{waits_at}で確認中です。"),
        ),
        Event::Completed { date } => (
            "完了",
            format!("手続きが完了しました。\n効力発生日（入会日・異動日・退会日）：{date}"),
        ),
        Event::SentBack { by, comment } => (
            "差戻し",
            format!(
                "{by}から申請が差し戻されました。\n\n理由：\n{comment}\n\n\
マイページの「申請状況」から内容を修正して再申請してください。"
            ),
        ),
        Event::Rejected { by, reason } => (
            "却下",
            format!("{by}で申請が却下されました。\n\n理由：\n{reason}"),
        ),
        Event::Withdrawn => ("取下げ", "申請を取り下げました。".to_owned()),
    };
    let h = &config.helpdesk;
    let body = format!(
        "{name} 様\n\
\n\
医師会会員情報システム【MAMIS】の手続きについてお知らせします。\n\
\n\
申請番号：{id}\n\
申請内容：{summary}\n\
\n\
{text}\n\
\n\
申請の状況はマイページの「申請状況」でご確認いただけます。\n\
{base}/mypage/applications\n\
\n\
本メールについてのお問い合わせ先：\n\
{hname}\n\
TEL {phone} ※ 受付時間 {hours}\n\
MAIL {email}\n",
        base = config.base_url,
        hname = h.name,
        phone = h.phone,
        hours = h.hours,
        email = h.email,
    );
    (format!("{SUBJECT_PREFIX}{summary}：{what}"), body)
}

/// Why the staff of an association are told of an application.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StaffEvent {
    /// It waits for their decision (filed, resubmitted, or approved by
    /// the level below).
    Waiting,
    /// A 確認依頼 to them about a completed application.
    Notice,
}

/// The mail to the staff of an association about application `id` of
/// `kind` (「入会」): only the number, the kind and the link. Mail is not a
/// secure channel (it may be forwarded, kept on servers outside the
/// association, read over a carrier's network), so no name, 医籍登録番号,
/// address or comment of the applicant goes in it: staff log in to see
/// them.
pub fn to_staff(config: &Config, id: u64, kind: &str, event: StaffEvent) -> (String, String) {
    let (what, text) = match event {
        StaffEvent::Waiting => ("処理待ち", "貴会の処理待ちの申請があります。"),
        StaffEvent::Notice => ("確認依頼", "貴会への確認依頼があります。"),
    };
    let body = format!(
        "医師会会員情報システム【MAMIS】からのお知らせです。\n\
\n\
{text}\n\
\n\
申請番号：{id}\n\
種類：{kind}\n\
\n\
内容はログインしてご確認ください。\n\
{base}/office/applications/{id}\n\
\n\
このメールは、事務局アカウントの連絡用メールアドレスに送信しています。\n",
        base = config.base_url,
    );
    (
        format!("{SUBJECT_PREFIX}{what}：申請番号 {id}（{kind}）"),
        body,
    )
}
