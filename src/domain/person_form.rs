//! A stored person as the registration form again, for staff corrections:
//! the form pre-filled from a [`Person`], the registration's own parsers and
//! rules back to a `Person`, and the rows the record page and the audit's
//! old → new values show (the confirmation screen's rows).
//!
//! The account fields (login ID, password) are not part of a person: the
//! registration's rules run with valid stand-ins for them, so every message
//! a correction shows is the one registration shows for that field.

use super::{
    DepartmentCode, Field, FieldErrors, Group, LoginId, NewRegistration, PhoneNumber,
    RegistrationForm, SchoolName, YearMonth, person::Person, validate_registration,
};

/// Stands in for the login ID while a person's fields are validated.
const LOGIN_ID_STAND_IN: &str = "standin01";
/// Stands in for the password while a person's fields are validated.
const PASSWORD_STAND_IN: &str = "Kept!Passw0rd#StandIn";

/// Stand-ins for what a member imported from old records may lack (see
/// [`missing_fields`]): shown and pre-filled as empty.
const MOBILE_STAND_IN: &str = "090-0000-0000";
const DEPT_STAND_IN: &str = "01";
const SCHOOL_STAND_IN: &str = "東北大学";
const GRADUATION_STAND_IN: &str = "2000/03";

/// The registration's required fields this person lacks (an imported
/// member: 携帯電話番号, 主たる科名, 出身校, 卒業年月).
pub fn missing_fields(p: &Person) -> Vec<Field> {
    [
        (Field::Mobile, p.phones.mobile.is_none()),
        (Field::MainDept, p.departments.main.is_none()),
        (Field::School, p.education.school.is_none()),
        (Field::Graduation, p.education.graduation.is_none()),
    ]
    .into_iter()
    .filter_map(|(f, missing)| missing.then_some(f))
    .collect()
}

/// True for the fields of a person (every field of the registration form but
/// the login ID and the password).
pub fn is_person_field(f: Field) -> bool {
    !matches!(f, Field::LoginId | Field::Password)
}

/// The person as a registration (with the login-ID stand-in), so that the
/// registration's display and form conversions serve it.
fn as_registration(p: &Person) -> Option<NewRegistration> {
    let login_id = LoginId::parse(LOGIN_ID_STAND_IN).ok()?;
    Some(NewRegistration {
        login_id,
        registry_number: p.registry.number.clone(),
        registry_date: p.registry.date,
        kana_last: p.kana.last.clone(),
        kana_first: p.kana.first.clone(),
        name_last: p.name.last.clone(),
        name_first: p.name.first.clone(),
        former_kana_last: p.former.kana_last.clone(),
        former_kana_first: p.former.kana_first.clone(),
        former_name_last: p.former.name_last.clone(),
        former_name_first: p.former.name_first.clone(),
        use_former_name: p.former.use_on_mail,
        postal_code: p.address.postal_code.clone(),
        prefecture: p.address.prefecture.clone(),
        address: p.address.line.clone(),
        building: p.address.building.clone(),
        mobile: match &p.phones.mobile {
            Some(m) => m.clone(),
            None => PhoneNumber::parse(MOBILE_STAND_IN).ok()?,
        },
        tel: p.phones.tel.clone(),
        fax: p.phones.fax.clone(),
        birth_date: p.birth_date,
        gender: p.gender,
        main_dept: match &p.departments.main {
            Some(d) => d.clone(),
            None => DepartmentCode::parse_as(DEPT_STAND_IN, Field::MainDept.label()).ok()?,
        },
        sub_depts: p.departments.sub.clone(),
        school: match &p.education.school {
            Some(s) => s.clone(),
            None => SchoolName::parse(SCHOOL_STAND_IN).ok()?,
        },
        graduation: match p.education.graduation {
            Some(g) => g,
            None => YearMonth::parse(GRADUATION_STAND_IN).ok()?,
        },
        grad_university: p.education.grad_university.clone(),
        grad_department: p.education.grad_department.clone(),
        grad_completion: p.education.grad_completion,
        degree_date: p.education.degree_date,
        societies: p.societies.clone(),
    })
}

/// The registration form filled with the person's values (login ID and
/// password empty).
pub fn person_form(p: &Person) -> RegistrationForm {
    as_registration(p)
        .map(|r| {
            let mut form = r.to_form();
            form.login_id.clear();
            for f in missing_fields(p) {
                form.set_value(f, String::new());
            }
            form
        })
        .unwrap_or_default()
}

/// The person's rows as the confirmation screen shows them (label, value),
/// in the form's order; optional fields left empty give an empty value.
pub fn person_rows(p: &Person) -> Vec<(String, String)> {
    let Some(r) = as_registration(p) else {
        return Vec::new();
    };
    let login_label = Field::LoginId.label();
    let missing: Vec<&str> = missing_fields(p).into_iter().map(Field::label).collect();
    r.display_rows()
        .into_iter()
        .filter(|(label, _)| label != login_label)
        .map(|(label, value)| {
            if missing.contains(&label.as_str()) {
                (label, String::new())
            } else {
                (label, value)
            }
        })
        .collect()
}

/// A run of rows (label, value) of one registration group (`None`: rows
/// outside any group).
pub type Section = (Option<Group>, Vec<(String, String)>);

/// The person's rows (as [`person_rows`]) in runs of one registration
/// group each (氏名, 自宅現住所, …).
pub fn person_sections(p: &Person) -> Vec<Section> {
    let Some(r) = as_registration(p) else {
        return Vec::new();
    };
    let mut out: Vec<Section> = Vec::new();
    for (f, label, value) in r.display_rows_by_field() {
        if f == Field::LoginId {
            continue;
        }
        let group = f.spec().group;
        match out.last_mut() {
            Some((g, rows)) if *g == group => rows.push((label, value)),
            _ => out.push((group, vec![(label, value)])),
        }
    }
    out
}

/// The contact details a person changes themself on マイページ: the home
/// address and the phones, in screen order.
pub fn contact_fields() -> &'static [Field] {
    &Field::ALL[Field::PostalCode as usize..=Field::Fax as usize]
}

/// `current` with its contact details taken from `posted` (every other
/// field of `posted` is ignored), checked with the registration's parsers:
/// the new person, or the messages of the contact fields.
pub fn validate_contact(
    current: &Person,
    posted: &RegistrationForm,
    today: time::Date,
) -> Result<Person, FieldErrors> {
    let mut form = person_form(current);
    form.postal_code.clone_from(&posted.postal_code);
    form.prefecture.clone_from(&posted.prefecture);
    form.address.clone_from(&posted.address);
    form.building.clone_from(&posted.building);
    form.mobile.clone_from(&posted.mobile);
    form.tel.clone_from(&posted.tel);
    form.fax.clone_from(&posted.fax);
    match validate_person(&form, today) {
        Ok(checked) => Ok(with_contact_of(current, &checked)),
        Err(errors) => {
            let mut own = FieldErrors::default();
            for (f, m) in errors.fields() {
                if contact_fields().contains(&f) {
                    own.insert(f, m.to_owned());
                }
            }
            // A stored field no longer passing today's rules is said as is.
            Err(if own.is_empty() { errors } else { own })
        }
    }
}

/// The fields a physician changes with a 異動届 (記録の変更): 氏名, 旧姓,
/// 自宅現住所 and the phones, in screen order. Never the 医籍登録番号 (the
/// person's unique key) nor the other answers of the registration.
pub fn record_fields() -> &'static [Field] {
    &Field::ALL[Field::KanaLast as usize..=Field::Fax as usize]
}

/// `current` with the [`record_fields`] taken from `posted` (every other
/// field of `posted` is ignored), checked with the registration's parsers:
/// the new person, or the messages of those fields.
pub fn validate_record(
    current: &Person,
    posted: &RegistrationForm,
    today: time::Date,
) -> Result<Person, FieldErrors> {
    let mut form = person_form(current);
    for f in record_fields() {
        form.set_value(*f, posted.value(*f));
    }
    // What an imported member lacks outside these fields is not asked for
    // here: stand-ins let the rules run, and only these fields are taken.
    for f in missing_fields(current) {
        let stand_in = match f {
            Field::MainDept => DEPT_STAND_IN,
            Field::School => SCHOOL_STAND_IN,
            Field::Graduation => GRADUATION_STAND_IN,
            _ => continue,
        };
        form.set_value(f, stand_in.to_owned());
    }
    match validate_person(&form, today) {
        Ok(checked) => {
            let mut out = with_contact_of(current, &checked);
            out.name = checked.name;
            out.kana = checked.kana;
            out.former = checked.former;
            Ok(out)
        }
        Err(errors) => {
            let mut own = FieldErrors::default();
            for (f, m) in errors.fields() {
                if record_fields().contains(&f) {
                    own.insert(f, m.to_owned());
                }
            }
            // A stored field no longer passing today's rules is said as is.
            Err(if own.is_empty() { errors } else { own })
        }
    }
}

/// `person` with the contact details (address, phones) of `from`.
pub fn with_contact_of(person: &Person, from: &Person) -> Person {
    let mut out = person.clone();
    out.address = from.address.clone();
    out.phones = from.phones.clone();
    out
}

/// Validates a correction of a person's fields with the registration's
/// parsers and rules; every error at once (never on the login ID or the
/// password, which are not part of it).
pub fn validate_person(form: &RegistrationForm, today: time::Date) -> Result<Person, FieldErrors> {
    let mut probe = form.clone();
    probe.login_id = LOGIN_ID_STAND_IN.to_owned();
    probe.password = PASSWORD_STAND_IN.to_owned();
    validate_registration(&probe, today).map(|(r, _)| Person::from(r))
}

/// The rows whose value differs between `old` and `new`: (label, old, new).
pub fn changed_rows(old: &Person, new: &Person) -> Vec<(String, String, String)> {
    let before = person_rows(old);
    let after = person_rows(new);
    before
        .into_iter()
        .zip(after)
        .filter(|((_, o), (_, n))| o != n)
        .map(|((label, o), (_, n))| (label, o, n))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    const TODAY: time::Date = date!(2026 - 01 - 01);

    fn form(changes: &[(&str, &str)]) -> RegistrationForm {
        let mut pairs: Vec<(String, String)> = [
            ("registry_number", "123456"),
            ("registry_date", "2008/05/01"),
            ("kana_last", "ヤマダ"),
            ("kana_first", "タロウ"),
            ("name_last", "山田"),
            ("name_first", "太郎"),
            ("postal_code", "113-8621"),
            ("prefecture", "東京都"),
            ("address", "文京区本駒込2-28-16"),
            ("mobile", "090-1234-5678"),
            ("birth_date", "1980/04/01"),
            ("main_dept", "01"),
            ("sub_depts", "02"),
            ("school", "東北大学"),
            ("graduation", "2006/03"),
            ("societies", "日本内科学会"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
        for (k, v) in changes {
            pairs.retain(|(pk, _)| pk != k);
            pairs.push(((*k).to_owned(), (*v).to_owned()));
        }
        RegistrationForm::from_pairs(&pairs).normalized()
    }

    #[test]
    fn a_person_goes_to_the_form_and_back_unchanged() {
        let person = validate_person(&form(&[]), TODAY).unwrap();
        let again = person_form(&person);
        assert_eq!(again.login_id, "");
        assert_eq!(again.password, "");
        assert_eq!(validate_person(&again, TODAY), Ok(person.clone()));
        let rows = person_rows(&person);
        assert!(rows.iter().all(|(l, _)| l != "ログインID"));
        assert!(rows.contains(&("携帯電話番号".to_owned(), "090-1234-5678".to_owned())));
        assert!(changed_rows(&person, &person).is_empty());
    }

    #[test]
    fn a_contact_change_takes_only_the_contact_fields_and_their_messages() {
        let person = validate_person(&form(&[]), TODAY).unwrap();
        let posted = form(&[("mobile", "abc"), ("name_last", "")]);
        let errors = validate_contact(&person, &posted, TODAY).unwrap_err();
        let fields: Vec<Field> = errors.fields().map(|(f, _)| f).collect();
        assert_eq!(fields, [Field::Mobile]);
        let posted = form(&[("tel", "03-3946-2121"), ("name_last", "鈴木")]);
        let moved = validate_contact(&person, &posted, TODAY).unwrap();
        assert_eq!(
            changed_rows(&person, &moved),
            [("TEL".to_owned(), String::new(), "03-3946-2121".to_owned())]
        );
        let sections = person_sections(&person);
        assert!(
            sections
                .iter()
                .any(|(g, rows)| *g == Some(Group::HomeAddress)
                    && rows.iter().any(|(l, _)| l == "郵便番号"))
        );
        assert_eq!(contact_fields().len(), 7);
    }

    #[test]
    fn a_record_change_takes_name_address_and_phones_even_of_an_imported_member() {
        let mut person = validate_person(&form(&[]), TODAY).unwrap();
        person.departments.main = None;
        person.education.school = None;
        person.education.graduation = None;
        let posted = form(&[
            ("name_last", "佐藤"),
            ("kana_last", "サトウ"),
            ("registry_number", "999999"),
            ("school", "京都大学"),
        ]);
        let renamed = validate_record(&person, &posted, TODAY).unwrap();
        assert_eq!(renamed.name.last.to_string(), "佐藤");
        assert_eq!(renamed.registry, person.registry, "not a record field");
        assert_eq!(renamed.education, person.education, "still unknown");
        assert_eq!(renamed.departments, person.departments);
        let errors = validate_record(&person, &form(&[("mobile", "abc")]), TODAY).unwrap_err();
        let fields: Vec<Field> = errors.fields().map(|(f, _)| f).collect();
        assert_eq!(fields, [Field::Mobile]);
    }

    #[test]
    fn a_correction_is_refused_with_the_registration_messages_on_its_fields_only() {
        let errors = validate_person(&form(&[("mobile", "abc")]), TODAY).unwrap_err();
        let fields: Vec<Field> = errors.fields().map(|(f, _)| f).collect();
        assert_eq!(fields, [Field::Mobile]);
        let ok = validate_person(&form(&[]), TODAY).unwrap();
        let moved = validate_person(&form(&[("mobile", "080-9999-0000")]), TODAY).unwrap();
        assert_eq!(
            changed_rows(&ok, &moved),
            [(
                "携帯電話番号".to_owned(),
                "090-1234-5678".to_owned(),
                "080-9999-0000".to_owned()
            )]
        );
    }
}
