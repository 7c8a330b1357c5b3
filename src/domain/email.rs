//! メールアドレス: 半角 100 characters at most, `local@domain.tld`.
//!
//! The local part accepts the dot-atom characters anywhere, including the
//! consecutive dots and the dot before `@` that older Japanese mobile-carrier
//! addresses have (`taro..yamada.@docomo.ne.jp`): those addresses exist and
//! receive mail. The domain needs at least two labels and a top-level label
//! of letters (or an `xn--` IDN label).

use serde::{Deserialize, Serialize};

use crate::text::normalize_halfwidth_field;

const MAX: usize = 100;
/// The field's name in messages and on the e-mail step.
pub(crate) const LABEL: &str = "メールアドレス";

#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Email(String);

impl Email {
    /// Parses what was typed; full-width ASCII counts as half-width.
    pub fn parse(s: &str) -> Result<Self, String> {
        Self::parse_as(s, LABEL)
    }

    /// As [`Email::parse`], naming the field `label` in the messages.
    pub fn parse_as(s: &str, label: &str) -> Result<Self, String> {
        let s = normalize_halfwidth_field(s);
        if s.is_empty() {
            return Err(super::rules::missing(label));
        }
        if s.chars().count() > MAX {
            return Err(format!("{label}は半角{MAX}文字以内で入力してください。"));
        }
        if !is_address(&s) {
            return Err(format!("{label}の形式が正しくありません。"));
        }
        Ok(Self(s))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Lower-cased form, for "is this address already registered?" checks.
    pub fn key(&self) -> String {
        self.0.to_ascii_lowercase()
    }
}

fn is_address(s: &str) -> bool {
    let Some((local, domain)) = s.split_once('@') else {
        return false;
    };
    is_local_part(local) && is_domain(domain)
}

fn is_local_part(local: &str) -> bool {
    !local.is_empty()
        && local.len() <= 64
        && local
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "!#$%&'*+/=?^_`{|}~.-".contains(c))
        && local.chars().any(|c| c != '.')
}

fn is_domain(domain: &str) -> bool {
    let labels: Vec<&str> = domain.split('.').collect();
    let label_ok = |l: &&str| {
        !l.is_empty()
            && l.len() <= 63
            && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
            && !l.starts_with('-')
            && !l.ends_with('-')
    };
    let tld_ok = labels.last().is_some_and(|tld| {
        (tld.len() >= 2 && tld.chars().all(|c| c.is_ascii_alphabetic()))
            || (tld.len() > 4 && tld.to_ascii_lowercase().starts_with("xn--"))
    });
    labels.len() >= 2 && labels.iter().all(label_ok) && tld_ok
}

impl AsRef<str> for Email {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for Email {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_ordinary_and_japanese_carrier_addresses() {
        for ok in [
            "taro@example.jp",
            "taro.yamada+mamis@mail.example.co.jp",
            "taro..yamada.@docomo.ne.jp",
            "a_b-c@ezweb.ne.jp",
            "x@xn--eckwd4c7c.xn--zckzah",
            "UPPER@EXAMPLE.COM",
        ] {
            assert!(Email::parse(ok).is_ok(), "{ok}");
        }
    }

    #[test]
    fn rejects_what_is_not_an_address() {
        let format = Err("メールアドレスの形式が正しくありません。".to_owned());
        for bad in [
            "taro",
            "taro@",
            "@example.jp",
            "taro@example",
            "taro@@example.jp",
            "taro@exa mple.jp",
            "taro yamada@example.jp",
            "taro@example.j",
            "taro@-example.jp",
            "taro@example..jp",
            "taro@example.jp.",
            "たろう@example.jp",
            "taro@例え.jp",
            "...@example.jp",
            "taro@example.123",
            &format!("{}@example.jp", "a".repeat(65)),
        ] {
            assert_eq!(Email::parse(bad), format, "{bad}");
        }
    }

    #[test]
    fn length_and_missing() {
        let long = format!("{}@{}.jp", "a".repeat(40), "b".repeat(56));
        assert_eq!(long.len(), 100);
        assert!(Email::parse(&long).is_ok());
        let too_long = format!("{}@{}.jp", "a".repeat(41), "b".repeat(56));
        assert_eq!(
            Email::parse(&too_long),
            Err("メールアドレスは半角100文字以内で入力してください。".to_owned())
        );
        assert_eq!(
            Email::parse(""),
            Err("メールアドレスを入力してください。".to_owned())
        );
    }

    #[test]
    fn fullwidth_address_is_accepted_after_normalisation() {
        assert_eq!(
            Email::parse("ｔａｒｏ＠ｅｘａｍｐｌｅ．ｊｐ").map(|e| e.to_string()),
            Ok("taro@example.jp".to_owned())
        );
    }
}
