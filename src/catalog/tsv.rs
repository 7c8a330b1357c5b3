//! Reading the compiled-in TSV tables of `data/`.
//!
//! Format: UTF-8, one record a line, fields separated by tabs. Blank lines and
//! lines starting with `#` (source, date, licence notes) are skipped; the first
//! other line is the header and must name the expected columns. Trailing empty
//! fields may be left out. A malformed file panics with its name and line: the
//! files are compiled in, and a unit test parses every one of them.

use super::search::{FormerName, Kind};
use crate::text::is_fullwidth_katakana;

/// One data line of a table, its fields padded to the header's width.
pub(super) struct Row {
    file: &'static str,
    line: usize,
    fields: Vec<&'static str>,
}

impl Row {
    /// The field in column `index` (empty when left out).
    pub(super) fn get(&self, index: usize) -> &'static str {
        self.fields[index]
    }

    /// The field in column `index`, which must not be empty.
    pub(super) fn required(&self, index: usize, what: &str) -> &'static str {
        let value = self.get(index);
        if value.is_empty() {
            self.fail(&format!("{what} is empty"));
        }
        value
    }

    /// A stable identifier: lower-case ASCII letters, digits and `-`.
    pub(super) fn id(&self, index: usize) -> &'static str {
        let id = self.required(index, "id");
        if !id
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        {
            self.fail(&format!("id {id:?} is not a lower-case ASCII slug"));
        }
        id
    }

    /// A reading in full-width katakana.
    pub(super) fn reading(&self, index: usize) -> &'static str {
        let reading = self.required(index, "reading");
        if !reading.chars().all(is_fullwidth_katakana) {
            self.fail(&format!("reading {reading:?} is not full-width katakana"));
        }
        reading
    }

    /// A code of exactly two ASCII digits.
    pub(super) fn two_digit_code(&self, index: usize) -> &'static str {
        let code = self.required(index, "code");
        if code.len() != 2 || !code.bytes().all(|b| b.is_ascii_digit()) {
            self.fail(&format!("code {code:?} is not two digits"));
        }
        code
    }

    /// `national`, `public`, `private` or `other`.
    pub(super) fn kind(&self, index: usize) -> Kind {
        let value = self.required(index, "kind");
        Kind::from_tsv(value).unwrap_or_else(|| self.fail(&format!("unknown kind {value:?}")))
    }

    /// A `|`-separated list; empty items are ignored.
    pub(super) fn list(&self, index: usize) -> Vec<&'static str> {
        self.get(index)
            .split('|')
            .map(str::trim)
            .filter(|item| !item.is_empty())
            .collect()
    }

    /// A `|`-separated list of `旧名@YYYY-MM`.
    pub(super) fn former_names(&self, index: usize) -> Vec<FormerName> {
        self.list(index)
            .into_iter()
            .map(|item| {
                let Some((name, until)) = item.split_once('@') else {
                    self.fail(&format!("former name {item:?} lacks `@YYYY-MM`"));
                };
                if name.is_empty() || !is_year_month(until) {
                    self.fail(&format!("former name {item:?} is not `name@YYYY-MM`"));
                }
                FormerName { name, until }
            })
            .collect()
    }

    /// Panics, naming the file and line.
    pub(super) fn fail(&self, message: &str) -> ! {
        panic!("catalog/data/{}:{}: {message}", self.file, self.line)
    }
}

fn is_year_month(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 7
        && b[4] == b'-'
        && b[..4].iter().chain(&b[5..]).all(u8::is_ascii_digit)
        && (1..=12).contains(&(10 * (b[5] - b'0') + (b[6] - b'0')))
}

/// Splits `text` (the file `file`) into rows under the given header.
pub(super) fn rows(file: &'static str, text: &'static str, header: &[&str]) -> Vec<Row> {
    let mut lines = text
        .lines()
        .enumerate()
        .map(|(i, line)| (i + 1, line.trim_end_matches('\r')))
        .filter(|(_, line)| !line.trim().is_empty() && !line.starts_with('#'));
    let Some((line, first)) = lines.next() else {
        panic!("catalog/data/{file}: no header line");
    };
    if !first.split('\t').eq(header.iter().copied()) {
        panic!("catalog/data/{file}:{line}: header is {first:?}, expected {header:?}");
    }
    lines
        .map(|(line, text)| {
            let mut fields: Vec<&'static str> = text.split('\t').map(str::trim).collect();
            let row = |fields| Row { file, line, fields };
            if fields.len() > header.len() {
                row(fields).fail(&format!("more than {} fields", header.len()));
            }
            fields.resize(header.len(), "");
            row(fields)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn comments_blank_lines_and_missing_trailing_fields_are_accepted() {
        let text = "# source: x\n\na\tb\tc\r\n1\tx\n# note\n2\ty\tz\n";
        let rows = rows("t.tsv", text, &["a", "b", "c"]);
        assert_eq!(rows.len(), 2);
        assert_eq!(
            (rows[0].get(0), rows[0].get(1), rows[0].get(2)),
            ("1", "x", "")
        );
        assert_eq!(rows[1].get(2), "z");
    }

    #[test]
    #[should_panic(expected = "t.tsv:1: header")]
    fn a_wrong_header_panics_with_file_and_line() {
        rows("t.tsv", "a\tb\n", &["a", "c"]);
    }

    #[test]
    #[should_panic(expected = "t.tsv:2: more than 2 fields")]
    fn too_many_fields_panic() {
        rows("t.tsv", "a\tb\n1\t2\t3\n", &["a", "b"]);
    }

    #[test]
    fn former_names_need_a_real_year_month() {
        let ok = &rows("t.tsv", "f\nA@2024-10|B@1999-01\n", &["f"])[0];
        let names = ok.former_names(0);
        assert_eq!((names[1].name, names[1].until), ("B", "1999-01"));
        for bad in ["A@2024-13", "A@2024/10", "@2024-10", "A"] {
            let text: &'static str = format!("f\n{bad}\n").leak();
            let row = &rows("t.tsv", text, &["f"])[0];
            let result = std::panic::catch_unwind(|| row.former_names(0));
            assert!(result.is_err(), "{bad} was accepted");
        }
    }
}
