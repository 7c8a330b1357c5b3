//! パスワード: 半角英字・数字・記号の3種類すべてを使用し、8文字以上 (at most
//! 128); the only symbols are `! @ % & #`. A secret: it does not print.

use super::LoginId;
use crate::text::normalize_halfwidth_field;

const MESSAGE: &str = "パスワードの形式が正しくありません。";
const SAME_AS_LOGIN_ID: &str = "パスワードにログインIDと同じ文字列は使用できません。";
const MIN: usize = 8;
const MAX: usize = 128;
const SYMBOLS: &[char] = &['!', '@', '%', '&', '#'];

/// A password that follows the rules. No `Display`, no `Serialize`; `Debug`
/// prints `[redacted]`. Read it with [`Password::expose_secret`] to hash it.
#[derive(Clone, PartialEq, Eq)]
pub struct Password(String);

impl Password {
    /// Parses what was typed; full-width ASCII counts as half-width (so the
    /// login form must apply `text::normalize_halfwidth_field` as well).
    pub fn parse(s: &str) -> Result<Self, String> {
        let s = normalize_halfwidth_field(s);
        if s.is_empty() {
            return Err(super::rules::missing("パスワード"));
        }
        let allowed = s
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || SYMBOLS.contains(&c));
        let has_letter = s.chars().any(|c| c.is_ascii_alphabetic());
        let has_digit = s.chars().any(|c| c.is_ascii_digit());
        let has_symbol = s.chars().any(|c| SYMBOLS.contains(&c));
        // All characters are ASCII here, so the byte length is the character count.
        if !allowed || !has_letter || !has_digit || !has_symbol || !(MIN..=MAX).contains(&s.len()) {
            return Err(MESSAGE.to_owned());
        }
        Ok(Self(s))
    }

    /// The cross-field rule: the password is not the login ID (ignoring case).
    pub fn check_against(&self, login_id: &LoginId) -> Result<(), String> {
        if self.0.eq_ignore_ascii_case(login_id.as_str()) {
            Err(SAME_AS_LOGIN_ID.to_owned())
        } else {
            Ok(())
        }
    }

    pub fn expose_secret(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Password {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("[redacted]")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn needs_letters_digits_and_symbols() {
        for ok in [
            "abcd123!",
            "A1@%&#bc",
            "Passw0rd#",
            &format!("a1!{}", "x".repeat(125)),
        ] {
            assert!(Password::parse(ok).is_ok(), "{ok}");
        }
        for bad in [
            "abcdefgh",
            "abcd1234",
            "abcd!!!!",
            "1234!!!!",
            "ab1!",
            "abcd123?",
            "abcd 123!",
            "abcd123!\u{3042}",
            &format!("a1!{}", "x".repeat(126)),
        ] {
            assert_eq!(Password::parse(bad), Err(MESSAGE.to_owned()), "{bad}");
        }
        assert_eq!(
            Password::parse("ａｂｃｄ１２３！").map(|p| p.expose_secret().to_owned()),
            Ok("abcd123!".to_owned())
        );
        assert_eq!(
            Password::parse(""),
            Err("パスワードを入力してください。".to_owned())
        );
    }

    #[test]
    fn is_not_the_login_id() {
        let id = LoginId::parse("mamis001!").expect("valid id");
        let same = Password::parse("MAMIS001!").expect("valid password");
        assert_eq!(same.check_against(&id), Err(SAME_AS_LOGIN_ID.to_owned()));
        let other = Password::parse("mamis002!").expect("valid password");
        assert_eq!(other.check_against(&id), Ok(()));
    }

    #[test]
    fn does_not_print() {
        let p = Password::parse("secret12!").expect("valid password");
        assert_eq!(format!("{p:?}"), "[redacted]");
        assert_eq!(p.expose_secret(), "secret12!");
    }
}
