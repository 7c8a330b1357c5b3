//! 性別: 男 / 女 / 回答しない (optional; not answering is a choice).

use serde::{Deserialize, Serialize};

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Gender {
    Male,
    Female,
    #[default]
    Unanswered,
}

impl Gender {
    pub const ALL: [Gender; 3] = [Gender::Male, Gender::Female, Gender::Unanswered];

    /// Reads the form value: `male`, `female`, or empty for 回答しない.
    pub fn parse(s: &str) -> Result<Self, String> {
        match crate::text::normalize_halfwidth_field(s).as_str() {
            "male" => Ok(Gender::Male),
            "female" => Ok(Gender::Female),
            "" | "unanswered" => Ok(Gender::Unanswered),
            _ => Err(format!(
                "{}を選択肢から選択してください。",
                super::Field::Gender.label()
            )),
        }
    }

    /// The value of the form control.
    pub fn form_value(self) -> &'static str {
        match self {
            Gender::Male => "male",
            Gender::Female => "female",
            Gender::Unanswered => "",
        }
    }

    /// 男 / 女 / 回答しない
    pub fn label(self) -> &'static str {
        match self {
            Gender::Male => "男",
            Gender::Female => "女",
            Gender::Unanswered => "回答しない",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn form_values_round_trip() {
        for g in Gender::ALL {
            assert_eq!(Gender::parse(g.form_value()), Ok(g));
        }
        assert_eq!(Gender::parse("male").map(Gender::label), Ok("男"));
        assert_eq!(Gender::parse("").map(Gender::label), Ok("回答しない"));
        assert_eq!(
            Gender::parse("other"),
            Err("性別を選択肢から選択してください。".to_owned())
        );
    }
}
