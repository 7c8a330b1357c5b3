//! Japan Post's KEN_ALL CSV: reading it, cleaning its town field, and
//! importing it as a table file.
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

use std::path::Path;

use anyhow::{Context, Result, anyhow, ensure};

use super::{Address, PostalTable, build::build_table, table::Entry};

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

/// Japan Post's town field → the town a person types (this module's documentation).
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
/// are cleaned as this module's documentation says. Business codes, which this
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
    std::fs::write(&tmp, table.bytes())
        .with_context(|| format!("cannot write {}", tmp.display()))?;
    std::fs::rename(&tmp, out).with_context(|| format!("cannot write {}", out.display()))?;
    Ok(count)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::postal::addr;

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
}
