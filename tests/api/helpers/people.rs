//! The people who register in the stories: their unique keys and a complete,
//! valid form.

/// The password of every applicant in these tests.
pub const PASSWORD: &str = "Kusuri#2024x";

/// Someone registering: the keys that must be unique, and the form.
#[derive(Clone, Debug)]
pub struct Applicant {
    pub email: String,
    pub login_id: String,
    pub registry_number: String,
}

impl Applicant {
    /// 山田太郎, the spec's example physician.
    pub fn yamada() -> Applicant {
        Applicant {
            email: "yamada@example.jp".into(),
            login_id: "doctor01".into(),
            registry_number: "123456".into(),
        }
    }

    /// The n-th of many distinct applicants.
    pub fn numbered(n: u32) -> Applicant {
        Applicant {
            email: format!("doctor{n}@example.jp"),
            login_id: format!("doctor{n:04}"),
            registry_number: format!("{}", 300_000 + n),
        }
    }

    /// A complete, valid form (the spec's example values).
    pub fn fields(&self) -> Vec<(String, String)> {
        [
            ("login_id", self.login_id.as_str()),
            ("password", PASSWORD),
            ("registry_number", self.registry_number.as_str()),
            ("registry_date", "平成20年5月1日"),
            ("kana_last", "やまだ"),
            ("kana_first", "ﾀﾛｳ"),
            ("name_last", "山田"),
            ("name_first", "太郎"),
            ("postal_code", "1138621"),
            ("prefecture", "東京都"),
            ("address", "文京区本駒込2-28-16"),
            ("mobile", "090-1234-5678"),
            ("birth_date", "1980/4/1"),
            ("main_dept", "01"),
            ("school", "東北大学"),
            ("graduation", "2006/3"),
            ("society_query", "日本内科学会"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect()
    }

    /// The form with some values replaced (or added).
    pub fn fields_with(&self, changes: &[(&str, &str)]) -> Vec<(String, String)> {
        with(self.fields(), changes)
    }
}

/// `fields` with the first value of each changed key replaced (added when
/// absent).
pub fn with(mut fields: Vec<(String, String)>, changes: &[(&str, &str)]) -> Vec<(String, String)> {
    for (k, v) in changes {
        match fields.iter_mut().find(|(fk, _)| fk == k) {
            Some(slot) => slot.1 = (*v).to_owned(),
            None => fields.push(((*k).to_owned(), (*v).to_owned())),
        }
    }
    fields
}
