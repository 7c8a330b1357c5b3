//! Phone numbers (携帯電話番号, TEL, FAX): 半角15文字以内、ハイフンあり.
//!
//! Digits and hyphens, starting with 0, with at least one hyphen between
//! digit groups, 10 or 11 digits in all (every Japanese number dialled from
//! within Japan). Full-width digits and dash look-alikes are read as what
//! they mean; hyphens are never added or moved.

use serde::{Deserialize, Serialize};

use super::rules::{missing, unify_hyphens};
use crate::text::normalize_halfwidth_field;

const MAX: usize = 15;

#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct PhoneNumber(String);

fn clean(s: &str) -> String {
    unify_hyphens(&normalize_halfwidth_field(s))
}

impl PhoneNumber {
    pub fn parse(s: &str) -> Result<Self, String> {
        Self::parse_as(s, "電話番号", "03-3946-2121")
    }

    /// As [`PhoneNumber::parse`], naming the field `label` and showing
    /// `example` in the messages.
    pub fn parse_as(s: &str, label: &str, example: &str) -> Result<Self, String> {
        let s = clean(s);
        if s.is_empty() {
            return Err(missing(label));
        }
        if !s.chars().all(|c| c.is_ascii_digit() || c == '-') {
            return Err(format!(
                "{label}は半角数字とハイフンで入力してください（例：{example}）。"
            ));
        }
        if s.len() > MAX {
            return Err(format!("{label}は半角{MAX}文字以内で入力してください。"));
        }
        if !s.contains('-') {
            return Err(format!(
                "{label}はハイフンを含めて入力してください（例：{example}）。"
            ));
        }
        let digits = s.chars().filter(char::is_ascii_digit).count();
        let groups_ok = s.split('-').all(|g| !g.is_empty());
        if !s.starts_with('0') || !groups_ok || !(10..=11).contains(&digits) {
            return Err(format!(
                "{label}の形式が正しくありません（例：{example}）。"
            ));
        }
        Ok(Self(s))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A phone field's text as shown back (width and dashes normalised).
pub(crate) fn normalize_phone_text(s: &str) -> String {
    clean(s)
}

impl AsRef<str> for PhoneNumber {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for PhoneNumber {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mobile(s: &str) -> Result<String, String> {
        PhoneNumber::parse_as(s, "携帯電話番号", "090-1234-5678").map(|p| p.to_string())
    }

    #[test]
    fn accepts_japanese_numbers_with_hyphens() {
        for (raw, want) in [
            ("090-0000-0000", "090-0000-0000"),
            ("03-3946-2121", "03-3946-2121"),
            ("0120-123-456", "0120-123-456"),
            ("09012345-678", "09012345-678"),
            ("０９０－１２３４－５６７８", "090-1234-5678"),
            ("090ー1234ー5678", "090-1234-5678"),
            ("090−1234−5678", "090-1234-5678"),
            (" 03-3946-2121 ", "03-3946-2121"),
        ] {
            assert_eq!(mobile(raw), Ok(want.to_owned()), "{raw}");
        }
    }

    #[test]
    fn refuses_with_a_reason() {
        let chars = Err(
            "携帯電話番号は半角数字とハイフンで入力してください（例：090-1234-5678）。".to_owned(),
        );
        let hyphen =
            Err("携帯電話番号はハイフンを含めて入力してください（例：090-1234-5678）。".to_owned());
        let shape = Err("携帯電話番号の形式が正しくありません（例：090-1234-5678）。".to_owned());
        let long = Err("携帯電話番号は半角15文字以内で入力してください。".to_owned());
        for (raw, want) in [
            ("09012345678", &hyphen),
            ("090 1234 5678", &chars),
            ("(03)3946-2121", &chars),
            ("+81-90-1234-5678", &chars),
            ("090-1234-5678 内線", &chars),
            ("90-1234-5678", &shape),
            ("090--1234-5678", &shape),
            ("-090-1234-5678", &shape),
            ("090-1234-5678-", &shape),
            ("090-123-456", &shape),
            ("090-1234-56789", &shape),
            ("0-9-0-1-2-3-4-5-6", &long),
            ("090-1234-5678-90", &long),
        ] {
            assert_eq!(&mobile(raw), want, "{raw}");
        }
        assert_eq!(
            mobile(""),
            Err("携帯電話番号を入力してください。".to_owned())
        );
    }

    #[test]
    fn shown_back_cleaned() {
        assert_eq!(normalize_phone_text("０３ー３９４６"), "03-3946");
    }
}
