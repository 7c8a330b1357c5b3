//! Compiled-in reference lists for the registration form: medical schools,
//! universities (大学院), 日本医学会 member societies, the coded 診療科 list of
//! the MHLW 医師届出票, and the 47 prefectures.
//!
//! The lists live in `data/*.tsv` (each file names its source and date in its
//! `#` header lines), are embedded with `include_str!` and parsed once, on
//! first use. A malformed file panics then; `tests::every_file_parses` makes
//! sure none is. Schools, universities and societies are [`Catalog`]s with a
//! partial-match [`Catalog::search`] (ranking described in `search.rs`).

mod search;
mod tsv;

#[cfg(test)]
mod tests;

use std::fmt;
use std::sync::LazyLock;

pub use search::{Catalog, Entry, FormerName, Hit, Kind};
use tsv::rows;

/// A 診療科 of the 医師届出票, shown to users as code and name (`01内科`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Department {
    /// Two digits, `01`…
    pub code: &'static str,
    pub name: &'static str,
}

impl fmt::Display for Department {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}{}", self.code, self.name)
    }
}

/// A prefecture with its JIS X 0401 code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Prefecture {
    /// Two digits, `01` (北海道) to `47` (沖縄県).
    pub code: &'static str,
    pub name: &'static str,
    pub reading: &'static str,
}

const INSTITUTION_COLUMNS: [&str; 7] = [
    "id",
    "name",
    "reading",
    "kind",
    "prefecture",
    "former_names",
    "aliases",
];

/// Parses `medical_schools.tsv` or `universities.tsv`.
fn institutions(file: &'static str, text: &'static str) -> Catalog {
    let entries = rows(file, text, &INSTITUTION_COLUMNS)
        .iter()
        .map(|row| {
            let prefecture = row.required(4, "prefecture");
            let prefecture = prefecture_by_name(prefecture)
                .unwrap_or_else(|| row.fail(&format!("unknown prefecture {prefecture:?}")));
            Entry::new(
                row.id(0),
                row.required(1, "name"),
                row.reading(2),
                Some(row.kind(3)),
                Some(prefecture),
                row.former_names(5),
                row.list(6),
            )
        })
        .collect();
    Catalog::new(file, entries)
}

/// Parses `societies.tsv`; the official 分科会番号 serves as the id.
fn societies_from(file: &'static str, text: &'static str) -> Catalog {
    let entries = rows(file, text, &["number", "name", "reading", "former_names"])
        .iter()
        .map(|row| {
            let number = row.required(0, "number");
            if !number.bytes().all(|b| b.is_ascii_digit()) {
                row.fail(&format!("number {number:?} is not a number"));
            }
            Entry::new(
                number,
                row.required(1, "name"),
                row.reading(2),
                None,
                None,
                row.former_names(3),
                Vec::new(),
            )
        })
        .collect();
    Catalog::new(file, entries)
}

static MEDICAL_SCHOOLS: LazyLock<Catalog> = LazyLock::new(|| {
    institutions(
        "medical_schools.tsv",
        include_str!("data/medical_schools.tsv"),
    )
});

static UNIVERSITIES: LazyLock<Catalog> =
    LazyLock::new(|| institutions("universities.tsv", include_str!("data/universities.tsv")));

static SOCIETIES: LazyLock<Catalog> =
    LazyLock::new(|| societies_from("societies.tsv", include_str!("data/societies.tsv")));

static DEPARTMENTS: LazyLock<Vec<Department>> = LazyLock::new(|| {
    rows(
        "departments.tsv",
        include_str!("data/departments.tsv"),
        &["code", "name"],
    )
    .iter()
    .map(|row| Department {
        code: row.two_digit_code(0),
        name: row.required(1, "name"),
    })
    .collect()
});

static PREFECTURES: LazyLock<Vec<Prefecture>> = LazyLock::new(|| {
    rows(
        "prefectures.tsv",
        include_str!("data/prefectures.tsv"),
        &["code", "name", "reading"],
    )
    .iter()
    .map(|row| Prefecture {
        code: row.two_digit_code(0),
        name: row.required(1, "name"),
        reading: row.reading(2),
    })
    .collect()
});

/// The 82 Japanese medical schools (出身校).
pub fn medical_schools() -> &'static Catalog {
    &MEDICAL_SCHOOLS
}

/// Universities with graduate schools (大学院), the medical schools included.
pub fn universities() -> &'static Catalog {
    &UNIVERSITIES
}

/// The member societies of 日本医学会 (所属学会).
pub fn societies() -> &'static Catalog {
    &SOCIETIES
}

/// The 診療科 of the 医師届出票 in code order.
pub fn departments() -> &'static [Department] {
    &DEPARTMENTS
}

/// The 診療科 with this code (`01`; full-width digits and surrounding spaces
/// are accepted).
pub fn department(code: &str) -> Option<&'static Department> {
    let code = crate::text::normalize_halfwidth_field(code);
    DEPARTMENTS
        .iter()
        .find(|department| department.code == code)
}

/// The 47 prefectures in JIS X 0401 order.
pub fn prefectures() -> &'static [Prefecture] {
    &PREFECTURES
}

/// The prefecture with this full name (東京都; surrounding spaces ignored).
pub fn prefecture_by_name(name: &str) -> Option<&'static Prefecture> {
    let name = name.trim();
    PREFECTURES
        .iter()
        .find(|prefecture| prefecture.name == name)
}

/// The prefecture with this JIS code (`13`; full-width digits and surrounding
/// spaces are accepted).
pub fn prefecture_by_code(code: &str) -> Option<&'static Prefecture> {
    let code = crate::text::normalize_halfwidth_field(code);
    PREFECTURES
        .iter()
        .find(|prefecture| prefecture.code == code)
}
