//! The registration form (Screen 4): raw text in, [`NewRegistration`] out.
//!
//! [`check_field`] and [`validate_registration`] share one per-field check
//! ([`check`]: the field's own parse, then the cross-field rules that involve
//! it), so the inline message and the submit message are always the same.
//! Cross-field messages sit on the later field: the password (not the login
//! ID), and the dates that must come after the birth date. Which parser a
//! field goes through, and how the confirmation screen shows it, come from
//! its descriptor ([`Field::spec`]).

use serde::{Deserialize, Serialize};

use super::address::normalize_postal_text;
use super::dates::{normalize_date_text, normalize_year_month_text};
use super::phone::normalize_phone_text;
use super::rules::{control_message, has_forbidden_control};
use super::{
    AddressLine, BuildingName, Date, DepartmentCode, Field, FieldErrors, Gender, GradDepartment,
    Group, KanaName, KanjiName, LoginId, MedicalRegistryNumber, Password, PhoneNumber, PostalCode,
    Prefecture, Review, Rule, SchoolName, SocietyName, UniversityName, YearMonth,
};
use crate::text::{normalize_fullwidth_field, normalize_halfwidth_field, normalize_katakana_field};

/// At most this many 所属学会 entries.
const MAX_SOCIETIES: usize = 30;

/// The form as typed: one string per single-valued field.
#[derive(Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct RegistrationForm {
    pub login_id: String,
    /// Read by `Deserialize` but never written by `Serialize`, so a stored
    /// draft holds no password.
    #[serde(skip_serializing)]
    pub password: String,
    pub registry_number: String,
    pub registry_date: String,
    pub kana_last: String,
    pub kana_first: String,
    pub name_last: String,
    pub name_first: String,
    pub former_kana_last: String,
    pub former_kana_first: String,
    pub former_name_last: String,
    pub former_name_first: String,
    pub use_former_name: bool,
    pub postal_code: String,
    pub prefecture: String,
    pub address: String,
    pub building: String,
    pub mobile: String,
    pub tel: String,
    pub fax: String,
    pub birth_date: String,
    /// `male`, `female` or empty (回答しない).
    pub gender: String,
    pub main_dept: String,
    pub sub_depts: Vec<String>,
    pub school: String,
    pub graduation: String,
    pub grad_university: String,
    pub grad_department: String,
    pub grad_completion: String,
    pub degree_date: String,
    pub societies: Vec<String>,
}

/// The password never prints, even from a form.
impl std::fmt::Debug for RegistrationForm {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut d = f.debug_struct("RegistrationForm");
        for field in Field::ALL {
            match field {
                Field::Password => d.field(field.name(), &"[redacted]"),
                Field::UseFormerName => d.field(field.name(), &self.use_former_name),
                Field::SubDepts => d.field(field.name(), &self.sub_depts),
                Field::Societies => d.field(field.name(), &self.societies),
                _ => d.field(field.name(), &self.value(field)),
            };
        }
        d.finish()
    }
}

/// A ticked checkbox sends a value; these mean "not ticked".
fn checkbox(v: &str) -> bool {
    !matches!(v.trim(), "" | "0" | "false" | "off")
}

/// Normalisation of one value of `field`, as shown back in the form: the
/// one its rule applies.
fn normalize_value(field: Field, v: &str) -> String {
    match field.spec().rule {
        Rule::LoginId
        | Rule::Password
        | Rule::RegistryNumber
        | Rule::Gender
        | Rule::Department
        | Rule::Departments => normalize_halfwidth_field(v),
        Rule::Date => normalize_date_text(v),
        Rule::YearMonth => normalize_year_month_text(v),
        Rule::Kana => normalize_katakana_field(v),
        Rule::Kanji
        | Rule::Address
        | Rule::Building
        | Rule::School
        | Rule::University
        | Rule::GradDepartment
        | Rule::Societies => normalize_fullwidth_field(v),
        Rule::PostalCode => normalize_postal_text(v),
        Rule::Phone { .. } => normalize_phone_text(v),
        Rule::Prefecture | Rule::Flag => v.trim().to_owned(),
    }
}

impl RegistrationForm {
    /// From urlencoded pairs: repeated keys for `sub_depts` and `societies`
    /// (empty entries dropped), the last value for any other field, unknown
    /// keys ignored.
    pub fn from_pairs(pairs: &[(String, String)]) -> Self {
        let mut form = Self::default();
        for (k, v) in pairs {
            let Some(field) = Field::from_name(k) else {
                continue;
            };
            match field {
                Field::SubDepts => push_nonempty(&mut form.sub_depts, v),
                Field::Societies => push_nonempty(&mut form.societies, v),
                _ => form.set_value(field, v.clone()),
            }
        }
        form
    }

    /// The width/kana normalisations, dates as `YYYY/MM/DD` (year-months as
    /// `YYYY/MM`) when they read as dates, postal codes as `113-8621`; text
    /// that does not parse is kept as typed apart from width. Idempotent.
    pub fn normalized(&self) -> Self {
        let mut out = self.clone();
        for field in Field::ALL {
            match field {
                Field::UseFormerName => {}
                Field::SubDepts => out.sub_depts = normalize_list(field, &self.sub_depts),
                Field::Societies => out.societies = normalize_list(field, &self.societies),
                _ => {
                    // An empty field stays empty (most of a field check's form).
                    if let Some(slot) = out.text_mut(field).filter(|s| !s.is_empty()) {
                        *slot = normalize_value(field, slot);
                    }
                }
            }
        }
        out
    }

    /// The text of a field; list fields one entry a line; the checkbox `on`
    /// or empty.
    pub fn value(&self, f: Field) -> String {
        match f {
            Field::UseFormerName => if self.use_former_name { "on" } else { "" }.to_owned(),
            Field::SubDepts => self.sub_depts.join("\n"),
            Field::Societies => self.societies.join("\n"),
            _ => self.text(f).cloned().unwrap_or_default(),
        }
    }

    /// Sets a field from text; list fields take one entry a line.
    pub fn set_value(&mut self, f: Field, v: String) {
        match f {
            Field::UseFormerName => self.use_former_name = checkbox(&v),
            Field::SubDepts => self.sub_depts = lines(&v),
            Field::Societies => self.societies = lines(&v),
            _ => {
                if let Some(slot) = self.text_mut(f) {
                    *slot = v;
                }
            }
        }
    }

    fn text(&self, f: Field) -> Option<&String> {
        Some(match f {
            Field::LoginId => &self.login_id,
            Field::Password => &self.password,
            Field::RegistryNumber => &self.registry_number,
            Field::RegistryDate => &self.registry_date,
            Field::KanaLast => &self.kana_last,
            Field::KanaFirst => &self.kana_first,
            Field::NameLast => &self.name_last,
            Field::NameFirst => &self.name_first,
            Field::FormerKanaLast => &self.former_kana_last,
            Field::FormerKanaFirst => &self.former_kana_first,
            Field::FormerNameLast => &self.former_name_last,
            Field::FormerNameFirst => &self.former_name_first,
            Field::PostalCode => &self.postal_code,
            Field::Prefecture => &self.prefecture,
            Field::Address => &self.address,
            Field::Building => &self.building,
            Field::Mobile => &self.mobile,
            Field::Tel => &self.tel,
            Field::Fax => &self.fax,
            Field::BirthDate => &self.birth_date,
            Field::Gender => &self.gender,
            Field::MainDept => &self.main_dept,
            Field::School => &self.school,
            Field::Graduation => &self.graduation,
            Field::GradUniversity => &self.grad_university,
            Field::GradDepartment => &self.grad_department,
            Field::GradCompletion => &self.grad_completion,
            Field::DegreeDate => &self.degree_date,
            Field::UseFormerName | Field::SubDepts | Field::Societies => return None,
        })
    }

    fn text_mut(&mut self, f: Field) -> Option<&mut String> {
        Some(match f {
            Field::LoginId => &mut self.login_id,
            Field::Password => &mut self.password,
            Field::RegistryNumber => &mut self.registry_number,
            Field::RegistryDate => &mut self.registry_date,
            Field::KanaLast => &mut self.kana_last,
            Field::KanaFirst => &mut self.kana_first,
            Field::NameLast => &mut self.name_last,
            Field::NameFirst => &mut self.name_first,
            Field::FormerKanaLast => &mut self.former_kana_last,
            Field::FormerKanaFirst => &mut self.former_kana_first,
            Field::FormerNameLast => &mut self.former_name_last,
            Field::FormerNameFirst => &mut self.former_name_first,
            Field::PostalCode => &mut self.postal_code,
            Field::Prefecture => &mut self.prefecture,
            Field::Address => &mut self.address,
            Field::Building => &mut self.building,
            Field::Mobile => &mut self.mobile,
            Field::Tel => &mut self.tel,
            Field::Fax => &mut self.fax,
            Field::BirthDate => &mut self.birth_date,
            Field::Gender => &mut self.gender,
            Field::MainDept => &mut self.main_dept,
            Field::School => &mut self.school,
            Field::Graduation => &mut self.graduation,
            Field::GradUniversity => &mut self.grad_university,
            Field::GradDepartment => &mut self.grad_department,
            Field::GradCompletion => &mut self.grad_completion,
            Field::DegreeDate => &mut self.degree_date,
            Field::UseFormerName | Field::SubDepts | Field::Societies => return None,
        })
    }
}

fn push_nonempty(list: &mut Vec<String>, v: &str) {
    if !v.trim().is_empty() {
        list.push(v.to_owned());
    }
}

fn lines(v: &str) -> Vec<String> {
    v.lines()
        .filter(|l| !l.trim().is_empty())
        .map(str::to_owned)
        .collect()
}

fn normalize_list(field: Field, list: &[String]) -> Vec<String> {
    list.iter()
        .map(|v| normalize_value(field, v))
        .filter(|v| !v.is_empty())
        .collect()
}

/// Everything typed, parsed and valid; the password is returned beside it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewRegistration {
    pub login_id: LoginId,
    pub registry_number: MedicalRegistryNumber,
    pub registry_date: Date,
    pub kana_last: KanaName,
    pub kana_first: KanaName,
    pub name_last: KanjiName,
    pub name_first: KanjiName,
    pub former_kana_last: Option<KanaName>,
    pub former_kana_first: Option<KanaName>,
    pub former_name_last: Option<KanjiName>,
    pub former_name_first: Option<KanjiName>,
    pub use_former_name: bool,
    pub postal_code: PostalCode,
    pub prefecture: Prefecture,
    pub address: AddressLine,
    pub building: Option<BuildingName>,
    pub mobile: PhoneNumber,
    pub tel: Option<PhoneNumber>,
    pub fax: Option<PhoneNumber>,
    pub birth_date: Date,
    pub gender: Gender,
    pub main_dept: DepartmentCode,
    pub sub_depts: Vec<DepartmentCode>,
    pub school: SchoolName,
    pub graduation: YearMonth,
    pub grad_university: Option<UniversityName>,
    pub grad_department: Option<GradDepartment>,
    pub grad_completion: Option<YearMonth>,
    pub degree_date: Option<YearMonth>,
    pub societies: Vec<SocietyName>,
}

fn with_wareki_date(d: &Date) -> String {
    format!("{d}（{}）", d.wareki())
}

fn with_wareki_month(ym: &YearMonth) -> String {
    format!("{ym}（{}）", ym.wareki())
}

fn or_empty<T: ToString>(v: &Option<T>) -> String {
    v.as_ref().map(T::to_string).unwrap_or_default()
}

fn joined<T: ToString>(items: impl IntoIterator<Item = T>) -> String {
    items
        .into_iter()
        .map(|t| t.to_string())
        .collect::<Vec<_>>()
        .join("、")
}

impl NewRegistration {
    /// The confirmation screen's rows, in the form's order, as each field's
    /// descriptor says ([`Review`]): the password is not shown, 姓 and 名 share
    /// a row. Optional fields left empty give an empty value.
    pub fn display_rows(&self) -> Vec<(String, String)> {
        self.display_rows_by_field()
            .into_iter()
            .map(|(_, label, value)| (label, value))
            .collect()
    }

    /// [`Self::display_rows`] with the field each row starts at.
    pub fn display_rows_by_field(&self) -> Vec<(Field, String, String)> {
        let mut rows = Vec::new();
        for (i, f) in Field::ALL.into_iter().enumerate() {
            let spec = f.spec();
            let (label, value) = match spec.review {
                Review::Hidden | Review::SecondOfPair => continue,
                Review::Row => (f.label().to_owned(), self.display_value(f)),
                Review::RowAs(label) => (label.to_owned(), self.display_value(f)),
                Review::Pair { suffix } => {
                    let group = spec.group.map_or("", Group::label);
                    let parts = [Some(f), Field::ALL.get(i + 1).copied()];
                    let value = parts
                        .into_iter()
                        .flatten()
                        .map(|p| self.display_value(p))
                        .filter(|v| !v.is_empty())
                        .collect::<Vec<_>>()
                        .join("\u{3000}");
                    (format!("{group}{suffix}"), value)
                }
            };
            rows.push((f, label, value));
        }
        rows
    }

    /// One field's value as the confirmation screen shows it (the password
    /// as empty); empty when an optional field was left empty.
    pub fn display_value(&self, f: Field) -> String {
        match f {
            Field::LoginId => self.login_id.to_string(),
            Field::Password => String::new(),
            Field::RegistryNumber => format!("第{}号", self.registry_number),
            Field::RegistryDate => with_wareki_date(&self.registry_date),
            Field::KanaLast => self.kana_last.to_string(),
            Field::KanaFirst => self.kana_first.to_string(),
            Field::NameLast => self.name_last.to_string(),
            Field::NameFirst => self.name_first.to_string(),
            Field::FormerKanaLast => or_empty(&self.former_kana_last),
            Field::FormerKanaFirst => or_empty(&self.former_kana_first),
            Field::FormerNameLast => or_empty(&self.former_name_last),
            Field::FormerNameFirst => or_empty(&self.former_name_first),
            Field::UseFormerName => if self.use_former_name {
                "使用する"
            } else {
                "使用しない"
            }
            .to_owned(),
            Field::PostalCode => self.postal_code.to_string(),
            Field::Prefecture => self.prefecture.to_string(),
            Field::Address => self.address.to_string(),
            Field::Building => or_empty(&self.building),
            Field::Mobile => self.mobile.to_string(),
            Field::Tel => or_empty(&self.tel),
            Field::Fax => or_empty(&self.fax),
            Field::BirthDate => with_wareki_date(&self.birth_date),
            Field::Gender => self.gender.label().to_owned(),
            Field::MainDept => self.main_dept.to_string(),
            Field::SubDepts => joined(&self.sub_depts),
            Field::School => self.school.with_faculty(),
            Field::Graduation => with_wareki_month(&self.graduation),
            Field::GradUniversity => self
                .grad_university
                .as_ref()
                .map(|u| u.name().to_owned())
                .unwrap_or_default(),
            Field::GradDepartment => or_empty(&self.grad_department),
            Field::GradCompletion => self
                .grad_completion
                .as_ref()
                .map(with_wareki_month)
                .unwrap_or_default(),
            Field::DegreeDate => self
                .degree_date
                .as_ref()
                .map(with_wareki_month)
                .unwrap_or_default(),
            Field::Societies => joined(self.societies.iter().map(SocietyName::name)),
        }
    }

    /// The form again (for 「戻る」 from the confirmation screen); the
    /// password is left empty.
    pub fn to_form(&self) -> RegistrationForm {
        RegistrationForm {
            login_id: self.login_id.to_string(),
            password: String::new(),
            registry_number: self.registry_number.to_string(),
            registry_date: self.registry_date.to_string(),
            kana_last: self.kana_last.to_string(),
            kana_first: self.kana_first.to_string(),
            name_last: self.name_last.to_string(),
            name_first: self.name_first.to_string(),
            former_kana_last: or_empty(&self.former_kana_last),
            former_kana_first: or_empty(&self.former_kana_first),
            former_name_last: or_empty(&self.former_name_last),
            former_name_first: or_empty(&self.former_name_first),
            use_former_name: self.use_former_name,
            postal_code: self.postal_code.to_string(),
            prefecture: self.prefecture.to_string(),
            address: self.address.to_string(),
            building: or_empty(&self.building),
            mobile: self.mobile.to_string(),
            tel: or_empty(&self.tel),
            fax: or_empty(&self.fax),
            birth_date: self.birth_date.to_string(),
            gender: self.gender.form_value().to_owned(),
            main_dept: self.main_dept.code().to_owned(),
            sub_depts: self.sub_depts.iter().map(|d| d.code().to_owned()).collect(),
            school: self.school.name().to_owned(),
            graduation: self.graduation.to_string(),
            grad_university: self
                .grad_university
                .as_ref()
                .map(|u| u.name().to_owned())
                .unwrap_or_default(),
            grad_department: or_empty(&self.grad_department),
            grad_completion: or_empty(&self.grad_completion),
            degree_date: or_empty(&self.degree_date),
            societies: self.societies.iter().map(|s| s.name().to_owned()).collect(),
        }
    }
}

/// The parsers of every field, reading the raw form (each parse applies its
/// field's normalisation itself).
struct Parse<'a> {
    form: &'a RegistrationForm,
    today: time::Date,
}

/// `Ok(None)` for an optional field left empty.
fn optional<T>(
    v: &str,
    parse: impl FnOnce(&str) -> Result<T, String>,
) -> Result<Option<T>, String> {
    if v.trim().is_empty() {
        Ok(None)
    } else {
        parse(v).map(Some)
    }
}

impl Parse<'_> {
    fn raw(&self, f: Field) -> &str {
        self.form.text(f).map_or("", String::as_str)
    }

    fn login_id(&self) -> Result<LoginId, String> {
        LoginId::parse(&self.form.login_id)
    }

    fn password(&self) -> Result<Password, String> {
        Password::parse(&self.form.password)
    }

    fn date(&self, f: Field) -> Result<Date, String> {
        Date::parse_past(self.raw(f), f.label(), self.today)
    }

    fn year_month(&self, f: Field) -> Result<YearMonth, String> {
        YearMonth::parse_past(self.raw(f), f.label(), self.today)
    }

    fn optional_year_month(&self, f: Field) -> Result<Option<YearMonth>, String> {
        optional(self.raw(f), |v| {
            YearMonth::parse_past(v, f.label(), self.today)
        })
    }

    fn kana(&self, f: Field) -> Result<KanaName, String> {
        KanaName::parse_as(self.raw(f), f.label())
    }

    fn optional_kana(&self, f: Field) -> Result<Option<KanaName>, String> {
        optional(self.raw(f), |v| KanaName::parse_as(v, f.label()))
    }

    fn kanji(&self, f: Field) -> Result<KanjiName, String> {
        KanjiName::parse_as(self.raw(f), f.label())
    }

    fn optional_kanji(&self, f: Field) -> Result<Option<KanjiName>, String> {
        optional(self.raw(f), |v| KanjiName::parse_as(v, f.label()))
    }

    fn phone(&self, f: Field) -> Result<PhoneNumber, String> {
        PhoneNumber::parse_as(self.raw(f), f.label(), phone_example(f))
    }

    fn optional_phone(&self, f: Field) -> Result<Option<PhoneNumber>, String> {
        optional(self.raw(f), |v| {
            PhoneNumber::parse_as(v, f.label(), phone_example(f))
        })
    }

    fn main_dept(&self) -> Result<DepartmentCode, String> {
        DepartmentCode::parse_as(&self.form.main_dept, Field::MainDept.label())
    }

    fn sub_depts(&self) -> Result<Vec<DepartmentCode>, String> {
        let label = Field::SubDepts.label();
        let mut out: Vec<DepartmentCode> = Vec::with_capacity(self.form.sub_depts.len());
        for v in self.form.sub_depts.iter().filter(|v| !v.trim().is_empty()) {
            let dept = DepartmentCode::parse_as(v, label)?;
            if out.iter().any(|d| d.code() == dept.code()) {
                return Err(format!("{label}「{dept}」が重複しています。"));
            }
            out.push(dept);
        }
        Ok(out)
    }

    fn societies(&self) -> Result<Vec<SocietyName>, String> {
        let label = Field::Societies.label();
        let entries: Vec<&String> = self
            .form
            .societies
            .iter()
            .filter(|v| !v.trim().is_empty())
            .collect();
        if entries.len() > MAX_SOCIETIES {
            return Err(format!(
                "{label}は{MAX_SOCIETIES}件以内で入力してください。"
            ));
        }
        let mut out: Vec<SocietyName> = Vec::with_capacity(entries.len());
        for v in entries {
            let society = SocietyName::parse(v)?;
            if out.iter().any(|s| s.same_as(&society)) {
                return Err(format!(
                    "{label}「{}」が重複しています。",
                    super::rules::quote(society.name())
                ));
            }
            out.push(society);
        }
        Ok(out)
    }

    /// The field's own rule: the parse its descriptor names; a field that is
    /// not required passes when left empty.
    fn own(&self, f: Field) -> Result<(), String> {
        let spec = f.spec();
        let raw = self.raw(f);
        match spec.rule {
            Rule::Flag => Ok(()),
            Rule::Gender => Gender::parse(raw).map(drop),
            Rule::Departments => self.sub_depts().map(drop),
            Rule::Societies => self.societies().map(drop),
            _ if !spec.required && raw.trim().is_empty() => Ok(()),
            Rule::LoginId => LoginId::parse(raw).map(drop),
            Rule::Password => Password::parse(raw).map(drop),
            Rule::RegistryNumber => MedicalRegistryNumber::parse(raw).map(drop),
            Rule::Date => self.date(f).map(drop),
            Rule::YearMonth => self.year_month(f).map(drop),
            Rule::Kana => self.kana(f).map(drop),
            Rule::Kanji => self.kanji(f).map(drop),
            Rule::PostalCode => PostalCode::parse(raw).map(drop),
            Rule::Prefecture => Prefecture::parse(raw).map(drop),
            Rule::Address => AddressLine::parse(raw).map(drop),
            Rule::Building => BuildingName::parse(raw).map(drop),
            Rule::Phone { .. } => self.phone(f).map(drop),
            Rule::Department => DepartmentCode::parse_as(raw, f.label()).map(drop),
            Rule::School => SchoolName::parse(raw).map(drop),
            Rule::University => UniversityName::parse(raw).map(drop),
            Rule::GradDepartment => GradDepartment::parse(raw).map(drop),
        }
    }

    /// The cross-field rules shown on `f`, checked only when the other field
    /// is filled and valid (its own message covers it otherwise).
    fn cross(&self, f: Field) -> Result<(), String> {
        match f {
            Field::Password => match (self.login_id(), self.password()) {
                (Ok(id), Ok(pw)) => pw.check_against(&id),
                _ => Ok(()),
            },
            Field::RegistryDate => match (self.date(Field::BirthDate), self.date(f)) {
                (Ok(birth), Ok(d)) if d <= birth => Err(format!(
                    "{}は{}より後の日付を入力してください。",
                    f.label(),
                    Field::BirthDate.label()
                )),
                _ => Ok(()),
            },
            Field::Graduation | Field::GradCompletion | Field::DegreeDate => {
                match (self.date(Field::BirthDate), self.optional_year_month(f)) {
                    (Ok(birth), Ok(Some(ym))) if ym <= birth.year_month() => Err(format!(
                        "{}は{}より後の年月を入力してください。",
                        f.label(),
                        Field::BirthDate.label()
                    )),
                    _ => Ok(()),
                }
            }
            Field::UseFormerName
                if self.form.use_former_name && self.form.former_name_last.trim().is_empty() =>
            {
                Err(format!(
                    "{}場合は、{}を入力してください。",
                    f.label(),
                    Field::FormerNameLast.label()
                ))
            }
            _ => Ok(()),
        }
    }

    fn check(&self, f: Field) -> Result<(), String> {
        self.no_control(f)?;
        self.own(f).and_then(|()| self.cross(f))
    }

    /// No field of this form is multi-line: control characters (NUL, ESC,
    /// newlines inside a value…) are refused with their own message.
    fn no_control(&self, f: Field) -> Result<(), String> {
        let form = self.form;
        let bad = match f {
            Field::SubDepts => form
                .sub_depts
                .iter()
                .any(|v| has_forbidden_control(v, false)),
            Field::Societies => form
                .societies
                .iter()
                .any(|v| has_forbidden_control(v, false)),
            _ => has_forbidden_control(&form.value(f), false),
        };
        if bad {
            Err(control_message(f.label()))
        } else {
            Ok(())
        }
    }

    /// Builds the result once every check has passed.
    fn build(&self) -> Result<(NewRegistration, Password), String> {
        let form = self.form;
        let registration = NewRegistration {
            login_id: self.login_id()?,
            registry_number: MedicalRegistryNumber::parse(&form.registry_number)?,
            registry_date: self.date(Field::RegistryDate)?,
            kana_last: self.kana(Field::KanaLast)?,
            kana_first: self.kana(Field::KanaFirst)?,
            name_last: self.kanji(Field::NameLast)?,
            name_first: self.kanji(Field::NameFirst)?,
            former_kana_last: self.optional_kana(Field::FormerKanaLast)?,
            former_kana_first: self.optional_kana(Field::FormerKanaFirst)?,
            former_name_last: self.optional_kanji(Field::FormerNameLast)?,
            former_name_first: self.optional_kanji(Field::FormerNameFirst)?,
            use_former_name: form.use_former_name,
            postal_code: PostalCode::parse(&form.postal_code)?,
            prefecture: Prefecture::parse(&form.prefecture)?,
            address: AddressLine::parse(&form.address)?,
            building: optional(&form.building, BuildingName::parse)?,
            mobile: self.phone(Field::Mobile)?,
            tel: self.optional_phone(Field::Tel)?,
            fax: self.optional_phone(Field::Fax)?,
            birth_date: self.date(Field::BirthDate)?,
            gender: Gender::parse(&form.gender)?,
            main_dept: self.main_dept()?,
            sub_depts: self.sub_depts()?,
            school: SchoolName::parse(&form.school)?,
            graduation: self.year_month(Field::Graduation)?,
            grad_university: optional(&form.grad_university, UniversityName::parse)?,
            grad_department: optional(&form.grad_department, GradDepartment::parse)?,
            grad_completion: self.optional_year_month(Field::GradCompletion)?,
            degree_date: self.optional_year_month(Field::DegreeDate)?,
            societies: self.societies()?,
        };
        Ok((registration, self.password()?))
    }
}

/// The example a phone field's messages quote, from its descriptor.
fn phone_example(f: Field) -> &'static str {
    match f.spec().rule {
        Rule::Phone { example } => example,
        _ => "",
    }
}

/// Validates the whole form (raw or normalised: each field's normalisation is
/// applied either way) and returns every error at once.
pub fn validate_registration(
    form: &RegistrationForm,
    today: time::Date,
) -> Result<(NewRegistration, Password), FieldErrors> {
    let p = Parse { form, today };
    let mut errors = FieldErrors::default();
    for f in Field::ALL {
        if let Err(msg) = p.check(f) {
            errors.insert(f, msg);
        }
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    // Every check passed, so every parse succeeds; should one not, the form
    // is refused rather than half-built.
    p.build().map_err(|msg| {
        let mut errors = FieldErrors::default();
        errors.insert(Field::LoginId, msg);
        errors
    })
}

/// The inline (htmx) check of one field: its own rule, then the cross-field
/// rules shown on it when the other field is filled. The same message the
/// final submit would give for this field.
pub fn check_field(form: &RegistrationForm, field: Field, today: time::Date) -> Option<String> {
    Parse { form, today }.check(field).err()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use time::macros::date;

    const TODAY: time::Date = date!(2024 - 10 - 30);

    #[test]
    fn an_empty_field_normalises_to_empty() {
        // `normalized` skips empty fields on the strength of this.
        for field in Field::ALL {
            assert_eq!(normalize_value(field, ""), "", "{field:?}");
        }
    }

    fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    fn valid_pairs() -> Vec<(String, String)> {
        pairs(&[
            ("login_id", "mamis001"),
            ("password", "Kusuri7!Hako"),
            ("registry_number", "012345"),
            ("registry_date", "2000/4/20"),
            ("kana_last", "ニチイ"),
            ("kana_first", "タロウ"),
            ("name_last", "日医"),
            ("name_first", "太郎"),
            ("postal_code", "113-8621"),
            ("prefecture", "東京都"),
            ("address", "文京区本駒込2-28-16"),
            ("mobile", "090-0000-0000"),
            ("birth_date", "1970/1/2"),
            ("gender", "male"),
            ("main_dept", "01"),
            ("school", "東北大学"),
            ("graduation", "1996/3"),
        ])
    }

    fn valid_form() -> RegistrationForm {
        RegistrationForm::from_pairs(&valid_pairs())
    }

    #[test]
    fn a_complete_form_becomes_a_registration() {
        let result = validate_registration(&valid_form(), TODAY);
        let (reg, pw) = match result {
            Ok(ok) => ok,
            Err(e) => panic!("unexpected errors: {e:?}"),
        };
        assert_eq!(pw.expose_secret(), "Kusuri7!Hako");
        assert_eq!(reg.login_id.as_str(), "mamis001");
        assert_eq!(reg.former_name_last, None);
        assert_eq!(reg.gender, Gender::Male);
        assert!(reg.sub_depts.is_empty());
        let rows = reg.display_rows();
        let row = |label: &str| {
            rows.iter()
                .find(|(l, _)| *l == label)
                .map(|(_, v)| v.clone())
                .unwrap_or_else(|| panic!("no row {label}"))
        };
        assert_eq!(row("医籍登録番号"), "第012345号");
        assert_eq!(row("医籍登録日"), "2000/04/20（平成12年4月20日）");
        assert_eq!(row("氏名（フリガナ）"), "ニチイ　タロウ");
        assert_eq!(row("氏名"), "日医　太郎");
        assert_eq!(row("旧姓・旧名"), "");
        assert_eq!(row("送付物の宛名に旧姓・旧名を使用"), "使用しない");
        assert_eq!(row("生年月日"), "1970/01/02（昭和45年1月2日）");
        assert_eq!(row("性別"), "男");
        assert_eq!(row("主たる科名"), "01内科");
        assert_eq!(row("出身校"), "東北大学医学部");
        assert_eq!(row("卒業年月"), "1996/03（平成8年3月）");
        assert_eq!(row("TEL"), "");
        assert!(rows.iter().all(|(l, _)| !l.contains("パスワード")));
    }

    #[test]
    fn confirmation_rows_follow_the_field_order_with_their_labels() {
        let (reg, _) = match validate_registration(&valid_form(), TODAY) {
            Ok(ok) => ok,
            Err(e) => panic!("unexpected errors: {e:?}"),
        };
        let labels: Vec<String> = reg.display_rows().into_iter().map(|(l, _)| l).collect();
        let want = [
            "ログインID",
            "医籍登録番号",
            "医籍登録日",
            "氏名（フリガナ）",
            "氏名",
            "旧姓・旧名（フリガナ）",
            "旧姓・旧名",
            "送付物の宛名に旧姓・旧名を使用",
            "郵便番号",
            "都道府県",
            "住所（番地まで）",
            "建物名、部屋番号など",
            "携帯電話番号",
            "TEL",
            "FAX",
            "生年月日",
            "性別",
            "主たる科名",
            "担当する科名",
            "出身校",
            "卒業年月",
            "大学院 大学名",
            "学部・学科名等名称",
            "大学院修了年月",
            "学位取得年月（博士号）",
            "所属学会",
        ];
        assert_eq!(labels, want);
        // Each row comes from the first field it shows, in screen order.
        let firsts: Vec<Field> = Field::ALL
            .into_iter()
            .filter(|f| !matches!(f.spec().review, Review::Hidden | Review::SecondOfPair))
            .collect();
        assert_eq!(firsts.len(), labels.len());
        assert!(firsts.windows(2).all(|w| w[0] < w[1]));
    }

    #[test]
    fn everything_optional_filled_in() {
        let mut p = valid_pairs();
        p.extend(pairs(&[
            ("former_kana_last", "きゅうせい"),
            ("former_name_last", "旧姓"),
            ("use_former_name", "on"),
            ("building", "〇〇ビル00階00号室"),
            ("tel", "03-3946-2121"),
            ("fax", "03-3946-2122"),
            ("sub_depts", "02"),
            ("sub_depts", ""),
            ("sub_depts", "03"),
            ("grad_university", "京都大学"),
            ("grad_department", "医学研究科"),
            ("grad_completion", "H12.3"),
            ("degree_date", "平成13年3月"),
            ("societies", "日本内科学会"),
            ("societies", "日本ほげ学会"),
            ("unknown", "ignored"),
        ]));
        let form = RegistrationForm::from_pairs(&p);
        assert_eq!(form.sub_depts, vec!["02", "03"]);
        let (reg, _) = match validate_registration(&form, TODAY) {
            Ok(ok) => ok,
            Err(e) => panic!("unexpected errors: {e:?}"),
        };
        assert_eq!(
            reg.former_kana_last.as_ref().map(|k| k.as_str()),
            Some("キュウセイ")
        );
        let rows = reg.display_rows();
        let row = |label: &str| {
            rows.iter()
                .find(|(l, _)| *l == label)
                .map(|(_, v)| v.clone())
                .unwrap_or_default()
        };
        assert_eq!(row("旧姓・旧名（フリガナ）"), "キュウセイ");
        assert_eq!(row("送付物の宛名に旧姓・旧名を使用"), "使用する");
        assert_eq!(row("担当する科名"), "02呼吸器内科、03循環器内科");
        assert_eq!(row("大学院修了年月"), "2000/03（平成12年3月）");
        assert_eq!(row("所属学会"), "日本内科学会、日本ほげ学会");
        // Back to the form and through again: the same registration.
        let mut again = reg.to_form();
        again.password = "Kusuri7!Hako".to_owned();
        assert_eq!(
            validate_registration(&again, TODAY).map(|(r, _)| r),
            Ok(reg.clone())
        );
        // Stored as JSON and read back.
        let json = serde_json::to_string(&reg).unwrap_or_default();
        assert!(!json.contains("Kusuri7"));
        let back: Result<NewRegistration, _> = serde_json::from_str(&json);
        assert_eq!(back.ok(), Some(reg));
    }

    #[test]
    fn an_empty_form_reports_every_required_field_at_once() {
        let errors = match validate_registration(&RegistrationForm::default(), TODAY) {
            Err(e) => e,
            Ok(_) => panic!("an empty form passed"),
        };
        let required: Vec<Field> = Field::ALL.into_iter().filter(|f| f.required()).collect();
        let reported: Vec<Field> = errors.fields().map(|(f, _)| f).collect();
        assert_eq!(reported, required);
        assert_eq!(
            errors.get(Field::LoginId),
            Some("ログインIDを入力してください。")
        );
        assert_eq!(
            errors.get(Field::KanaLast),
            Some("セイ（フリガナ）を入力してください。")
        );
        assert_eq!(
            errors.get(Field::Prefecture),
            Some("都道府県を選択してください。")
        );
        assert_eq!(
            errors.get(Field::MainDept),
            Some("主たる科名を選択してください。")
        );
        assert_eq!(
            errors.get(Field::BirthDate),
            Some("生年月日を入力してください。")
        );
    }

    #[test]
    fn many_wrong_fields_are_reported_together() {
        let mut form = valid_form();
        form.login_id = "short".into();
        form.password = "password".into();
        form.registry_number = "12345".into();
        form.registry_date = "平成32年1月1日".into();
        form.kana_last = "日医".into();
        form.name_first = "Taro".into();
        form.postal_code = "113".into();
        form.mobile = "09000000000".into();
        form.tel = "abc".into();
        form.birth_date = "2030/1/1".into();
        form.gender = "x".into();
        form.main_dept = "99".into();
        form.sub_depts = vec!["02".into(), "02".into()];
        form.school = "a".repeat(31);
        form.graduation = "1996/13".into();
        form.societies = vec!["日本内科学会".into(), "日本内科学会".into()];
        let errors = validate_registration(&form, TODAY)
            .err()
            .unwrap_or_default();
        let want = [
            (Field::LoginId, "ログインIDの形式が正しくありません。"),
            (Field::Password, "パスワードの形式が正しくありません。"),
            (
                Field::RegistryNumber,
                "医籍登録番号は半角数字6文字で入力してください。",
            ),
            (
                Field::RegistryDate,
                "存在しない日付です（平成は31年4月30日までです）。",
            ),
            (
                Field::KanaLast,
                "セイ（フリガナ）は全角カタカナ64文字以内で入力してください。",
            ),
            (Field::NameFirst, "名は全角32文字以内で入力してください。"),
            (
                Field::PostalCode,
                "郵便番号は半角数字7桁で入力してください（例：113-8621）。",
            ),
            (
                Field::Mobile,
                "携帯電話番号はハイフンを含めて入力してください（例：090-1234-5678）。",
            ),
            (
                Field::Tel,
                "TELは半角数字とハイフンで入力してください（例：03-3946-2121）。",
            ),
            (Field::BirthDate, "未来の日付は入力できません。"),
            (Field::Gender, "性別を選択肢から選択してください。"),
            (Field::MainDept, "主たる科名を一覧から選択してください。"),
            (
                Field::SubDepts,
                "担当する科名「02呼吸器内科」が重複しています。",
            ),
            (
                Field::School,
                "出身校は一覧から選択するか、全角30文字以内で入力してください。",
            ),
            (Field::Graduation, "存在しない年月です。"),
            (
                Field::Societies,
                "所属学会「日本内科学会」が重複しています。",
            ),
        ];
        let got: Vec<(Field, &str)> = errors.fields().collect();
        assert_eq!(got, want.to_vec());
    }

    #[test]
    fn control_characters_are_refused_in_every_field_with_their_own_message() {
        for (field, bad) in [
            (Field::Address, "本駒込2-28-16\u{0}"),
            (Field::Building, "日医会館\u{1b}[2J"),
            (Field::NameLast, "山\u{7f}田"),
            (Field::Societies, "日本\u{85}学会"),
        ] {
            let mut form = valid_form();
            form.set_value(field, bad.to_owned());
            let form = form.normalized();
            let errors = validate_registration(&form, TODAY).expect_err("refused");
            assert_eq!(
                errors.get(field),
                Some(control_message(field.label()).as_str()),
                "{field:?}"
            );
            assert_eq!(
                check_field(&form, field, TODAY),
                Some(control_message(field.label()))
            );
            // The value is kept as typed, for the form shown again.
            assert!(form.value(field).contains(bad.trim()), "{field:?}");
        }
    }

    #[test]
    fn password_equal_to_the_login_id_is_refused_on_the_password() {
        let mut form = valid_form();
        form.login_id = "Mamis001!".into();
        form.password = "mamis001!".into();
        let msg = "パスワードにログインIDと同じ文字列は使用できません。";
        assert_eq!(
            check_field(&form, Field::Password, TODAY).as_deref(),
            Some(msg)
        );
        assert_eq!(check_field(&form, Field::LoginId, TODAY), None);
        let errors = validate_registration(&form, TODAY)
            .err()
            .unwrap_or_default();
        assert_eq!(errors.get(Field::Password), Some(msg));
        // No cross message while the login ID is not valid yet.
        form.login_id = "x".into();
        form.password = "x".into();
        assert_eq!(
            check_field(&form, Field::Password, TODAY).as_deref(),
            Some("パスワードの形式が正しくありません。")
        );
    }

    #[test]
    fn dates_must_come_after_birth() {
        let mut form = valid_form();
        form.birth_date = "平成7年5月1日".into();
        form.registry_date = "1995/5/1".into();
        form.graduation = "1995/5".into();
        form.grad_completion = "1995/04".into();
        form.degree_date = "H7.6".into();
        let check = |f| check_field(&form, f, TODAY);
        assert_eq!(
            check(Field::RegistryDate).as_deref(),
            Some("医籍登録日は生年月日より後の日付を入力してください。")
        );
        assert_eq!(
            check(Field::Graduation).as_deref(),
            Some("卒業年月は生年月日より後の年月を入力してください。")
        );
        assert_eq!(
            check(Field::GradCompletion).as_deref(),
            Some("大学院修了年月は生年月日より後の年月を入力してください。")
        );
        assert_eq!(check(Field::DegreeDate), None);
        assert_eq!(check(Field::BirthDate), None);
        // Without a (valid) birth date there is nothing to compare.
        form.birth_date = "".into();
        assert_eq!(check_field(&form, Field::RegistryDate, TODAY), None);
        form.birth_date = "1995/2/30".into();
        assert_eq!(check_field(&form, Field::RegistryDate, TODAY), None);
        assert_eq!(
            check_field(&form, Field::BirthDate, TODAY).as_deref(),
            Some("存在しない日付です。")
        );
        assert!(Field::BirthDate.dependents().contains(&Field::RegistryDate));
    }

    #[test]
    fn former_names_are_optional_but_the_addressee_needs_one() {
        let mut form = valid_form();
        form.use_former_name = true;
        let msg = "送付物の宛名に旧姓・旧名を使用する場合は、旧姓を入力してください。";
        assert_eq!(
            check_field(&form, Field::UseFormerName, TODAY).as_deref(),
            Some(msg)
        );
        form.former_name_first = "花子".into();
        assert_eq!(
            check_field(&form, Field::UseFormerName, TODAY).as_deref(),
            Some(msg)
        );
        form.former_name_last = "山田".into();
        assert_eq!(check_field(&form, Field::UseFormerName, TODAY), None);
        // Kana and kanji need not match each other, but follow the same rules.
        form.former_kana_first = "ﾀﾛｳ".into();
        assert_eq!(check_field(&form, Field::FormerKanaFirst, TODAY), None);
        form.former_kana_last = "Yamada".into();
        assert_eq!(
            check_field(&form, Field::FormerKanaLast, TODAY).as_deref(),
            Some("旧姓（フリガナ）は全角カタカナ64文字以内で入力してください。")
        );
        assert!(validate_registration(&form, TODAY).is_err());
    }

    #[test]
    fn societies_are_capped() {
        let mut form = valid_form();
        form.societies = (0..31)
            .map(|i| format!("学会{}", char::from_u32(0x4E00 + i).unwrap_or('x')))
            .collect();
        assert_eq!(
            check_field(&form, Field::Societies, TODAY).as_deref(),
            Some("所属学会は30件以内で入力してください。")
        );
        form.societies.pop();
        assert_eq!(check_field(&form, Field::Societies, TODAY), None);
    }

    #[test]
    fn normalisation_as_the_user_sees_it() {
        let form = RegistrationForm::from_pairs(&pairs(&[
            ("login_id", "ＡＢＣ１２３＠＃"),
            ("password", "ｐａｓｓ１２３！"),
            ("registry_number", "０１２３４５"),
            ("registry_date", "Ｈ１２．４．２０"),
            ("kana_last", "ｶﾞｸ"),
            ("kana_first", "たろう"),
            ("name_last", "ﾆﾁｲ"),
            ("name_first", " 髙橋 "),
            ("postal_code", "１１３８６２１"),
            ("mobile", "０９０ー１２３４ー５６７８"),
            ("birth_date", "昭和45年1月2日"),
            ("graduation", "S42.3"),
            ("degree_date", "平成32年1月"),
            ("societies", "ﾆﾎﾝ学会"),
            ("societies", "  "),
            ("sub_depts", "０２"),
        ]));
        let n = form.normalized();
        assert_eq!(n.login_id, "ABC123@#");
        assert_eq!(n.password, "pass123!");
        assert_eq!(n.registry_number, "012345");
        assert_eq!(n.registry_date, "2000/04/20");
        assert_eq!(n.kana_last, "ガク");
        assert_eq!(n.kana_first, "タロウ");
        assert_eq!(n.name_last, "ニチイ");
        assert_eq!(n.name_first, "髙橋");
        assert_eq!(n.postal_code, "113-8621");
        assert_eq!(n.mobile, "090-1234-5678");
        assert_eq!(n.birth_date, "1970/01/02");
        assert_eq!(n.graduation, "1967/03");
        assert_eq!(n.degree_date, "平成32年1月");
        assert_eq!(n.societies, vec!["ニホン学会"]);
        assert_eq!(n.sub_depts, vec!["02"]);
        assert_eq!(n.normalized(), n);
        // Raw and normalised forms give the same verdicts.
        for f in Field::ALL {
            assert_eq!(
                check_field(&form, f, TODAY),
                check_field(&n, f, TODAY),
                "{f:?}"
            );
        }
    }

    #[test]
    fn values_round_trip_through_set_value() {
        let mut form = RegistrationForm::default();
        for f in Field::ALL {
            let v = match f {
                Field::UseFormerName => "on".to_owned(),
                Field::SubDepts | Field::Societies => "a\nb".to_owned(),
                _ => format!("v-{}", f.name()),
            };
            form.set_value(f, v.clone());
            assert_eq!(form.value(f), v, "{f:?}");
        }
        form.set_value(Field::UseFormerName, "".into());
        assert!(!form.use_former_name);
        let from_checkbox = RegistrationForm::from_pairs(&pairs(&[("use_former_name", "1")]));
        assert!(from_checkbox.use_former_name);
    }

    #[test]
    fn the_password_does_not_print_and_is_not_serialised() {
        let mut form = valid_form();
        form.password = "TopSecret1!".into();
        let debug = format!("{form:?}");
        assert!(!debug.contains("TopSecret1!"));
        assert!(debug.contains("[redacted]"));
        assert!(debug.contains("mamis001"));
        let json = serde_json::to_string(&form).unwrap_or_default();
        assert!(json.contains("mamis001"));
        assert!(!json.contains("TopSecret1!"));
        let back: RegistrationForm = serde_json::from_str(&json).unwrap_or_default();
        assert_eq!(back.password, "");
        assert_eq!(back.login_id, "mamis001");
    }

    /// Sample values per field: valid, invalid, empty and odd ones.
    fn field_value() -> impl Strategy<Value = String> {
        prop_oneof![
            Just(String::new()),
            Just("mamis001".to_owned()),
            Just("Mamis001!".to_owned()),
            Just("mamis001!".to_owned()),
            Just("012345".to_owned()),
            Just("1970/1/2".to_owned()),
            Just("平成7年5月1日".to_owned()),
            Just("1995/5".to_owned()),
            Just("2030/1/1".to_owned()),
            Just("ニチイ".to_owned()),
            Just("日医".to_owned()),
            Just("113-8621".to_owned()),
            Just("東京都".to_owned()),
            Just("090-0000-0000".to_owned()),
            Just("male".to_owned()),
            Just("01".to_owned()),
            Just("東北大学".to_owned()),
            Just("日本内科学会".to_owned()),
            Just("on".to_owned()),
            any::<String>(),
        ]
    }

    proptest! {
        #[test]
        fn check_field_agrees_with_the_final_submit(
            values in proptest::collection::vec(field_value(), Field::ALL.len()),
            lists in proptest::collection::vec(field_value(), 0..4),
        ) {
            let mut form = RegistrationForm::default();
            for (f, v) in Field::ALL.into_iter().zip(values) {
                form.set_value(f, v);
            }
            form.societies = lists.clone();
            form.sub_depts = lists;
            let errors = validate_registration(&form, TODAY).err().unwrap_or_default();
            for f in Field::ALL {
                let inline = check_field(&form, f, TODAY);
                prop_assert_eq!(inline.as_deref(), errors.get(f), "{:?}", f);
            }
        }

        #[test]
        fn normalisation_is_idempotent_and_never_panics(
            values in proptest::collection::vec(any::<String>(), Field::ALL.len()),
        ) {
            let mut form = RegistrationForm::default();
            for (f, v) in Field::ALL.into_iter().zip(values) {
                form.set_value(f, v);
            }
            let once = form.normalized();
            prop_assert_eq!(once.normalized(), once.clone());
            let _ = validate_registration(&form, TODAY);
            for f in Field::ALL {
                prop_assert_eq!(check_field(&form, f, TODAY), check_field(&once, f, TODAY), "{:?}", f);
            }
        }
    }
}
