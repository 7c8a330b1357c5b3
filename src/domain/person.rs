//! A physician as the store keeps them: the registration's typed values,
//! grouped, and the normalised keys their searches use.
//!
//! The stored form is the serde form of these fields (see the pinned JSON in
//! the tests): change it only with a schema migration (`store::migrations`).

use serde::{Deserialize, Serialize};

use super::{
    AddressLine, BuildingName, Date, DepartmentCode, Gender, GradDepartment, KanaName, KanjiName,
    MedicalRegistryNumber, NewRegistration, PhoneNumber, PostalCode, Prefecture, SchoolName,
    SocietyName, UniversityName, YearMonth,
};

/// A person: name, birth, 医籍, address, phones, departments, education and
/// societies. The account (login ID, e-mail, password) is not part of it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Person {
    /// 氏名 in kanji.
    pub name: FullName<KanjiName>,
    /// 氏名（フリガナ）.
    pub kana: FullName<KanaName>,
    /// 旧姓・旧名, each part optional.
    pub former: FormerName,
    pub birth_date: Date,
    pub gender: Gender,
    /// 医籍登録番号 and 医籍登録日.
    pub registry: Registry,
    pub address: Address,
    pub phones: Phones,
    pub departments: Departments,
    pub education: Education,
    /// 所属学会.
    pub societies: Vec<SocietyName>,
}

/// Family name and given name.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FullName<T> {
    pub last: T,
    pub first: T,
}

/// 旧姓・旧名 and whether mail to the person uses it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FormerName {
    pub kana_last: Option<KanaName>,
    pub kana_first: Option<KanaName>,
    pub name_last: Option<KanjiName>,
    pub name_first: Option<KanjiName>,
    /// 送付物の宛名に旧姓・旧名を使用.
    pub use_on_mail: bool,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Registry {
    pub number: MedicalRegistryNumber,
    pub date: Date,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Address {
    pub postal_code: PostalCode,
    pub prefecture: Prefecture,
    /// 住所（番地まで）.
    pub line: AddressLine,
    /// 建物名、部屋番号など.
    pub building: Option<BuildingName>,
}

/// The mobile number is required at registration; a member imported from an
/// association's old records may have only a landline (`tel`), so it is
/// optional here (always present in records written by a registration).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Phones {
    #[serde(default)]
    pub mobile: Option<PhoneNumber>,
    pub tel: Option<PhoneNumber>,
    pub fax: Option<PhoneNumber>,
}

/// 主たる科名 and 担当する科名. The main department is unknown for a member
/// imported from old records (none); a registration always gives it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Departments {
    #[serde(default)]
    pub main: Option<DepartmentCode>,
    pub sub: Vec<DepartmentCode>,
}

/// 出身校 and graduation, 大学院 and 学位. School and graduation are unknown
/// for a member imported from old records (none); a registration always
/// gives them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Education {
    #[serde(default)]
    pub school: Option<SchoolName>,
    #[serde(default)]
    pub graduation: Option<YearMonth>,
    pub grad_university: Option<UniversityName>,
    pub grad_department: Option<GradDepartment>,
    pub grad_completion: Option<YearMonth>,
    /// 学位取得年月（博士号）.
    pub degree_date: Option<YearMonth>,
}

/// The keys a person is found by, each normalised like the query will be.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SearchKeys {
    /// Current and former フリガナ ([`kana_key`]).
    pub kana: Vec<String>,
    /// Current and former 氏名 ([`name_key`]).
    pub names: Vec<String>,
    /// Mobile, tel and fax ([`phone_key`]).
    pub phones: Vec<String>,
    /// The birth date ([`birth_key`]).
    pub birth: String,
}

/// A フリガナ as indexed and searched: katakana, full width, no spaces or
/// middle dots (`やまだ　ﾀﾛｳ` → `ヤマダタロウ`).
pub fn kana_key(s: &str) -> String {
    crate::text::name_search_key(s)
}

/// A 氏名 as indexed and searched: no spaces, widths unified, variant
/// characters of names folded (`髙橋 太郎` → `高橋太郎`; see
/// `text::fold_name_variant`).
pub fn name_key(s: &str) -> String {
    crate::text::name_search_key(s)
}

/// A birth date as indexed and searched: `YYYYMMDD`, which sorts by date.
pub fn birth_key(date: Date) -> String {
    let d = date.get();
    format!("{:04}{:02}{:02}", d.year(), u8::from(d.month()), d.day())
}

/// A phone number as indexed and searched: its digits (`090-1234-5678` →
/// `09012345678`).
pub fn phone_key(s: &str) -> String {
    crate::text::to_halfwidth_ascii(s)
        .chars()
        .filter(char::is_ascii_digit)
        .collect()
}

impl From<NewRegistration> for Person {
    fn from(r: NewRegistration) -> Person {
        Person {
            name: FullName {
                last: r.name_last,
                first: r.name_first,
            },
            kana: FullName {
                last: r.kana_last,
                first: r.kana_first,
            },
            former: FormerName {
                kana_last: r.former_kana_last,
                kana_first: r.former_kana_first,
                name_last: r.former_name_last,
                name_first: r.former_name_first,
                use_on_mail: r.use_former_name,
            },
            birth_date: r.birth_date,
            gender: r.gender,
            registry: Registry {
                number: r.registry_number,
                date: r.registry_date,
            },
            address: Address {
                postal_code: r.postal_code,
                prefecture: r.prefecture,
                line: r.address,
                building: r.building,
            },
            phones: Phones {
                mobile: Some(r.mobile),
                tel: r.tel,
                fax: r.fax,
            },
            departments: Departments {
                main: Some(r.main_dept),
                sub: r.sub_depts,
            },
            education: Education {
                school: Some(r.school),
                graduation: Some(r.graduation),
                grad_university: r.grad_university,
                grad_department: r.grad_department,
                grad_completion: r.grad_completion,
                degree_date: r.degree_date,
            },
            societies: r.societies,
        }
    }
}

/// Present parts joined, for a key.
fn joined<T: AsRef<str>>(last: Option<&T>, first: Option<&T>) -> String {
    [last, first]
        .into_iter()
        .flatten()
        .map(AsRef::as_ref)
        .collect::<Vec<_>>()
        .concat()
}

/// Adds `key` unless it is empty or already there.
fn push_key(keys: &mut Vec<String>, key: String) {
    if !key.is_empty() && !keys.contains(&key) {
        keys.push(key);
    }
}

impl Person {
    /// `姓 名` (`山田 太郎`), as マイページ and the completion mail greet them.
    pub fn display_name(&self) -> String {
        format!("{} {}", self.name.last.as_str(), self.name.first.as_str())
    }

    /// The index keys of this person: the full names (current and former,
    /// found by a prefix of the family name or of the whole name) and the
    /// given names alone (found by a prefix of the given name).
    pub fn search_keys(&self) -> SearchKeys {
        let mut keys = SearchKeys {
            birth: birth_key(self.birth_date),
            ..SearchKeys::default()
        };
        let f = &self.former;
        for kana in [
            joined(Some(&self.kana.last), Some(&self.kana.first)),
            joined(f.kana_last.as_ref(), f.kana_first.as_ref()),
            self.kana.first.as_str().to_owned(),
            joined(None, f.kana_first.as_ref()),
        ] {
            push_key(&mut keys.kana, kana_key(&kana));
        }
        for name in [
            joined(Some(&self.name.last), Some(&self.name.first)),
            joined(f.name_last.as_ref(), f.name_first.as_ref()),
            self.name.first.as_str().to_owned(),
            joined(None, f.name_first.as_ref()),
        ] {
            push_key(&mut keys.names, name_key(&name));
        }
        let p = &self.phones;
        for phone in [p.mobile.as_ref(), p.tel.as_ref(), p.fax.as_ref()]
            .into_iter()
            .flatten()
        {
            push_key(&mut keys.phones, phone_key(phone.as_str()));
        }
        keys
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{RegistrationForm, validate_registration};

    fn registration(changes: &[(&str, &str)]) -> NewRegistration {
        let mut pairs: Vec<(String, String)> = [
            ("login_id", "doctor01"),
            ("password", "Kusuri#2024x"),
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
            ("school", "東北大学"),
            ("graduation", "2006/03"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
        pairs.extend(
            changes
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned())),
        );
        let form = RegistrationForm::from_pairs(&pairs).normalized();
        let today = time::macros::date!(2026 - 01 - 01);
        match validate_registration(&form, today) {
            Ok((r, _)) => r,
            Err(e) => panic!("invalid test form: {e:?}"),
        }
    }

    #[test]
    fn a_person_is_named_and_found_by_current_and_former_names_and_phones() {
        let p = Person::from(registration(&[
            ("former_kana_last", "スズキ"),
            ("former_name_last", "鈴木"),
            ("tel", "03-3823-2101"),
        ]));
        assert_eq!(p.display_name(), "山田 太郎");
        let keys = p.search_keys();
        assert_eq!(keys.kana, ["ヤマダタロウ", "スズキ", "タロウ"]);
        assert_eq!(keys.names, ["山田太郎", "鈴木", "太郎"]);
        assert_eq!(keys.phones, ["09012345678", "0338232101"]);
        assert_eq!(keys.birth, "19800401");
        assert_eq!(name_key("髙橋 﨑子"), "高橋崎子");
        assert_eq!(kana_key("やまだ　ﾀﾛｳ"), "ヤマダタロウ");
        assert_eq!(name_key("山田 太郎"), "山田太郎");
        assert_eq!(phone_key("０９０-1234-5678"), "09012345678");
    }

    /// The stored form: a change here needs a schema migration.
    #[test]
    fn the_stored_form_is_pinned() {
        let p = Person::from(registration(&[
            ("sub_depts", "02"),
            ("societies", "日本内科学会"),
            ("societies", "地域医療研究会"),
            ("grad_university", "東北大学"),
        ]));
        let json = serde_json::to_value(&p).unwrap_or_default();
        let expected = serde_json::json!({
            "name": {"last": "山田", "first": "太郎"},
            "kana": {"last": "ヤマダ", "first": "タロウ"},
            "former": {
                "kana_last": null, "kana_first": null,
                "name_last": null, "name_first": null,
                "use_on_mail": false
            },
            "birth_date": "1980/04/01",
            "gender": "unanswered",
            "registry": {"number": "123456", "date": "2008/05/01"},
            "address": {
                "postal_code": "113-8621", "prefecture": "東京都",
                "line": "文京区本駒込2-28-16", "building": null
            },
            "phones": {"mobile": "090-1234-5678", "tel": null, "fax": null},
            "departments": {
                "main": {"code": "01", "name": "内科"},
                "sub": [{"code": "02", "name": "呼吸器内科"}]
            },
            "education": {
                "school": {"listed": {"id": "tohoku", "name": "東北大学"}},
                "graduation": "2006/03",
                "grad_university": {"listed": {"id": "tohoku", "name": "東北大学"}},
                "grad_department": null,
                "grad_completion": null,
                "degree_date": null
            },
            "societies": [
                {"listed": {"id": "17", "name": "日本内科学会"}},
                {"unlisted": "地域医療研究会"}
            ]
        });
        assert_eq!(json, expected);
        let back: Person = serde_json::from_value(json).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(back, p);
    }

    /// Records written before mobile, main department, school and
    /// graduation became optional read back with them present; a record
    /// without them (an imported member) reads back with none.
    #[test]
    fn old_records_read_back_and_imported_ones_may_lack_the_unknown_fields() {
        let old = serde_json::json!({
            "name": {"last": "山田", "first": "太郎"},
            "kana": {"last": "ヤマダ", "first": "タロウ"},
            "former": {
                "kana_last": null, "kana_first": null,
                "name_last": null, "name_first": null,
                "use_on_mail": false
            },
            "birth_date": "1980/04/01",
            "gender": "unanswered",
            "registry": {"number": "123456", "date": "2008/05/01"},
            "address": {
                "postal_code": "113-8621", "prefecture": "東京都",
                "line": "文京区本駒込2-28-16", "building": null
            },
            "phones": {"mobile": "090-1234-5678", "tel": null, "fax": null},
            "departments": {"main": {"code": "01", "name": "内科"}, "sub": []},
            "education": {
                "school": {"listed": {"id": "tohoku", "name": "東北大学"}},
                "graduation": "2006/03",
                "grad_university": null, "grad_department": null,
                "grad_completion": null, "degree_date": null
            },
            "societies": []
        });
        let p: Person = serde_json::from_value(old.clone()).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(p, Person::from(registration(&[])));
        let mut imported = old;
        imported["phones"] = serde_json::json!({"tel": "03-3823-2101", "fax": null});
        imported["departments"] = serde_json::json!({"sub": []});
        imported["education"] = serde_json::json!({
            "grad_university": null, "grad_department": null,
            "grad_completion": null, "degree_date": null
        });
        let p: Person = serde_json::from_value(imported).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(p.phones.mobile, None);
        assert_eq!(p.departments.main, None);
        assert!(p.education.school.is_none() && p.education.graduation.is_none());
        assert_eq!(p.search_keys().phones, ["0338232101"]);
    }
}
