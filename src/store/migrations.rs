//! Schema migrations: each step brings a database one schema version up,
//! inside the start-up write transaction of `Store::open` (all steps commit
//! together with the new version, or nothing changes).
//!
//! A step reads the records of the version it leaves with record types of
//! its own (below), so that later changes to the current records do not
//! change what it reads; their fields are the domain's value types, whose
//! serde form is pinned (`domain::person`'s tests) and read back from the
//! committed fixture of each old schema (`tests/api/migration.rs`).

use anyhow::{Context, bail};
use redb::{ReadableTable, WriteTransaction};
use serde::Deserialize;

use super::{
    decode, encode, person_index,
    tables::{
        PERSON_FACETS, PERSONS_BY_BIRTH, PERSONS_BY_KANA, PERSONS_BY_NAME, PERSONS_BY_PHONE,
        SCHEMA_VERSION, USERS,
    },
    users::{self, Role, UserRecord},
};
use crate::domain::{
    AddressLine, BuildingName, Date, DepartmentCode, Gender, GradDepartment, KanaName, KanjiName,
    MedicalRegistryNumber, PhoneNumber, PostalCode, Prefecture, SchoolName, SocietyName,
    UniversityName, YearMonth,
    person::{Address, Departments, Education, FormerName, FullName, Person, Phones, Registry},
};

/// What the migrations did, for the start-up log.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Report {
    pub from: u32,
    pub to: u32,
    /// Accounts rewritten.
    pub accounts: u64,
    /// Accounts given a typed person.
    pub persons: u64,
    /// Entries added to the person indexes.
    pub index_entries: u64,
}

/// Runs every step from schema `from` up to [`SCHEMA_VERSION`].
pub fn run(tx: &WriteTransaction, from: u32) -> anyhow::Result<Report> {
    let mut report = Report {
        from,
        to: SCHEMA_VERSION,
        ..Report::default()
    };
    for version in from..SCHEMA_VERSION {
        match version {
            1 => v1_to_v2(tx, &mut report).context("migration from schema 1 to 2")?,
            2 => v2_to_v3(tx, &mut report).context("migration from schema 2 to 3")?,
            3 => v3_to_v4(tx, &mut report).context("migration from schema 3 to 4")?,
            4 => v4_to_v5(tx).context("migration from schema 4 to 5")?,
            other => bail!("no migration from database schema version {other}"),
        }
    }
    Ok(report)
}

/// An account of schema 1: the registration form as a JSON `profile` (the
/// serde form of `NewRegistration` plus `display_name`; `null` for accounts
/// written without one).
#[derive(Deserialize)]
struct UserV1 {
    id: u64,
    login_id: String,
    email: String,
    registry_number: String,
    password_hash: String,
    role: Role,
    profile: serde_json::Value,
    #[serde(default)]
    session_generation: u64,
    terms_version: String,
    terms_agreed_at: i64,
    created_at: i64,
}

/// The `profile` of a schema-1 account: the registration form as parsed
/// (the serde form `NewRegistration` had then), plus `display_name` and the
/// login ID, which are not kept (the account holds the login ID, the person
/// gives the name).
#[derive(Deserialize)]
struct ProfileV1 {
    registry_number: MedicalRegistryNumber,
    registry_date: Date,
    kana_last: KanaName,
    kana_first: KanaName,
    name_last: KanjiName,
    name_first: KanjiName,
    former_kana_last: Option<KanaName>,
    former_kana_first: Option<KanaName>,
    former_name_last: Option<KanjiName>,
    former_name_first: Option<KanjiName>,
    use_former_name: bool,
    postal_code: PostalCode,
    prefecture: Prefecture,
    address: AddressLine,
    building: Option<BuildingName>,
    mobile: PhoneNumber,
    tel: Option<PhoneNumber>,
    fax: Option<PhoneNumber>,
    birth_date: Date,
    gender: Gender,
    main_dept: DepartmentCode,
    sub_depts: Vec<DepartmentCode>,
    school: SchoolName,
    graduation: YearMonth,
    grad_university: Option<UniversityName>,
    grad_department: Option<GradDepartment>,
    grad_completion: Option<YearMonth>,
    degree_date: Option<YearMonth>,
    societies: Vec<SocietyName>,
}

impl From<ProfileV1> for Person {
    fn from(p: ProfileV1) -> Person {
        Person {
            name: FullName {
                last: p.name_last,
                first: p.name_first,
            },
            kana: FullName {
                last: p.kana_last,
                first: p.kana_first,
            },
            former: FormerName {
                kana_last: p.former_kana_last,
                kana_first: p.former_kana_first,
                name_last: p.former_name_last,
                name_first: p.former_name_first,
                use_on_mail: p.use_former_name,
            },
            birth_date: p.birth_date,
            gender: p.gender,
            registry: Registry {
                number: p.registry_number,
                date: p.registry_date,
            },
            address: Address {
                postal_code: p.postal_code,
                prefecture: p.prefecture,
                line: p.address,
                building: p.building,
            },
            phones: Phones {
                mobile: Some(p.mobile),
                tel: p.tel,
                fax: p.fax,
            },
            departments: Departments {
                main: Some(p.main_dept),
                sub: p.sub_depts,
            },
            education: Education {
                school: Some(p.school),
                graduation: Some(p.graduation),
                grad_university: p.grad_university,
                grad_department: p.grad_department,
                grad_completion: p.grad_completion,
                degree_date: p.degree_date,
            },
            societies: p.societies,
        }
    }
}

/// 1 → 2: every JSON profile becomes a typed [`Person`], indexed by
/// フリガナ, 氏名 and phone. A profile that does not read stops the
/// migration (and the start) with the account's id.
fn v1_to_v2(tx: &WriteTransaction, report: &mut Report) -> anyhow::Result<()> {
    let ids: Vec<u64> = tx
        .open_table(USERS)?
        .iter()?
        .map(|e| e.map(|(k, _)| k.value()))
        .collect::<Result<_, _>>()?;
    for id in ids {
        let old: UserV1 = {
            let t = tx.open_table(USERS)?;
            let Some(bytes) = t.get(id)? else { continue };
            decode(bytes.value()).with_context(|| format!("account {id}"))?
        };
        let person = match old.profile {
            serde_json::Value::Null => None,
            profile => {
                let p: ProfileV1 = serde_json::from_value(profile)
                    .with_context(|| format!("account {id}: the profile is not a registration"))?;
                Some(Person::from(p))
            }
        };
        if let Some(p) = &person {
            report.persons += 1;
            report.index_entries += users::index_person(tx, id, p)? as u64;
        }
        let new = UserRecord {
            initial_password_expires_at: None,
            membership: None,
            association: None,
            id: old.id,
            login_id: old.login_id,
            email: old.email,
            registry_number: old.registry_number,
            password_hash: old.password_hash,
            role: old.role,
            person,
            session_generation: old.session_generation,
            must_change_password: false,
            staff_name: None,
            terms_version: old.terms_version,
            terms_agreed_at: old.terms_agreed_at,
            terms_history: Vec::new(),
            created_at: old.created_at,
        };
        tx.open_table(USERS)?.insert(id, encode(&new)?.as_slice())?;
        report.accounts += 1;
    }
    Ok(())
}

/// 2 → 3: the person indexes are rebuilt with the keys of schema 3 (variant
/// characters of names folded, given names alone, birth dates) and every
/// person gets the people search's facet. Accounts keep their shape (the
/// account of schema 2 is the current `UserRecord`), so they are read as
/// they are and not rewritten.
fn v2_to_v3(tx: &WriteTransaction, report: &mut Report) -> anyhow::Result<()> {
    for table in [
        PERSONS_BY_KANA,
        PERSONS_BY_NAME,
        PERSONS_BY_PHONE,
        PERSONS_BY_BIRTH,
    ] {
        tx.delete_multimap_table(table)?;
        tx.open_multimap_table(table)?;
    }
    tx.delete_table(PERSON_FACETS)?;
    tx.open_table(PERSON_FACETS)?;
    let users: Vec<UserRecord> = tx
        .open_table(USERS)?
        .iter()?
        .map(|e| {
            let (id, v) = e?;
            decode::<UserRecord>(v.value()).with_context(|| format!("account {}", id.value()))
        })
        .collect::<anyhow::Result<_>>()?;
    for user in users {
        if let Some(p) = &user.person {
            report.persons += 1;
            report.index_entries += users::index_person(tx, user.id, p)? as u64;
        }
        person_index::write_facet(tx, &user)?;
    }
    Ok(())
}

/// 3 → 4: the 所属学会 list became the 143 分科会 of 日本医学会 under their
/// official numbers (the old list had numbers of its own, and some of its
/// societies are not 分科会). Every society of every person is read again
/// by its name: a 分科会 gets its official number, a listed name that is
/// not one is kept as the person's own text, and a typed name that is now
/// in the list becomes listed.
fn v3_to_v4(tx: &WriteTransaction, report: &mut Report) -> anyhow::Result<()> {
    let ids: Vec<u64> = tx
        .open_table(USERS)?
        .iter()?
        .map(|e| e.map(|(k, _)| k.value()))
        .collect::<Result<_, _>>()?;
    for id in ids {
        let mut user: UserRecord = {
            let t = tx.open_table(USERS)?;
            let Some(bytes) = t.get(id)? else { continue };
            decode(bytes.value()).with_context(|| format!("account {id}"))?
        };
        let Some(person) = user.person.as_mut() else {
            continue;
        };
        let relisted: Vec<SocietyName> = person.societies.iter().map(relisted).collect();
        if relisted == person.societies {
            continue;
        }
        person.societies = relisted;
        tx.open_table(USERS)?
            .insert(id, encode(&user)?.as_slice())?;
        report.accounts += 1;
    }
    Ok(())
}

/// 4 → 5: each person's facet also holds the keys of the name indexes
/// (`person_index::Facet::name_keys`), so that a short name prefix is
/// matched in memory: every facet is written again from its account.
fn v4_to_v5(tx: &WriteTransaction) -> anyhow::Result<()> {
    let ids: Vec<u64> = tx
        .open_table(PERSON_FACETS)?
        .iter()?
        .map(|e| e.map(|(k, _)| k.value()))
        .collect::<Result<_, _>>()?;
    for id in ids {
        let user: UserRecord = {
            let t = tx.open_table(USERS)?;
            let Some(bytes) = t.get(id)? else { continue };
            decode(bytes.value()).with_context(|| format!("account {id}"))?
        };
        person_index::write_facet(tx, &user)?;
    }
    Ok(())
}

/// A society as the current list reads its name.
fn relisted(society: &SocietyName) -> SocietyName {
    SocietyName::parse(society.name())
        .unwrap_or_else(|_| SocietyName::Unlisted(society.name().to_owned()))
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use redb::{Database, MultimapTableHandle, ReadableDatabase, TableHandle};

    use super::*;
    use crate::store::{DB_FILE, Store, tables::META};

    /// Tables (plain and multimap) and schema version of a closed database,
    /// read with redb alone.
    fn contents(dir: &Path) -> (Vec<String>, Option<Vec<u8>>) {
        let db = Database::create(dir.join(DB_FILE)).unwrap();
        let tx = db.begin_read().unwrap();
        let mut tables: Vec<String> = tx
            .list_tables()
            .unwrap()
            .map(|t| t.name().to_owned())
            .chain(
                tx.list_multimap_tables()
                    .unwrap()
                    .map(|t| t.name().to_owned()),
            )
            .collect();
        tables.sort();
        let version = tx
            .open_table(META)
            .unwrap()
            .get("schema_version")
            .unwrap()
            .map(|v| v.value().to_vec());
        (tables, version)
    }

    #[test]
    fn societies_are_read_again_under_the_official_numbers() {
        use crate::domain::ListedEntry;
        let listed = |id: &str, name: &str| SocietyName::Listed(ListedEntry::new(id, name));
        // 日本内科学会 was No. 1 of the old list; it is 分科会 No. 17.
        assert_eq!(
            relisted(&listed("1", "日本内科学会")),
            listed("17", "日本内科学会")
        );
        // Listed before, but not a 分科会: kept as the person's own text.
        assert_eq!(
            relisted(&listed("61", "日本不整脈心電学会")),
            SocietyName::Unlisted("日本不整脈心電学会".into())
        );
        // Typed before because it was missing from the list: listed now.
        assert_eq!(
            relisted(&SocietyName::Unlisted("日本熱傷学会".into())),
            listed("115", "日本熱傷学会")
        );
        let own = SocietyName::Unlisted("地域医療研究会".into());
        assert_eq!(relisted(&own), own);
    }

    #[test]
    fn a_database_newer_than_the_binary_is_refused_and_left_as_it_was() {
        let dir = tempfile::tempdir().unwrap();
        crate::store::create_private_dir(dir.path()).unwrap();
        {
            let db = Database::create(dir.path().join(DB_FILE)).unwrap();
            let tx = db.begin_write().unwrap();
            let newer = (SCHEMA_VERSION + 1).to_be_bytes();
            tx.open_table(META)
                .unwrap()
                .insert("schema_version", newer.as_slice())
                .unwrap();
            tx.commit().unwrap();
        }
        let before = contents(dir.path());
        let err = Store::open(dir.path()).err().map(|e| format!("{e:#}"));
        let err = err.unwrap_or_default();
        assert!(err.contains("newer than this MAMIS"), "{err}");
        assert!(
            err.contains(&format!("version {}", SCHEMA_VERSION + 1)),
            "{err}"
        );
        assert_eq!(
            contents(dir.path()),
            before,
            "no table created, no version set"
        );
        assert_eq!(before.0, ["meta"]);
    }

    #[tokio::test]
    async fn facets_written_before_schema_5_get_the_name_keys() {
        let dir = tempfile::tempdir().unwrap();
        crate::store::create_private_dir(dir.path()).unwrap();
        let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/schema-v2.redb");
        std::fs::copy(fixture, dir.path().join(DB_FILE)).unwrap();
        let store = Store::open(dir.path()).unwrap();
        let keys = |tx: &WriteTransaction| -> anyhow::Result<Vec<Option<String>>> {
            let t = tx.open_table(PERSON_FACETS)?;
            let mut all = Vec::new();
            for e in t.iter()? {
                let (_, v) = e?;
                all.push(
                    person_index::FacetView::read(v.value())?
                        .name_keys
                        .map(str::to_owned),
                );
            }
            Ok(all)
        };
        let (before, after) = store
            .write_ok(move |tx| {
                // The facets as schema 4 wrote them: no keys after the フリガナ.
                let rows: Vec<(u64, Vec<u8>)> = tx
                    .open_table(PERSON_FACETS)?
                    .iter()?
                    .map(|e| e.map(|(k, v)| (k.value(), v.value().to_vec())))
                    .collect::<Result<_, _>>()?;
                assert!(!rows.is_empty());
                for (id, bytes) in rows {
                    let end = bytes
                        .iter()
                        .skip(17)
                        .position(|b| *b == 0)
                        .map_or(bytes.len(), |i| i + 17);
                    tx.open_table(PERSON_FACETS)?.insert(id, &bytes[..end])?;
                }
                let before = keys(tx)?;
                run(tx, 4)?;
                Ok((before, keys(tx)?))
            })
            .await
            .unwrap();
        assert!(before.iter().all(Option::is_none), "{before:?}");
        assert_eq!(after.len(), before.len());
        for k in &after {
            let k = k.as_deref().unwrap_or_default();
            assert!(k.split('\n').any(|key| !key.is_empty()), "{k:?}");
        }
    }

    #[test]
    fn the_version_1_fixture_is_migrated_once_and_opens_unchanged_afterwards() {
        let dir = tempfile::tempdir().unwrap();
        crate::store::create_private_dir(dir.path()).unwrap();
        let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/schema-v1.redb");
        std::fs::copy(fixture, dir.path().join(DB_FILE)).unwrap();
        assert_eq!(contents(dir.path()).1, Some(1u32.to_be_bytes().to_vec()));
        let read_all = |store: &Store| {
            store
                .read_now(|tx| {
                    let mut all = Vec::new();
                    for id in 1..=users::count(tx)? {
                        let u = users::get(tx, id)?.unwrap();
                        all.push((u.login_id.clone(), u.display_name(), u.person));
                    }
                    Ok(all)
                })
                .unwrap()
        };
        let first = read_all(&Store::open(dir.path()).unwrap());
        assert_eq!(first.len(), 3);
        assert!(
            first
                .iter()
                .all(|(_, name, p)| !name.is_empty() && p.is_some())
        );
        let (tables, version) = contents(dir.path());
        assert_eq!(version, Some(SCHEMA_VERSION.to_be_bytes().to_vec()));
        assert!(tables.iter().any(|t| t == "persons_by_kana"), "{tables:?}");
        let again = read_all(&Store::open(dir.path()).unwrap());
        assert_eq!(again, first);
    }

    #[test]
    fn a_version_1_account_without_a_profile_keeps_no_person_and_bad_profiles_stop_it() {
        let dir = tempfile::tempdir().unwrap();
        drop(Store::open(dir.path()).unwrap());
        let write_v1 = |profile: serde_json::Value| {
            let db = Database::create(dir.path().join(DB_FILE)).unwrap();
            let tx = db.begin_write().unwrap();
            let user = serde_json::json!({
                "id": 7, "login_id": "staff0001", "email": "s@example.jp",
                "registry_number": "", "password_hash": "x", "role": "physician",
                "profile": profile, "terms_version": "t", "terms_agreed_at": 0,
                "created_at": 0
            });
            tx.open_table(USERS)
                .unwrap()
                .insert(7, serde_json::to_vec(&user).unwrap().as_slice())
                .unwrap();
            tx.open_table(META)
                .unwrap()
                .insert("schema_version", 1u32.to_be_bytes().as_slice())
                .unwrap();
            tx.commit().unwrap();
        };
        write_v1(serde_json::json!({"display_name": "no form"}));
        let err = Store::open(dir.path()).err().map(|e| format!("{e:#}"));
        assert!(
            err.unwrap_or_default()
                .contains("account 7: the profile is not a registration")
        );
        let db = Database::create(dir.path().join(DB_FILE)).unwrap();
        let version = db
            .begin_read()
            .unwrap()
            .open_table(META)
            .unwrap()
            .get("schema_version")
            .unwrap()
            .map(|v| v.value().to_vec());
        assert_eq!(version, Some(1u32.to_be_bytes().to_vec()), "left at 1");
        drop(db);

        write_v1(serde_json::Value::Null);
        let store = Store::open(dir.path()).unwrap();
        let user = store.read_now(|tx| users::get(tx, 7)).unwrap().unwrap();
        assert_eq!(user.login_id, "staff0001");
        assert!(user.person.is_none());
        assert_eq!(user.display_name(), "");
    }
}
