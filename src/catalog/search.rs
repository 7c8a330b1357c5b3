//! Catalogue entries and their partial-match search.
//!
//! Every entry keeps search keys made once with [`search_key`] (width, case,
//! hiragana/katakana, long-vowel look-alikes and spaces folded): its current
//! name, its reading and aliases, and its former names. A query is folded the
//! same way and looked up with `starts_with` / `contains`, so a search costs
//! the query key and at most `limit` hits per tier, no sort; once `limit`
//! hits of some tier or better are held, worse tiers are no longer tried.
//!
//! Ranking, stable within each tier (catalogue order):
//! 1. the current name starts with the query;
//! 2. the current name contains it;
//! 3. the reading, an alias or a former name starts with it;
//! 4. the reading, an alias or a former name contains it.

use super::Prefecture;
use crate::text::search_key;

/// A name an institution had until it was renamed or merged.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FormerName {
    pub name: &'static str,
    /// The month the name ended, `YYYY-MM`.
    pub until: &'static str,
}

/// Who runs a university (設置者の区分).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    National,
    Public,
    Private,
    /// Not a university under the School Education Act (防衛医科大学校).
    Other,
}

impl Kind {
    /// The Japanese label: 国立, 公立, 私立, その他.
    pub fn label(self) -> &'static str {
        match self {
            Kind::National => "国立",
            Kind::Public => "公立",
            Kind::Private => "私立",
            Kind::Other => "その他",
        }
    }

    pub(super) fn from_tsv(value: &str) -> Option<Kind> {
        match value {
            "national" => Some(Kind::National),
            "public" => Some(Kind::Public),
            "private" => Some(Kind::Private),
            "other" => Some(Kind::Other),
            _ => None,
        }
    }
}

/// One school, university or society.
#[derive(Debug)]
pub struct Entry {
    /// Stable identifier: a slug for universities, the sequence number for societies.
    pub id: &'static str,
    /// Current official name.
    pub name: &'static str,
    /// Reading of the current name, full-width katakana.
    pub reading: &'static str,
    /// Founder; `None` for societies.
    pub kind: Option<Kind>,
    /// Prefecture of the (medical) campus; `None` for societies.
    pub prefecture: Option<&'static Prefecture>,
    /// Earlier names, in the order the data lists them.
    pub former_names: Vec<FormerName>,
    /// Abbreviations and variant spellings people type (慶大, 慶応義塾大学).
    pub aliases: Vec<&'static str>,
    keys: Keys,
}

/// The folded search keys of one entry.
#[derive(Debug)]
struct Keys {
    name: String,
    /// Reading, aliases and generated abbreviations: they name the entry itself.
    others: Vec<String>,
    /// Former names (and their abbreviations), each with its index in `former_names`.
    former: Vec<(String, usize)>,
}

/// "…医科大学" is commonly typed as "…医大" (東京女子医大, 札幌医大).
fn abbreviated(name: &str) -> Option<String> {
    name.contains("医科大学")
        .then(|| search_key(&name.replace("医科大学", "医大")))
}

impl Entry {
    pub(super) fn new(
        id: &'static str,
        name: &'static str,
        reading: &'static str,
        kind: Option<Kind>,
        prefecture: Option<&'static Prefecture>,
        former_names: Vec<FormerName>,
        aliases: Vec<&'static str>,
    ) -> Entry {
        let mut others = vec![search_key(reading)];
        others.extend(abbreviated(name));
        for alias in &aliases {
            others.push(search_key(alias));
            others.extend(abbreviated(alias));
        }
        let mut former = Vec::new();
        for (index, old) in former_names.iter().enumerate() {
            former.push((search_key(old.name), index));
            former.extend(abbreviated(old.name).map(|key| (key, index)));
        }
        Entry {
            id,
            name,
            reading,
            kind,
            prefecture,
            former_names,
            aliases,
            keys: Keys {
                name: search_key(name),
                others,
                former,
            },
        }
    }

    /// The current name folded by [`search_key`] (made once, at start).
    pub fn name_key(&self) -> &str {
        &self.keys.name
    }

    /// The tier (0 best) and the matched former name, if `query` (a search
    /// key) matches this entry in a tier better than `below` (4: any).
    pub(super) fn rank(&self, query: &str, below: u8) -> Option<(u8, Option<&FormerName>)> {
        let keys = &self.keys;
        if keys.name.starts_with(query) {
            return Some((0, None));
        }
        if below <= 1 {
            return None;
        }
        if keys.name.contains(query) {
            return Some((1, None));
        }
        if below <= 2 {
            return None;
        }
        let others = keys.others.iter().map(|key| (key, None));
        let former = keys.former.iter().map(|(key, i)| (key, Some(*i)));
        let mut contained = None;
        for (key, former) in others.chain(former) {
            if key.starts_with(query) {
                return Some((2, former.map(|i| &self.former_names[i])));
            }
            if below > 3 && contained.is_none() && key.contains(query) {
                contained = Some((3, former.map(|i| &self.former_names[i])));
            }
        }
        contained
    }
}

/// A search result: the entry, and the former name that matched when only a
/// former name did (so the page can say 「旧 東京医科歯科大学」).
#[derive(Debug, Clone, Copy)]
pub struct Hit<'a> {
    pub entry: &'a Entry,
    pub matched_former: Option<&'a FormerName>,
}

/// A searchable list of entries in catalogue order.
#[derive(Debug)]
pub struct Catalog {
    entries: Vec<Entry>,
}

impl Catalog {
    /// Panics if two entries share an id or a folded name: the data is
    /// compiled in and checked by the unit tests.
    pub(super) fn new(file: &str, entries: Vec<Entry>) -> Catalog {
        for (i, entry) in entries.iter().enumerate() {
            for other in &entries[..i] {
                if other.id == entry.id || other.keys.name == entry.keys.name {
                    panic!(
                        "catalog/data/{file}: {} ({}) duplicates {} ({})",
                        entry.name, entry.id, other.name, other.id
                    );
                }
            }
        }
        Catalog { entries }
    }

    /// Entries whose name, reading, alias or former name contains `query`,
    /// best first (see the module documentation), at most `limit`. A query
    /// that folds to nothing gives nothing.
    pub fn search(&self, query: &str, limit: usize) -> Vec<Hit<'_>> {
        let query = search_key(query);
        if query.is_empty() || limit == 0 {
            return Vec::new();
        }
        // One list per tier. The answer is the tiers in order, cut at
        // `limit`; once the tiers up to some tier hold `limit` hits, an entry
        // of that tier or a worse one can no longer be shown, so only better
        // tiers are tried from then on (a full first tier ends the walk).
        let mut tiers: [Vec<Hit<'_>>; 4] = Default::default();
        let mut below: u8 = 4;
        for entry in &self.entries {
            let Some((tier, matched_former)) = entry.rank(&query, below) else {
                continue;
            };
            tiers[usize::from(tier)].push(Hit {
                entry,
                matched_former,
            });
            let mut held = 0;
            for (t, list) in (0u8..).zip(&tiers) {
                held += list.len();
                if held >= limit {
                    below = t;
                    break;
                }
            }
            if below == 0 {
                break;
            }
        }
        tiers.into_iter().flatten().take(limit).collect()
    }

    /// The entry whose current name equals `name` once both are folded
    /// (surrounding and inner spaces, width, kana); former names do not count.
    pub fn find_exact(&self, name: &str) -> Option<&Entry> {
        let key = search_key(name);
        if key.is_empty() {
            return None;
        }
        self.entries.iter().find(|entry| entry.keys.name == key)
    }

    /// The entry with this id.
    pub fn get(&self, id: &str) -> Option<&Entry> {
        self.entries.iter().find(|entry| entry.id == id)
    }

    /// All entries in catalogue order.
    pub fn entries(&self) -> &[Entry] {
        &self.entries
    }
}
