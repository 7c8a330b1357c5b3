//! The fields of the registration form (Screen 4), in screen order, and the
//! per-field error list.

use std::collections::BTreeMap;

/// One field of the registration form. The declaration order is the screen
/// order, which `Ord` and [`Field::ALL`] follow.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Field {
    LoginId,
    Password,
    RegistryNumber,
    RegistryDate,
    KanaLast,
    KanaFirst,
    NameLast,
    NameFirst,
    FormerKanaLast,
    FormerKanaFirst,
    FormerNameLast,
    FormerNameFirst,
    UseFormerName,
    PostalCode,
    Prefecture,
    Address,
    Building,
    Mobile,
    Tel,
    Fax,
    BirthDate,
    Gender,
    MainDept,
    SubDepts,
    School,
    Graduation,
    GradUniversity,
    GradDepartment,
    GradCompletion,
    DegreeDate,
    Societies,
}

const DATE_HINT: &str = "（半角入力　例：1995/05/01、和暦も可：平成7年5月1日）";
const YEAR_MONTH_HINT: &str = "（半角入力　例：1995/03、和暦も可：平成7年3月）";
const KANA_HINT: &str = "（全角カタカナ64文字以内）";
const KANJI_HINT: &str = "（全角32文字以内）";
const PHONE_HINT: &str = "（半角15文字以内、ハイフンあり）";

impl Field {
    pub const ALL: [Field; 31] = [
        Field::LoginId,
        Field::Password,
        Field::RegistryNumber,
        Field::RegistryDate,
        Field::KanaLast,
        Field::KanaFirst,
        Field::NameLast,
        Field::NameFirst,
        Field::FormerKanaLast,
        Field::FormerKanaFirst,
        Field::FormerNameLast,
        Field::FormerNameFirst,
        Field::UseFormerName,
        Field::PostalCode,
        Field::Prefecture,
        Field::Address,
        Field::Building,
        Field::Mobile,
        Field::Tel,
        Field::Fax,
        Field::BirthDate,
        Field::Gender,
        Field::MainDept,
        Field::SubDepts,
        Field::School,
        Field::Graduation,
        Field::GradUniversity,
        Field::GradDepartment,
        Field::GradCompletion,
        Field::DegreeDate,
        Field::Societies,
    ];

    /// The HTML `name` and `id`.
    pub fn name(self) -> &'static str {
        match self {
            Field::LoginId => "login_id",
            Field::Password => "password",
            Field::RegistryNumber => "registry_number",
            Field::RegistryDate => "registry_date",
            Field::KanaLast => "kana_last",
            Field::KanaFirst => "kana_first",
            Field::NameLast => "name_last",
            Field::NameFirst => "name_first",
            Field::FormerKanaLast => "former_kana_last",
            Field::FormerKanaFirst => "former_kana_first",
            Field::FormerNameLast => "former_name_last",
            Field::FormerNameFirst => "former_name_first",
            Field::UseFormerName => "use_former_name",
            Field::PostalCode => "postal_code",
            Field::Prefecture => "prefecture",
            Field::Address => "address",
            Field::Building => "building",
            Field::Mobile => "mobile",
            Field::Tel => "tel",
            Field::Fax => "fax",
            Field::BirthDate => "birth_date",
            Field::Gender => "gender",
            Field::MainDept => "main_dept",
            Field::SubDepts => "sub_depts",
            Field::School => "school",
            Field::Graduation => "graduation",
            Field::GradUniversity => "grad_university",
            Field::GradDepartment => "grad_department",
            Field::GradCompletion => "grad_completion",
            Field::DegreeDate => "degree_date",
            Field::Societies => "societies",
        }
    }

    /// The label as on the screen; also the name used in messages.
    pub fn label(self) -> &'static str {
        match self {
            Field::LoginId => "ログインID",
            Field::Password => "パスワード",
            Field::RegistryNumber => "医籍登録番号",
            Field::RegistryDate => "医籍登録日",
            Field::KanaLast => "セイ（フリガナ）",
            Field::KanaFirst => "メイ（フリガナ）",
            Field::NameLast => "姓",
            Field::NameFirst => "名",
            Field::FormerKanaLast => "旧姓（フリガナ）",
            Field::FormerKanaFirst => "旧名（フリガナ）",
            Field::FormerNameLast => "旧姓",
            Field::FormerNameFirst => "旧名",
            Field::UseFormerName => "送付物の宛名に旧姓・旧名を使用する",
            Field::PostalCode => "郵便番号",
            Field::Prefecture => "都道府県",
            Field::Address => "住所（番地まで）",
            Field::Building => "建物名、部屋番号など",
            Field::Mobile => "携帯電話番号",
            Field::Tel => "TEL",
            Field::Fax => "FAX",
            Field::BirthDate => "生年月日",
            Field::Gender => "性別",
            Field::MainDept => "主たる科名",
            Field::SubDepts => "担当する科名",
            Field::School => "出身校",
            Field::Graduation => "卒業年月",
            Field::GradUniversity => "大学院 大学名",
            Field::GradDepartment => "学部・学科名等名称",
            Field::GradCompletion => "大学院修了年月",
            Field::DegreeDate => "学位取得年月（博士号）",
            Field::Societies => "所属学会",
        }
    }

    /// The input rule shown under the field, in the manual's words (empty
    /// when the manual shows none).
    pub fn hint(self) -> &'static str {
        match self {
            Field::LoginId => "（半角英数字・記号 8文字以上、32文字以内）※使用できる記号 %!@#&",
            Field::Password => {
                "パスワードは、半角英字・数字・記号の3種類すべてを使用し、8文字以上で登録してください。※使用できる記号 !@%&#"
            }
            Field::RegistryNumber => "（半角数字6文字）",
            Field::RegistryDate | Field::BirthDate => DATE_HINT,
            Field::KanaLast | Field::KanaFirst | Field::FormerKanaLast | Field::FormerKanaFirst => {
                KANA_HINT
            }
            Field::NameLast | Field::NameFirst | Field::FormerNameLast | Field::FormerNameFirst => {
                KANJI_HINT
            }
            Field::UseFormerName => "（旧名が空欄の場合は旧姓のみ使用）",
            Field::PostalCode => "（半角数字7文字とハイフン）",
            Field::Building => "（全角/半角50文字以内）",
            Field::Mobile | Field::Tel | Field::Fax => PHONE_HINT,
            Field::School => {
                "※（部分一致）大学名の一部を入力してください（全角入力）。上欄に登録がない出身校の場合は、大学名を入力してください（全角30文字以内）"
            }
            Field::Graduation | Field::GradCompletion | Field::DegreeDate => YEAR_MONTH_HINT,
            Field::GradUniversity => "※（部分一致）大学名の一部を入力してください（全角入力）",
            Field::GradDepartment => "（全角100文字以内）",
            Field::Societies => {
                "※（部分一致）所属学会名の一部を入力してください（全角入力）。上欄に登録がない所属学会は、全角20文字以内で入力してください"
            }
            Field::Prefecture
            | Field::Address
            | Field::Gender
            | Field::MainDept
            | Field::SubDepts => "",
        }
    }

    /// 必須
    pub fn required(self) -> bool {
        matches!(
            self,
            Field::LoginId
                | Field::Password
                | Field::RegistryNumber
                | Field::RegistryDate
                | Field::KanaLast
                | Field::KanaFirst
                | Field::NameLast
                | Field::NameFirst
                | Field::PostalCode
                | Field::Prefecture
                | Field::Address
                | Field::Mobile
                | Field::BirthDate
                | Field::MainDept
                | Field::School
                | Field::Graduation
        )
    }

    /// Fields that hold several values (repeated keys in the form body).
    pub fn is_list(self) -> bool {
        matches!(self, Field::SubDepts | Field::Societies)
    }

    /// Fields whose check also reads this field: when this one changes, they
    /// should be checked again (the cross-field message shows on them).
    pub fn dependents(self) -> &'static [Field] {
        match self {
            Field::LoginId => &[Field::Password],
            Field::BirthDate => &[
                Field::RegistryDate,
                Field::Graduation,
                Field::GradCompletion,
                Field::DegreeDate,
            ],
            Field::FormerNameLast => &[Field::UseFormerName],
            _ => &[],
        }
    }

    pub fn from_name(s: &str) -> Option<Field> {
        Field::ALL.into_iter().find(|f| f.name() == s)
    }
}

/// The messages of a form's fields, in screen order.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FieldErrors(BTreeMap<Field, String>);

impl FieldErrors {
    pub fn get(&self, f: Field) -> Option<&str> {
        self.0.get(&f).map(String::as_str)
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// In screen order.
    pub fn iter(&self) -> impl Iterator<Item = (Field, &str)> {
        self.0.iter().map(|(f, m)| (*f, m.as_str()))
    }

    /// Replaces any earlier message for `f`.
    pub fn insert(&mut self, f: Field, msg: String) {
        self.0.insert(f, msg);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_are_unique() {
        for f in Field::ALL {
            assert_eq!(Field::from_name(f.name()), Some(f));
            assert!(!f.label().is_empty());
        }
        let mut names: Vec<_> = Field::ALL.iter().map(|f| f.name()).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), Field::ALL.len());
        assert_eq!(Field::from_name("nope"), None);
    }

    #[test]
    fn all_is_in_declaration_order() {
        assert!(Field::ALL.windows(2).all(|w| w[0] < w[1]));
    }

    #[test]
    fn errors_iterate_in_screen_order() {
        let mut e = FieldErrors::default();
        e.insert(Field::Societies, "c".into());
        e.insert(Field::LoginId, "a".into());
        e.insert(Field::BirthDate, "b".into());
        e.insert(Field::LoginId, "a2".into());
        let got: Vec<_> = e.iter().collect();
        assert_eq!(
            got,
            vec![
                (Field::LoginId, "a2"),
                (Field::BirthDate, "b"),
                (Field::Societies, "c")
            ]
        );
        assert_eq!(e.len(), 3);
        assert_eq!(e.get(Field::BirthDate), Some("b"));
        assert_eq!(e.get(Field::Tel), None);
    }
}
