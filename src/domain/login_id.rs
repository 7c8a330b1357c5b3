//! ログインID: 半角英数字・記号 8–32 characters; the only symbols are `% ! @ # &`.

use serde::{Deserialize, Serialize};

use crate::text::normalize_halfwidth_field;

const MESSAGE: &str = "ログインIDの形式が正しくありません。";
const MIN: usize = 8;
const MAX: usize = 32;
const SYMBOLS: &[char] = &['%', '!', '@', '#', '&'];

#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct LoginId(String);

impl LoginId {
    /// Parses what was typed; full-width ASCII counts as half-width.
    pub fn parse(s: &str) -> Result<Self, String> {
        let s = normalize_halfwidth_field(s);
        if s.is_empty() {
            return Err(super::rules::missing(super::Field::LoginId.label()));
        }
        let allowed = s
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || SYMBOLS.contains(&c));
        // All characters are ASCII here, so the byte length is the character count.
        if !allowed || !(MIN..=MAX).contains(&s.len()) {
            return Err(MESSAGE.to_owned());
        }
        Ok(Self(s))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Case-folded form, for a uniqueness check that does not let `Mamis001`
    /// and `mamis001` both exist.
    pub fn key(&self) -> String {
        self.0.to_ascii_lowercase()
    }
}

impl AsRef<str> for LoginId {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for LoginId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_the_allowed_alphabet_and_lengths() {
        for ok in [
            "mamis001",
            "MAMIS001",
            "abc%!@#&",
            "12345678",
            "a".repeat(32).as_str(),
        ] {
            assert_eq!(LoginId::parse(ok).map(|l| l.to_string()), Ok(ok.to_owned()));
        }
    }

    #[test]
    fn rejects_other_symbols_and_lengths_with_the_manuals_message() {
        for bad in [
            "short1",
            "mamis01",
            "a".repeat(33).as_str(),
            "mamis_001",
            "mamis-001",
            "mamis 001",
            "mamis$001",
            "まみす00001",
        ] {
            assert_eq!(LoginId::parse(bad), Err(MESSAGE.to_owned()), "{bad}");
        }
    }

    #[test]
    fn empty_is_missing() {
        assert_eq!(
            LoginId::parse(""),
            Err("ログインIDを入力してください。".to_owned())
        );
    }

    #[test]
    fn fullwidth_input_is_accepted_after_normalisation() {
        let id = LoginId::parse("ＡＢＣ１２３＠＃").map(|l| l.to_string());
        assert_eq!(id, Ok("ABC123@#".to_owned()));
        let id = LoginId::parse(" ｍａｍｉｓ００１ ").map(|l| l.to_string());
        assert_eq!(id, Ok("mamis001".to_owned()));
    }

    #[test]
    fn key_folds_case() {
        assert_eq!(
            LoginId::parse("MaMiS001").map(|l| l.key()),
            Ok("mamis001".to_owned())
        );
    }
}
