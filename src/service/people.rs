//! The office's people search and its CSV export: what one search box means
//! (name or フリガナ, login ID, 医籍登録番号, e-mail, phone, birth date), the
//! filters (association, account state), the order and the page, over the
//! persons in the asking staff member's scope only (`Scope::sees` on every
//! row; staff accounts never appear).
//!
//! A query is answered from the indexes (`store::person_index`): the ids the
//! typed key gives, then each one's small facet for the scope, the filters
//! and the order; whole accounts are read only for the page shown. An empty
//! query lists everyone in scope, newest registration first.

use std::cmp::Reverse;

use anyhow::Context;
use redb::ReadTransaction;

use crate::{
    auth::guards::{Scope, Staff},
    domain::{
        AssociationId, Date,
        association::Association,
        person::{birth_key, kana_key},
    },
    store::{
        Store, associations,
        audit::{AuditEntry, AuditKind},
        person_index::{self, FacetView, Facets, Lookup},
        users::{self, UserRecord},
    },
    text::normalize_halfwidth_field,
};

/// Rows on one page of results.
pub const PAGE_SIZE: usize = 50;
/// Accounts read per transaction while an export streams.
const EXPORT_CHUNK: usize = 500;
/// The longest name prefix (in characters, as indexed) matched against the
/// in-memory facets rather than the name indexes: shorter ones match too
/// many index entries to walk within the time a page has.
const MEMORY_MATCH_MAX_CHARS: usize = 3;
/// The fewest digits a phone search needs (one digit would match everyone).
const PHONE_MIN_DIGITS: usize = 3;

/// The state of a person's account.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AccountState {
    /// 利用中: signed in with a password of their own.
    Active,
    /// 初回ログイン待ち: still holds the one-time password they were given.
    AwaitingFirstLogin,
}

impl AccountState {
    pub const ALL: [AccountState; 2] = [AccountState::Active, AccountState::AwaitingFirstLogin];

    /// The value in URLs.
    pub fn key(self) -> &'static str {
        match self {
            AccountState::Active => "active",
            AccountState::AwaitingFirstLogin => "first_login",
        }
    }

    pub fn from_key(key: &str) -> Option<AccountState> {
        AccountState::ALL.into_iter().find(|s| s.key() == key)
    }

    pub fn label(self) -> &'static str {
        match self {
            AccountState::Active => "利用中",
            AccountState::AwaitingFirstLogin => "初回ログイン待ち",
        }
    }

    fn of(must_change_password: bool) -> AccountState {
        if must_change_password {
            AccountState::AwaitingFirstLogin
        } else {
            AccountState::Active
        }
    }
}

/// Which association the persons shown belong to.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum AssociationFilter {
    /// Any in scope.
    #[default]
    Any,
    /// No association yet (seen from the root only).
    Unaffiliated,
    Of(AssociationId),
}

impl AssociationFilter {
    /// The value in URLs: empty, `none`, or the association id.
    pub fn key(self) -> String {
        match self {
            AssociationFilter::Any => String::new(),
            AssociationFilter::Unaffiliated => "none".into(),
            AssociationFilter::Of(AssociationId(id)) => id.to_string(),
        }
    }

    /// Reads the URL value; anything unreadable is `Any`.
    pub fn from_key(key: &str) -> AssociationFilter {
        match key.trim() {
            "none" => AssociationFilter::Unaffiliated,
            k => k.parse().map_or(AssociationFilter::Any, |id| {
                AssociationFilter::Of(AssociationId(id))
            }),
        }
    }

    fn matches(self, association: Option<AssociationId>) -> bool {
        match self {
            AssociationFilter::Any => true,
            AssociationFilter::Unaffiliated => association.is_none(),
            AssociationFilter::Of(a) => association == Some(a),
        }
    }
}

/// The order of the results.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Sort {
    /// フリガナ順.
    Kana,
    /// 登録日順 (newest first).
    #[default]
    Newest,
}

impl Sort {
    pub const ALL: [Sort; 2] = [Sort::Kana, Sort::Newest];

    pub fn key(self) -> &'static str {
        match self {
            Sort::Kana => "kana",
            Sort::Newest => "newest",
        }
    }

    pub fn from_key(key: &str) -> Sort {
        Sort::ALL
            .into_iter()
            .find(|s| s.key() == key)
            .unwrap_or_default()
    }

    pub fn label(self) -> &'static str {
        match self {
            Sort::Kana => "フリガナ順",
            Sort::Newest => "登録日順（新しい順）",
        }
    }
}

/// One search as the office asked it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Search {
    /// The search box, as typed.
    pub q: String,
    pub association: AssociationFilter,
    pub state: Option<AccountState>,
    pub sort: Sort,
    /// 1-based.
    pub page: usize,
}

impl Search {
    /// The search for the audit log.
    fn describe(&self) -> String {
        format!(
            "q={:?} association={:?} state={} sort={}",
            self.q,
            self.association.key(),
            self.state.map_or("", AccountState::key),
            self.sort.key()
        )
    }
}

/// What the search box's text is looked up as. Width is ignored (full-width
/// digits and letters are read as half-width):
/// - with `@`: an e-mail address (prefix) or a login ID (prefix);
/// - digits only: a phone number (prefix, 3 digits or more); with 6 digits
///   also a 医籍登録番号; with 8 digits that make a date also a birth date;
/// - a date (`1980/4/1`, `1980-04-01`, `昭和55年4月1日`, `S55.4.1`, …): a birth date;
/// - digits with hyphens, brackets, `+` or spaces: a phone number;
/// - other ASCII: a login ID (prefix);
/// - anything else: a name or フリガナ (prefix of the family name, the given
///   name or the whole name, current or former).
pub fn lookups(q: &str) -> Vec<Lookup> {
    let q = normalize_halfwidth_field(q);
    if q.is_empty() {
        return Vec::new();
    }
    if q.contains('@') {
        return vec![Lookup::Email(q.clone()), Lookup::LoginId(q)];
    }
    let birth = || Date::parse(&q).ok().map(|d| Lookup::Birth(birth_key(d)));
    if q.chars().all(|c| c.is_ascii_digit()) {
        let mut found = Vec::new();
        if q.len() >= PHONE_MIN_DIGITS {
            found.push(Lookup::Phone(q.clone()));
        }
        if q.len() == 6 {
            found.push(Lookup::Registry(q.clone()));
        }
        if q.len() == 8 {
            found.extend(birth());
        }
        return found;
    }
    if let Some(birth) = birth() {
        return vec![birth];
    }
    if q.chars()
        .all(|c| c.is_ascii_digit() || matches!(c, '-' | '(' | ')' | '+' | ' '))
    {
        let digits = q.chars().filter(char::is_ascii_digit).count();
        return if digits >= PHONE_MIN_DIGITS {
            vec![Lookup::Phone(q)]
        } else {
            Vec::new()
        };
    }
    if q.is_ascii() {
        return vec![Lookup::LoginId(q)];
    }
    vec![Lookup::Name(q)]
}

/// One person found.
#[derive(Clone, Debug)]
pub struct PersonRow {
    pub user: UserRecord,
    /// The association's name; none for a person of no association.
    pub association: Option<String>,
    pub state: AccountState,
}

/// A page of results.
#[derive(Clone, Debug)]
pub struct Found {
    pub rows: Vec<PersonRow>,
    /// Persons matching in scope, on every page.
    pub total: usize,
    /// 1-based, within `1..=pages` (1 when nothing matched).
    pub page: usize,
    pub pages: usize,
    /// The associations in scope, for the filter (tree order of ids).
    pub associations: Vec<Association>,
    /// The scope includes persons of no association (root staff).
    pub sees_unaffiliated: bool,
}

impl Found {
    pub fn has_more(&self) -> bool {
        self.page < self.pages
    }
}

/// The tree and the scope of `staff`, read in `tx`.
fn scope_in(tx: &ReadTransaction, staff: &Staff) -> anyhow::Result<(Vec<Association>, Scope)> {
    let all = associations::all(tx)?;
    let scope = staff.scope(&all);
    let mut within: Vec<Association> = all.into_iter().filter(|a| scope.allows(a.id)).collect();
    within.sort_by_key(|a| a.id.0);
    Ok((within, scope))
}

/// What a search matched: how many, and the ids of the window asked for,
/// in the order asked.
struct Matches {
    total: usize,
    ids: Vec<u64>,
}

/// `Scope::sees` over a sorted copy of the scope's associations: the
/// loops over every facet ask it 200,000 times.
struct Seen {
    associations: Vec<AssociationId>,
    unaffiliated: bool,
}

impl Seen {
    fn of(scope: &Scope) -> Seen {
        let mut associations = scope.associations().to_vec();
        associations.sort_unstable_by_key(|a| a.0);
        Seen {
            associations,
            unaffiliated: scope.allows_unaffiliated(),
        }
    }

    fn sees(&self, association: Option<AssociationId>) -> bool {
        match association {
            Some(a) => self
                .associations
                .binary_search_by_key(&a.0, |x| x.0)
                .is_ok(),
            None => self.unaffiliated,
        }
    }
}

/// The persons matching `search` in `scope`: their number and the ids of
/// `skip..skip + take` in the order asked. An empty query with the newest
/// first reads every facet once, newest first, keeping the window's ids
/// only; otherwise the matches are collected and sorted.
fn matching<'f>(
    tx: &ReadTransaction,
    facets: &'f Facets,
    scope: &Scope,
    search: &Search,
    skip: usize,
    take: usize,
) -> anyhow::Result<Matches> {
    let sees = Seen::of(scope);
    let keep = |f: &FacetView<'_>| {
        sees.sees(f.association)
            && search.association.matches(f.association)
            && search
                .state
                .is_none_or(|s| s == AccountState::of(f.must_change_password))
    };
    let window = |total: usize| total >= skip && total - skip < take;
    let empty = search.q.trim().is_empty();
    if empty && search.sort == Sort::Newest {
        // Account ids are given in the order accounts are made: the newest
        // registration has the highest id, and is read first.
        let mut m = Matches {
            total: 0,
            ids: Vec::new(),
        };
        for (id, f) in facets.newest_first() {
            if keep(&f) {
                if window(m.total) {
                    m.ids.push(id);
                }
                m.total += 1;
            }
        }
        return Ok(m);
    }
    let kana = search.sort == Sort::Kana;
    let mut found: Vec<(&'f str, u64)> = Vec::new();
    let mut visit = |id: u64, f: FacetView<'f>| {
        if keep(&f) {
            found.push((if kana { f.kana } else { "" }, id));
        }
    };
    if empty {
        for (id, f) in facets.newest_first() {
            visit(id, f);
        }
    } else {
        let lookups = lookups(&search.q);
        if let [Lookup::Name(q)] = lookups.as_slice()
            && facets.keyed()
            && let prefix = kana_key(q)
            && !prefix.is_empty()
            && prefix.chars().count() <= MEMORY_MATCH_MAX_CHARS
        {
            // A short prefix matches thousands of index entries: the same
            // keys, sorted in memory, are quicker to walk.
            for (id, f) in facets.with_name_prefix(&prefix) {
                visit(id, f);
            }
        } else if !lookups.is_empty() {
            for id in person_index::ids(tx, &lookups)? {
                if let Some(f) = facets.get(id) {
                    visit(id, f);
                }
            }
        }
    }
    Ok(Matches {
        total: found.len(),
        ids: window_of(found, kana, skip, take),
    })
}

/// The ids of `skip..skip + take` of `found` ordered by kana (then id) or
/// newest first. Only the window's end needs its order: a selection in
/// linear time, then a sort of the first `skip + take`.
fn window_of(mut found: Vec<(&str, u64)>, kana: bool, skip: usize, take: usize) -> Vec<u64> {
    let end = skip.saturating_add(take).min(found.len());
    if kana {
        if end < found.len() {
            found.select_nth_unstable(end);
        }
        found[..end].sort_unstable();
    } else {
        let newest = |(_, id): &(&str, u64)| Reverse(*id);
        if end < found.len() {
            found.select_nth_unstable_by_key(end, newest);
        }
        found[..end].sort_unstable_by_key(newest);
    }
    found.truncate(end);
    found.into_iter().skip(skip).map(|(_, id)| id).collect()
}

/// The rows of `ids` that `scope` sees (read again: the check is made on
/// the account itself), with their association's name.
fn rows_of(
    tx: &ReadTransaction,
    scope: &Scope,
    names: &[Association],
    ids: &[u64],
) -> anyhow::Result<Vec<PersonRow>> {
    let mut rows = Vec::with_capacity(ids.len());
    for &id in ids {
        let Some(user) = users::get(tx, id)? else {
            continue;
        };
        if user.role.staff().is_some() || !scope.sees(user.association) {
            continue;
        }
        let association = user
            .association
            .and_then(|a| names.iter().find(|n| n.id == a))
            .map(|a| a.name.clone());
        let state = AccountState::of(user.must_change_password);
        rows.push(PersonRow {
            user,
            association,
            state,
        });
    }
    Ok(rows)
}

/// One page of the persons in `staff`'s scope that `search` finds.
pub async fn search(store: &Store, staff: &Staff, search: Search) -> anyhow::Result<Found> {
    let staff = staff.clone();
    let cache = store.facet_cache();
    store
        .read(move |tx| {
            let (within, scope) = scope_in(tx, &staff)?;
            let facets = cache.facets(tx)?;
            let page = search.page.max(1);
            let mut m = matching(
                tx,
                &facets,
                &scope,
                &search,
                (page - 1) * PAGE_SIZE,
                PAGE_SIZE,
            )?;
            let pages = m.total.div_ceil(PAGE_SIZE).max(1);
            let total = m.total;
            if page > pages {
                // Past the last page (an old link): show the last one.
                m = matching(
                    tx,
                    &facets,
                    &scope,
                    &search,
                    (pages - 1) * PAGE_SIZE,
                    PAGE_SIZE,
                )?;
            }
            let page = page.min(pages);
            let rows = rows_of(tx, &scope, &within, &m.ids)?;
            Ok(Found {
                rows,
                total,
                page,
                pages,
                associations: within,
                sees_unaffiliated: scope.allows_unaffiliated(),
            })
        })
        .await
        .context("people search")
}

/// An export under way: how many persons it holds, and their rows in
/// chunks, in the order of the search, as they are read.
pub struct Export {
    pub count: usize,
    pub chunks: tokio::sync::mpsc::Receiver<anyhow::Result<Vec<PersonRow>>>,
}

/// Exports every person `search` finds in `staff`'s scope (all pages):
/// records the export in the audit log (who, the search, the count, and
/// `format`), then reads the accounts in chunks on a blocking thread while
/// the receiver takes them, so the export never sits whole in memory.
pub async fn export(
    store: &Store,
    staff: &Staff,
    search: Search,
    format: &str,
) -> anyhow::Result<Export> {
    let who = staff.clone();
    let detail_search = search.describe();
    let cache = store.facet_cache();
    let (within, scope, ids) = store
        .read(move |tx| {
            let (within, scope) = scope_in(tx, &who)?;
            let facets = cache.facets(tx)?;
            let ids = matching(tx, &facets, &scope, &search, 0, usize::MAX)?.ids;
            Ok((within, scope, ids))
        })
        .await
        .context("people export")?;
    let count = ids.len();
    store
        .audit(
            AuditEntry::new(AuditKind::PeopleExported)
                .actor(staff.account.id)
                .user(staff.account.id)
                .login_id(&staff.account.login_id)
                .detail(format!("{detail_search} format={format}: {count} rows")),
        )
        .await?;
    let (tx, chunks) = tokio::sync::mpsc::channel(2);
    let store = store.clone();
    tokio::task::spawn_blocking(move || {
        for part in ids.chunks(EXPORT_CHUNK) {
            let rows = store.read_now(|t| rows_of(t, &scope, &within, part));
            let failed = rows.is_err();
            if tx.blocking_send(rows).is_err() || failed {
                // The download was cancelled, or a read failed (sent on).
                break;
            }
        }
    });
    Ok(Export { count, chunks })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_search_box_is_read_by_its_shape() {
        let name = |s: &str| vec![Lookup::Name(s.into())];
        assert_eq!(lookups(""), []);
        assert_eq!(lookups("  "), []);
        assert_eq!(lookups("やまだ"), name("やまだ"));
        assert_eq!(lookups("髙橋"), name("髙橋"));
        assert_eq!(lookups("ﾔﾏﾀﾞ"), name("ﾔﾏﾀﾞ"));
        assert_eq!(
            lookups("123456"),
            [
                Lookup::Phone("123456".into()),
                Lookup::Registry("123456".into())
            ]
        );
        assert_eq!(lookups("１２３４５６").len(), 2);
        assert_eq!(lookups("090-1234"), [Lookup::Phone("090-1234".into())]);
        assert_eq!(lookups("09"), []);
        assert_eq!(
            lookups("Sato@Example.jp"),
            [
                Lookup::Email("Sato@Example.jp".into()),
                Lookup::LoginId("Sato@Example.jp".into())
            ]
        );
        for date in ["1980/04/01", "1980-4-1", "昭和55年4月1日", "S55.4.1"] {
            assert_eq!(lookups(date), [Lookup::Birth("19800401".into())], "{date}");
        }
        assert_eq!(
            lookups("19800401"),
            [
                Lookup::Phone("19800401".into()),
                Lookup::Birth("19800401".into())
            ]
        );
        assert_eq!(lookups("doctor01"), [Lookup::LoginId("doctor01".into())]);
    }

    #[test]
    fn filters_and_orders_read_back_from_their_keys() {
        for f in [
            AssociationFilter::Any,
            AssociationFilter::Unaffiliated,
            AssociationFilter::Of(AssociationId(7)),
        ] {
            assert_eq!(AssociationFilter::from_key(&f.key()), f);
        }
        assert_eq!(AssociationFilter::from_key("x"), AssociationFilter::Any);
        for s in Sort::ALL {
            assert_eq!(Sort::from_key(s.key()), s);
        }
        for s in AccountState::ALL {
            assert_eq!(AccountState::from_key(s.key()), Some(s));
        }
    }

    #[test]
    fn a_window_is_the_same_slice_of_the_fully_sorted_matches() {
        let kana = [
            "タカハシ",
            "アベ",
            "タカハシ",
            "サトウ",
            "イトウ",
            "ワタナベ",
            "アベ",
        ];
        let found: Vec<(&str, u64)> = (0..200u64)
            .map(|i| (kana[(i * 7 % 13) as usize % kana.len()], (i * 37) % 211))
            .collect();
        for by_kana in [true, false] {
            let mut all = found.clone();
            if by_kana {
                all.sort_unstable();
            } else {
                all.sort_unstable_by_key(|(_, id)| Reverse(*id));
            }
            let all: Vec<u64> = all.into_iter().map(|(_, id)| id).collect();
            for (skip, take) in [
                (0, 50),
                (50, 50),
                (150, 50),
                (190, 50),
                (250, 50),
                (0, 200),
                (0, 0),
            ] {
                let want: Vec<u64> = all.iter().copied().skip(skip).take(take).collect();
                assert_eq!(
                    window_of(found.clone(), by_kana, skip, take),
                    want,
                    "kana={by_kana} skip={skip} take={take}"
                );
            }
        }
    }
}
