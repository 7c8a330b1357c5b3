//! パスワード: 半角英字・数字・記号の3種類すべてを使用し、8文字以上 (at most
//! 128); the only symbols are `! @ % & #`; not one of the most common
//! passwords (see [`is_common`]). A secret: it does not print.

use std::{collections::HashSet, sync::LazyLock};

use super::LoginId;
use crate::text::normalize_halfwidth_field;

const MESSAGE: &str = "パスワードの形式が正しくありません。";
pub const COMMON_MESSAGE: &str =
    "よく使われているパスワードのため使用できません。別のパスワードを入力してください。";
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
            return Err(super::rules::missing(super::Field::Password.label()));
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
        if is_common(&s) {
            return Err(COMMON_MESSAGE.to_owned());
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

/// The common-password list (`data/common-passwords.txt`: its header names
/// the source and licence), as listed and as base words: each entry with the
/// digits and symbols around it removed (`password1` → `password`).
struct CommonList {
    entries: HashSet<&'static str>,
    bases: HashSet<&'static str>,
}

static COMMON: LazyLock<CommonList> = LazyLock::new(|| {
    let text = include_str!("data/common-passwords.txt");
    // The header ends at the first empty line.
    let list = text.split_once("\n\n").map_or("", |(_, l)| l);
    let entries: HashSet<&'static str> = list.lines().filter(|l| !l.is_empty()).collect();
    let bases = entries
        .iter()
        .map(|e| base_word(e))
        .filter(|b| b.len() >= MIN_BASE)
        .collect();
    CommonList { entries, bases }
});

/// Base words shorter than this are not compared (`ab1234!x` is not `ab`).
const MIN_BASE: usize = 3;

/// `s` without the digits and symbols at either end.
fn base_word(s: &str) -> &str {
    s.trim_matches(|c: char| !c.is_alphabetic())
}

/// True when `password` is one of the common passwords, compared without
/// case, or is a common password's word with digits and symbols added around
/// it (`Password1!`, `Qwerty123!`, `!Dragon2024`): the first guesses of any
/// password-cracking rule set.
pub fn is_common(password: &str) -> bool {
    let lower = password.to_lowercase();
    let list = &*COMMON;
    if list.entries.contains(lower.as_str()) {
        return true;
    }
    let base = base_word(&lower);
    base.len() >= MIN_BASE && (list.entries.contains(base) || list.bases.contains(base))
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
            "tkyo123!",
            "A1@%&#bc",
            "Kusuri7#Hako",
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
            Password::parse("ｔｋｙｏ１２３！").map(|p| p.expose_secret().to_owned()),
            Ok("tkyo123!".to_owned())
        );
        assert_eq!(
            Password::parse(""),
            Err("パスワードを入力してください。".to_owned())
        );
    }

    #[test]
    fn common_passwords_are_refused_with_their_own_message() {
        for common in [
            "Password1!",
            "Qwerty123!",
            "PASSWORD1!",
            "p@ssw0rd1",
            "Passw0rd#",
            "!Dragon2024",
            "sakura123!",
            "Secret12!",
            "1qaz2wsx#",
        ] {
            assert_eq!(
                Password::parse(common),
                Err(COMMON_MESSAGE.to_owned()),
                "{common}"
            );
        }
        for fine in ["Kusuri7#Hako", "mamis001!", "Yamada#2024x", "ab1234!x"] {
            assert!(Password::parse(fine).is_ok(), "{fine}");
        }
        // The list is read: its header is skipped, its entries are there.
        assert!(COMMON.entries.len() > 19_000, "{}", COMMON.entries.len());
        assert!(!COMMON.entries.iter().any(|e| e.starts_with("# ")));
        assert!(COMMON.entries.contains("#1pimp"));
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
        let p = Password::parse("Kusuri12!").expect("valid password");
        assert_eq!(format!("{p:?}"), "[redacted]");
        assert_eq!(p.expose_secret(), "Kusuri12!");
    }
}
