//! Names: フリガナ (全角カタカナ 64文字以内) and 漢字 (全角 32文字以内).
//!
//! Both are stored exactly as typed after the field normalisation (no NFKC:
//! ㈱, ① or compatibility ideographs such as 髙 stay).

use serde::{Deserialize, Serialize};

use super::rules::{char_count, is_fullwidth_within, missing};
use crate::text::{is_fullwidth_katakana, normalize_fullwidth_field, normalize_katakana_field};

const KANA_MAX: usize = 64;
const KANJI_MAX: usize = 32;

/// A name in full-width katakana (セイ, メイ, 旧姓/旧名 フリガナ).
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct KanaName(String);

impl KanaName {
    /// Parses what was typed; hiragana and half-width katakana become
    /// full-width katakana, dash look-alikes become 「ー」.
    pub fn parse(s: &str) -> Result<Self, String> {
        Self::parse_as(s, "フリガナ")
    }

    /// As [`KanaName::parse`], naming the field `label` in the messages.
    pub fn parse_as(s: &str, label: &str) -> Result<Self, String> {
        let s = normalize_katakana_field(s);
        if s.is_empty() {
            return Err(missing(label));
        }
        if !s.chars().all(is_fullwidth_katakana) || char_count(&s) > KANA_MAX {
            return Err(format!(
                "{label}は全角カタカナ{KANA_MAX}文字以内で入力してください。"
            ));
        }
        Ok(Self(s))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A name as written (姓, 名, 旧姓, 旧名): full-width characters only.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct KanjiName(String);

impl KanjiName {
    /// Parses what was typed; half-width katakana becomes full-width.
    pub fn parse(s: &str) -> Result<Self, String> {
        Self::parse_as(s, super::Group::Name.label())
    }

    /// As [`KanjiName::parse`], naming the field `label` in the messages.
    pub fn parse_as(s: &str, label: &str) -> Result<Self, String> {
        let s = normalize_fullwidth_field(s);
        if s.is_empty() {
            return Err(missing(label));
        }
        if !is_fullwidth_within(&s, KANJI_MAX) {
            return Err(format!(
                "{label}は全角{KANJI_MAX}文字以内で入力してください。"
            ));
        }
        Ok(Self(s))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

macro_rules! text_impls {
    ($($t:ty),*) => {$(
        impl AsRef<str> for $t {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }
        impl std::fmt::Display for $t {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(&self.0)
            }
        }
    )*};
}
text_impls!(KanaName, KanjiName);

#[cfg(test)]
mod tests {
    use super::*;

    fn kana(raw: &str) -> Result<String, String> {
        KanaName::parse_as(raw, "セイ（フリガナ）").map(|k| k.to_string())
    }

    fn kanji(raw: &str) -> Result<String, String> {
        KanjiName::parse_as(raw, "姓").map(|k| k.to_string())
    }

    #[test]
    fn kana_is_widened_and_accepted() {
        let table = [
            ("ニチイ", "ニチイ"),
            ("ｶﾞｸ", "ガク"),
            ("ﾆﾁｲ", "ニチイ"),
            ("にちい", "ニチイ"),
            ("ﾊﾟｰｸ", "パーク"),
            ("こ-ひ−", "コーヒー"),
            ("  タロウ ", "タロウ"),
            ("ヴァン・ゴッホ", "ヴァン・ゴッホ"),
            ("ジョン　スミス", "ジョン　スミス"),
        ];
        for (raw, want) in table {
            assert_eq!(kana(raw), Ok(want.to_owned()), "{raw}");
        }
    }

    #[test]
    fn kana_refuses_kanji_latin_and_length() {
        let msg = Err("セイ（フリガナ）は全角カタカナ64文字以内で入力してください。".to_owned());
        for bad in ["日医", "Nichii", "ＮＩＣＨＩＩ", "ニチイ1", "ニチ イ"] {
            assert_eq!(kana(bad), msg, "{bad}");
        }
        assert!(kana(&"ア".repeat(64)).is_ok());
        assert_eq!(kana(&"ア".repeat(65)), msg);
        assert_eq!(
            kana(""),
            Err("セイ（フリガナ）を入力してください。".to_owned())
        );
        assert_eq!(
            kana("　"),
            Err("セイ（フリガナ）を入力してください。".to_owned())
        );
    }

    #[test]
    fn kanji_keeps_what_was_typed() {
        for (raw, want) in [
            ("日医", "日医"),
            ("髙橋", "髙橋"),
            ("㈱①", "㈱①"),
            ("ﾀﾛｳ", "タロウ"),
            ("ＪＯＨＮ", "ＪＯＨＮ"),
            ("たろう", "たろう"),
        ] {
            assert_eq!(kanji(raw), Ok(want.to_owned()), "{raw}");
        }
    }

    #[test]
    fn kanji_refuses_halfwidth_and_length() {
        let msg = Err("姓は全角32文字以内で入力してください。".to_owned());
        for bad in ["John", "日医A", "日医 太郎", "日医1"] {
            assert_eq!(kanji(bad), msg, "{bad}");
        }
        assert!(kanji(&"医".repeat(32)).is_ok());
        assert_eq!(kanji(&"医".repeat(33)), msg);
        assert_eq!(kanji(""), Err("姓を入力してください。".to_owned()));
    }

    #[test]
    fn default_labels() {
        assert_eq!(
            KanaName::parse("x"),
            Err("フリガナは全角カタカナ64文字以内で入力してください。".to_owned())
        );
        assert_eq!(
            KanjiName::parse("x"),
            Err("氏名は全角32文字以内で入力してください。".to_owned())
        );
    }
}
