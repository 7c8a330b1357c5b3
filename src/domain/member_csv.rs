//! The member-import CSV: an association's existing members, one row each,
//! as Excel writes them, read into typed [`Person`]s with the registration
//! form's parsers and messages.
//!
//! **Encoding**, detected without asking: UTF-8 (with or without a BOM) when
//! the bytes are valid UTF-8, otherwise Shift_JIS as Windows writes it
//! (CP932, which `encoding_rs` decodes as `Shift_JIS`).
//!
//! **Columns** (the first row names them; order free, unknown columns
//! ignored, surrounding spaces ignored):
//!
//! | column | 必須 | what |
//! |---|---|---|
//! | 氏名 (or 姓 and 名) | yes | `姓 名`, separated by a space (全角 or 半角) |
//! | フリガナ (or セイ and メイ) | yes | `セイ メイ`, likewise; hiragana and 半角カナ are made 全角カタカナ |
//! | 生年月日 | yes | `1970/01/02`, `1970-1-2` or 和暦 (`昭和45年1月2日`, `S45.1.2`) |
//! | 性別 | no | 男 / 女 (男性 / 女性); empty: 回答しない |
//! | 医籍登録番号 | yes | 6 digits |
//! | 医籍登録日 | yes | a date, as 生年月日 |
//! | 郵便番号 | yes | `113-8621` or `1138621` |
//! | 都道府県 | yes | one of the 47 (or its JIS code) |
//! | 住所 | yes | 番地まで |
//! | 建物名 | no | 建物名、部屋番号など |
//! | 電話番号 | yes | with hyphens; 070/080/090 numbers are kept as 携帯電話番号, others as TEL |
//! | 会員種別 | no | free text, kept as given (at most 30 characters) |
//! | 入会日 | no | a date |
//! | 所属医師会 | no | the name of an association in the importer's scope; empty: the importing association |
//!
//! What a registration asks but old records do not hold (携帯電話番号 when
//! only a landline is known, 主たる科名, 出身校, 卒業年月) stays empty in the
//! imported [`Person`]; the member adds it later.

use serde::{Deserialize, Serialize};

use super::{
    AddressLine, BuildingName, Date, Field, Gender, KanaName, KanjiName, MedicalRegistryNumber,
    PhoneNumber, PostalCode, Prefecture,
    person::{
        Address, Departments, Education, FormerName, FullName, Person, Phones, Registry, phone_key,
    },
    rules::{control_message, has_forbidden_control},
};

/// The header row of the template, in its order.
pub const TEMPLATE_COLUMNS: [&str; 14] = [
    "氏名",
    "フリガナ",
    "生年月日",
    "性別",
    "医籍登録番号",
    "医籍登録日",
    "郵便番号",
    "都道府県",
    "住所",
    "建物名",
    "電話番号",
    "会員種別",
    "入会日",
    "所属医師会",
];

/// The template's example row (a made-up member).
const TEMPLATE_EXAMPLE: [&str; 14] = [
    "日医 太郎",
    "ニチイ タロウ",
    "1970/01/02",
    "男",
    "012345",
    "1996/05/01",
    "113-8621",
    "東京都",
    "文京区本駒込2-28-16",
    "日本医師会館",
    "03-3946-2121",
    "A①会員",
    "2005/04/01",
    "",
];

/// The longest 会員種別 kept.
pub const CLASS_MAX_CHARS: usize = 30;
/// The longest 所属医師会 name read.
const ASSOCIATION_MAX_CHARS: usize = 60;
/// Label of the join date in messages.
pub const JOINED_LABEL: &str = "入会日";
/// Label of the member class in messages.
pub const CLASS_LABEL: &str = "会員種別";
/// Label of the association column in messages.
pub const ASSOCIATION_LABEL: &str = "所属医師会";

/// The template to download: UTF-8 with a BOM (so that Excel reads it as
/// UTF-8), the header row and one example row, CRLF line ends.
pub fn template() -> Vec<u8> {
    let mut out = "\u{feff}".as_bytes().to_vec();
    for row in [TEMPLATE_COLUMNS, TEMPLATE_EXAMPLE] {
        out.extend_from_slice(row.join(",").as_bytes());
        out.extend_from_slice(b"\r\n");
    }
    out
}

/// The encoding a file was read in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Encoding {
    Utf8,
    Utf8Bom,
    ShiftJis,
}

impl Encoding {
    /// As shown on the dry run.
    pub fn label(self) -> &'static str {
        match self {
            Encoding::Utf8 => "UTF-8",
            Encoding::Utf8Bom => "UTF-8（BOM付き）",
            Encoding::ShiftJis => "Shift_JIS",
        }
    }
}

/// The file's text: UTF-8 (its BOM dropped) when the bytes are UTF-8,
/// otherwise CP932. `None` when they are neither.
pub fn decode(bytes: &[u8]) -> Option<(String, Encoding)> {
    if let Some(rest) = bytes.strip_prefix(b"\xEF\xBB\xBF") {
        return std::str::from_utf8(rest)
            .ok()
            .map(|s| (s.to_owned(), Encoding::Utf8Bom));
    }
    if let Ok(s) = std::str::from_utf8(bytes) {
        return Some((s.to_owned(), Encoding::Utf8));
    }
    let (text, had_errors) = encoding_rs::SHIFT_JIS.decode_without_bom_handling(bytes);
    (!had_errors).then(|| (text.into_owned(), Encoding::ShiftJis))
}

/// Why a whole file cannot be read (nothing of it is shown row by row).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FileError {
    /// Neither UTF-8 nor Shift_JIS.
    Encoding,
    /// No header row, or no row after it.
    Empty,
    /// Required columns missing from the header row.
    MissingColumns(Vec<&'static str>),
    /// The CSV itself is broken (the line where it broke).
    Malformed { line: u64 },
}

impl FileError {
    /// The message shown above the upload form.
    pub fn message(&self) -> String {
        match self {
            FileError::Encoding => "ファイルの文字コードを読み取れませんでした。UTF-8 または Shift_JIS の CSV ファイルを選択してください。".to_owned(),
            FileError::Empty => "ファイルに見出し行と会員の行がありません。".to_owned(),
            FileError::MissingColumns(cols) => format!(
                "見出し行に必須の列がありません：{}（テンプレートの見出しをお使いください）。",
                cols.join("、")
            ),
            FileError::Malformed { line } => {
                format!("{line}行目：CSV の形式が正しくありません（引用符の対応などをご確認ください）。")
            }
        }
    }
}

/// What the import keeps about the membership beyond the person (the
/// procedures issue will give classes their meaning).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Membership {
    /// 会員種別 as given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub class: Option<String>,
    /// 入会日.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub joined_on: Option<Date>,
}

/// One row read and valid.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MemberRow {
    pub person: Person,
    pub membership: Membership,
    /// 所属医師会 as written; `None`: the importing association.
    pub association: Option<String>,
}

/// One row of the file: its line number (of its first line, counting the
/// header as line 1) and the member or every message about it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParsedRow {
    pub line: u64,
    /// 姓 名 as written, for the dry-run table (also for a refused row).
    pub name: String,
    pub result: Result<MemberRow, Vec<String>>,
}

/// The columns found in the header row: their index in each record.
#[derive(Default)]
struct Columns {
    name: Option<usize>,
    name_last: Option<usize>,
    name_first: Option<usize>,
    kana: Option<usize>,
    kana_last: Option<usize>,
    kana_first: Option<usize>,
    birth: Option<usize>,
    gender: Option<usize>,
    registry_number: Option<usize>,
    registry_date: Option<usize>,
    postal: Option<usize>,
    prefecture: Option<usize>,
    address: Option<usize>,
    building: Option<usize>,
    phone: Option<usize>,
    class: Option<usize>,
    joined: Option<usize>,
    association: Option<usize>,
}

impl Columns {
    fn read(header: &csv::StringRecord) -> Result<Columns, FileError> {
        let mut c = Columns::default();
        for (i, h) in header.iter().enumerate() {
            let h = crate::text::normalize_fullwidth_field(h.trim().trim_start_matches('\u{feff}'));
            let slot = match h.as_str() {
                "氏名" => &mut c.name,
                "姓" => &mut c.name_last,
                "名" => &mut c.name_first,
                "フリガナ" | "氏名（フリガナ）" | "カナ" => &mut c.kana,
                "セイ" | "セイ（フリガナ）" => &mut c.kana_last,
                "メイ" | "メイ（フリガナ）" => &mut c.kana_first,
                "生年月日" => &mut c.birth,
                "性別" => &mut c.gender,
                "医籍登録番号" => &mut c.registry_number,
                "医籍登録日" => &mut c.registry_date,
                "郵便番号" => &mut c.postal,
                "都道府県" => &mut c.prefecture,
                "住所" | "住所（番地まで）" => &mut c.address,
                "建物名" | "建物名、部屋番号など" => &mut c.building,
                "電話番号" => &mut c.phone,
                "会員種別" => &mut c.class,
                "入会日" => &mut c.joined,
                "所属医師会" => &mut c.association,
                _ => continue,
            };
            slot.get_or_insert(i);
        }
        let mut missing = Vec::new();
        if c.name.is_none() && (c.name_last.is_none() || c.name_first.is_none()) {
            missing.push("氏名");
        }
        if c.kana.is_none() && (c.kana_last.is_none() || c.kana_first.is_none()) {
            missing.push("フリガナ");
        }
        for (col, label) in [
            (c.birth, "生年月日"),
            (c.registry_number, "医籍登録番号"),
            (c.registry_date, "医籍登録日"),
            (c.postal, "郵便番号"),
            (c.prefecture, "都道府県"),
            (c.address, "住所"),
            (c.phone, "電話番号"),
        ] {
            if col.is_none() {
                missing.push(label);
            }
        }
        if missing.is_empty() {
            Ok(c)
        } else {
            Err(FileError::MissingColumns(missing))
        }
    }
}

/// `姓 名` split at its first space (全角 or 半角); a value without a space
/// is all 姓 (and 名 is then reported missing, as on the form).
fn split_name(v: &str) -> (String, String) {
    let v = v.trim();
    match v.split_once(|c: char| c.is_whitespace()) {
        Some((last, first)) => (last.trim().to_owned(), first.trim().to_owned()),
        None => (v.to_owned(), String::new()),
    }
}

/// True for a number kept as 携帯電話番号 (070, 080, 090, 060).
fn is_mobile(v: &str) -> bool {
    let digits = phone_key(v);
    ["070", "080", "090", "060"]
        .iter()
        .any(|p| digits.starts_with(p))
}

/// 男 / 女 as the form's values.
fn gender_value(v: &str) -> &str {
    match v.trim() {
        "男" | "男性" | "M" | "m" => "male",
        "女" | "女性" | "F" | "f" => "female",
        other => other,
    }
}

/// One record's values, read through the columns.
struct Record<'a> {
    record: &'a csv::StringRecord,
}

impl Record<'_> {
    fn get(&self, col: Option<usize>) -> &str {
        col.and_then(|i| self.record.get(i)).unwrap_or("").trim()
    }
}

/// Collects each field's result and its message.
struct Errors(Vec<String>);

impl Errors {
    fn take<T>(&mut self, r: Result<T, String>) -> Option<T> {
        r.map_err(|m| self.0.push(m)).ok()
    }
}

/// Reads one row (already known to have values).
fn read_row(c: &Columns, rec: &Record<'_>, today: time::Date) -> Result<MemberRow, Vec<String>> {
    let mut e = Errors(Vec::new());
    let (name_last, name_first) = match c.name {
        Some(_) => split_name(rec.get(c.name)),
        None => (
            rec.get(c.name_last).to_owned(),
            rec.get(c.name_first).to_owned(),
        ),
    };
    let (kana_last, kana_first) = match c.kana {
        Some(_) => split_name(rec.get(c.kana)),
        None => (
            rec.get(c.kana_last).to_owned(),
            rec.get(c.kana_first).to_owned(),
        ),
    };
    let phone_raw = rec.get(c.phone);
    let phone_field = if is_mobile(phone_raw) {
        Field::Mobile
    } else {
        Field::Tel
    };
    // Control characters first, each with the form's message.
    let labelled: [(&str, &str); 16] = [
        (Field::NameLast.label(), &name_last),
        (Field::NameFirst.label(), &name_first),
        (Field::KanaLast.label(), &kana_last),
        (Field::KanaFirst.label(), &kana_first),
        (Field::BirthDate.label(), rec.get(c.birth)),
        (Field::Gender.label(), rec.get(c.gender)),
        (Field::RegistryNumber.label(), rec.get(c.registry_number)),
        (Field::RegistryDate.label(), rec.get(c.registry_date)),
        (Field::PostalCode.label(), rec.get(c.postal)),
        (Field::Prefecture.label(), rec.get(c.prefecture)),
        (Field::Address.label(), rec.get(c.address)),
        (Field::Building.label(), rec.get(c.building)),
        (phone_field.label(), phone_raw),
        (CLASS_LABEL, rec.get(c.class)),
        (JOINED_LABEL, rec.get(c.joined)),
        (ASSOCIATION_LABEL, rec.get(c.association)),
    ];
    let controls: Vec<String> = labelled
        .iter()
        .filter(|(_, v)| has_forbidden_control(v, false))
        .map(|(label, _)| control_message(label))
        .collect();
    if !controls.is_empty() {
        return Err(controls);
    }

    let date = |f: Field, v: &str| Date::parse_past(v, f.label(), today);
    let name_last = e.take(KanjiName::parse_as(&name_last, Field::NameLast.label()));
    let name_first = e.take(KanjiName::parse_as(&name_first, Field::NameFirst.label()));
    let kana_last = e.take(KanaName::parse_as(&kana_last, Field::KanaLast.label()));
    let kana_first = e.take(KanaName::parse_as(&kana_first, Field::KanaFirst.label()));
    let birth = e.take(date(Field::BirthDate, rec.get(c.birth)));
    let gender = e.take(Gender::parse(gender_value(rec.get(c.gender))));
    let number = e.take(MedicalRegistryNumber::parse(rec.get(c.registry_number)));
    let registry_date = e.take(date(Field::RegistryDate, rec.get(c.registry_date)));
    if let (Some(b), Some(d)) = (&birth, &registry_date)
        && d <= b
    {
        e.0.push(format!(
            "{}は{}より後の日付を入力してください。",
            Field::RegistryDate.label(),
            Field::BirthDate.label()
        ));
    }
    let postal = e.take(PostalCode::parse(rec.get(c.postal)));
    let prefecture = e.take(Prefecture::parse(rec.get(c.prefecture)));
    let address = e.take(AddressLine::parse(rec.get(c.address)));
    let building = match rec.get(c.building) {
        "" => Some(None),
        v => e.take(BuildingName::parse(v).map(Some)),
    };
    let example = match phone_field.spec().rule {
        super::Rule::Phone { example } => example,
        _ => "",
    };
    let phone = e.take(PhoneNumber::parse_as(
        phone_raw,
        phone_field.label(),
        example,
    ));
    let class = match rec.get(c.class) {
        "" => Some(None),
        v if v.chars().count() > CLASS_MAX_CHARS => {
            e.0.push(format!(
                "{CLASS_LABEL}は{CLASS_MAX_CHARS}文字以内で入力してください。"
            ));
            None
        }
        v => Some(Some(v.to_owned())),
    };
    let joined = match rec.get(c.joined) {
        "" => Some(None),
        v => e.take(Date::parse_past(v, JOINED_LABEL, today).map(Some)),
    };
    let association = match rec.get(c.association) {
        "" => Some(None),
        v if v.chars().count() > ASSOCIATION_MAX_CHARS => {
            e.0.push(format!("{ASSOCIATION_LABEL}「{v}」は登録されていません。"));
            None
        }
        v => Some(Some(v.to_owned())),
    };
    let (
        Some(name_last),
        Some(name_first),
        Some(kana_last),
        Some(kana_first),
        Some(birth_date),
        Some(gender),
        Some(number),
        Some(registry_date),
        Some(postal_code),
        Some(prefecture),
        Some(line),
        Some(building),
        Some(phone),
        Some(class),
        Some(joined_on),
        Some(association),
    ) = (
        name_last,
        name_first,
        kana_last,
        kana_first,
        birth,
        gender,
        number,
        registry_date,
        postal,
        prefecture,
        address,
        building,
        phone,
        class,
        joined,
        association,
    )
    else {
        return Err(e.0);
    };
    if !e.0.is_empty() {
        return Err(e.0);
    }
    let (mobile, tel) = if phone_field == Field::Mobile {
        (Some(phone), None)
    } else {
        (None, Some(phone))
    };
    Ok(MemberRow {
        person: Person {
            name: FullName {
                last: name_last,
                first: name_first,
            },
            kana: FullName {
                last: kana_last,
                first: kana_first,
            },
            former: FormerName {
                kana_last: None,
                kana_first: None,
                name_last: None,
                name_first: None,
                use_on_mail: false,
            },
            birth_date,
            gender,
            registry: Registry {
                number,
                date: registry_date,
            },
            address: Address {
                postal_code,
                prefecture,
                line,
                building,
            },
            phones: Phones {
                mobile,
                tel,
                fax: None,
            },
            departments: Departments {
                main: None,
                sub: Vec::new(),
            },
            education: Education {
                school: None,
                graduation: None,
                grad_university: None,
                grad_department: None,
                grad_completion: None,
                degree_date: None,
            },
            societies: Vec::new(),
        },
        membership: Membership { class, joined_on },
        association,
    })
}

/// Reads a decoded file: one [`ParsedRow`] per non-empty row, in file
/// order. A 医籍登録番号 given on an earlier row refuses the later one.
pub fn parse(text: &str, today: time::Date) -> Result<Vec<ParsedRow>, FileError> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .flexible(true)
        .from_reader(text.as_bytes());
    let header = reader
        .headers()
        .map_err(|e| FileError::Malformed {
            line: e.position().map_or(1, csv::Position::line),
        })?
        .clone();
    if header.iter().all(|h| h.trim().is_empty()) {
        return Err(FileError::Empty);
    }
    let columns = Columns::read(&header)?;
    // Line numbers from byte offsets (the reader's own line count skips
    // blank lines and CRLF ends); a record's offset may point at the line
    // ends before it.
    let newlines: Vec<usize> = text
        .bytes()
        .enumerate()
        .filter(|(_, b)| *b == b'\n')
        .map(|(i, _)| i)
        .collect();
    let line_at = |byte: u64| {
        let mut byte = usize::try_from(byte).unwrap_or(usize::MAX);
        while matches!(text.as_bytes().get(byte), Some(b'\r' | b'\n')) {
            byte += 1;
        }
        newlines.partition_point(|&n| n < byte) as u64 + 1
    };
    let mut rows = Vec::new();
    let mut seen: std::collections::HashMap<String, u64> = std::collections::HashMap::new();
    let mut seen_people: std::collections::HashMap<String, u64> = std::collections::HashMap::new();
    for record in reader.records() {
        let record = record.map_err(|e| FileError::Malformed {
            line: e.position().map_or(0, |p| line_at(p.byte())),
        })?;
        if record.iter().all(|v| v.trim().is_empty()) {
            continue;
        }
        let line = record.position().map_or(0, |p| line_at(p.byte()));
        let rec = Record { record: &record };
        let name = match columns.name {
            Some(_) => rec.get(columns.name).to_owned(),
            None => format!(
                "{} {}",
                rec.get(columns.name_last),
                rec.get(columns.name_first)
            ),
        };
        let mut result = read_row(&columns, &rec, today);
        if let Ok(row) = &result {
            let number = row.person.registry.number.as_str().to_owned();
            let who = format!(
                "{}{}\t{}",
                row.person.name.last.as_str(),
                row.person.name.first.as_str(),
                row.person.birth_date
            );
            if let Some(first) = seen.get(&number) {
                result = Err(vec![format!(
                    "{}「{number}」は{first}行目と重複しています。",
                    Field::RegistryNumber.label()
                )]);
            } else if let Some(first) = seen_people.get(&who) {
                result = Err(vec![format!(
                    "{}と{}が{first}行目と同じです（同じ方の行が重複していないかご確認ください）。",
                    super::Group::Name.label(),
                    Field::BirthDate.label()
                )]);
            } else {
                seen.insert(number, line);
                seen_people.insert(who, line);
            }
        }
        rows.push(ParsedRow {
            line,
            name: name.trim().to_owned(),
            result,
        });
    }
    if rows.is_empty() {
        return Err(FileError::Empty);
    }
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    const TODAY: time::Date = date!(2026 - 12 - 01);
    const HEADER: &str = "氏名,フリガナ,生年月日,性別,医籍登録番号,医籍登録日,郵便番号,都道府県,住所,建物名,電話番号,会員種別,入会日,所属医師会";

    fn rows(body: &str) -> Vec<ParsedRow> {
        parse(&format!("{HEADER}\n{body}"), TODAY).unwrap_or_else(|e| panic!("{e:?}"))
    }

    #[test]
    fn the_template_reads_as_one_valid_member() {
        let (text, enc) = decode(&template()).unwrap();
        assert_eq!(enc, Encoding::Utf8Bom);
        let rows = parse(&text, TODAY).unwrap();
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0].line, 2);
        let row = rows[0].result.clone().unwrap_or_else(|e| panic!("{e:?}"));
        assert_eq!(row.person.display_name(), "日医 太郎");
        assert_eq!(row.person.kana.first.as_str(), "タロウ");
        assert_eq!(row.person.gender, Gender::Male);
        assert_eq!(row.person.phones.mobile, None);
        assert_eq!(
            row.person.phones.tel.as_ref().map(PhoneNumber::as_str),
            Some("03-3946-2121")
        );
        assert_eq!(row.membership.class.as_deref(), Some("A①会員"));
        assert_eq!(row.association, None);
    }

    #[test]
    fn shift_jis_is_detected_and_names_keep_their_characters() {
        let text = format!(
            "{HEADER}\r\n髙橋 﨑子,たかはし さきこ,昭和45年1月2日,女,123456,H8.5.1,1138621,13,文京区本駒込２－２８－１６,,090-1234-5678,,,\r\n"
        );
        let (bytes, _, bad) = encoding_rs::SHIFT_JIS.encode(&text);
        assert!(!bad);
        let (decoded, enc) = decode(&bytes).unwrap();
        assert_eq!(enc, Encoding::ShiftJis);
        let rows = parse(&decoded, TODAY).unwrap();
        let row = rows[0].result.clone().unwrap_or_else(|e| panic!("{e:?}"));
        assert_eq!(row.person.display_name(), "髙橋 﨑子");
        assert_eq!(row.person.kana.last.as_str(), "タカハシ");
        assert_eq!(row.person.birth_date.to_string(), "1970/01/02");
        assert_eq!(row.person.registry.date.to_string(), "1996/05/01");
        assert_eq!(row.person.address.postal_code.as_str(), "113-8621");
        assert_eq!(row.person.address.prefecture.as_str(), "東京都");
        assert!(row.person.phones.mobile.is_some());
        assert_eq!(decode(b"\xff\xff\xff"), None);
    }

    #[test]
    fn a_bad_row_gets_the_registration_forms_messages_with_its_line() {
        let rows = rows(
            "山田 太郎,ヤマダ タロウ,1980/04/01,,12345,2008/05/01,113-8621,東京都,文京区,,03-1234,,,\n\
             \n\
             \"鈴木\n一郎\",スズキ イチロウ,2030/01/01,他,234567,2008/05/01,113-8621,東京都,文京区,,090-1111-2222,,,\n\
             山田太郎,ヤマダ タロウ,1980/04/01,,345678,1970/05/01,113-8621,東京都,文京区,,090-1111-2222,,,",
        );
        assert_eq!(rows.len(), 3);
        assert_eq!(rows[0].line, 2);
        let msgs = rows[0].result.clone().unwrap_err();
        assert!(
            msgs.contains(&"医籍登録番号は半角数字6文字で入力してください。".to_owned()),
            "{msgs:?}"
        );
        assert!(
            msgs.iter()
                .any(|m| m.starts_with("TELの形式が正しくありません")),
            "{msgs:?}"
        );
        // The blank line is skipped; a quoted value over two lines is
        // numbered by its first line.
        assert_eq!(rows[1].line, 4);
        assert_eq!(rows[1].name, "鈴木\n一郎");
        assert_eq!(
            rows[1].result.clone().unwrap_err(),
            vec![
                "未来の日付は入力できません。".to_owned(),
                "性別を選択肢から選択してください。".to_owned()
            ]
        );
        assert_eq!(rows[2].line, 6);
        let tab = parse(&format!("{HEADER}\n山田 太\u{7}郎,ヤマダ タロウ,1980/04/01,,123456,2008/05/01,113-8621,東京都,文京区,,090-1111-2222,,,"), TODAY).unwrap();
        assert_eq!(
            tab[0].result.clone().unwrap_err(),
            vec![control_message("名")]
        );
        let msgs = rows[2].result.clone().unwrap_err();
        assert!(
            msgs.contains(&"名を入力してください。".to_owned()),
            "{msgs:?}"
        );
        assert!(
            msgs.contains(&"医籍登録日は生年月日より後の日付を入力してください。".to_owned()),
            "{msgs:?}"
        );
    }

    #[test]
    fn a_repeated_registry_number_refuses_the_later_row() {
        let line = "山田 太郎,ヤマダ タロウ,1980/04/01,男,123456,2008/05/01,113-8621,東京都,文京区,,090-1111-2222,,,";
        let rows = rows(&format!("{line}\n{line}"));
        assert!(rows[0].result.is_ok());
        assert_eq!(
            rows[1].result.clone().unwrap_err(),
            vec!["医籍登録番号「123456」は2行目と重複しています。".to_owned()]
        );
    }

    #[test]
    fn separate_name_columns_and_missing_columns() {
        let text = "姓,名,セイ,メイ,生年月日,医籍登録番号,医籍登録日,郵便番号,都道府県,住所,電話番号\n\
                    山田,太郎,やまだ,たろう,1980/04/01,123456,2008/05/01,113-8621,東京都,文京区,090-1111-2222";
        let rows = parse(text, TODAY).unwrap();
        assert!(rows[0].result.is_ok(), "{:?}", rows[0].result);
        assert_eq!(
            parse("氏名,生年月日\n山田 太郎,1980/04/01", TODAY),
            Err(FileError::MissingColumns(vec![
                "フリガナ",
                "医籍登録番号",
                "医籍登録日",
                "郵便番号",
                "都道府県",
                "住所",
                "電話番号"
            ]))
        );
        assert_eq!(parse(HEADER, TODAY), Err(FileError::Empty));
        assert_eq!(parse("", TODAY), Err(FileError::Empty));
    }
}
