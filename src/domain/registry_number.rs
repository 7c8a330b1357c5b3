//! 医籍登録番号: 半角数字6文字, kept as text so leading zeros stay.

use serde::{Deserialize, Serialize};

use crate::text::normalize_halfwidth_field;

#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct MedicalRegistryNumber(String);

impl MedicalRegistryNumber {
    /// Parses what was typed; full-width digits count as half-width.
    pub fn parse(s: &str) -> Result<Self, String> {
        let s = normalize_halfwidth_field(s);
        let label = super::Field::RegistryNumber.label();
        if s.is_empty() {
            return Err(super::rules::missing(label));
        }
        if s.len() != 6 || !s.chars().all(|c| c.is_ascii_digit()) {
            return Err(format!("{label}は半角数字6文字で入力してください。"));
        }
        Ok(Self(s))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl AsRef<str> for MedicalRegistryNumber {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for MedicalRegistryNumber {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn six_digits_with_leading_zeros_kept() {
        assert_eq!(
            MedicalRegistryNumber::parse("012345").map(|n| n.to_string()),
            Ok("012345".to_owned())
        );
        assert_eq!(
            MedicalRegistryNumber::parse("１２３４５６").map(|n| n.to_string()),
            Ok("123456".to_owned())
        );
    }

    #[test]
    fn anything_else_is_refused() {
        let msg = Err("医籍登録番号は半角数字6文字で入力してください。".to_owned());
        for bad in [
            "12345",
            "1234567",
            "12345a",
            "12-345",
            "第123456号",
            "１２３ ４５６",
        ] {
            assert_eq!(MedicalRegistryNumber::parse(bad), msg, "{bad}");
        }
        assert_eq!(
            MedicalRegistryNumber::parse(""),
            Err("医籍登録番号を入力してください。".to_owned())
        );
    }
}
