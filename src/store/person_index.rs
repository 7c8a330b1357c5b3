//! The people search's reads: the ids an index gives for one kind of key
//! (フリガナ, 氏名, phone, birth date, 医籍登録番号, e-mail, login ID), and
//! each person's facet (association, state, registration time, フリガナ),
//! a small record beside the account that filters and sorts matches without
//! decoding whole accounts.
//!
//! The facets are also held in memory (`FacetCache`), as of a version
//! number that every facet write bumps in the same transaction: a read sees
//! the copy made at its own snapshot's version, and rebuilds it from the
//! table when a write came in between. Filtering thousands of matches then
//! costs a binary search each instead of a B-tree read each.

use redb::{ReadTransaction, ReadableTable, TableDefinition, WriteTransaction};

use super::{
    tables::{
        PERSON_FACETS, PERSONS_BY_BIRTH, PERSONS_BY_KANA, PERSONS_BY_NAME, PERSONS_BY_PHONE,
        USERS_BY_EMAIL, USERS_BY_LOGIN, USERS_BY_REGISTRY,
    },
    users::{self, UserRecord},
};
use crate::domain::{
    AssociationId, Role,
    person::{kana_key, name_key, phone_key},
};

/// What the people search filters and sorts a person by.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Facet {
    pub association: Option<AssociationId>,
    /// The account still has the one-time password it was given.
    pub must_change_password: bool,
    /// Unix seconds of the account's creation (registration).
    pub created_at: i64,
    /// Current フリガナ as indexed (`person::kana_key`), for the kana order.
    pub kana: String,
    /// Every key of the name indexes (`PERSONS_BY_KANA`, `PERSONS_BY_NAME`)
    /// of the person, each followed by `KEY_END`, so that a short prefix is
    /// matched in memory instead of walking the indexes; none in a facet
    /// written before schema 5 (such a facet is matched by the indexes).
    pub name_keys: Option<String>,
}

/// Ends each of a facet's name keys (no key holds it).
const KEY_END: char = '\n';
/// Separates the フリガナ from the name keys in a stored facet.
const KEYS_START: u8 = 0;

/// The stored "no association".
const NO_ASSOCIATION: u64 = u64::MAX;
/// The fixed part: association, created_at, flags.
const HEAD: usize = 17;

impl Facet {
    /// The facet of an account; none for an account that is not a person's
    /// (a staff account), which the people search never shows.
    pub fn of(user: &UserRecord) -> Option<Facet> {
        if matches!(user.role, Role::Staff { .. }) {
            return None;
        }
        let kana = user.person.as_ref().map_or_else(String::new, |p| {
            kana_key(&format!(
                "{}{}",
                p.kana.last.as_str(),
                p.kana.first.as_str()
            ))
        });
        let mut name_keys = String::new();
        if let Some(p) = &user.person {
            let keys = p.search_keys();
            for key in keys.kana.iter().chain(&keys.names) {
                name_keys.push_str(key);
                name_keys.push(KEY_END);
            }
        }
        Some(Facet {
            association: user.association,
            must_change_password: user.must_change_password,
            created_at: user.created_at,
            kana,
            name_keys: Some(name_keys),
        })
    }

    fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(HEAD + self.kana.len());
        let association = self.association.map_or(NO_ASSOCIATION, |a| a.0);
        out.extend_from_slice(&association.to_be_bytes());
        out.extend_from_slice(&self.created_at.to_be_bytes());
        out.push(u8::from(self.must_change_password));
        out.extend_from_slice(self.kana.as_bytes());
        if let Some(keys) = &self.name_keys {
            out.push(KEYS_START);
            out.extend_from_slice(keys.as_bytes());
        }
        out
    }
}

/// The sequence (in `counters`) that counts facet writes: the version of
/// the facets a read transaction sees.
const FACET_VERSION: &str = "person_facets";

/// Writes (or, for a staff account, removes) the facet of `user`.
pub fn write_facet(tx: &WriteTransaction, user: &UserRecord) -> anyhow::Result<()> {
    super::next_id(tx, FACET_VERSION)?;
    let mut t = tx.open_table(PERSON_FACETS)?;
    match Facet::of(user) {
        Some(facet) => {
            t.insert(user.id, facet.encode().as_slice())?;
        }
        None => {
            t.remove(user.id)?;
        }
    }
    Ok(())
}

/// One key to look people up by, as the query gave it (normalised here).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Lookup {
    /// A prefix of a current or former 氏名 or フリガナ (family name, given
    /// name or both).
    Name(String),
    /// A prefix of the digits of a mobile, tel or fax number.
    Phone(String),
    /// A whole 医籍登録番号.
    Registry(String),
    /// A prefix of an e-mail address.
    Email(String),
    /// A birth date (`person::birth_key`).
    Birth(String),
    /// A prefix of a login ID.
    LoginId(String),
}

/// Values of `table` whose key starts with `prefix`.
fn unique_prefix(
    tx: &ReadTransaction,
    table: TableDefinition<&str, u64>,
    prefix: &str,
    ids: &mut Vec<u64>,
) -> anyhow::Result<()> {
    if prefix.is_empty() {
        return Ok(());
    }
    let t = tx.open_table(table)?;
    for entry in t.range(prefix..)? {
        let (key, id) = entry?;
        if !key.value().starts_with(prefix) {
            break;
        }
        ids.push(id.value());
    }
    Ok(())
}

/// Values of the multimap `table` whose key starts with `prefix`.
fn multi_prefix(
    tx: &ReadTransaction,
    table: redb::MultimapTableDefinition<&str, u64>,
    prefix: &str,
    ids: &mut Vec<u64>,
) -> anyhow::Result<()> {
    if prefix.is_empty() {
        return Ok(());
    }
    let t = tx.open_multimap_table(table)?;
    for entry in t.range(prefix..)? {
        let (key, values) = entry?;
        if !key.value().starts_with(prefix) {
            break;
        }
        for v in values {
            ids.push(v?.value());
        }
    }
    Ok(())
}

/// The account ids `lookups` find (any of them), in id order, each once.
/// Staff accounts may be among them (login IDs): [`facets_of`] drops them.
pub fn ids(tx: &ReadTransaction, lookups: &[Lookup]) -> anyhow::Result<Vec<u64>> {
    let mut ids = Vec::new();
    for lookup in lookups {
        match lookup {
            Lookup::Name(q) => {
                multi_prefix(tx, PERSONS_BY_KANA, &kana_key(q), &mut ids)?;
                multi_prefix(tx, PERSONS_BY_NAME, &name_key(q), &mut ids)?;
            }
            Lookup::Phone(q) => multi_prefix(tx, PERSONS_BY_PHONE, &phone_key(q), &mut ids)?,
            Lookup::Birth(key) => multi_prefix(tx, PERSONS_BY_BIRTH, key, &mut ids)?,
            Lookup::Registry(number) => {
                if let Some(id) = tx.open_table(USERS_BY_REGISTRY)?.get(number.as_str())? {
                    ids.push(id.value());
                }
            }
            Lookup::Email(q) => unique_prefix(tx, USERS_BY_EMAIL, &users::email_key(q), &mut ids)?,
            Lookup::LoginId(q) => {
                unique_prefix(tx, USERS_BY_LOGIN, &users::login_key(q), &mut ids)?;
            }
        }
    }
    ids.sort_unstable();
    ids.dedup();
    Ok(ids)
}

/// A facet as stored, read without copying: what the search filters by.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FacetView<'a> {
    pub association: Option<AssociationId>,
    pub must_change_password: bool,
    pub created_at: i64,
    pub kana: &'a str,
    pub name_keys: Option<&'a str>,
}

impl<'a> FacetView<'a> {
    pub(crate) fn read(bytes: &'a [u8]) -> anyhow::Result<FacetView<'a>> {
        let (Some(association), Some(created_at), Some(flags), Some(kana)) = (
            bytes.get(0..8),
            bytes.get(8..16),
            bytes.get(16),
            bytes.get(HEAD..),
        ) else {
            anyhow::bail!("a person facet of {} bytes", bytes.len());
        };
        let association = u64::from_be_bytes(association.try_into()?);
        let (kana, name_keys) = match kana.iter().position(|b| *b == KEYS_START) {
            Some(i) => (&kana[..i], Some(std::str::from_utf8(&kana[i + 1..])?)),
            None => (kana, None),
        };
        Ok(FacetView {
            association: (association != NO_ASSOCIATION).then_some(AssociationId(association)),
            created_at: i64::from_be_bytes(created_at.try_into()?),
            must_change_password: flags & 1 == 1,
            kana: std::str::from_utf8(kana)?,
            name_keys,
        })
    }
}

/// Every person's facet as of one version of the table, in id order.
#[derive(Debug, Default)]
pub struct Facets {
    version: u64,
    rows: Vec<(u64, Facet)>,
    /// Every facet holds its name keys (written at schema 5 or later).
    keyed: bool,
    /// Every name key with its person, in key order: made from the facets
    /// at the first name prefix asked of this version.
    by_name: std::sync::OnceLock<NameKeys>,
}

/// The name keys of every facet, sorted, in one buffer.
#[derive(Debug, Default)]
struct NameKeys {
    text: String,
    /// (start in `text`, length, position of the person in the facets'
    /// rows), in key order.
    keys: Vec<(u32, u32, u32)>,
}

impl NameKeys {
    fn of(rows: &[(u64, Facet)]) -> NameKeys {
        let mut text = String::new();
        let mut keys = Vec::new();
        for (row, (_, f)) in rows.iter().enumerate() {
            let Ok(row) = u32::try_from(row) else {
                break;
            };
            for key in f.name_keys.iter().flat_map(|k| k.split_terminator(KEY_END)) {
                let (Ok(start), Ok(len)) = (u32::try_from(text.len()), u32::try_from(key.len()))
                else {
                    break;
                };
                text.push_str(key);
                keys.push((start, len, row));
            }
        }
        let key = |&(start, len, _): &(u32, u32, u32)| {
            text.get(start as usize..(start + len) as usize)
                .unwrap_or_default()
        };
        keys.sort_unstable_by(|a, b| key(a).cmp(key(b)).then(a.2.cmp(&b.2)));
        NameKeys { text, keys }
    }

    fn key(&self, &(start, len, _): &(u32, u32, u32)) -> &str {
        self.text
            .get(start as usize..(start as usize + len as usize))
            .unwrap_or_default()
    }
}

impl Facets {
    /// The facet of person `id`.
    pub fn get(&self, id: u64) -> Option<FacetView<'_>> {
        self.rows
            .binary_search_by_key(&id, |(i, _)| *i)
            .ok()
            .and_then(|i| self.rows.get(i))
            .map(|(_, f)| f.view())
    }

    /// Every facet, newest account first.
    pub fn newest_first(&self) -> impl Iterator<Item = (u64, FacetView<'_>)> {
        self.rows.iter().rev().map(|(id, f)| (*id, f.view()))
    }

    /// True when every facet holds its name keys, so a name prefix can be
    /// matched against the facets alone ([`Facets::with_name_prefix`]).
    pub fn keyed(&self) -> bool {
        self.keyed
    }

    /// The persons one of whose name keys (as in the name indexes) starts
    /// with `prefix`, with their facets, in id order, each once: what `ids`
    /// gives for `Lookup::Name`, from memory.
    pub fn with_name_prefix(&self, prefix: &str) -> Vec<(u64, FacetView<'_>)> {
        let index = self.by_name.get_or_init(|| NameKeys::of(&self.rows));
        let start = index.keys.partition_point(|k| index.key(k) < prefix);
        let mut rows: Vec<u32> = index.keys[start..]
            .iter()
            .take_while(|k| index.key(k).starts_with(prefix))
            .map(|&(_, _, row)| row)
            .collect();
        rows.sort_unstable();
        rows.dedup();
        rows.into_iter()
            .filter_map(|row| self.rows.get(row as usize))
            .map(|(id, f)| (*id, f.view()))
            .collect()
    }

    pub fn len(&self) -> usize {
        self.rows.len()
    }

    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }
}

impl Facet {
    fn view(&self) -> FacetView<'_> {
        FacetView {
            association: self.association,
            must_change_password: self.must_change_password,
            created_at: self.created_at,
            kana: &self.kana,
            name_keys: self.name_keys.as_deref(),
        }
    }
}

/// The latest in-memory copy of the facets (one per open store).
#[derive(Debug, Default)]
pub struct FacetCache {
    latest: std::sync::Mutex<Option<std::sync::Arc<Facets>>>,
}

impl FacetCache {
    /// The facets as `tx` sees them: the cached copy when it is of the same
    /// version, else a new one read from the table (and kept when newer).
    pub fn facets(&self, tx: &ReadTransaction) -> anyhow::Result<std::sync::Arc<Facets>> {
        let version = tx
            .open_table(super::tables::COUNTERS)?
            .get(FACET_VERSION)?
            .map_or(0, |v| v.value());
        if let Some(cached) = self.cached()
            && cached.version == version
        {
            return Ok(cached);
        }
        let t = tx.open_table(PERSON_FACETS)?;
        let mut rows = Vec::new();
        for entry in t.iter()? {
            let (id, bytes) = entry?;
            rows.push((id.value(), Facet::from(FacetView::read(bytes.value())?)));
        }
        let keyed = rows.iter().all(|(_, f)| f.name_keys.is_some());
        let fresh = std::sync::Arc::new(Facets {
            version,
            rows,
            keyed,
            by_name: std::sync::OnceLock::new(),
        });
        if let Ok(mut latest) = self.latest.lock()
            && latest.as_ref().is_none_or(|l| l.version < version)
        {
            *latest = Some(fresh.clone());
        }
        Ok(fresh)
    }

    fn cached(&self) -> Option<std::sync::Arc<Facets>> {
        self.latest.lock().ok().and_then(|l| l.clone())
    }
}

/// The facets of `ids` that `keep` accepts, in the order of `ids`, copied;
/// ids of no person (staff accounts, unknown ids) are left out.
pub fn facets_of(
    tx: &ReadTransaction,
    ids: &[u64],
    mut keep: impl FnMut(&Facet) -> bool,
) -> anyhow::Result<Vec<(u64, Facet)>> {
    let t = tx.open_table(PERSON_FACETS)?;
    let mut out = Vec::new();
    for &id in ids {
        if let Some(bytes) = t.get(id)? {
            let facet = Facet::from(FacetView::read(bytes.value())?);
            if keep(&facet) {
                out.push((id, facet));
            }
        }
    }
    Ok(out)
}

impl From<FacetView<'_>> for Facet {
    fn from(v: FacetView<'_>) -> Facet {
        Facet {
            association: v.association,
            must_change_password: v.must_change_password,
            created_at: v.created_at,
            kana: v.kana.to_owned(),
            name_keys: v.name_keys.map(str::to_owned),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_facet_reads_back_as_written() {
        for facet in [
            Facet {
                association: Some(AssociationId(12)),
                must_change_password: true,
                created_at: 1_700_000_000,
                kana: "タカハシハナコ".into(),
                name_keys: Some("タカハシハナコ\nハナコ\n高橋花子\n花子\n".into()),
            },
            Facet {
                association: None,
                must_change_password: false,
                created_at: 5,
                kana: "タナカ".into(),
                name_keys: None,
            },
            Facet {
                association: None,
                must_change_password: false,
                created_at: -1,
                kana: String::new(),
                name_keys: Some(String::new()),
            },
        ] {
            let bytes = facet.encode();
            assert_eq!(FacetView::read(&bytes).ok().map(Facet::from), Some(facet));
        }
        assert!(FacetView::read(&[1, 2, 3]).is_err());
        let keyed = Facet {
            name_keys: Some("タカハシハナコ\nハナコ\n高橋花子\n花子\n".into()),
            ..Facet::from(FacetView::read(&[0; HEAD]).unwrap())
        };
        let other = Facet {
            name_keys: Some("タナカハナ\nハナ\n田中花\n花\n".into()),
            ..keyed.clone()
        };
        let facets = Facets {
            version: 1,
            rows: vec![(3, keyed), (7, other)],
            keyed: true,
            by_name: std::sync::OnceLock::new(),
        };
        let ids = |p: &str| -> Vec<u64> {
            facets
                .with_name_prefix(p)
                .into_iter()
                .map(|(id, _)| id)
                .collect()
        };
        assert_eq!(ids("ハナ"), [3, 7]);
        assert_eq!(ids("タカ"), [3]);
        assert_eq!(ids("花"), [3, 7]);
        assert_eq!(ids("高橋"), [3]);
        assert_eq!(ids("コ"), Vec::<u64>::new());
    }
}
