//! 診療科名: a department from the coded list, shown as code+name (`01内科`).

use serde::{Deserialize, Serialize};

use super::rules::not_chosen;
use crate::text::normalize_halfwidth_field;

#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct DepartmentCode {
    code: String,
    /// Kept so that the confirmation screen and stored records read the same
    /// even if the list is renamed later.
    name: String,
}

impl DepartmentCode {
    pub fn parse(s: &str) -> Result<Self, String> {
        Self::parse_as(s, super::Group::Departments.label())
    }

    /// Reads the code (`01`) or the code with its name (`01内科`), naming the
    /// field `label` in the messages.
    pub fn parse_as(s: &str, label: &str) -> Result<Self, String> {
        let s = normalize_halfwidth_field(s);
        if s.is_empty() {
            return Err(not_chosen(label));
        }
        let found = crate::catalog::department(&s).or_else(|| {
            let split = s.find(|c: char| !c.is_ascii_alphanumeric())?;
            let (code, name) = s.split_at(split);
            crate::catalog::department(code).filter(|d| d.name == name)
        });
        match found {
            Some(d) => Ok(Self {
                code: d.code.to_string(),
                name: d.name.to_string(),
            }),
            None => Err(format!("{label}を一覧から選択してください。")),
        }
    }

    pub fn code(&self) -> &str {
        &self.code
    }

    pub fn name(&self) -> &str {
        &self.name
    }
}

/// `01内科`
impl std::fmt::Display for DepartmentCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}{}", self.code, self.name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn by_code_or_code_and_name() {
        for raw in ["01", "０１", "01内科", " 01 "] {
            let d = DepartmentCode::parse_as(raw, "主たる科名");
            assert_eq!(d.as_ref().map(|d| d.code()), Ok("01"), "{raw}");
            assert_eq!(d.map(|d| d.to_string()), Ok("01内科".to_owned()), "{raw}");
        }
    }

    #[test]
    fn unknown_codes_are_refused() {
        let msg = Err("主たる科名を一覧から選択してください。".to_owned());
        for bad in ["99", "01外科", "内科", "1"] {
            assert_eq!(DepartmentCode::parse_as(bad, "主たる科名"), msg, "{bad}");
        }
        assert_eq!(
            DepartmentCode::parse_as("", "主たる科名"),
            Err("主たる科名を選択してください。".to_owned())
        );
    }
}
