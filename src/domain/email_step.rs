//! The e-mail step (Screen 3): the address twice, both 半角100文字以内, equal.

use serde::{Deserialize, Serialize};

use super::{Email, FieldError, FieldErrors};
use crate::text::normalize_halfwidth_field;

/// The form as posted.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct EmailForm {
    pub email: String,
    pub email_confirm: String,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum EmailField {
    Email,
    EmailConfirm,
}

impl EmailField {
    pub const ALL: [EmailField; 2] = [EmailField::Email, EmailField::EmailConfirm];

    /// The HTML `name` and `id`.
    pub const fn name(self) -> &'static str {
        match self {
            EmailField::Email => "email",
            EmailField::EmailConfirm => "email_confirm",
        }
    }

    pub const fn label(self) -> &'static str {
        match self {
            EmailField::Email => super::email::LABEL,
            EmailField::EmailConfirm => "メールアドレス（確認用）",
        }
    }

    /// The rule shown under both fields, as in the manual.
    pub fn hint(self) -> &'static str {
        "(半角英数字・記号 100文字以内)"
    }

    /// A message on this field.
    pub fn error(self, message: impl Into<String>) -> FieldError {
        FieldError::new(self.name(), self.label(), message)
    }

    pub fn from_name(s: &str) -> Option<EmailField> {
        EmailField::ALL.into_iter().find(|f| f.name() == s)
    }
}

impl EmailForm {
    /// Full-width ASCII to half-width, white space trimmed: as shown back.
    pub fn normalized(&self) -> Self {
        Self {
            email: normalize_halfwidth_field(&self.email),
            email_confirm: normalize_halfwidth_field(&self.email_confirm),
        }
    }
}

fn check(form: &EmailForm, field: EmailField) -> Result<(), String> {
    match field {
        EmailField::Email => Email::parse(&form.email).map(drop),
        EmailField::EmailConfirm => {
            let confirm = normalize_halfwidth_field(&form.email_confirm);
            if confirm.is_empty() {
                Err("確認用メールアドレスを入力してください。".to_owned())
            } else if confirm != normalize_halfwidth_field(&form.email) {
                Err("確認用メールアドレスが一致しません。".to_owned())
            } else {
                Ok(())
            }
        }
    }
}

/// Both fields checked, every message at once.
pub fn validate_email_step(form: &EmailForm) -> Result<Email, FieldErrors> {
    let mut errors = FieldErrors::default();
    for f in EmailField::ALL {
        if let Err(m) = check(form, f) {
            errors.push(f.error(m));
        }
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    Email::parse(&form.email).map_err(|m| Some(EmailField::Email.error(m)).into())
}

/// The inline check of one field; the confirmation is compared with the
/// address as soon as it is filled.
pub fn check_email_field(form: &EmailForm, field: EmailField) -> Option<String> {
    check(form, field).err()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form(email: &str, confirm: &str) -> EmailForm {
        EmailForm {
            email: email.to_owned(),
            email_confirm: confirm.to_owned(),
        }
    }

    /// The messages, by field.
    fn messages(r: Result<Email, FieldErrors>) -> Result<Email, Vec<(EmailField, String)>> {
        r.map_err(|errors| {
            errors
                .iter()
                .filter_map(|e| EmailField::from_name(&e.name).map(|f| (f, e.message.clone())))
                .collect()
        })
    }

    #[test]
    fn matching_addresses_pass() {
        let ok = validate_email_step(&form("taro@example.jp", "taro@example.jp"));
        assert_eq!(ok.map(|e| e.to_string()), Ok("taro@example.jp".to_owned()));
        let wide = validate_email_step(&form("ｔａｒｏ＠ｅｘａｍｐｌｅ．ｊｐ", "taro@example.jp "));
        assert_eq!(
            wide.map(|e| e.to_string()),
            Ok("taro@example.jp".to_owned())
        );
    }

    #[test]
    fn every_problem_at_once() {
        assert_eq!(
            messages(validate_email_step(&form("", ""))),
            Err(vec![
                (
                    EmailField::Email,
                    "メールアドレスを入力してください。".to_owned()
                ),
                (
                    EmailField::EmailConfirm,
                    "確認用メールアドレスを入力してください。".to_owned()
                ),
            ])
        );
        assert_eq!(
            messages(validate_email_step(&form(
                "taro@example",
                "taro@example.jp"
            ))),
            Err(vec![
                (
                    EmailField::Email,
                    "メールアドレスの形式が正しくありません。".to_owned()
                ),
                (
                    EmailField::EmailConfirm,
                    "確認用メールアドレスが一致しません。".to_owned()
                ),
            ])
        );
        assert_eq!(
            messages(validate_email_step(&form(
                "taro@example.jp",
                "Taro@example.jp"
            ))),
            Err(vec![(
                EmailField::EmailConfirm,
                "確認用メールアドレスが一致しません。".to_owned()
            )])
        );
    }

    #[test]
    fn inline_checks() {
        let f = form("taro@example.jp", "taro@exampl.jp");
        assert_eq!(check_email_field(&f, EmailField::Email), None);
        assert_eq!(
            check_email_field(&f, EmailField::EmailConfirm).as_deref(),
            Some("確認用メールアドレスが一致しません。")
        );
        assert_eq!(
            EmailField::from_name("email_confirm"),
            Some(EmailField::EmailConfirm)
        );
    }

    #[test]
    fn deserialises_with_missing_fields() {
        let f: Result<EmailForm, _> = serde_json::from_str(r#"{"email":"a@b.jp"}"#);
        assert_eq!(f.ok(), Some(form("a@b.jp", "")));
    }
}
