//! 出身校, 大学院 (大学名, 学部・学科名等名称) and 所属学会: the one
//! "listed or unlisted" choice type and its one parser, parameterised by
//! catalogue.
//!
//! A name that is exactly a catalogue entry is `Listed` (its id kept);
//! anything else is the user's own text, `Unlisted`, under the 全角 length
//! rule the manual gives for "not in the list".

use std::marker::PhantomData;

use serde::{Deserialize, Serialize};

use super::Field;
use super::rules::{is_fullwidth_within, missing, quote};
use crate::catalog::Catalog;
use crate::text::normalize_fullwidth_field;

/// What a catalogue choice is made from: its field, its catalogue and the
/// rule for names not in it.
pub trait Catalogued {
    /// The field the choice is made in; its label names it in messages.
    const FIELD: Field;
    /// At most this many 全角 characters for a name not in the catalogue.
    const MAX: usize;
    /// A suffix a typed name may carry that the catalogue names leave out.
    const SUFFIX: Option<&'static str> = None;
    /// Whether the message quotes the entry (a field holding several).
    const QUOTES_ENTRY: bool = false;
    fn catalog() -> &'static Catalog;
}

/// A medical school (出身校).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct MedicalSchool;

/// A university with graduate schools (大学院 大学名).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct University;

/// A society of 日本医学会 (所属学会).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Society;

const FACULTY: &str = "医学部";

impl Catalogued for MedicalSchool {
    const FIELD: Field = Field::School;
    const MAX: usize = 30;
    const SUFFIX: Option<&'static str> = Some(FACULTY);
    fn catalog() -> &'static Catalog {
        crate::catalog::medical_schools()
    }
}

impl Catalogued for University {
    const FIELD: Field = Field::GradUniversity;
    const MAX: usize = 50;
    fn catalog() -> &'static Catalog {
        crate::catalog::universities()
    }
}

impl Catalogued for Society {
    const FIELD: Field = Field::Societies;
    const MAX: usize = 20;
    const QUOTES_ENTRY: bool = true;
    fn catalog() -> &'static Catalog {
        crate::catalog::societies()
    }
}

/// A catalogue entry as chosen. Serialised as `{"id": …, "name": …}`.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(bound = "")]
pub struct ListedEntry<K> {
    pub id: String,
    pub name: String,
    #[serde(skip)]
    kind: PhantomData<K>,
}

impl<K> ListedEntry<K> {
    pub fn new(id: impl Into<String>, name: impl Into<String>) -> Self {
        Self {
            id: id.into(),
            name: name.into(),
            kind: PhantomData,
        }
    }
}

/// A name from catalogue `K`, or the user's own. Serialised as
/// `{"listed": {"id": …, "name": …}}` or `{"unlisted": "…"}`.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", bound = "")]
pub enum Choice<K> {
    Listed(ListedEntry<K>),
    Unlisted(String),
}

/// 出身校: a medical school from the list, or 全角30文字以内.
pub type SchoolName = Choice<MedicalSchool>;
/// 大学院 大学名: a university from the list, or 全角50文字以内.
pub type UniversityName = Choice<University>;
/// 所属学会 (one entry): a society of 日本医学会 from the list, or 全角20文字以内.
pub type SocietyName = Choice<Society>;

impl<K: Catalogued> Choice<K> {
    /// Reads a name (call it only when filled for an optional field). With a
    /// suffix rule, `東北大学` and `東北大学医学部` both find the listed school;
    /// in a list field the message quotes the entry.
    pub fn parse(s: &str) -> Result<Self, String> {
        let label = K::FIELD.label();
        let s = normalize_fullwidth_field(s);
        if s.is_empty() {
            return Err(missing(label));
        }
        if let Some(entry) = Self::find(&s) {
            return Ok(Self::Listed(entry));
        }
        if is_fullwidth_within(&s, K::MAX) {
            return Ok(Self::Unlisted(s));
        }
        let what = if K::QUOTES_ENTRY {
            format!("{label}「{}」", quote(&s))
        } else {
            label.to_owned()
        };
        Err(format!(
            "{what}は一覧から選択するか、全角{}文字以内で入力してください。",
            K::MAX
        ))
    }

    fn find(s: &str) -> Option<ListedEntry<K>> {
        let exact = |name: &str| {
            K::catalog()
                .find_exact(name)
                .map(|e| ListedEntry::new(e.id, e.name))
        };
        exact(s).or_else(|| {
            let base = s.strip_suffix(K::SUFFIX?)?;
            if base.is_empty() { None } else { exact(base) }
        })
    }
}

impl<K> Choice<K> {
    /// The name as chosen or typed (`東北大学`).
    pub fn name(&self) -> &str {
        match self {
            Self::Listed(e) => &e.name,
            Self::Unlisted(s) => s,
        }
    }

    pub fn is_listed(&self) -> bool {
        matches!(self, Self::Listed(_))
    }

    /// The same choice: the same catalogue entry, or the same own text.
    pub fn same_as(&self, other: &Self) -> bool {
        match (self, other) {
            (Self::Listed(a), Self::Listed(b)) => a.id == b.id,
            (a, b) => a.name() == b.name(),
        }
    }
}

impl SchoolName {
    /// As the form and the confirmation screen show it: `東北大学医学部`.
    pub fn with_faculty(&self) -> String {
        let name = self.name();
        if name.ends_with(FACULTY) {
            name.to_owned()
        } else {
            format!("{name}{FACULTY}")
        }
    }
}

/// 大学院 学部・学科名等名称: 全角100文字以内.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct GradDepartment(String);

impl GradDepartment {
    const MAX: usize = 100;

    /// Reads the name (optional in the form: call it only when filled).
    pub fn parse(s: &str) -> Result<Self, String> {
        let label = Field::GradDepartment.label();
        let s = normalize_fullwidth_field(s);
        if s.is_empty() {
            return Err(missing(label));
        }
        if is_fullwidth_within(&s, Self::MAX) {
            Ok(Self(s))
        } else {
            Err(format!(
                "{label}は全角{}文字以内で入力してください。",
                Self::MAX
            ))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for GradDepartment {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_parser_for_every_catalogue() {
        fn listed<K: Catalogued>(name: &str) -> bool {
            Choice::<K>::parse(name).is_ok_and(|c| c.is_listed() && c.name() == name)
        }
        assert!(listed::<MedicalSchool>("東北大学"));
        assert!(listed::<University>("東北大学"));
        assert!(listed::<Society>("日本内科学会"));
        // Each catalogue only knows its own entries.
        assert!(!listed::<MedicalSchool>("日本内科学会"));
        assert!(!listed::<Society>("東北大学"));
        // Only the medical school reads the faculty suffix.
        assert!(SchoolName::parse("東北大学医学部").is_ok_and(|c| c.is_listed()));
        assert!(UniversityName::parse("東北大学医学部").is_ok_and(|c| !c.is_listed()));
        // Every empty entry is named by its field's label.
        assert_eq!(
            UniversityName::parse(" "),
            Err("大学院 大学名を入力してください。".to_owned())
        );
        assert_eq!(
            SocietyName::parse(""),
            Err("所属学会を入力してください。".to_owned())
        );
    }

    #[test]
    fn choices_serialise_as_before() {
        let listed = SchoolName::parse("東北大学").map_err(|e| e.to_string());
        let json = listed
            .as_ref()
            .map(|c| serde_json::to_string(c).unwrap_or_default());
        let Ok(json) = json else {
            panic!("not parsed: {listed:?}");
        };
        assert!(json.starts_with(r#"{"listed":{"id":""#), "{json}");
        assert!(json.ends_with(r#"","name":"東北大学"}}"#), "{json}");
        let back: Result<SchoolName, _> = serde_json::from_str(&json);
        assert_eq!(back.ok().as_ref(), listed.as_ref().ok());
        let own = SocietyName::Unlisted("日本ほげ学会".to_owned());
        let json = serde_json::to_string(&own).unwrap_or_default();
        assert_eq!(json, r#"{"unlisted":"日本ほげ学会"}"#);
        let back: Result<SocietyName, _> = serde_json::from_str(&json);
        assert_eq!(back.ok(), Some(own));
    }

    #[test]
    fn the_same_choice_is_the_same_entry_or_the_same_text() {
        let a = SocietyName::parse("日本内科学会");
        let b = SocietyName::parse("日本内科学会 ");
        assert!(matches!((&a, &b), (Ok(x), Ok(y)) if x.same_as(y)));
        let own = SocietyName::Unlisted("日本内科学会".to_owned());
        assert!(a.is_ok_and(|x| x.same_as(&own)));
        let other = SocietyName::Listed(ListedEntry::new("999", "日本内科学会"));
        assert!(b.is_ok_and(|y| !y.same_as(&other)));
    }

    #[test]
    fn medical_school_listed_or_own_text() {
        let listed = SchoolName::parse("東北大学");
        assert!(matches!(&listed, Ok(SchoolName::Listed(e)) if e.name == "東北大学"));
        assert_eq!(SchoolName::parse("東北大学医学部"), listed);
        assert_eq!(SchoolName::parse(" 東北大学 "), listed);
        assert_eq!(
            listed.map(|s| s.with_faculty()),
            Ok("東北大学医学部".to_owned())
        );
        assert_eq!(
            SchoolName::parse("ハーバード大学"),
            Ok(SchoolName::Unlisted("ハーバード大学".to_owned()))
        );
        assert_eq!(
            SchoolName::parse("ﾊｰﾊﾞｰﾄﾞ大学医学部").map(|s| s.with_faculty()),
            Ok("ハーバード大学医学部".to_owned())
        );
        assert!(SchoolName::parse(&"医".repeat(30)).is_ok());
        let msg = Err("出身校は一覧から選択するか、全角30文字以内で入力してください。".to_owned());
        assert_eq!(SchoolName::parse(&"医".repeat(31)), msg);
        assert_eq!(SchoolName::parse("Harvard University"), msg);
        assert_eq!(
            SchoolName::parse(""),
            Err("出身校を入力してください。".to_owned())
        );
        assert!(matches!(
            SchoolName::parse("医学部"),
            Ok(SchoolName::Unlisted(_))
        ));
    }

    #[test]
    fn university_listed_or_own_text() {
        assert!(matches!(
            UniversityName::parse("京都大学"),
            Ok(UniversityName::Listed(_))
        ));
        assert!(matches!(
            UniversityName::parse(&"大".repeat(50)),
            Ok(UniversityName::Unlisted(_))
        ));
        assert_eq!(
            UniversityName::parse(&"大".repeat(51)),
            Err("大学院 大学名は一覧から選択するか、全角50文字以内で入力してください。".to_owned())
        );
    }

    #[test]
    fn grad_department_fullwidth_100() {
        assert!(GradDepartment::parse("医学研究科　内科学専攻").is_ok());
        assert!(GradDepartment::parse(&"科".repeat(100)).is_ok());
        let msg = Err("学部・学科名等名称は全角100文字以内で入力してください。".to_owned());
        assert_eq!(GradDepartment::parse(&"科".repeat(101)), msg);
        assert_eq!(GradDepartment::parse("医学研究科 内科学専攻"), msg);
    }

    #[test]
    fn society_listed_or_own_text() {
        assert!(matches!(
            SocietyName::parse("日本内科学会"),
            Ok(SocietyName::Listed(_))
        ));
        assert_eq!(
            SocietyName::parse("日本ほげ学会"),
            Ok(SocietyName::Unlisted("日本ほげ学会".to_owned()))
        );
        assert_eq!(
            SocietyName::parse("日本IVR学会"),
            Err(
                "所属学会「日本IVR学会」は一覧から選択するか、全角20文字以内で入力してください。"
                    .to_owned()
            )
        );
        assert!(SocietyName::parse(&"学".repeat(20)).is_ok());
        assert!(SocietyName::parse(&"学".repeat(21)).is_err());
    }
}
