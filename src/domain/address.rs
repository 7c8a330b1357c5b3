//! 自宅現住所: 郵便番号, 都道府県, 住所 (番地まで), 建物名・部屋番号.

use serde::{Deserialize, Serialize};

use super::Field;
use super::rules::{char_count, has_control, missing, not_chosen, unify_hyphens};
use crate::text::{normalize_fullwidth_field, normalize_halfwidth_field};

/// A postal code, always held as `113-8621`.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct PostalCode(String);

/// Full-width digits, dash look-alikes (ー − ‐ …) and a leading 〒 are read
/// as what they unambiguously mean.
fn clean_postal(s: &str) -> String {
    unify_hyphens(&normalize_halfwidth_field(s))
        .trim_start_matches(|c: char| c == '〒' || c.is_whitespace())
        .to_owned()
}

impl PostalCode {
    /// Parses `113-8621` or `1138621` (full-width too) into `113-8621`. The
    /// shape rule is the postal table's own ([`crate::postal::parse_code`]),
    /// so a code accepted here is one the table can be asked about.
    pub fn parse(s: &str) -> Result<Self, String> {
        let label = Field::PostalCode.label();
        let s = clean_postal(s);
        if s.is_empty() {
            return Err(missing(label));
        }
        match crate::postal::parse_code(&s) {
            Some(n) => Ok(Self(format!("{:03}-{:04}", n / 10_000, n % 10_000))),
            None => Err(format!(
                "{label}は半角数字7桁で入力してください（例：113-8621）。"
            )),
        }
    }

    /// The code as a number, the postal table's key.
    pub fn number(&self) -> u32 {
        self.0
            .bytes()
            .filter(u8::is_ascii_digit)
            .fold(0, |n, b| n * 10 + u32::from(b - b'0'))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The seven digits without the hyphen, for a postal-code lookup.
    pub fn digits(&self) -> String {
        self.0.replace('-', "")
    }
}

/// A postal-code field's text as shown back: `113-8621` when it reads as one,
/// otherwise the cleaned text.
pub(crate) fn normalize_postal_text(s: &str) -> String {
    match PostalCode::parse(s) {
        Ok(p) => p.0,
        Err(_) => clean_postal(s),
    }
}

/// One of the 47 prefectures, held by its name (「東京都」); the form may send
/// the name or the JIS code (`13`).
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Prefecture(String);

impl Prefecture {
    pub fn parse(s: &str) -> Result<Self, String> {
        let s = s.trim();
        if s.is_empty() {
            return Err(not_chosen(Field::Prefecture.label()));
        }
        let found =
            crate::catalog::prefecture_by_name(s).or_else(|| crate::catalog::prefecture_by_code(s));
        match found {
            Some(p) => Ok(Self(p.name.to_string())),
            None => Err(format!(
                "{}を一覧から選択してください。",
                Field::Prefecture.label()
            )),
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

const ADDRESS_MAX: usize = 200;
const BUILDING_MAX: usize = 50;

/// 住所 番地まで: free text, full- or half-width, at most 200 characters.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct AddressLine(String);

impl AddressLine {
    /// Parses what was typed; half-width katakana becomes full-width.
    pub fn parse(s: &str) -> Result<Self, String> {
        let s = normalize_fullwidth_field(s);
        let label = Field::Address.label();
        if s.is_empty() {
            return Err(missing(label));
        }
        free_text(&s, label, ADDRESS_MAX)?;
        Ok(Self(s))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// 建物名、部屋番号など: free text, full- or half-width, at most 50 characters.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct BuildingName(String);

impl BuildingName {
    /// Parses what was typed (optional in the form: call it only when filled).
    pub fn parse(s: &str) -> Result<Self, String> {
        let s = normalize_fullwidth_field(s);
        let label = Field::Building.label();
        if s.is_empty() {
            return Err(missing(label));
        }
        free_text(&s, label, BUILDING_MAX)?;
        Ok(Self(s))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

fn free_text(s: &str, label: &str, max: usize) -> Result<(), String> {
    if has_control(s) {
        return Err(format!("{label}に使用できない文字が含まれています。"));
    }
    if char_count(s) > max {
        return Err(format!("{label}は{max}文字以内で入力してください。"));
    }
    Ok(())
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
text_impls!(PostalCode, Prefecture, AddressLine, BuildingName);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn postal_codes_with_or_without_hyphen_any_width() {
        for raw in [
            "113-8621",
            "1138621",
            "１１３－８６２１",
            "１１３８６２１",
            "113ー8621",
            "113−8621",
            "〒113-8621",
            "〒 113-8621",
            " 113-8621 ",
        ] {
            assert_eq!(
                PostalCode::parse(raw).map(|p| p.to_string()),
                Ok("113-8621".to_owned()),
                "{raw}"
            );
        }
        assert_eq!(
            PostalCode::parse("113-8621").map(|p| p.digits()),
            Ok("1138621".to_owned())
        );
        assert_eq!(
            PostalCode::parse("113-8621").map(|p| p.number()),
            Ok(1138621)
        );
        assert_eq!(
            PostalCode::parse("000-0001").map(|p| (p.to_string(), p.number())),
            Ok(("000-0001".to_owned(), 1))
        );
    }

    #[test]
    fn other_postal_shapes_are_refused() {
        let msg = Err("郵便番号は半角数字7桁で入力してください（例：113-8621）。".to_owned());
        for bad in [
            "113862",
            "11386211",
            "1138-621",
            "113--8621",
            "11-38621",
            "113 8621",
            "abc-defg",
            "113-862a",
            "-1138621",
            "1138621-",
        ] {
            assert_eq!(PostalCode::parse(bad), msg, "{bad}");
        }
        assert_eq!(
            PostalCode::parse(""),
            Err("郵便番号を入力してください。".to_owned())
        );
    }

    #[test]
    fn postal_text_shown_back() {
        assert_eq!(normalize_postal_text("１１３８６２１"), "113-8621");
        assert_eq!(normalize_postal_text("〒１１３"), "113");
    }

    #[test]
    fn prefecture_from_the_catalog() {
        assert_eq!(
            Prefecture::parse("東京都").map(|p| p.to_string()),
            Ok("東京都".to_owned())
        );
        assert_eq!(
            Prefecture::parse(""),
            Err("都道府県を選択してください。".to_owned())
        );
        assert_eq!(
            Prefecture::parse("東京"),
            Err("都道府県を一覧から選択してください。".to_owned())
        );
    }

    #[test]
    fn address_is_free_text_up_to_200() {
        assert_eq!(
            AddressLine::parse("文京区本駒込2-28-16").map(|a| a.to_string()),
            Ok("文京区本駒込2-28-16".to_owned())
        );
        assert_eq!(
            AddressLine::parse("ﾎﾝｺﾏｺﾞﾒ").map(|a| a.to_string()),
            Ok("ホンコマゴメ".to_owned())
        );
        assert!(AddressLine::parse(&"あ".repeat(200)).is_ok());
        assert_eq!(
            AddressLine::parse(&"あ".repeat(201)),
            Err("住所（番地まで）は200文字以内で入力してください。".to_owned())
        );
        assert_eq!(
            AddressLine::parse("文京区\n本駒込"),
            Err("住所（番地まで）に使用できない文字が含まれています。".to_owned())
        );
        assert_eq!(
            AddressLine::parse(" "),
            Err("住所（番地まで）を入力してください。".to_owned())
        );
    }

    #[test]
    fn building_is_mixed_width_up_to_50() {
        assert!(BuildingName::parse("〇〇ビル00階00号室").is_ok());
        assert!(BuildingName::parse("Grand Tower 501").is_ok());
        assert!(BuildingName::parse(&"a".repeat(50)).is_ok());
        assert_eq!(
            BuildingName::parse(&"ビ".repeat(51)),
            Err("建物名、部屋番号などは50文字以内で入力してください。".to_owned())
        );
    }
}
