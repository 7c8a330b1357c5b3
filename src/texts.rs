//! The terms of use and privacy texts in force: the built-in templates, or
//! the operator's own `terms.txt` / `privacy.txt` from the data folder, with
//! the version every agreeing account records.

/// The version of the built-in templates, recorded with each account that
/// agrees to them.
pub const TERMS_VERSION: &str = "2026-11-24";

/// The terms of use (template).
pub const TERMS: &str = "医師会会員情報システム（MAMIS）利用規約
制定日：2026年11月24日

第1条（目的）
本規約は、本システムを運営する医師会（以下「運営者」）が提供する医師会会員情報システム（以下「本システム」）の利用条件を定めるものです。

第2条（利用者）
本システムを利用できるのは、日本の医師免許を有する医師、各医師会の会員及び各医師会の定める事務担当者（以下「利用者」）とします。

第3条（登録情報）
1. 利用者は、真実かつ正確な情報を登録するものとします。
2. 登録情報に変更があった場合、利用者は速やかに変更の手続きを行うものとします。

第4条（ログインID及びパスワードの管理）
1. 利用者は、自己のログインID及びパスワードを自らの責任で管理し、第三者に利用させてはなりません。
2. ログインID又はパスワードの漏えいのおそれがある場合、利用者は直ちにパスワードを変更し、運営者に連絡するものとします。

第5条（禁止事項）
利用者は、他人になりすます行為、虚偽の情報を登録する行為、本システムの運営を妨げる行為その他運営者が不適切と判断する行為をしてはなりません。

第6条（サービスの停止）
運営者は、保守点検その他の理由により、事前の通知なく本システムの全部又は一部を停止することがあります。

第7条（免責）
運営者は、本システムの利用により利用者に生じた損害について、運営者の故意又は重大な過失による場合を除き、責任を負いません。

第8条（規約の変更）
運営者は、必要に応じて本規約を変更することができます。変更後の規約は、本システム上に掲示した時点から効力を生じます。

（本文はテンプレートです。運用者が自らの規約に置き換えてください。）";

/// How personal data is handled (template).
pub const PRIVACY: &str = "個人情報の取り扱いについて

1. 取得する情報
氏名、生年月日、医籍登録番号、連絡先、住所、出身校、所属学会その他の登録情報を取得します。

2. 利用目的
医師会の入退会・異動等の手続き、会員管理、医師会からのご連絡及び本システムの運営のために利用します。

3. 第三者提供
法令に基づく場合を除き、ご本人の同意なく第三者に提供することはありません。ただし、入会手続き等のため、ご本人が選択した医師会との間で共有することがあります。

4. 安全管理
取得した個人情報は、漏えい、滅失又はき損の防止その他の安全管理のために必要かつ適切な措置を講じます。パスワードは復元できない形式で保管します。

5. 開示等の請求
ご本人からの開示、訂正、利用停止等の請求には、お問合せ窓口にて対応します。

（本文はテンプレートです。運用者が自らの個人情報保護方針に置き換えてください。）";

/// The texts in force: the templates above, or the operator's own files
/// `terms.txt` and `privacy.txt` in the data folder, read at start-up.
#[derive(Clone, Debug)]
pub struct Texts {
    pub terms: String,
    pub privacy: String,
    /// Recorded with each account that agrees. For the operator's own texts:
    /// `custom-` and the first 12 hex digits of their SHA-256, so a changed
    /// text is a new version without anyone having to remember to bump it.
    pub version: String,
}

impl Texts {
    /// Reads the operator's files from `data_dir` where present.
    pub fn load(data_dir: &std::path::Path) -> Texts {
        use sha2::{Digest, Sha256};
        let read = |name: &str| {
            let path = data_dir.join(name);
            match std::fs::read_to_string(&path) {
                Ok(s) if !s.trim().is_empty() => Some(s),
                Ok(_) => None,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
                Err(e) => {
                    tracing::warn!(path = %path.display(), error = %e, "text ignored; using the template");
                    None
                }
            }
        };
        let (terms, privacy) = (read("terms.txt"), read("privacy.txt"));
        if terms.is_none() && privacy.is_none() {
            return Texts {
                terms: TERMS.to_owned(),
                privacy: PRIVACY.to_owned(),
                version: TERMS_VERSION.to_owned(),
            };
        }
        let terms = terms.unwrap_or_else(|| TERMS.to_owned());
        let privacy = privacy.unwrap_or_else(|| PRIVACY.to_owned());
        let digest = Sha256::digest(format!("{terms}\u{0}{privacy}").as_bytes());
        let hex: String = digest[..6].iter().map(|b| format!("{b:02x}")).collect();
        tracing::info!(version = %format!("custom-{hex}"), "using the operator's terms/privacy texts");
        Texts {
            terms,
            privacy,
            version: format!("custom-{hex}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn operator_texts_replace_the_templates_with_their_own_version() {
        let dir = tempfile::tempdir().unwrap();
        let t = Texts::load(dir.path());
        assert_eq!(t.version, TERMS_VERSION);
        std::fs::write(dir.path().join("terms.txt"), "当会の規約").unwrap();
        let t = Texts::load(dir.path());
        assert_eq!(t.terms, "当会の規約");
        assert_eq!(t.privacy, PRIVACY);
        assert!(t.version.starts_with("custom-"));
        std::fs::write(dir.path().join("terms.txt"), "当会の規約（改定）").unwrap();
        assert_ne!(Texts::load(dir.path()).version, t.version);
    }
}
