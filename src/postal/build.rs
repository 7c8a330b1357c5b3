//! Writing a postal table file from its entries (the format is in `table.rs`).

use std::collections::{HashMap, HashSet};

use anyhow::{Result, anyhow, ensure};

use super::table::{
    BUSINESS_FLAG, Entry, HEADER_LEN, MAGIC, MAX_BLOB, MAX_CITIES, MAX_CODE, RECORD_LEN, VERSION,
    fnv1a64,
};

fn push_u24(out: &mut Vec<u8>, v: u32) {
    out.extend_from_slice(&v.to_le_bytes()[..3]);
}

/// Writes a table: the same layout, and for the same entries the same bytes,
/// as `build_table` in `tools/postal-gen/postal_gen.py`.
pub(super) fn build_table(mut entries: Vec<Entry>, date: &str, source: &str) -> Result<Vec<u8>> {
    entries.sort_by_key(|e| (e.code, e.business)); // stable: keeps Japan Post's order
    let mut seen = HashSet::new();
    entries.retain(|e| {
        let a = &e.address;
        seen.insert((e.code, a.prefecture.clone(), a.city.clone(), a.town.clone()))
    });

    let mut blob: Vec<u8> = Vec::new();
    let mut strings: HashMap<String, u32> = HashMap::new();
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
    let mut cities: HashMap<(u32, u32), u16> = HashMap::new();
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

#[cfg(test)]
mod tests {
    use std::borrow::Cow;

    use super::*;
    use crate::postal::{PostalTable, addr, table::CHECKSUM_LEN};

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
