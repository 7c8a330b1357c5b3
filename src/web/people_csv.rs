//! The rows of the people CSV export: the columns staff need (the file's
//! encoding, quoting and formula neutralising are `csv_file`'s).

use super::csv_file;
pub use super::csv_file::Encoding;
use crate::{mail::templates::jst, service::people::PersonRow};

/// The header row.
pub const COLUMNS: [&str; 22] = [
    "ID",
    "氏名",
    "フリガナ",
    "旧姓・旧名",
    "旧姓・旧名（フリガナ）",
    "生年月日",
    "性別",
    "医籍登録番号",
    "医籍登録日",
    "ログインID",
    "メールアドレス",
    "携帯電話",
    "電話",
    "FAX",
    "郵便番号",
    "都道府県",
    "住所",
    "建物名",
    "主たる科",
    "所属医師会",
    "状態",
    "登録日時",
];

/// The start of the file: the BOM (UTF-8) and the header row.
pub fn header(encoding: Encoding) -> anyhow::Result<Vec<u8>> {
    csv_file::header(encoding, &COLUMNS)
}

/// The lines of `rows`.
pub fn rows(encoding: Encoding, rows: &[PersonRow]) -> anyhow::Result<Vec<u8>> {
    csv_file::records(encoding, rows.iter().map(cells))
}

/// One person's cells, in the order of [`COLUMNS`].
fn cells(row: &PersonRow) -> Vec<String> {
    let u = &row.user;
    let opt = |s: Option<&str>| s.unwrap_or("").to_owned();
    let mut cells = vec![u.id.to_string(), u.display_name()];
    match &u.person {
        Some(p) => {
            let f = &p.former;
            let pair = |a: Option<&str>, b: Option<&str>| {
                [a, b].into_iter().flatten().collect::<Vec<_>>().join(" ")
            };
            cells.extend([
                format!("{} {}", p.kana.last.as_str(), p.kana.first.as_str()),
                pair(
                    f.name_last.as_ref().map(|n| n.as_str()),
                    f.name_first.as_ref().map(|n| n.as_str()),
                ),
                pair(
                    f.kana_last.as_ref().map(|n| n.as_str()),
                    f.kana_first.as_ref().map(|n| n.as_str()),
                ),
                p.birth_date.to_string(),
                p.gender.label().to_owned(),
                p.registry.number.as_str().to_owned(),
                p.registry.date.to_string(),
            ]);
        }
        None => cells.extend(std::iter::repeat_n(String::new(), 7)),
    }
    cells.extend([u.login_id.clone(), u.email.clone()]);
    match &u.person {
        Some(p) => cells.extend([
            opt(p.phones.mobile.as_ref().map(|m| m.as_str())),
            opt(p.phones.tel.as_ref().map(|t| t.as_str())),
            opt(p.phones.fax.as_ref().map(|t| t.as_str())),
            p.address.postal_code.as_str().to_owned(),
            p.address.prefecture.as_str().to_owned(),
            p.address.line.as_str().to_owned(),
            opt(p.address.building.as_ref().map(|b| b.as_str())),
            opt(p.departments.main.as_ref().map(|d| d.name())),
        ]),
        None => cells.extend(std::iter::repeat_n(String::new(), 8)),
    }
    cells.extend([
        row.association.clone().unwrap_or_else(|| "所属なし".into()),
        row.state.label().to_owned(),
        jst(u.created_at),
    ]);
    cells
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_header_names_the_columns() {
        let utf8 = header(Encoding::Utf8Bom).unwrap();
        let text = String::from_utf8(utf8[3..].to_vec()).unwrap();
        assert!(text.starts_with("ID,氏名,フリガナ,"), "{text}");
    }
}
