//! The one descriptor of every field of the registration form (Screen 4):
//! name, label, hint, rule, input control and confirmation row, in screen order.
//!
//! The form, the inline check, the confirmation rows, the error summary and
//! (later) CSV headers all read [`Field::spec`]; a label is written here and
//! nowhere else.

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

/// The parser (and normalisation) a field's text goes through. A field that
/// is not required is parsed only when filled.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Rule {
    LoginId,
    Password,
    RegistryNumber,
    /// A calendar date (和暦 accepted), not in the future.
    Date,
    /// A year and month (和暦 accepted), not in the future.
    YearMonth,
    Kana,
    Kanji,
    /// A checkbox: nothing to parse.
    Flag,
    PostalCode,
    Prefecture,
    Address,
    Building,
    /// A phone number; `example` is quoted in its messages.
    Phone {
        example: &'static str,
    },
    Gender,
    Department,
    /// Several departments, none twice.
    Departments,
    /// A medical school, listed or not.
    School,
    /// A university, listed or not.
    University,
    GradDepartment,
    /// Several societies, listed or not, none twice.
    Societies,
}

/// How a field is entered on the page.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Control {
    Text,
    Password,
    Tel,
    /// A `<select>` of a catalogue.
    Select,
    Radio,
    Checkbox,
    /// Checkboxes, several may be ticked.
    Checklist,
    /// A text box with suggestions (partial match).
    Combobox,
    /// Chosen entries plus a search box with suggestions.
    MultiCombobox,
}

/// Fields shown together under one caption, on the form (a `fieldset`) and
/// in the names of the confirmation rows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Group {
    Name,
    FormerName,
    HomeAddress,
    Departments,
    GraduateSchool,
}

impl Group {
    pub fn label(self) -> &'static str {
        match self {
            Group::Name => "氏名",
            Group::FormerName => "旧姓・旧名",
            Group::HomeAddress => "自宅現住所",
            Group::Departments => "診療科名",
            Group::GraduateSchool => "大学院",
        }
    }

    /// Whether the caption carries the 任意 mark (every field in it optional).
    pub fn optional(self) -> bool {
        matches!(self, Group::FormerName | Group::GraduateSchool)
    }
}

/// How a field appears on the confirmation screen.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Review {
    /// A row of its own under the field's label.
    Row,
    /// A row of its own under another caption.
    RowAs(&'static str),
    /// A row under the group's label followed by `suffix`, holding this field
    /// and the next one (姓 and 名), joined by a full-width space; on the form
    /// the two stand side by side.
    Pair { suffix: &'static str },
    /// Shown in the row of the field before it.
    SecondOfPair,
    /// Not shown (the password).
    Hidden,
}

/// Everything about one field.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FieldSpec {
    pub field: Field,
    /// The HTML `name` and `id`; also the key in stored drafts.
    pub name: &'static str,
    /// The label as on the screen; also the name used in messages.
    pub label: &'static str,
    /// The input rule shown under the field, in the manual's words (empty
    /// when the manual shows none).
    pub hint: &'static str,
    /// 必須
    pub required: bool,
    pub rule: Rule,
    pub control: Control,
    pub maxlength: Option<usize>,
    pub autocomplete: Option<&'static str>,
    pub inputmode: Option<&'static str>,
    pub placeholder: Option<&'static str>,
    /// Checked while typing (debounced), not only on leaving the field.
    pub live: bool,
    pub group: Option<Group>,
    pub review: Review,
}

impl FieldSpec {
    const fn new(field: Field, name: &'static str, label: &'static str, rule: Rule) -> Self {
        Self {
            field,
            name,
            label,
            hint: "",
            required: false,
            rule,
            control: Control::Text,
            maxlength: None,
            autocomplete: None,
            inputmode: None,
            placeholder: None,
            live: false,
            group: None,
            review: Review::Row,
        }
    }

    const fn required(mut self) -> Self {
        self.required = true;
        self
    }

    const fn hint(mut self, hint: &'static str) -> Self {
        self.hint = hint;
        self
    }

    const fn control(mut self, control: Control) -> Self {
        self.control = control;
        self
    }

    const fn maxlength(mut self, n: usize) -> Self {
        self.maxlength = Some(n);
        self
    }

    const fn autocomplete(mut self, v: &'static str) -> Self {
        self.autocomplete = Some(v);
        self
    }

    const fn numeric(mut self) -> Self {
        self.inputmode = Some("numeric");
        self
    }

    const fn placeholder(mut self, v: &'static str) -> Self {
        self.placeholder = Some(v);
        self
    }

    const fn live(mut self) -> Self {
        self.live = true;
        self
    }

    const fn group(mut self, group: Group) -> Self {
        self.group = Some(group);
        self
    }

    const fn review(mut self, review: Review) -> Self {
        self.review = review;
        self
    }
}

const DATE_HINT: &str = "（半角入力　例：1995/05/01、和暦も可：平成7年5月1日）";
const YEAR_MONTH_HINT: &str = "（半角入力　例：1995/03、和暦も可：平成7年3月）";
const KANA_HINT: &str = "（全角カタカナ64文字以内）";
const KANJI_HINT: &str = "（全角32文字以内）";
const PHONE_HINT: &str = "（半角15文字以内、ハイフンあり）";
const MOBILE_EXAMPLE: &str = "090-1234-5678";
const LANDLINE_EXAMPLE: &str = "03-3946-2121";
const KANA_PAIR: Review = Review::Pair {
    suffix: "（フリガナ）",
};
const KANJI_PAIR: Review = Review::Pair { suffix: "" };

/// The descriptors, in [`Field::ALL`] order.
const SPECS: [FieldSpec; 31] = {
    use Field as F;
    use FieldSpec as S;
    [
        S::new(F::LoginId, "login_id", "ログインID", Rule::LoginId)
            .required()
            .hint("（半角英数字・記号 8文字以上、32文字以内）※使用できる記号 %!@#&")
            .maxlength(32)
            .autocomplete("username")
            .live(),
        S::new(F::Password, "password", "パスワード", Rule::Password)
            .required()
            .hint("パスワードは、半角英字・数字・記号の3種類すべてを使用し、8文字以上で登録してください。※使用できる記号 !@%&#")
            .control(Control::Password)
            .maxlength(128)
            .autocomplete("new-password")
            .live()
            .review(Review::Hidden),
        S::new(F::RegistryNumber, "registry_number", "医籍登録番号", Rule::RegistryNumber)
            .required()
            .hint("（半角数字6文字）")
            .maxlength(6)
            .numeric(),
        S::new(F::RegistryDate, "registry_date", "医籍登録日", Rule::Date)
            .required()
            .hint(DATE_HINT)
            .placeholder("例：2005/05/01"),
        S::new(F::KanaLast, "kana_last", "セイ（フリガナ）", Rule::Kana)
            .required()
            .hint(KANA_HINT)
            .autocomplete("family-name")
            .group(Group::Name)
            .review(KANA_PAIR),
        S::new(F::KanaFirst, "kana_first", "メイ（フリガナ）", Rule::Kana)
            .required()
            .hint(KANA_HINT)
            .autocomplete("given-name")
            .group(Group::Name)
            .review(Review::SecondOfPair),
        S::new(F::NameLast, "name_last", "姓", Rule::Kanji)
            .required()
            .hint(KANJI_HINT)
            .autocomplete("family-name")
            .group(Group::Name)
            .review(KANJI_PAIR),
        S::new(F::NameFirst, "name_first", "名", Rule::Kanji)
            .required()
            .hint(KANJI_HINT)
            .autocomplete("given-name")
            .group(Group::Name)
            .review(Review::SecondOfPair),
        S::new(F::FormerKanaLast, "former_kana_last", "旧姓（フリガナ）", Rule::Kana)
            .hint(KANA_HINT)
            .group(Group::FormerName)
            .review(KANA_PAIR),
        S::new(F::FormerKanaFirst, "former_kana_first", "旧名（フリガナ）", Rule::Kana)
            .hint(KANA_HINT)
            .group(Group::FormerName)
            .review(Review::SecondOfPair),
        S::new(F::FormerNameLast, "former_name_last", "旧姓", Rule::Kanji)
            .hint(KANJI_HINT)
            .group(Group::FormerName)
            .review(KANJI_PAIR),
        S::new(F::FormerNameFirst, "former_name_first", "旧名", Rule::Kanji)
            .hint(KANJI_HINT)
            .group(Group::FormerName)
            .review(Review::SecondOfPair),
        S::new(F::UseFormerName, "use_former_name", "送付物の宛名に旧姓・旧名を使用する", Rule::Flag)
            .hint("(旧名が空欄の場合は旧姓のみ使用)")
            .control(Control::Checkbox)
            .group(Group::FormerName)
            .review(Review::RowAs("送付物の宛名に旧姓・旧名を使用")),
        S::new(F::PostalCode, "postal_code", "郵便番号", Rule::PostalCode)
            .required()
            .hint("（半角数字7文字とハイフン）")
            .autocomplete("postal-code")
            .numeric()
            .placeholder("例：113-8621")
            .group(Group::HomeAddress),
        S::new(F::Prefecture, "prefecture", "都道府県", Rule::Prefecture)
            .required()
            .control(Control::Select)
            .group(Group::HomeAddress),
        S::new(F::Address, "address", "住所（番地まで）", Rule::Address)
            .required()
            .autocomplete("address-line1")
            .group(Group::HomeAddress),
        S::new(F::Building, "building", "建物名、部屋番号など", Rule::Building)
            .hint("（全角/半角50文字以内）")
            .autocomplete("address-line2")
            .group(Group::HomeAddress),
        S::new(F::Mobile, "mobile", "携帯電話番号", Rule::Phone { example: MOBILE_EXAMPLE })
            .required()
            .hint(PHONE_HINT)
            .control(Control::Tel)
            .autocomplete("tel")
            .placeholder("例：090-1234-5678"),
        S::new(F::Tel, "tel", "TEL", Rule::Phone { example: LANDLINE_EXAMPLE })
            .hint(PHONE_HINT)
            .control(Control::Tel)
            .placeholder("例：03-1234-5678"),
        S::new(F::Fax, "fax", "FAX", Rule::Phone { example: LANDLINE_EXAMPLE })
            .hint(PHONE_HINT)
            .control(Control::Tel)
            .placeholder("例：03-1234-5678"),
        S::new(F::BirthDate, "birth_date", "生年月日", Rule::Date)
            .required()
            .hint(DATE_HINT)
            .autocomplete("bday")
            .placeholder("例：1980/04/01"),
        S::new(F::Gender, "gender", "性別", Rule::Gender).control(Control::Radio),
        S::new(F::MainDept, "main_dept", "主たる科名", Rule::Department)
            .required()
            .control(Control::Select)
            .group(Group::Departments),
        S::new(F::SubDepts, "sub_depts", "担当する科名", Rule::Departments)
            .control(Control::Checklist)
            .group(Group::Departments),
        S::new(F::School, "school", "出身校", Rule::School)
            .required()
            .hint("※（部分一致）大学名の一部を入力してください（全角入力）。上欄に登録がない出身校の場合は、大学名を入力してください（全角30文字以内）")
            .control(Control::Combobox),
        S::new(F::Graduation, "graduation", "卒業年月", Rule::YearMonth)
            .required()
            .hint(YEAR_MONTH_HINT)
            .placeholder("例：2005/03"),
        S::new(F::GradUniversity, "grad_university", "大学院 大学名", Rule::University)
            .hint("※（部分一致）大学名の一部を入力してください（全角入力）")
            .control(Control::Combobox)
            .group(Group::GraduateSchool),
        S::new(F::GradDepartment, "grad_department", "学部・学科名等名称", Rule::GradDepartment)
            .hint("（全角100文字以内）")
            .group(Group::GraduateSchool),
        S::new(F::GradCompletion, "grad_completion", "大学院修了年月", Rule::YearMonth)
            .hint(YEAR_MONTH_HINT)
            .placeholder("例：2005/03")
            .group(Group::GraduateSchool),
        S::new(F::DegreeDate, "degree_date", "学位取得年月（博士号）", Rule::YearMonth)
            .hint(YEAR_MONTH_HINT)
            .placeholder("例：2005/03")
            .group(Group::GraduateSchool),
        S::new(F::Societies, "societies", "所属学会", Rule::Societies)
            .hint("※（部分一致）所属学会名の一部を入力してください（全角入力）。上欄に登録がない所属学会は、全角20文字以内で入力してください")
            .control(Control::MultiCombobox),
    ]
};

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

    /// The field's descriptor.
    pub fn spec(self) -> &'static FieldSpec {
        &SPECS[self as usize]
    }

    /// The HTML `name` and `id`.
    pub fn name(self) -> &'static str {
        self.spec().name
    }

    /// The label as on the screen; also the name used in messages.
    pub fn label(self) -> &'static str {
        self.spec().label
    }

    /// The input rule shown under the field (empty when there is none).
    pub fn hint(self) -> &'static str {
        self.spec().hint
    }

    /// 必須
    pub fn required(self) -> bool {
        self.spec().required
    }

    /// Fields that hold several values (repeated keys in the form body).
    pub fn is_list(self) -> bool {
        matches!(self.spec().rule, Rule::Departments | Rule::Societies)
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_follows_the_field_order() {
        for (i, f) in Field::ALL.into_iter().enumerate() {
            assert_eq!(SPECS[i].field, f);
            assert_eq!(f as usize, i);
            assert_eq!(f.spec().field, f);
        }
    }

    #[test]
    fn names_round_trip_and_are_unique() {
        for f in Field::ALL {
            assert_eq!(Field::from_name(f.name()), Some(f));
        }
        let mut names: Vec<_> = Field::ALL.iter().map(|f| f.name()).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), Field::ALL.len());
        assert_eq!(Field::from_name("nope"), None);
    }

    #[test]
    fn every_field_has_a_label_and_labels_are_unique() {
        let mut labels: Vec<_> = Field::ALL.iter().map(|f| f.label()).collect();
        assert!(labels.iter().all(|l| !l.is_empty()));
        labels.sort_unstable();
        labels.dedup();
        assert_eq!(labels.len(), Field::ALL.len());
    }

    #[test]
    fn all_is_in_declaration_order() {
        assert!(Field::ALL.windows(2).all(|w| w[0] < w[1]));
    }

    #[test]
    fn pairs_are_two_neighbours_of_one_group() {
        for w in SPECS.windows(2) {
            let first_of_pair = matches!(w[0].review, Review::Pair { .. });
            let second = w[1].review == Review::SecondOfPair;
            assert_eq!(first_of_pair, second, "{:?} {:?}", w[0].field, w[1].field);
            if first_of_pair {
                assert!(w[0].group.is_some() && w[0].group == w[1].group);
            }
        }
        assert_ne!(SPECS[0].review, Review::SecondOfPair);
    }

    #[test]
    fn a_group_is_one_run_of_fields() {
        let mut seen: Vec<Group> = Vec::new();
        let mut last = None;
        for s in &SPECS {
            if s.group != last
                && let Some(g) = s.group
            {
                assert!(!seen.contains(&g), "{g:?} split");
                seen.push(g);
            }
            last = s.group;
        }
        assert_eq!(seen.len(), 5);
    }

    #[test]
    fn optional_groups_hold_only_optional_fields() {
        for s in &SPECS {
            if let Some(g) = s.group.filter(|g| g.optional()) {
                assert!(!s.required, "{:?} in {g:?}", s.field);
            }
        }
    }

    #[test]
    fn list_fields_and_required_ones() {
        let lists: Vec<Field> = Field::ALL.into_iter().filter(|f| f.is_list()).collect();
        assert_eq!(lists, vec![Field::SubDepts, Field::Societies]);
        assert_eq!(Field::ALL.iter().filter(|f| f.required()).count(), 16);
    }
}
