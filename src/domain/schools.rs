//! 出身校, 大学院 (大学名, 学部・学科名等名称) and 所属学会.
//!
//! A name that is exactly a catalogue entry is `Listed` (its id kept);
//! anything else is the user's own text, `Unlisted`, under the 全角 length
//! rule the manual gives for "not in the list".

use serde::{Deserialize, Serialize};

use super::rules::{is_fullwidth_within, missing, quote};
use crate::catalog::Catalog;
use crate::text::normalize_fullwidth_field;

/// A catalogue entry as chosen.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ListedEntry {
    pub id: String,
    pub name: String,
}

fn find(catalog: &Catalog, name: &str) -> Option<ListedEntry> {
    catalog.find_exact(name).map(|e| ListedEntry {
        id: e.id.to_string(),
        name: e.name.to_string(),
    })
}

const FACULTY: &str = "医学部";

/// 出身校: a medical school from the list, or 全角30文字以内.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SchoolName {
    Listed(ListedEntry),
    Unlisted(String),
}

impl SchoolName {
    const LABEL: &'static str = "出身校";
    const MAX: usize = 30;

    /// Reads the name; `東北大学` and `東北大学医学部` both find the listed school.
    pub fn parse(s: &str) -> Result<Self, String> {
        let s = normalize_fullwidth_field(s);
        if s.is_empty() {
            return Err(missing(Self::LABEL));
        }
        let catalog = crate::catalog::medical_schools();
        let listed = find(catalog, &s).or_else(|| {
            s.strip_suffix(FACULTY)
                .filter(|base| !base.is_empty())
                .and_then(|base| find(catalog, base))
        });
        if let Some(entry) = listed {
            return Ok(Self::Listed(entry));
        }
        if is_fullwidth_within(&s, Self::MAX) {
            Ok(Self::Unlisted(s))
        } else {
            Err(format!(
                "{}は一覧から選択するか、全角{}文字以内で入力してください。",
                Self::LABEL,
                Self::MAX
            ))
        }
    }

    /// The name as chosen or typed (`東北大学`).
    pub fn name(&self) -> &str {
        match self {
            Self::Listed(e) => &e.name,
            Self::Unlisted(s) => s,
        }
    }

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

/// 大学院 大学名: a university from the list, or 全角50文字以内.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum UniversityName {
    Listed(ListedEntry),
    Unlisted(String),
}

impl UniversityName {
    const LABEL: &'static str = "大学院 大学名";
    const MAX: usize = 50;

    /// Reads the name (optional in the form: call it only when filled).
    pub fn parse(s: &str) -> Result<Self, String> {
        let s = normalize_fullwidth_field(s);
        if s.is_empty() {
            return Err(missing(Self::LABEL));
        }
        if let Some(entry) = find(crate::catalog::universities(), &s) {
            return Ok(Self::Listed(entry));
        }
        if is_fullwidth_within(&s, Self::MAX) {
            Ok(Self::Unlisted(s))
        } else {
            Err(format!(
                "{}は一覧から選択するか、全角{}文字以内で入力してください。",
                Self::LABEL,
                Self::MAX
            ))
        }
    }

    pub fn name(&self) -> &str {
        match self {
            Self::Listed(e) => &e.name,
            Self::Unlisted(s) => s,
        }
    }
}

/// 大学院 学部・学科名等名称: 全角100文字以内.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct GradDepartment(String);

impl GradDepartment {
    const LABEL: &'static str = "学部・学科名等名称";
    const MAX: usize = 100;

    /// Reads the name (optional in the form: call it only when filled).
    pub fn parse(s: &str) -> Result<Self, String> {
        let s = normalize_fullwidth_field(s);
        if s.is_empty() {
            return Err(missing(Self::LABEL));
        }
        if is_fullwidth_within(&s, Self::MAX) {
            Ok(Self(s))
        } else {
            Err(format!(
                "{}は全角{}文字以内で入力してください。",
                Self::LABEL,
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

/// 所属学会: a society of 日本医学会 from the list, or 全角20文字以内.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SocietyName {
    Listed(ListedEntry),
    Unlisted(String),
}

impl SocietyName {
    const LABEL: &'static str = "所属学会";
    const MAX: usize = 20;

    /// Reads one entry of the list; the message quotes it, as the field holds
    /// several.
    pub fn parse(s: &str) -> Result<Self, String> {
        let s = normalize_fullwidth_field(s);
        if s.is_empty() {
            return Err(missing(Self::LABEL));
        }
        if let Some(entry) = find(crate::catalog::societies(), &s) {
            return Ok(Self::Listed(entry));
        }
        if is_fullwidth_within(&s, Self::MAX) {
            Ok(Self::Unlisted(s))
        } else {
            Err(format!(
                "{}「{}」は一覧から選択するか、全角{}文字以内で入力してください。",
                Self::LABEL,
                quote(&s),
                Self::MAX
            ))
        }
    }

    pub fn name(&self) -> &str {
        match self {
            Self::Listed(e) => &e.name,
            Self::Unlisted(s) => s,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
