//! What staff type about an association (名称, 種別, contact details) and its parsing into typed values with Japanese messages, shared by the console form and the CSV import.

use serde::Deserialize;

use super::{
    FieldError, FieldErrors, PhoneNumber, PostalCode, Prefecture,
    association::{AssociationKind, Contact},
    rules::{char_count, control_message, has_control, missing, not_chosen},
};
use crate::text::normalize_fullwidth_field;

/// The longest association name accepted.
pub const NAME_MAX: usize = 60;
/// The longest address accepted.
pub const ADDRESS_MAX: usize = 200;

/// Labels of the fields, as on the screen and in the audit log.
pub const NAME: &str = "名称";
pub const KIND: &str = "種別";
pub const PARENT: &str = "都道府県医師会";
pub const POSTAL_CODE: &str = "郵便番号";
pub const ADDRESS: &str = "住所";
pub const PHONE: &str = "電話番号";

/// The kinds a 郡市区等医師会 may have, as offered in the form.
pub const LOCAL_KINDS: [(&str, AssociationKind); 3] = [
    ("郡市区", AssociationKind::District),
    ("大学", AssociationKind::University),
    ("職域", AssociationKind::Workplace),
];

/// The contact details as typed (all optional).
#[derive(Clone, Debug, Default, Deserialize)]
pub struct ContactForm {
    #[serde(default)]
    pub postal_code: String,
    #[serde(default)]
    pub address: String,
    #[serde(default)]
    pub phone: String,
}

impl ContactForm {
    /// The form showing `contact`.
    pub fn of(contact: &Contact) -> ContactForm {
        ContactForm {
            postal_code: contact
                .postal_code
                .as_ref()
                .map(|p| p.as_str().to_owned())
                .unwrap_or_default(),
            address: contact.address.clone().unwrap_or_default(),
            phone: contact
                .phone
                .as_ref()
                .map(|p| p.as_str().to_owned())
                .unwrap_or_default(),
        }
    }

    /// Parses each filled field with the registration's parsers; an empty
    /// field is none. Every error at once.
    pub fn parse(&self) -> Result<Contact, FieldErrors> {
        let mut errors = FieldErrors::default();
        let mut contact = Contact::default();
        if !self.postal_code.trim().is_empty() {
            match PostalCode::parse(&self.postal_code) {
                Ok(p) => contact.postal_code = Some(p),
                Err(m) => errors.push(FieldError::new("postal_code", POSTAL_CODE, m)),
            }
        }
        let address = normalize_fullwidth_field(&self.address);
        if !address.is_empty() {
            if has_control(&address) {
                errors.push(FieldError::new(
                    "address",
                    ADDRESS,
                    control_message(ADDRESS),
                ));
            } else if char_count(&address) > ADDRESS_MAX {
                errors.push(FieldError::new(
                    "address",
                    ADDRESS,
                    format!("{ADDRESS}は{ADDRESS_MAX}文字以内で入力してください。"),
                ));
            } else {
                contact.address = Some(address);
            }
        }
        if !self.phone.trim().is_empty() {
            match PhoneNumber::parse_as(&self.phone, PHONE, "03-3946-2121") {
                Ok(p) => contact.phone = Some(p),
                Err(m) => errors.push(FieldError::new("phone", PHONE, m)),
            }
        }
        if errors.is_empty() {
            Ok(contact)
        } else {
            Err(errors)
        }
    }
}

/// A new 郡市区等医師会, parsed (its parent is resolved by the use case).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewAssociation {
    pub name: String,
    pub kind: AssociationKind,
    pub contact: Contact,
}

/// An association's name: width-normalised, 1 to `NAME_MAX` characters.
pub fn parse_name(s: &str) -> Result<String, String> {
    let name = normalize_fullwidth_field(s);
    if name.is_empty() {
        return Err(missing(NAME));
    }
    if has_control(&name) {
        return Err(control_message(NAME));
    }
    if char_count(&name) > NAME_MAX {
        return Err(format!("{NAME}は{NAME_MAX}文字以内で入力してください。"));
    }
    Ok(name)
}

/// The kind of a 郡市区等医師会 (郡市区, 大学, 職域, with or without 医師会).
pub fn parse_kind(s: &str) -> Result<AssociationKind, String> {
    if s.trim().is_empty() {
        return Err(not_chosen(KIND));
    }
    AssociationKind::parse_local(s)
        .ok_or_else(|| format!("{KIND}は「郡市区」「大学」「職域」のいずれかにしてください。"))
}

/// The prefectural association named by a prefecture (東京都, or 13) or
/// by the association's own name (東京都医師会).
pub fn prefectural_name(s: &str) -> Result<String, String> {
    let s = s.trim();
    let prefecture = s.strip_suffix("医師会").unwrap_or(s);
    if prefecture.is_empty() {
        return Err(missing("都道府県"));
    }
    Prefecture::parse(prefecture)
        .map(|p| format!("{}医師会", p.as_str()))
        .map_err(|_| format!("都道府県「{s}」が正しくありません（例：東京都）。"))
}

/// The name, kind and contact details typed; every error at once.
pub fn parse_new(
    name: &str,
    kind: &str,
    contact: &ContactForm,
) -> Result<NewAssociation, FieldErrors> {
    let mut errors = FieldErrors::default();
    let name = parse_name(name).map_err(|m| errors.push(FieldError::new("name", NAME, m)));
    let kind = parse_kind(kind).map_err(|m| errors.push(FieldError::new("kind", KIND, m)));
    let contact = contact.parse().map_err(|e| {
        for e in e.iter() {
            errors.push(e.clone());
        }
    });
    match (name, kind, contact) {
        (Ok(name), Ok(kind), Ok(contact)) if errors.is_empty() => Ok(NewAssociation {
            name,
            kind,
            contact,
        }),
        _ => Err(errors),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn contact(postal_code: &str, address: &str, phone: &str) -> ContactForm {
        ContactForm {
            postal_code: postal_code.into(),
            address: address.into(),
            phone: phone.into(),
        }
    }

    #[test]
    fn empty_contact_fields_are_none_and_filled_ones_are_normalised() {
        assert_eq!(contact("", " ", "").parse().unwrap(), Contact::default());
        let c = contact(
            "１６０－００２３",
            "東京都新宿区西新宿１－１",
            "03-3946-2121",
        )
        .parse()
        .unwrap();
        assert_eq!(c.postal_code.unwrap().as_str(), "160-0023");
        assert_eq!(c.phone.unwrap().as_str(), "03-3946-2121");
        assert!(c.address.is_some());
    }

    #[test]
    fn every_bad_field_is_reported_with_the_registration_messages() {
        let errors = parse_new("", "県", &contact("12-34", "", "0312345678")).unwrap_err();
        assert_eq!(errors.message("name"), Some("名称を入力してください。"));
        assert!(errors.message("kind").is_some());
        assert_eq!(
            errors.message("postal_code"),
            Some("郵便番号は半角数字7桁で入力してください（例：113-8621）。")
        );
        assert_eq!(
            errors.message("phone"),
            Some("電話番号はハイフンを含めて入力してください（例：03-3946-2121）。")
        );
    }

    #[test]
    fn a_prefecture_is_named_by_itself_or_by_its_association() {
        assert_eq!(prefectural_name("東京都").unwrap(), "東京都医師会");
        assert_eq!(prefectural_name("東京都医師会").unwrap(), "東京都医師会");
        assert_eq!(prefectural_name(" 北海道 ").unwrap(), "北海道医師会");
        assert!(prefectural_name("東京").is_err());
        assert!(prefectural_name("").is_err());
    }
}
