//! The 事務局 use cases: the association tree's set-up, staff accounts with their one-time password, 事務局TOP.

use std::{cmp::Reverse, collections::BinaryHeap};

use rand::Rng;

use crate::{
    auth::{
        guards::{Scope, Staff},
        password::Hasher,
    },
    domain::{
        AssociationId, InquiryStatus, LoginId, Role, StaffRole,
        association::{Association, AssociationKind},
    },
    service::procedures::{self, QueueCounts},
    store::{
        Store,
        associations::{self, AddRefusal},
        audit::{self, AuditEntry, AuditKind, FieldChange, Target},
        inquiries, now, person_index, staff,
        users::{self, Conflict, UserRecord},
    },
};

/// Characters of a one-time password: letters and digits without the ones
/// read alike (0/O, 1/l/I).
const ONE_TIME_ALPHABET: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789";
/// Length of a one-time password (about 116 bits).
const ONE_TIME_LEN: usize = 20;
/// The longest staff name kept.
const STAFF_NAME_MAX_CHARS: usize = 50;
/// The longest association name accepted.
const ASSOCIATION_NAME_MAX_CHARS: usize = 60;

/// A new one-time password (`ONE_TIME_LEN` characters of `ONE_TIME_ALPHABET`).
pub fn one_time_password() -> String {
    let mut rng = rand::thread_rng();
    (0..ONE_TIME_LEN)
        .map(|_| char::from(ONE_TIME_ALPHABET[rng.gen_range(0..ONE_TIME_ALPHABET.len())]))
        .collect()
}

/// The scope of a staff member of `association`: it and everything below.
pub async fn scope_of(store: &Store, association: AssociationId) -> anyhow::Result<Scope> {
    let all = store.read(associations::all).await?;
    Ok(Scope::within(association, &all))
}

/// Adds an association below `parent` (`mamis admin association add`):
/// `kind` is 郡市区 (the default), 大学 or 職域. The refusal is a message
/// for the operator.
pub async fn add_association(
    store: &Store,
    parent: &str,
    name: &str,
    kind: Option<&str>,
) -> anyhow::Result<Result<Association, String>> {
    let (parent, name) = (parent.trim().to_owned(), name.trim().to_owned());
    let kind = match kind {
        None => AssociationKind::District,
        Some(k) => match AssociationKind::parse_local(k) {
            Some(kind) => kind,
            None => {
                return Ok(Err(format!(
                    "--kind must be 郡市区, 大学 or 職域, not {k:?}"
                )));
            }
        },
    };
    if name.is_empty() || name.chars().count() > ASSOCIATION_NAME_MAX_CHARS {
        return Ok(Err(format!(
            "--name must be 1 to {ASSOCIATION_NAME_MAX_CHARS} characters"
        )));
    }
    let added = store
        .write_ok(move |tx| {
            let added = associations::add(tx, &parent, &name, kind)?;
            Ok(match added {
                Ok(a) => {
                    audit::record(
                        tx,
                        AuditEntry::new(AuditKind::AssociationAdded)
                            .target(Target::Association(a.id), Some(a.id))
                            .detail(format!("{} ({}) under {parent}", a.name, a.kind.label())),
                    )?;
                    Ok(a)
                }
                Err(AddRefusal::UnknownParent) => Err(format!(
                    "no association is named {parent:?}: name the parent exactly as it is \
                     stored (e.g. 東京都医師会); nothing was added"
                )),
                Err(AddRefusal::Duplicate) => Err(format!(
                    "an association named {name:?} exists already; nothing was added"
                )),
                Err(AddRefusal::WrongLevel { parent: p }) => Err(format!(
                    "{parent} is a {}: a {} goes under a 都道府県医師会; nothing was added",
                    p.label(),
                    kind.label()
                )),
            })
        })
        .await?;
    Ok(added)
}

/// A new staff account of `association` whose one-time password hashes to
/// `password_hash`: no person, e-mail address or 医籍登録番号, and the
/// password to be changed at the first login.
pub(crate) fn staff_record(
    login_id: &str,
    name: Option<&str>,
    association: AssociationId,
    role: StaffRole,
    password_hash: String,
) -> UserRecord {
    UserRecord {
        initial_password_expires_at: None,
        membership: None,
        association: None,
        id: 0,
        login_id: login_id.to_owned(),
        email: String::new(),
        registry_number: String::new(),
        password_hash,
        role: Role::Staff { association, role },
        person: None,
        session_generation: 0,
        must_change_password: true,
        staff_name: name.map(str::to_owned),
        terms_version: String::new(),
        terms_agreed_at: 0,
        terms_history: Vec::new(),
        created_at: now(),
    }
}

/// A staff account to make (`mamis admin staff add`).
pub struct NewStaff<'a> {
    pub association: &'a str,
    pub login_id: &'a str,
    pub name: Option<&'a str>,
    /// 管理者 (the default) or 担当者.
    pub role: Option<&'a str>,
    /// 連絡用メールアドレス (optional).
    pub email: Option<&'a str>,
}

/// A staff account made: its id and its one-time password.
pub struct StaffAdded {
    pub user_id: u64,
    pub association: String,
    pub role: StaffRole,
    pub one_time_password: String,
}

/// Makes a staff account of an association with a one-time password that
/// must be changed at the first login; the account and its audit entry
/// in one transaction. The refusal is a message for the operator.
pub async fn add_staff(
    store: &Store,
    hasher: &Hasher,
    new: NewStaff<'_>,
) -> anyhow::Result<Result<StaffAdded, String>> {
    let role = match new.role {
        None => StaffRole::Admin,
        Some(r) => match StaffRole::from_label(r) {
            Some(role) => role,
            None => return Ok(Err(format!("--role must be 管理者 or 担当者, not {r:?}"))),
        },
    };
    let login_id = match LoginId::parse(new.login_id.trim()) {
        Ok(id) => id.as_str().to_owned(),
        Err(message) => {
            return Ok(Err(format!(
                "--login-id: {message} (8 to 32 half-width letters, digits or % ! @ # &)"
            )));
        }
    };
    let name = new.name.map(str::trim).filter(|n| !n.is_empty());
    if name.is_some_and(|n| {
        n.chars().count() > STAFF_NAME_MAX_CHARS || n.chars().any(char::is_control)
    }) {
        return Ok(Err(format!(
            "--name must be at most {STAFF_NAME_MAX_CHARS} characters, without control characters"
        )));
    }
    let email = match super::staff::parse_contact(new.email.unwrap_or("")) {
        Ok(e) => e.map(|e| e.as_str().to_owned()),
        Err(message) => return Ok(Err(format!("--email: {message}"))),
    };
    let association_name = new.association.trim().to_owned();
    let lookup = association_name.clone();
    let Some(association) = store
        .read(move |tx| associations::by_name(tx, &lookup))
        .await?
    else {
        return Ok(Err(format!(
            "no association is named {association_name:?}; nothing was added"
        )));
    };
    let password = one_time_password();
    let hash = hasher.hash(password.clone()).await?;
    let user = staff_record(&login_id, name, association.id, role, hash);
    let detail = format!("{} of {}", role.label(), association.name);
    let association_id = association.id;
    let created = store
        .write_ok(move |tx| {
            Ok(match users::create(tx, user)? {
                Ok(id) => {
                    staff::set_contact_email(tx, id, email.as_deref())?;
                    audit::record(
                        tx,
                        AuditEntry::new(AuditKind::StaffAdded)
                            .user(id)
                            .login_id(&login_id)
                            .target(Target::Staff(id), Some(association_id))
                            .changes(email.iter().map(|e| {
                                FieldChange::new(super::staff::CONTACT_LABEL, "", e.clone())
                            }))
                            .detail(detail),
                    )?;
                    Ok(id)
                }
                Err(conflicts) if conflicts.contains(&Conflict::LoginId) => Err(format!(
                    "the login ID {login_id:?} is taken; nothing was added"
                )),
                Err(_) => Err("the account could not be made; nothing was added".to_owned()),
            })
        })
        .await?;
    Ok(created.map(|user_id| StaffAdded {
        user_id,
        association: association.name,
        role,
        one_time_password: password,
    }))
}

/// How far back a registration counts as new on 事務局TOP.
pub const NEW_REGISTRATION_DAYS: i64 = 30;
/// The latest registrations listed on 事務局TOP.
pub const LATEST_REGISTRATIONS: usize = 10;

/// One of the latest registrations on 事務局TOP.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Registration {
    pub id: u64,
    pub name: String,
    pub kana: String,
    /// Unix seconds.
    pub created_at: i64,
}

/// What 事務局TOP shows.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OfficeTop {
    pub association: String,
    pub role: StaffRole,
    pub staff_name: String,
    /// Registered persons within the scope (those of no association are
    /// counted for the root of the tree only).
    pub physicians: u64,
    /// Persons in scope registered in the last [`NEW_REGISTRATION_DAYS`] days.
    pub new_registrations: u64,
    /// The latest registrations in scope, newest first.
    pub latest: Vec<Registration>,
    /// The association's procedure queues (入会 / 異動 / 退会 / 確認依頼).
    pub queues: QueueCounts,
    /// 未対応 inquiries, for the staff of the root (日本医師会) only.
    pub open_inquiries: Option<u64>,
    /// True for the 管理者 of the root, who manage the announcements.
    pub manages_announcements: bool,
}

/// What one pass over the facets gives 事務局TOP.
struct InScope {
    physicians: u64,
    new_registrations: u64,
    /// (created_at, id) of the latest, newest first.
    latest: Vec<(i64, u64)>,
}

/// Counts the persons `scope` sees and those registered since `since`, and
/// picks the latest registrations, from the in-memory facets (no account
/// is decoded).
fn in_scope(facets: &person_index::Facets, scope: &Scope, since: i64) -> InScope {
    let mut heap = BinaryHeap::with_capacity(LATEST_REGISTRATIONS + 1);
    let (mut physicians, mut new_registrations) = (0, 0);
    for (id, f) in facets.newest_first() {
        if !scope.sees(f.association) {
            continue;
        }
        physicians += 1;
        if f.created_at >= since {
            new_registrations += 1;
        }
        heap.push(Reverse((f.created_at, id)));
        if heap.len() > LATEST_REGISTRATIONS {
            heap.pop();
        }
    }
    let mut latest: Vec<(i64, u64)> = heap.into_iter().map(|Reverse(k)| k).collect();
    latest.sort_unstable_by(|a, b| b.cmp(a));
    InScope {
        physicians,
        new_registrations,
        latest,
    }
}

/// 事務局TOP of a staff member at `at` (Unix seconds); `None` when their
/// account or association is gone.
pub async fn top(store: &Store, staff: &Staff, at: i64) -> anyhow::Result<Option<OfficeTop>> {
    let (association, role, user_id) = (staff.association, staff.role, staff.account.id);
    let cache = store.facet_cache();
    let top = store
        .read(move |tx| {
            let all = associations::all(tx)?;
            let Some(own) = all.iter().find(|a| a.id == association).cloned() else {
                return Ok(None);
            };
            let Some(user) = users::get(tx, user_id)? else {
                return Ok(None);
            };
            let scope = Scope::within(association, &all);
            let facets = cache.facets(tx)?;
            let found = in_scope(&facets, &scope, at - NEW_REGISTRATION_DAYS * 86_400);
            let mut latest = Vec::with_capacity(found.latest.len());
            for (created_at, id) in found.latest {
                // Read again: the scope is checked on the account itself.
                let Some(person) = users::get(tx, id)? else {
                    continue;
                };
                if person.role.staff().is_some() || !scope.sees(person.association) {
                    continue;
                }
                let kana = person.person.as_ref().map_or_else(String::new, |p| {
                    format!("{} {}", p.kana.last.as_str(), p.kana.first.as_str())
                });
                latest.push(Registration {
                    id,
                    name: person.display_name(),
                    kana,
                    created_at,
                });
            }
            Ok(Some(OfficeTop {
                association: own.name,
                role,
                staff_name: user.display_name(),
                physicians: found.physicians,
                new_registrations: found.new_registrations,
                latest,
                queues: QueueCounts::default(),
                open_inquiries: if own.parent.is_none() {
                    Some(inquiries::count(tx, InquiryStatus::Open)?)
                } else {
                    None
                },
                manages_announcements: role == StaffRole::Admin,
            }))
        })
        .await?;
    let Some(mut top) = top else {
        return Ok(None);
    };
    top.queues = procedures::counts(store, staff, at).await?;
    Ok(Some(top))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Argon2Params;

    #[test]
    fn one_time_passwords_are_long_and_avoid_look_alikes() {
        let a = one_time_password();
        assert_eq!(a.chars().count(), ONE_TIME_LEN);
        assert!(a.chars().all(|c| c.is_ascii_alphanumeric()));
        for c in ['0', 'O', '1', 'l', 'I'] {
            assert!(!ONE_TIME_ALPHABET.contains(&(c as u8)), "{c}");
        }
        assert_ne!(a, one_time_password());
    }

    #[tokio::test]
    async fn a_district_scope_leaves_out_its_neighbour_and_its_prefecture() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let shinjuku = add_association(&store, "東京都医師会", "新宿区医師会", None)
            .await
            .unwrap()
            .unwrap();
        let shibuya = add_association(&store, "東京都医師会", "渋谷区医師会", Some("郡市区"))
            .await
            .unwrap()
            .unwrap();
        let tokyo = store
            .read(|tx| associations::by_name(tx, "東京都医師会"))
            .await
            .unwrap()
            .unwrap();
        let scope = scope_of(&store, shinjuku.id).await.unwrap();
        assert!(scope.allows(shinjuku.id));
        assert!(!scope.allows(shibuya.id));
        assert!(!scope.allows(tokyo.id));
        assert!(!scope.allows_unaffiliated());
        let scope = scope_of(&store, tokyo.id).await.unwrap();
        assert!(scope.allows(shinjuku.id) && scope.allows(shibuya.id) && scope.allows(tokyo.id));
        assert!(!scope.allows_unaffiliated());
        let national = tokyo.parent.unwrap();
        let scope = scope_of(&store, national).await.unwrap();
        assert!(scope.allows(shibuya.id) && scope.allows_unaffiliated());
        assert_eq!(scope.associations().len(), 50);
    }

    #[tokio::test]
    async fn staff_accounts_refuse_unknown_associations_roles_and_taken_ids() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let hasher = Hasher::new(1, Argon2Params::TESTING);
        let new = |association, login_id, role| NewStaff {
            email: None,
            association,
            login_id,
            name: Some("事務 花子"),
            role,
        };
        let first = add_staff(&store, &hasher, new("日本医師会", "jmaoffice", None))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(first.role, StaffRole::Admin);
        // A second staff account claims no e-mail or registry key.
        let second = add_staff(
            &store,
            &hasher,
            new("東京都医師会", "tokyo001", Some("担当者")),
        )
        .await
        .unwrap()
        .unwrap();
        assert_eq!(second.role, StaffRole::Clerk);
        for (association, login_id, role, says) in [
            ("日本医師会", "jmaoffice", None, "taken"),
            ("東京医師会", "tokyo002", None, "no association"),
            ("東京都医師会", "tokyo003", Some("会長"), "--role"),
        ] {
            let refused = add_staff(&store, &hasher, new(association, login_id, role))
                .await
                .unwrap()
                .err()
                .unwrap();
            assert!(refused.contains(says), "{refused}");
        }
        let user = store
            .read(move |tx| users::get(tx, second.user_id))
            .await
            .unwrap()
            .unwrap();
        assert!(user.must_change_password);
        assert_eq!(user.display_name(), "事務 花子");
    }
}
