//! Accounts and the persons they belong to. An account is written once, in
//! one transaction that also claims its unique keys (login ID, e-mail
//! address, 医籍登録番号) and indexes its person (フリガナ, 氏名, phones).

use redb::{MultimapTableDefinition, ReadTransaction, ReadableTable, WriteTransaction};
use serde::{Deserialize, Serialize};

use super::{
    decode, encode, next_id,
    tables::{
        PERSONS_BY_BIRTH, PERSONS_BY_KANA, PERSONS_BY_NAME, PERSONS_BY_PHONE, USERS,
        USERS_BY_EMAIL, USERS_BY_LOGIN, USERS_BY_REGISTRY,
    },
};
use crate::domain::person::{Person, kana_key, name_key, phone_key};

/// Who the account belongs to (stored with it).
pub use crate::domain::Role;

/// A stored account: who logs in, and (for a physician) the person it
/// belongs to. The person id is the user id.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct UserRecord {
    pub id: u64,
    pub login_id: String,
    pub email: String,
    pub registry_number: String,
    /// PHC string of the argon2id hash.
    pub password_hash: String,
    pub role: Role,
    /// The person, for an account made by a registration (none for an
    /// account made otherwise, such as a staff account).
    pub person: Option<Person>,
    /// The association the person belongs to (their 郡市区等医師会, or the
    /// association that imported them); none for a physician who registered
    /// and has applied nowhere yet, whom only the root's staff see (see
    /// `auth::guards::Scope::sees`). Absent in records written before it was
    /// kept.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub association: Option<crate::domain::AssociationId>,
    /// Bumped by every password change: sessions made before it end.
    #[serde(default)]
    pub session_generation: u64,
    /// The password is a one-time password handed out by an operator: the
    /// account must choose its own before anything else (see
    /// `auth::session_keys::PASSWORD_CHANGE`). Absent (false) in records
    /// written before it was kept.
    #[serde(default)]
    pub must_change_password: bool,
    /// Until when (Unix seconds) the initial password printed on an
    /// imported member's postcard logs in; none for other passwords.
    /// Absent in records written before it was kept.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub initial_password_expires_at: Option<i64>,
    /// 会員種別 and 入会日 as an import gave them (none for accounts not
    /// imported).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub membership: Option<crate::domain::member_csv::Membership>,
    /// The name of an account without a person (a staff member), as given
    /// when it was made.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub staff_name: Option<String>,
    pub terms_version: String,
    pub terms_agreed_at: i64,
    pub created_at: i64,
    /// Every agreement to the terms after the first (a new version agreed
    /// at a later login), oldest first; the first is `terms_version` /
    /// `terms_agreed_at` as registered. Absent in older records.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub terms_history: Vec<TermsAgreed>,
}

/// One agreement to a version of the terms.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct TermsAgreed {
    pub version: String,
    /// Unix seconds.
    pub at: i64,
}

impl UserRecord {
    /// `姓 名` of the account's person, or a staff member's name; empty when
    /// it has neither.
    pub fn display_name(&self) -> String {
        match (&self.person, &self.staff_name) {
            (Some(person), _) => person.display_name(),
            (None, Some(name)) => name.clone(),
            (None, None) => String::new(),
        }
    }
}

/// A unique key already held by another account.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Conflict {
    LoginId,
    Email,
    RegistryNumber,
}

/// How login IDs and addresses are compared for uniqueness.
pub fn login_key(login_id: &str) -> String {
    login_id.to_ascii_lowercase()
}

/// How e-mail addresses are compared for uniqueness.
pub fn email_key(email: &str) -> String {
    email.trim().to_ascii_lowercase()
}

/// Writes a new account after checking every unique key; returns its id or
/// every conflict found.
pub fn create(
    tx: &WriteTransaction,
    mut user: UserRecord,
) -> anyhow::Result<Result<u64, Vec<Conflict>>> {
    let login = login_key(&user.login_id);
    let email = email_key(&user.email);
    let mut by_login = tx.open_table(USERS_BY_LOGIN)?;
    let mut by_email = tx.open_table(USERS_BY_EMAIL)?;
    let mut by_registry = tx.open_table(USERS_BY_REGISTRY)?;
    let mut conflicts = Vec::new();
    if by_login.get(login.as_str())?.is_some() {
        conflicts.push(Conflict::LoginId);
    }
    // An account without an address or 医籍登録番号 (a staff account)
    // claims no key for it.
    if !email.is_empty() && by_email.get(email.as_str())?.is_some() {
        conflicts.push(Conflict::Email);
    }
    if !user.registry_number.is_empty() && by_registry.get(user.registry_number.as_str())?.is_some()
    {
        conflicts.push(Conflict::RegistryNumber);
    }
    if !conflicts.is_empty() {
        return Ok(Err(conflicts));
    }
    let id = next_id(tx, "users")?;
    user.id = id;
    by_login.insert(login.as_str(), id)?;
    if !email.is_empty() {
        by_email.insert(email.as_str(), id)?;
    }
    if !user.registry_number.is_empty() {
        by_registry.insert(user.registry_number.as_str(), id)?;
    }
    if let Some(person) = &user.person {
        index_person(tx, id, person)?;
    }
    put(tx, &user)?;
    Ok(Ok(id))
}

/// Writes an account record and its people-search facet
/// (`person_index::write_facet`): every write of an account goes through
/// here, so the search never filters by stale data.
pub fn put(tx: &WriteTransaction, user: &UserRecord) -> anyhow::Result<()> {
    tx.open_table(USERS)?
        .insert(user.id, encode(user)?.as_slice())?;
    super::person_index::write_facet(tx, user)
}

/// Sets the association a person belongs to (none: of no association).
/// `None` when there is no such account. The caller writes the audit entry.
pub fn set_association(
    tx: &WriteTransaction,
    id: u64,
    association: Option<crate::domain::AssociationId>,
) -> anyhow::Result<Option<UserRecord>> {
    update(tx, id, |user| {
        user.association = association;
        true
    })
}

/// Adds a person's search keys to the person indexes.
pub fn index_person(tx: &WriteTransaction, id: u64, person: &Person) -> anyhow::Result<usize> {
    let keys = person.search_keys();
    let mut added = 0;
    let birth = [keys.birth.clone()];
    for (table, keys) in [
        (PERSONS_BY_KANA, keys.kana.as_slice()),
        (PERSONS_BY_NAME, keys.names.as_slice()),
        (PERSONS_BY_PHONE, keys.phones.as_slice()),
        (PERSONS_BY_BIRTH, birth.as_slice()),
    ] {
        let mut t = tx.open_multimap_table(table)?;
        for key in keys {
            t.insert(key.as_str(), id)?;
            added += 1;
        }
    }
    Ok(added)
}

/// Removes a person's search keys from the person indexes (the mirror of
/// [`index_person`]).
pub fn unindex_person(tx: &WriteTransaction, id: u64, person: &Person) -> anyhow::Result<()> {
    let keys = person.search_keys();
    let birth = [keys.birth.clone()];
    for (table, keys) in [
        (PERSONS_BY_KANA, keys.kana.as_slice()),
        (PERSONS_BY_NAME, keys.names.as_slice()),
        (PERSONS_BY_PHONE, keys.phones.as_slice()),
        (PERSONS_BY_BIRTH, birth.as_slice()),
    ] {
        let mut t = tx.open_multimap_table(table)?;
        for key in keys {
            t.remove(key.as_str(), id)?;
        }
    }
    Ok(())
}

/// Replaces the person of account `id` and moves it in the person indexes;
/// `None` when there is no such account. The caller writes the audit entry
/// in the same transaction.
pub fn replace_person(
    tx: &WriteTransaction,
    id: u64,
    person: Person,
) -> anyhow::Result<Option<UserRecord>> {
    let users = tx.open_table(USERS)?;
    let Some(mut user) = users
        .get(id)?
        .map(|v| decode::<UserRecord>(v.value()))
        .transpose()?
    else {
        return Ok(None);
    };
    drop(users);
    if let Some(old) = &user.person {
        unindex_person(tx, id, old)?;
    }
    index_person(tx, id, &person)?;
    user.person = Some(person);
    put(tx, &user)?;
    Ok(Some(user))
}

/// Ids of the persons whose key in `table` starts with `prefix` (already
/// normalised), in id order; none for an empty prefix.
fn ids_with_prefix(
    tx: &ReadTransaction,
    table: MultimapTableDefinition<&str, u64>,
    prefix: &str,
) -> anyhow::Result<Vec<u64>> {
    let mut ids = Vec::new();
    if prefix.is_empty() {
        return Ok(ids);
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
    ids.sort_unstable();
    ids.dedup();
    Ok(ids)
}

/// Persons whose current or former フリガナ starts with `query`.
pub fn ids_by_kana(tx: &ReadTransaction, query: &str) -> anyhow::Result<Vec<u64>> {
    ids_with_prefix(tx, PERSONS_BY_KANA, &kana_key(query))
}

/// Persons whose current or former 氏名 starts with `query`.
pub fn ids_by_name(tx: &ReadTransaction, query: &str) -> anyhow::Result<Vec<u64>> {
    ids_with_prefix(tx, PERSONS_BY_NAME, &name_key(query))
}

/// Persons with a phone number (mobile, tel or fax) starting with the
/// digits of `query`.
pub fn ids_by_phone(tx: &ReadTransaction, query: &str) -> anyhow::Result<Vec<u64>> {
    ids_with_prefix(tx, PERSONS_BY_PHONE, &phone_key(query))
}

/// The account holding this 医籍登録番号.
pub fn id_by_registry_number(tx: &ReadTransaction, number: &str) -> anyhow::Result<Option<u64>> {
    Ok(tx
        .open_table(USERS_BY_REGISTRY)?
        .get(number)?
        .map(|v| v.value()))
}

/// True when some account uses this login ID.
pub fn login_id_taken(tx: &ReadTransaction, login_id: &str) -> anyhow::Result<bool> {
    Ok(tx
        .open_table(USERS_BY_LOGIN)?
        .get(login_key(login_id).as_str())?
        .is_some())
}

/// True when some account uses this 医籍登録番号.
pub fn registry_number_taken(tx: &ReadTransaction, number: &str) -> anyhow::Result<bool> {
    Ok(tx.open_table(USERS_BY_REGISTRY)?.get(number)?.is_some())
}

/// True when some account uses this e-mail address.
pub fn email_taken(tx: &ReadTransaction, email: &str) -> anyhow::Result<bool> {
    Ok(tx
        .open_table(USERS_BY_EMAIL)?
        .get(email_key(email).as_str())?
        .is_some())
}

/// Same as `email_taken`, inside a write transaction.
pub fn email_taken_in_write(tx: &WriteTransaction, email: &str) -> anyhow::Result<bool> {
    Ok(tx
        .open_table(USERS_BY_EMAIL)?
        .get(email_key(email).as_str())?
        .is_some())
}

/// Reads an account by id inside a write transaction (to change it there).
pub fn get_for_update(tx: &WriteTransaction, id: u64) -> anyhow::Result<Option<UserRecord>> {
    let t = tx.open_table(USERS)?;
    let v = t.get(id)?;
    v.map(|v| decode(v.value())).transpose()
}

/// Gives account `id` the 医籍登録番号 `number` (moving its unique key);
/// false when another account holds `number` (nothing is written then) or
/// there is no such account.
pub fn set_registry_number(tx: &WriteTransaction, id: u64, number: &str) -> anyhow::Result<bool> {
    let mut by_registry = tx.open_table(USERS_BY_REGISTRY)?;
    if let Some(holder) = by_registry.get(number)?.map(|v| v.value())
        && holder != id
    {
        return Ok(false);
    }
    let Some(user) = get_for_update(tx, id)? else {
        return Ok(false);
    };
    if !user.registry_number.is_empty() {
        by_registry.remove(user.registry_number.as_str())?;
    }
    by_registry.insert(number, id)?;
    drop(by_registry);
    let number = number.to_owned();
    Ok(update(tx, id, |u| {
        u.registry_number = number;
        true
    })?
    .is_some())
}

/// Reads an account by id.
pub fn get(tx: &ReadTransaction, id: u64) -> anyhow::Result<Option<UserRecord>> {
    let t = tx.open_table(USERS)?;
    let v = t.get(id)?;
    v.map(|v| decode(v.value())).transpose()
}

/// Reads an account by login ID.
pub fn by_login_id(tx: &ReadTransaction, login_id: &str) -> anyhow::Result<Option<UserRecord>> {
    let id = tx
        .open_table(USERS_BY_LOGIN)?
        .get(login_key(login_id).as_str())?
        .map(|v| v.value());
    match id {
        Some(id) => get(tx, id),
        None => Ok(None),
    }
}

/// Number of accounts.
pub fn count(tx: &ReadTransaction) -> anyhow::Result<u64> {
    use redb::ReadableTableMetadata as _;
    Ok(tx.open_table(USERS)?.len()?)
}

/// Reads an account by e-mail address.
pub fn by_email(tx: &ReadTransaction, email: &str) -> anyhow::Result<Option<UserRecord>> {
    let id = tx
        .open_table(USERS_BY_EMAIL)?
        .get(email_key(email).as_str())?
        .map(|v| v.value());
    match id {
        Some(id) => get(tx, id),
        None => Ok(None),
    }
}

/// Replaces an account's password hash and bumps its session generation, so
/// that every session signed in before ends at its next request (see
/// `auth::sessions`) and every reset link issued before stops working (see
/// `store::resets`). Returns the updated account, or `None` when there is no
/// such account.
pub fn set_password(
    tx: &WriteTransaction,
    id: u64,
    password_hash: String,
) -> anyhow::Result<Option<UserRecord>> {
    update(tx, id, |user| {
        user.password_hash = password_hash;
        user.session_generation = user.session_generation.saturating_add(1);
        true
    })
}

/// Records the account's agreement to terms `version` now (kept with every
/// earlier one); `None` when there is no such account.
pub fn agree_terms(
    tx: &WriteTransaction,
    id: u64,
    version: &str,
    at: i64,
) -> anyhow::Result<Option<UserRecord>> {
    update(tx, id, |user| {
        if user.terms_version == version {
            return true;
        }
        user.terms_history.push(TermsAgreed {
            version: version.to_owned(),
            at,
        });
        user.terms_version = version.to_owned();
        user.terms_agreed_at = at;
        true
    })
}

/// Gives the account a new (confirmed) e-mail address: the new address's
/// unique key claimed, the old one released. Returns the address it had and
/// the account; `Ok(None)`: no such account; `Err(Conflict::Email)`:
/// another account holds the address.
pub fn set_email(
    tx: &WriteTransaction,
    id: u64,
    email: &str,
) -> anyhow::Result<Result<Option<(String, UserRecord)>, Conflict>> {
    let key = email_key(email);
    let mut by_email = tx.open_table(USERS_BY_EMAIL)?;
    let holder = by_email.get(key.as_str())?.map(|v| v.value());
    if holder.is_some_and(|h| h != id) {
        return Ok(Err(Conflict::Email));
    }
    let mut old = String::new();
    let updated = update(tx, id, |user| {
        old = std::mem::replace(&mut user.email, email.trim().to_owned());
        true
    })?;
    let Some(user) = updated else {
        return Ok(Ok(None));
    };
    let old_key = email_key(&old);
    if !old_key.is_empty() && old_key != key {
        by_email.remove(old_key.as_str())?;
    }
    by_email.insert(key.as_str(), id)?;
    Ok(Ok(Some((old, user))))
}

/// Replaces the one-time password of an account that must change it: the
/// new hash, the flag cleared and the session generation bumped (sessions
/// signed in with the one-time password end; the caller signs its own in
/// again). `None` when there is no such account or it has no one-time
/// password to replace.
pub fn replace_one_time_password(
    tx: &WriteTransaction,
    id: u64,
    password_hash: String,
) -> anyhow::Result<Option<UserRecord>> {
    update(tx, id, |user| {
        if !user.must_change_password {
            return false;
        }
        user.password_hash = password_hash;
        user.must_change_password = false;
        user.initial_password_expires_at = None;
        user.session_generation = user.session_generation.saturating_add(1);
        true
    })
}

/// Gives an account a new initial password (a member's, re-issued by
/// staff): its keyed hash and expiry, the change required at the next
/// login, and the session generation bumped (every session ends). `None`
/// when there is no such account.
pub fn set_initial_password(
    tx: &WriteTransaction,
    id: u64,
    password_hash: String,
    expires_at: i64,
) -> anyhow::Result<Option<UserRecord>> {
    update(tx, id, |user| {
        user.password_hash = password_hash;
        user.must_change_password = true;
        user.initial_password_expires_at = Some(expires_at);
        user.session_generation = user.session_generation.saturating_add(1);
        true
    })
}

/// Reads an account by id inside a write transaction.
pub fn get_in_write(tx: &WriteTransaction, id: u64) -> anyhow::Result<Option<UserRecord>> {
    let t = tx.open_table(USERS)?;
    let v = t.get(id)?;
    v.map(|v| decode(v.value())).transpose()
}

/// Replaces an account's hash with one of the same password made with the
/// current parameters (a re-hash at login). The session generation is kept:
/// the password did not change, so no session ends. False when there is no
/// such account or its hash is no longer `expected` (changed meanwhile).
pub fn upgrade_hash(
    tx: &WriteTransaction,
    id: u64,
    expected: &str,
    password_hash: String,
) -> anyhow::Result<bool> {
    let changed = update(tx, id, |user| {
        if user.password_hash != expected {
            return false;
        }
        user.password_hash = password_hash;
        true
    })?;
    Ok(changed.is_some())
}

/// Reads account `id`, lets `change` alter it, and writes it back when
/// `change` returns true. The updated account, or `None` when there is no
/// such account or `change` declined (nothing is written then).
pub(crate) fn update(
    tx: &WriteTransaction,
    id: u64,
    change: impl FnOnce(&mut UserRecord) -> bool,
) -> anyhow::Result<Option<UserRecord>> {
    let user = tx
        .open_table(USERS)?
        .get(id)?
        .map(|v| decode::<UserRecord>(v.value()))
        .transpose()?;
    let Some(mut user) = user else {
        return Ok(None);
    };
    if !change(&mut user) {
        return Ok(None);
    }
    put(tx, &user)?;
    Ok(Some(user))
}

/// Only the generation of an account record (cheaper than the whole record,
/// which carries the person).
#[derive(Deserialize)]
struct GenerationOnly {
    #[serde(default)]
    session_generation: u64,
}

/// The account's current session generation, or `None` when there is no
/// such account; read in either kind of transaction.
pub fn session_generation(
    t: &impl ReadableTable<u64, &'static [u8]>,
    id: u64,
) -> anyhow::Result<Option<u64>> {
    let v = t.get(id)?;
    v.map(|v| decode::<GenerationOnly>(v.value()).map(|g| g.session_generation))
        .transpose()
}

/// `session_generation` in a read transaction.
pub fn generation(tx: &ReadTransaction, id: u64) -> anyhow::Result<Option<u64>> {
    session_generation(&tx.open_table(USERS)?, id)
}

/// `session_generation` inside a write transaction.
pub fn generation_in_write(tx: &WriteTransaction, id: u64) -> anyhow::Result<Option<u64>> {
    session_generation(&tx.open_table(USERS)?, id)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{
        domain::{RegistrationForm, validate_registration},
        store::Store,
    };

    fn account(login_id: &str, registry: &str, email: &str, mobile: &str) -> UserRecord {
        let pairs: Vec<(String, String)> = [
            ("login_id", login_id),
            ("password", "Kusuri#2024x"),
            ("registry_number", registry),
            ("registry_date", "2008/05/01"),
            ("kana_last", "ヤマダ"),
            ("kana_first", "タロウ"),
            ("name_last", "山田"),
            ("name_first", "太郎"),
            ("postal_code", "113-8621"),
            ("prefecture", "東京都"),
            ("address", "文京区本駒込2-28-16"),
            ("mobile", mobile),
            ("birth_date", "1980/04/01"),
            ("main_dept", "01"),
            ("school", "東北大学"),
            ("graduation", "2006/03"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
        let form = RegistrationForm::from_pairs(&pairs).normalized();
        let today = time::macros::date!(2026 - 01 - 01);
        let Ok((reg, _)) = validate_registration(&form, today) else {
            panic!("invalid test form");
        };
        UserRecord {
            initial_password_expires_at: None,
            membership: None,
            association: None,
            id: 0,
            login_id: login_id.to_owned(),
            email: email.to_owned(),
            registry_number: registry.to_owned(),
            password_hash: String::new(),
            role: Role::Physician,
            person: Some(Person::from(reg)),
            session_generation: 0,
            must_change_password: false,
            staff_name: None,
            terms_version: "t".into(),
            terms_agreed_at: 0,
            terms_history: Vec::new(),
            created_at: 0,
        }
    }

    #[tokio::test]
    async fn namesakes_share_index_keys_and_a_refused_account_indexes_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let created = store
            .write_ok(|tx| {
                Ok([
                    create(
                        tx,
                        account("doctor01", "123456", "a@example.jp", "090-1111-2222"),
                    )?,
                    create(
                        tx,
                        account("doctor02", "234567", "b@example.jp", "090-3333-4444"),
                    )?,
                    // The same 医籍登録番号 again: refused, nothing written.
                    create(
                        tx,
                        account("doctor03", "123456", "c@example.jp", "080-5555-6666"),
                    )?,
                ])
            })
            .await
            .unwrap();
        assert_eq!(created[0], Ok(1));
        assert_eq!(created[1], Ok(2));
        assert_eq!(created[2], Err(vec![Conflict::RegistryNumber]));
        let found = store
            .read(|tx| {
                Ok((
                    ids_by_kana(tx, "やまだ")?,
                    ids_by_name(tx, "山田太郎")?,
                    ids_by_phone(tx, "090")?,
                    ids_by_phone(tx, "08055556666")?,
                    ids_by_kana(tx, "")?,
                    id_by_registry_number(tx, "234567")?,
                ))
            })
            .await
            .unwrap();
        assert_eq!(
            found,
            (vec![1, 2], vec![1, 2], vec![1, 2], vec![], vec![], Some(2))
        );
        let user = store.read(|tx| get(tx, 2)).await.unwrap().unwrap();
        assert_eq!(user.display_name(), "山田 太郎");
    }

    #[tokio::test]
    async fn a_replaced_person_moves_in_the_indexes() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let mut moved = account("doctor01", "123456", "a@example.jp", "090-1111-2222")
            .person
            .unwrap();
        let stranger = moved.clone();
        moved.phones.mobile = Some(crate::domain::PhoneNumber::parse("080-9999-0000").unwrap());
        store
            .write_ok(move |tx| {
                create(
                    tx,
                    account("doctor01", "123456", "a@example.jp", "090-1111-2222"),
                )?
                .ok();
                Ok((
                    replace_person(tx, 1, moved)?.is_some(),
                    replace_person(tx, 9, stranger)?.is_none(),
                ))
            })
            .await
            .map(|r| assert_eq!(r, (true, true)))
            .unwrap();
        let found = store
            .read(|tx| {
                Ok((
                    ids_by_phone(tx, "090")?,
                    ids_by_phone(tx, "080")?,
                    ids_by_kana(tx, "ヤマダ")?,
                ))
            })
            .await
            .unwrap();
        assert_eq!(found, (vec![], vec![1], vec![1]));
    }
}
