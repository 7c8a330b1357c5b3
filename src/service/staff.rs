//! Staff accounts in the office console, for 管理者: the accounts of their association and those below, and a new account with a one-time password shown once; the account and its audit entry in one transaction.

use crate::{
    auth::{guards::StaffAdmin, password::Hasher},
    domain::{
        AssociationId, FieldError, FieldErrors, LoginId, StaffRole, association::Association,
        control_message,
    },
    store::{
        Store, associations,
        audit::{self, AuditEntry, AuditKind, FieldChange, Target},
        staff,
        users::{self, Conflict},
    },
};

use super::office::{one_time_password, staff_record};
use crate::domain::Email;

/// The label of a staff account's contact address.
pub const CONTACT_LABEL: &str = "連絡用メールアドレス";

/// A typed 連絡用メールアドレス: none when left empty.
pub fn parse_contact(s: &str) -> Result<Option<Email>, String> {
    match s.trim() {
        "" => Ok(None),
        s => Email::parse_as(s, CONTACT_LABEL).map(Some),
    }
}

/// The longest staff name kept.
pub const NAME_MAX: usize = 50;
/// The message beside a login ID already used.
pub const LOGIN_ID_TAKEN: &str =
    "このログインIDは既に使用されています。別のログインIDを入力してください。";

/// One staff account as listed.
#[derive(Clone, Debug)]
pub struct StaffRow {
    pub user_id: u64,
    pub name: String,
    pub login_id: String,
    pub association: String,
    pub role: StaffRole,
    /// The one-time password was not replaced yet (初回ログイン待ち).
    pub first_login_pending: bool,
    pub created_at: i64,
    /// 連絡用メールアドレス: where the mail of the procedures' queues goes.
    pub email: Option<String>,
}

/// The staff page: the accounts within the scope, and the associations a
/// new account may belong to.
#[derive(Clone, Debug)]
pub struct StaffList {
    pub rows: Vec<StaffRow>,
    pub associations: Vec<Association>,
}

/// The associations within the scope of `admin`, in id order.
fn in_scope(admin: &StaffAdmin, all: &[Association]) -> Vec<Association> {
    let scope = admin.0.scope(all);
    all.iter().filter(|a| scope.allows(a.id)).cloned().collect()
}

/// The staff accounts within the scope of `admin`.
pub async fn list(store: &Store, admin: &StaffAdmin) -> anyhow::Result<StaffList> {
    let admin = admin.clone();
    store
        .read(move |tx| {
            let all = associations::all(tx)?;
            let associations = in_scope(&admin, &all);
            let rows = staff::all(tx)?
                .into_iter()
                .filter_map(|u| {
                    let (association, role) = u.role.staff()?;
                    let a = associations.iter().find(|a| a.id == association)?;
                    Some(StaffRow {
                        user_id: u.id,
                        name: u.display_name(),
                        login_id: u.login_id.clone(),
                        association: a.name.clone(),
                        role,
                        first_login_pending: u.must_change_password,
                        created_at: u.created_at,
                        email: None,
                    })
                })
                .collect::<Vec<_>>();
            let rows = rows
                .into_iter()
                .map(|mut r: StaffRow| {
                    r.email = staff::contact_email(tx, r.user_id)?;
                    Ok(r)
                })
                .collect::<anyhow::Result<Vec<_>>>()?;
            Ok(StaffList { rows, associations })
        })
        .await
}

/// A new staff account as typed in the console.
#[derive(Clone, Debug, Default, serde::Deserialize)]
pub struct StaffForm {
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub login_id: String,
    #[serde(default)]
    pub association: String,
    #[serde(default)]
    pub role: String,
    /// 連絡用メールアドレス (optional).
    #[serde(default)]
    pub email: String,
}

/// A new staff account, parsed.
#[derive(Clone, Debug)]
pub struct NewStaffMember {
    pub name: String,
    pub login_id: LoginId,
    pub association: u64,
    pub role: StaffRole,
    pub email: Option<Email>,
}

impl StaffForm {
    /// Parses every field; every error at once.
    pub fn parse(&self) -> Result<NewStaffMember, FieldErrors> {
        let mut errors = FieldErrors::default();
        let name = self.name.trim();
        if name.is_empty() {
            errors.push(FieldError::new("name", "氏名", "氏名を入力してください。"));
        } else if name.chars().any(char::is_control) {
            errors.push(FieldError::new("name", "氏名", control_message("氏名")));
        } else if name.chars().count() > NAME_MAX {
            errors.push(FieldError::new(
                "name",
                "氏名",
                format!("氏名は{NAME_MAX}文字以内で入力してください。"),
            ));
        }
        let login_id = LoginId::parse(&self.login_id)
            .map_err(|m| errors.push(FieldError::new("login_id", "ログインID", m)))
            .ok();
        let association = self.association.trim().parse::<u64>().ok();
        if association.is_none() {
            errors.push(FieldError::new(
                "association",
                "所属医師会",
                "所属医師会を選択してください。",
            ));
        }
        let email = parse_contact(&self.email)
            .map_err(|m| errors.push(FieldError::new("email", CONTACT_LABEL, m)))
            .ok()
            .flatten();
        let role = StaffRole::from_label(&self.role);
        if role.is_none() {
            errors.push(FieldError::new("role", "権限", "権限を選択してください。"));
        }
        match (login_id, association, role) {
            (Some(login_id), Some(association), Some(role)) if errors.is_empty() => {
                Ok(NewStaffMember {
                    name: name.to_owned(),
                    login_id,
                    association,
                    role,
                    email,
                })
            }
            _ => Err(errors),
        }
    }
}

/// A staff account made in the console.
#[derive(Clone, Debug)]
pub struct Created {
    pub user_id: u64,
    pub name: String,
    pub login_id: String,
    pub association: String,
    pub role: StaffRole,
    /// Shown once, on the page that answers the creation; never stored.
    pub one_time_password: String,
}

/// Why a staff account was not made.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CreateError {
    /// The association is outside the scope or missing: a missing page.
    NotFound,
    /// The login ID is taken: the message beside the field.
    LoginIdTaken,
}

/// Makes a staff account of an association within the scope of `admin`,
/// with a one-time password to be changed at the first login; the account
/// and its audit entry (actor, target, fields) in one transaction, the
/// scope read in it too.
pub async fn create(
    store: &Store,
    hasher: &Hasher,
    admin: &StaffAdmin,
    new: NewStaffMember,
) -> anyhow::Result<Result<Created, CreateError>> {
    // Refused early (before hashing) when plainly out of scope or taken.
    let (association, login_id) = (new.association, new.login_id.as_str().to_owned());
    let check_admin = admin.clone();
    let early = store
        .read(move |tx| {
            let all = associations::all(tx)?;
            if !check_admin.0.scope(&all).allows(AssociationId(association)) {
                return Ok(Some(CreateError::NotFound));
            }
            Ok(users::login_id_taken(tx, &login_id)?.then_some(CreateError::LoginIdTaken))
        })
        .await?;
    if let Some(refusal) = early {
        return Ok(Err(refusal));
    }
    let password = one_time_password();
    let hash = hasher.hash(password.clone()).await?;
    let actor = admin.0.account.id;
    let admin = admin.clone();
    let created = store
        .write(move |tx| {
            let all = associations::all_in_write(tx)?;
            let id = AssociationId(new.association);
            let Some(association) = all.iter().find(|a| a.id == id).cloned() else {
                return Ok(Err(CreateError::NotFound));
            };
            if !admin.0.scope(&all).allows(id) {
                return Ok(Err(CreateError::NotFound));
            }
            let login_id = new.login_id.as_str().to_owned();
            let user = staff_record(&login_id, Some(&new.name), id, new.role, hash);
            let user_id = match users::create(tx, user)? {
                Ok(user_id) => user_id,
                Err(conflicts) if conflicts.contains(&Conflict::LoginId) => {
                    return Ok(Err(CreateError::LoginIdTaken));
                }
                Err(conflicts) => anyhow::bail!("staff account refused: {conflicts:?}"),
            };
            let email = new.email.as_ref().map(|e| e.as_str().to_owned());
            staff::set_contact_email(tx, user_id, email.as_deref())?;
            audit::record(
                tx,
                AuditEntry::new(AuditKind::StaffAdded)
                    .actor(actor)
                    .user(user_id)
                    .login_id(&login_id)
                    .target(Target::Staff(user_id), Some(id))
                    .changes([
                        FieldChange::new("氏名", "", new.name.clone()),
                        FieldChange::new("ログインID", "", login_id.clone()),
                        FieldChange::new("所属医師会", "", association.name.clone()),
                        FieldChange::new("権限", "", new.role.label()),
                        FieldChange::new(CONTACT_LABEL, "", email.unwrap_or_default()),
                    ])
                    .detail(format!("{} of {}", new.role.label(), association.name)),
            )?;
            Ok(Ok(Created {
                user_id,
                name: new.name,
                login_id,
                association: association.name,
                role: new.role,
                one_time_password: password,
            }))
        })
        .await?;
    Ok(created)
}

/// Staff account `id` when a 管理者 may change it: within the scope of
/// `admin`, and not their own account.
fn changeable(
    admin: &StaffAdmin,
    all: &[Association],
    user: &users::UserRecord,
) -> Option<(AssociationId, StaffRole)> {
    let (association, role) = user.role.staff()?;
    (user.id != admin.0.account.id && admin.0.scope(all).allows(association))
        .then_some((association, role))
}

/// Staff account `id` as its page shows it, when it is within the scope
/// of `admin`; `None` otherwise, as when there is no such account. The
/// flag says whether `admin` may change it (not their own account).
pub async fn get(
    store: &Store,
    admin: &StaffAdmin,
    id: u64,
) -> anyhow::Result<Option<(StaffRow, bool)>> {
    let admin = admin.clone();
    store
        .read(move |tx| {
            let all = associations::all(tx)?;
            let Some(user) = users::get(tx, id)? else {
                return Ok(None);
            };
            let Some((association, role)) = user.role.staff() else {
                return Ok(None);
            };
            if !admin.0.scope(&all).allows(association) {
                return Ok(None);
            }
            let name = all
                .iter()
                .find(|a| a.id == association)
                .map(|a| a.name.clone())
                .unwrap_or_default();
            let may_change = changeable(&admin, &all, &user).is_some();
            Ok(Some((
                StaffRow {
                    user_id: user.id,
                    name: user.display_name(),
                    login_id: user.login_id.clone(),
                    association: name,
                    role,
                    first_login_pending: user.must_change_password,
                    created_at: user.created_at,
                    email: staff::contact_email(tx, user.id)?,
                },
                may_change,
            )))
        })
        .await
}

/// Gives staff account `id` (within the scope of `admin`, not their own)
/// the role `role`; the change and its audit entry in one transaction.
/// `None` when the account may not be changed or is missing.
pub async fn set_role(
    store: &Store,
    admin: &StaffAdmin,
    id: u64,
    role: StaffRole,
) -> anyhow::Result<Option<()>> {
    let admin = admin.clone();
    let done = store
        .write(move |tx| {
            let all = associations::all_in_write(tx)?;
            let Some(user) = staff::get_in_write(tx, id)? else {
                return Ok(Err(()));
            };
            let Some((association, old)) = changeable(&admin, &all, &user) else {
                return Ok(Err(()));
            };
            if staff::set_role(tx, id, role)?.is_none() {
                return Ok(Err(()));
            }
            audit::record(
                tx,
                AuditEntry::new(AuditKind::StaffChanged)
                    .actor(admin.0.account.id)
                    .user(id)
                    .login_id(&user.login_id)
                    .target(Target::Staff(id), Some(association))
                    .changes([FieldChange::new("権限", old.label(), role.label())]),
            )?;
            Ok(Ok(()))
        })
        .await?;
    Ok(done.ok())
}

/// Sets the 連絡用メールアドレス of staff account `id` (within the scope of
/// `admin`; their own too) to `email` (none: removed); the change and its
/// audit entry in one transaction. `None` when the account is not theirs
/// to change or is missing.
pub async fn set_email(
    store: &Store,
    admin: &StaffAdmin,
    id: u64,
    email: Option<Email>,
) -> anyhow::Result<Option<()>> {
    let admin = admin.clone();
    let done = store
        .write(move |tx| {
            let all = associations::all_in_write(tx)?;
            let Some(user) = staff::get_in_write(tx, id)? else {
                return Ok(Err(()));
            };
            let Some((association, _)) = user.role.staff() else {
                return Ok(Err(()));
            };
            if !admin.0.scope(&all).allows(association) {
                return Ok(Err(()));
            }
            let new = email.as_ref().map(|e| e.as_str().to_owned());
            let old = staff::set_contact_email(tx, id, new.as_deref())?;
            if old != new {
                audit::record(
                    tx,
                    AuditEntry::new(AuditKind::StaffChanged)
                        .actor(admin.0.account.id)
                        .user(id)
                        .login_id(&user.login_id)
                        .target(Target::Staff(id), Some(association))
                        .changes([FieldChange::new(
                            CONTACT_LABEL,
                            old.unwrap_or_default(),
                            new.unwrap_or_default(),
                        )]),
                )?;
            }
            Ok(Ok(()))
        })
        .await?;
    Ok(done.ok())
}

/// A new one-time password, shown once.
#[derive(Clone, Debug)]
pub struct Reissued {
    pub login_id: String,
    pub name: String,
    pub one_time_password: String,
}

/// Issues a new one-time password for staff account `id` (within the
/// scope of `admin`, not their own): the old password stops working, the
/// account's sessions end, and the new one must be changed at the next
/// login; the change and its audit entry in one transaction. `None` when
/// the account may not be changed or is missing.
pub async fn reissue_password(
    store: &Store,
    hasher: &Hasher,
    admin: &StaffAdmin,
    id: u64,
) -> anyhow::Result<Option<Reissued>> {
    if get(store, admin, id).await?.is_none_or(|(_, may)| !may) {
        return Ok(None);
    }
    let password = one_time_password();
    let hash = hasher.hash(password.clone()).await?;
    let admin = admin.clone();
    let done = store
        .write(move |tx| {
            let all = associations::all_in_write(tx)?;
            let Some(user) = staff::get_in_write(tx, id)? else {
                return Ok(Err(()));
            };
            let Some((association, _)) = changeable(&admin, &all, &user) else {
                return Ok(Err(()));
            };
            if staff::reissue_one_time_password(tx, id, hash)?.is_none() {
                return Ok(Err(()));
            }
            audit::record(
                tx,
                AuditEntry::new(AuditKind::StaffPasswordReissued)
                    .actor(admin.0.account.id)
                    .user(id)
                    .login_id(&user.login_id)
                    .target(Target::Staff(id), Some(association)),
            )?;
            Ok(Ok(Reissued {
                login_id: user.login_id.clone(),
                name: user.display_name(),
                one_time_password: password,
            }))
        })
        .await?;
    Ok(done.ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_form_reports_every_field() {
        let errors = StaffForm::default().parse().unwrap_err();
        let names: Vec<&str> = errors.names().collect();
        assert_eq!(names, ["name", "login_id", "association", "role"]);
        let ok = StaffForm {
            name: " 事務 太郎 ".into(),
            login_id: "tokyo0001".into(),
            association: "14".into(),
            role: "担当者".into(),
            email: " office@tokyo.example.jp ".into(),
        }
        .parse()
        .unwrap();
        assert_eq!(
            (ok.name.as_str(), ok.association, ok.role),
            ("事務 太郎", 14, StaffRole::Clerk)
        );
        assert_eq!(
            ok.email.as_ref().map(|e| e.as_str()),
            Some("office@tokyo.example.jp")
        );
        let bad = StaffForm {
            email: "not an address".into(),
            ..StaffForm::default()
        };
        assert!(bad.parse().unwrap_err().names().any(|n| n == "email"));
    }
}
