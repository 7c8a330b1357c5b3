//! The texts of the mails MAMIS sends (plain text, Japanese).

use crate::config::Config;

/// Subject of the address-confirmation mail.
pub const REGISTRATION_SUBJECT: &str = "【MAMIS】利用者登録のご確認";
/// Subject of the completion mail.
pub const COMPLETED_SUBJECT: &str = "【MAMIS】利用者登録完了のお知らせ";
/// Subject of the mail sent when the address already has an account.
pub const ALREADY_REGISTERED_SUBJECT: &str = "【MAMIS】利用者登録のご案内";

fn helpdesk_block(config: &Config) -> String {
    let h = &config.helpdesk;
    let mut s = format!(
        "本メールについてのお問い合わせ先：\n\n{}\nTEL {} ※ 受付時間 {}\nMAIL {}\n",
        h.name, h.phone, h.hours, h.email
    );
    if !h.faq_url.is_empty() {
        s.push_str(&format!("\nよくあるご質問はこちら\n{}\n", h.faq_url));
    }
    s
}

/// The mail with the registration link.
pub fn registration_link(config: &Config, link: &str) -> (String, String) {
    let body = format!(
        "医師会会員情報システム【MAMIS】の利用者登録をご検討いただき、誠にありがとうございます。\n\
\n\
利用者登録の手続きはまだ完了していません。\n\
\n\
以下の URL をクリックし、必要情報を入力し、利用者登録手続きを完了してください。\n\
\n\
※このサイトは医師を対象としております。\n\
※URL の有効期間は配信されてから 24 時間です。\n\
\n\
URL\n\
{link}\n\
\n\
なお、このメールの内容に覚えのない方は、お手数ですが破棄いただきますようお願い申し上げます。\n\
\n\
{helpdesk}",
        helpdesk = helpdesk_block(config),
    );
    (REGISTRATION_SUBJECT.to_owned(), body)
}

/// Sent instead of a link when the address already belongs to an account,
/// so that the e-mail page never reveals which addresses are registered.
pub fn already_registered(config: &Config) -> (String, String) {
    let body = format!(
        "医師会会員情報システム【MAMIS】の利用者登録のお申し込みを受け付けました。\n\
\n\
このメールアドレスは既に利用者として登録されています。新たな登録は必要ありません。\n\
ログインIDやパスワードがご不明な場合は、ログインページの\n\
「ログインIDをお忘れの方はこちら」「パスワードをお忘れの方はこちら」からお手続きください。\n\
\n\
{base}/login\n\
\n\
なお、このメールの内容に覚えのない方は、お手数ですが破棄いただきますようお願い申し上げます。\n\
\n\
{helpdesk}",
        base = config.base_url,
        helpdesk = helpdesk_block(config),
    );
    (ALREADY_REGISTERED_SUBJECT.to_owned(), body)
}

/// Sent when the account has been created.
pub fn registration_completed(config: &Config, name: &str, login_id: &str) -> (String, String) {
    let body = format!(
        "{name} 様\n\
\n\
医師会会員情報システム【MAMIS】への利用者登録が完了しました。\n\
ご登録いただき、誠にありがとうございます。\n\
\n\
ログインID：{login_id}\n\
（パスワードはご登録時に設定されたものです。本メールには記載しておりません。）\n\
\n\
以下のログインページよりログインしてください。\n\
{base}/login\n\
\n\
なお、このメールの内容に覚えのない方は、お手数ですが下記お問い合わせ先までご連絡ください。\n\
\n\
{helpdesk}",
        base = config.base_url,
        helpdesk = helpdesk_block(config),
    );
    (COMPLETED_SUBJECT.to_owned(), body)
}

/// Subject of the login-ID reminder.
pub const LOGIN_ID_SUBJECT: &str = "【MAMIS】ログインIDのお知らせ";
/// Subject of the password-reset mail.
pub const RESET_SUBJECT: &str = "【MAMIS】パスワード再設定のご案内";
/// Subject of an inquiry forwarded to the help desk.
pub const INQUIRY_SUBJECT: &str = "【MAMIS】お問合せ";

/// The login ID, mailed to the registered address.
pub fn login_id_reminder(config: &Config, login_id: &str) -> (String, String) {
    let body = format!(
        "医師会会員情報システム【MAMIS】をご利用いただき、ありがとうございます。\n\
\n\
ログインIDのお問い合わせを受け付けました。ご登録のログインIDは次のとおりです。\n\
\n\
ログインID：{login_id}\n\
\n\
{base}/login\n\
\n\
なお、このメールの内容に覚えのない方は、お手数ですが破棄いただきますようお願い申し上げます。\n\
\n\
{helpdesk}",
        base = config.base_url,
        helpdesk = helpdesk_block(config),
    );
    (LOGIN_ID_SUBJECT.to_owned(), body)
}

/// The single-use link to set a new password.
pub fn password_reset(config: &Config, link: &str) -> (String, String) {
    let body = format!(
        "医師会会員情報システム【MAMIS】をご利用いただき、ありがとうございます。\n\
\n\
パスワード再設定のお申し込みを受け付けました。\n\
以下の URL から新しいパスワードを設定してください。\n\
\n\
※URL の有効期間は配信されてから 1 時間です。URL は一度だけ使用できます。\n\
\n\
URL\n\
{link}\n\
\n\
なお、このメールの内容に覚えのない方は、お手数ですが破棄いただきますようお願い申し上げます（パスワードは変更されません）。\n\
\n\
{helpdesk}",
        helpdesk = helpdesk_block(config),
    );
    (RESET_SUBJECT.to_owned(), body)
}

/// Subject of the notice sent after every password change.
pub const PASSWORD_CHANGED_SUBJECT: &str = "【MAMIS】パスワード変更のお知らせ";

/// A Unix time as Japanese wall-clock time, e.g. `2026年12月2日 23時54分`.
pub fn jst(unix: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp(unix)
        .map(|t| t.to_offset(time::macros::offset!(+9)))
        .map(|t| {
            format!(
                "{}年{}月{}日 {:02}時{:02}分",
                t.year(),
                u8::from(t.month()),
                t.day(),
                t.hour(),
                t.minute()
            )
        })
        .unwrap_or_else(|_| unix.to_string())
}

/// Tells the account holder that their password was changed (at `at`,
/// Unix seconds), so that a change they did not make does not go unnoticed.
pub fn password_changed(config: &Config, login_id: &str, at: i64) -> (String, String) {
    let body = format!(
        "医師会会員情報システム【MAMIS】をご利用いただき、ありがとうございます。\n\
\n\
ログインID「{login_id}」のパスワードが {when}（日本時間）に変更されました。\n\
これに伴い、ログイン中の画面はすべてログアウトされました。新しいパスワードで再度ログインしてください。\n\
\n\
{base}/login\n\
\n\
このパスワード変更にお心当たりのない場合は、第三者によって変更された可能性があります。\n\
お手数ですが、至急下記のお問い合わせ先までご連絡ください。\n\
\n\
{helpdesk}",
        when = jst(at),
        base = config.base_url,
        helpdesk = helpdesk_block(config),
    );
    (PASSWORD_CHANGED_SUBJECT.to_owned(), body)
}

pub const EMAIL_CONFIRM_SUBJECT: &str = "【MAMIS】メールアドレスのご確認";
pub const EMAIL_CHANGED_SUBJECT: &str = "【MAMIS】メールアドレス変更のお知らせ";

/// The link that confirms an account's address (first login, or a change
/// on マイページ); valid for 24 hours.
pub fn email_confirm(config: &Config, login_id: &str, link: &str) -> (String, String) {
    let body = format!(
        "医師会会員情報システム【MAMIS】をご利用いただき、ありがとうございます。\n\
\n\
ログインID「{login_id}」のメールアドレスとして、このアドレスが入力されました。\n\
下記のURLを開くと、メールアドレスの確認が完了します（有効期限：24時間）。\n\
\n\
{link}\n\
\n\
お心当たりのない場合は、このメールを破棄してください。メールアドレスは変更されません。\n\
\n\
{helpdesk}",
        helpdesk = helpdesk_block(config),
    );
    (EMAIL_CONFIRM_SUBJECT.to_owned(), body)
}

/// Tells the old address that the account's address was changed to
/// another one (not named: it may not be the holder's).
pub fn email_changed(config: &Config, login_id: &str, at: i64) -> (String, String) {
    let body = format!(
        "医師会会員情報システム【MAMIS】をご利用いただき、ありがとうございます。\n\
\n\
ログインID「{login_id}」のメールアドレスが {when}（日本時間）に変更されました。\n\
今後のお知らせは新しいメールアドレスにお送りします。\n\
\n\
この変更にお心当たりのない場合は、至急下記のお問い合わせ先までご連絡ください。\n\
\n\
{helpdesk}",
        when = jst(at),
        helpdesk = helpdesk_block(config),
    );
    (EMAIL_CHANGED_SUBJECT.to_owned(), body)
}

/// An inquiry, forwarded to the help desk.
pub fn inquiry(name: &str, email: &str, subject: &str, message: &str, id: u64) -> (String, String) {
    let body = format!(
        "お問合せフォームから次のお問合せがありました（受付番号 {id}）。\n\
\n\
お名前：{name}\n\
メールアドレス：{email}\n\
件名：{subject}\n\
\n\
{message}\n"
    );
    (format!("{INQUIRY_SUBJECT} {subject}"), body)
}

/// A reply from the office to an inquiry (受付番号 `id`), mailed to its sender.
pub fn inquiry_reply(config: &Config, subject: &str, reply: &str, id: u64) -> (String, String) {
    let body = format!(
        "{reply}\n\n\
----\n\
このメールは、お問合せ（受付番号 {id}）への回答として、医師会会員情報システム【MAMIS】からお送りしています。\n\
\n\
{helpdesk}",
        helpdesk = helpdesk_block(config),
    );
    (format!("【MAMIS】{subject}"), body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_are_told_in_japan_time() {
        assert_eq!(jst(0), "1970年1月1日 09時00分");
        assert_eq!(jst(1_764_690_000), "2025年12月3日 00時40分");
    }
}
