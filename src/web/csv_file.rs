//! The CSV files the office downloads (people, applications): quoted by
//! the `csv` crate, CRLF line ends, UTF-8 with a BOM (Excel reads it as
//! UTF-8) or Shift_JIS (CP932) on request, and cells that a spreadsheet
//! would run as a formula neutralised.
//!
//! A character CP932 has no code for (such as 𠮷) is written as 〓, the
//! geta mark, so the file stays readable; 髙 and 﨑 are in CP932 (IBM and
//! NEC extensions) and are kept.

use std::borrow::Cow;

use encoding_rs::{EncoderResult, SHIFT_JIS};

/// The encoding asked for.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Encoding {
    /// UTF-8 with a byte-order mark.
    #[default]
    Utf8Bom,
    /// Shift_JIS as Windows writes it (CP932).
    Cp932,
}

impl Encoding {
    /// `sjis` asks for CP932; anything else is UTF-8.
    pub fn from_key(key: &str) -> Encoding {
        match key {
            "sjis" => Encoding::Cp932,
            _ => Encoding::Utf8Bom,
        }
    }

    pub fn key(self) -> &'static str {
        match self {
            Encoding::Utf8Bom => "utf8",
            Encoding::Cp932 => "sjis",
        }
    }

    /// The `Content-Type` of the file.
    pub fn content_type(self) -> &'static str {
        match self {
            Encoding::Utf8Bom => "text/csv; charset=utf-8",
            Encoding::Cp932 => "text/csv; charset=Shift_JIS",
        }
    }
}

/// The UTF-8 byte-order mark.
const BOM: &[u8] = b"\xEF\xBB\xBF";
/// 〓 in CP932, written for a character CP932 cannot encode.
const GETA_CP932: &[u8] = b"\x81\xAC";

/// A cell a spreadsheet would read as a formula (`=`, `+`, `-`, `@`, or a
/// tab or carriage return before one) gets a leading `'`.
pub fn neutralise(cell: &str) -> Cow<'_, str> {
    if cell.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        Cow::Owned(format!("'{cell}"))
    } else {
        Cow::Borrowed(cell)
    }
}

/// The start of a file: the BOM (UTF-8) and the header row `columns`.
pub fn header(encoding: Encoding, columns: &[&str]) -> anyhow::Result<Vec<u8>> {
    let mut out = Vec::new();
    if encoding == Encoding::Utf8Bom {
        out.extend_from_slice(BOM);
    }
    out.extend(records(
        encoding,
        std::iter::once(columns.iter().map(|c| (*c).to_owned()).collect()),
    )?);
    Ok(out)
}

/// The lines of `records`, cells neutralised, in `encoding`.
pub fn records(
    encoding: Encoding,
    records: impl Iterator<Item = Vec<String>>,
) -> anyhow::Result<Vec<u8>> {
    let mut w = csv::WriterBuilder::new()
        .terminator(csv::Terminator::CRLF)
        .from_writer(Vec::new());
    for record in records {
        w.write_record(record.iter().map(|c| neutralise(c).into_owned()))?;
    }
    let utf8 = w.into_inner().map_err(|e| anyhow::anyhow!("csv: {e}"))?;
    Ok(match encoding {
        Encoding::Utf8Bom => utf8,
        Encoding::Cp932 => to_cp932(&String::from_utf8(utf8)?),
    })
}

/// `s` in CP932, 〓 for what it cannot encode.
pub fn to_cp932(s: &str) -> Vec<u8> {
    let mut encoder = SHIFT_JIS.new_encoder();
    let mut out = Vec::with_capacity(s.len() + 16);
    let mut rest = s;
    loop {
        let room = encoder
            .max_buffer_length_from_utf8_without_replacement(rest.len())
            .unwrap_or(rest.len().saturating_mul(2))
            .max(16);
        out.reserve(room);
        let (result, read) =
            encoder.encode_from_utf8_to_vec_without_replacement(rest, &mut out, true);
        rest = rest.get(read..).unwrap_or("");
        match result {
            EncoderResult::InputEmpty => return out,
            EncoderResult::OutputFull => {}
            EncoderResult::Unmappable(_) => out.extend_from_slice(GETA_CP932),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formulas_are_neutralised_and_other_cells_kept() {
        for cell in ["=1+2", "+81", "-3", "@SUM(A1)", "\t=x", "\r=x"] {
            assert_eq!(neutralise(cell), format!("'{cell}"));
        }
        for cell in ["山田", "090-1234-5678", "a=b", ""] {
            assert_eq!(neutralise(cell), cell);
        }
    }

    #[test]
    fn the_header_is_utf8_with_a_bom_or_cp932_with_crlf() {
        let utf8 = header(Encoding::Utf8Bom, &["ID", "氏名", "フリガナ"]).unwrap();
        assert!(utf8.starts_with(BOM));
        assert!(utf8.ends_with(b"\r\n"));
        let text = String::from_utf8(utf8[3..].to_vec()).unwrap();
        assert_eq!(text, "ID,氏名,フリガナ\r\n");
        let sjis = header(Encoding::Cp932, &["ID", "氏名", "フリガナ"]).unwrap();
        let (back, _, errors) = SHIFT_JIS.decode(&sjis);
        assert!(!errors);
        assert_eq!(back, text);
    }

    #[test]
    fn cp932_keeps_its_extensions_and_marks_what_it_cannot_encode() {
        let bytes = to_cp932("髙橋 山\u{FA11} 斎藤 \u{20BB7}野");
        let (back, _, errors) = SHIFT_JIS.decode(&bytes);
        assert!(!errors);
        assert_eq!(back, "髙橋 山\u{FA11} 斎藤 〓野");
        assert_eq!(to_cp932(""), b"");
    }
}
