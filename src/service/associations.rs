//! The association tree in the office console: the tree within a staff member's scope, adding a 郡市区等医師会 under a prefecture, changing an association's contact details; each change with its audit entry in the same transaction.

use crate::{
    auth::guards::{Scope, Staff},
    domain::{
        AssociationId, StaffRole,
        association::{Association, AssociationKind, Contact},
        association_form::{self as form, NewAssociation},
    },
    store::{
        Store,
        associations::{self, AddRefusal},
        audit::{self, AuditEntry, AuditKind, FieldChange, Target},
        staff,
    },
};

/// One association of the tree as listed.
#[derive(Clone, Debug)]
pub struct TreeRow {
    pub association: Association,
    /// 0 for the staff member's own association, 1 below it, …
    pub depth: usize,
    /// Staff accounts of the association.
    pub staff: usize,
}

/// The tree within a staff member's scope.
#[derive(Clone, Debug)]
pub struct Tree {
    /// Depth first from the staff member's association, children in id
    /// order (the prefectures in JIS order).
    pub rows: Vec<TreeRow>,
    /// The prefectural associations the staff member may add under (empty
    /// for 担当者 and for the staff of a 郡市区等医師会).
    pub parents: Vec<Association>,
}

/// The prefectural associations under which `staff` may add a
/// 郡市区等医師会: for a 管理者, those within their scope.
pub fn addable_parents(staff: &Staff, all: &[Association]) -> Vec<Association> {
    if staff.role != StaffRole::Admin {
        return Vec::new();
    }
    let scope = Scope::within(staff.association, all);
    all.iter()
        .filter(|a| a.kind == AssociationKind::Prefectural && scope.allows(a.id))
        .cloned()
        .collect()
}

/// Every association's name by id (public: the names a physician sees on
/// 所属状況 and in the join form).
pub async fn names(
    store: &Store,
) -> anyhow::Result<std::collections::HashMap<AssociationId, String>> {
    let all = store.read(associations::all).await?;
    Ok(all.into_iter().map(|a| (a.id, a.name)).collect())
}

/// True when `staff` may import associations (a 管理者 of a prefecture or
/// of the root).
pub async fn may_import(store: &Store, staff: &Staff) -> anyhow::Result<bool> {
    let all = store.read(associations::all).await?;
    Ok(!addable_parents(staff, &all).is_empty())
}

/// The tree from `root` down, depth first, children in id order.
fn ordered(root: AssociationId, all: &[Association]) -> Vec<(Association, usize)> {
    let mut out = Vec::new();
    let mut stack: Vec<(AssociationId, usize)> = vec![(root, 0)];
    while let Some((id, depth)) = stack.pop() {
        let Some(a) = all.iter().find(|a| a.id == id) else {
            continue;
        };
        out.push((a.clone(), depth));
        let mut children: Vec<AssociationId> = all
            .iter()
            .filter(|c| c.parent == Some(id))
            .map(|c| c.id)
            .collect();
        children.sort();
        stack.extend(children.into_iter().rev().map(|c| (c, depth + 1)));
    }
    out
}

/// The tree within the scope of `staff`.
pub async fn tree(store: &Store, staff: &Staff) -> anyhow::Result<Tree> {
    let own = staff.association;
    let staff_member = staff.clone();
    store
        .read(move |tx| {
            let all = associations::all(tx)?;
            let accounts = staff::all(tx)?;
            let rows = ordered(own, &all)
                .into_iter()
                .map(|(association, depth)| TreeRow {
                    staff: accounts
                        .iter()
                        .filter(|u| u.role.staff().is_some_and(|(a, _)| a == association.id))
                        .count(),
                    association,
                    depth,
                })
                .collect();
            Ok(Tree {
                rows,
                parents: addable_parents(&staff_member, &all),
            })
        })
        .await
}

/// One association as its page shows it.
#[derive(Clone, Debug)]
pub struct Details {
    pub association: Association,
    pub parent: Option<String>,
    pub staff: usize,
}

/// Association `id` when it is within the scope of `staff`; `None`
/// otherwise, as when there is no such association.
pub async fn details(store: &Store, staff: &Staff, id: u64) -> anyhow::Result<Option<Details>> {
    let staff_member = staff.clone();
    store
        .read(move |tx| {
            let all = associations::all(tx)?;
            if !staff_member.scope(&all).allows(AssociationId(id)) {
                return Ok(None);
            }
            let Some(association) = all.iter().find(|a| a.id.0 == id).cloned() else {
                return Ok(None);
            };
            let parent = association
                .parent
                .and_then(|p| all.iter().find(|a| a.id == p))
                .map(|p| p.name.clone());
            let staff = staff::all(tx)?
                .iter()
                .filter(|u| u.role.staff().is_some_and(|(a, _)| a == association.id))
                .count();
            Ok(Some(Details {
                association,
                parent,
                staff,
            }))
        })
        .await
}

/// Why an association was not added.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AddError {
    /// The parent is not a prefecture the staff member may add under (or
    /// does not exist): answered as a missing page.
    NotFound,
    /// The name is taken: the message beside the 名称 field.
    NameTaken(String),
}

/// The message for a name already used.
pub const NAME_TAKEN: &str = "この名称の医師会は既に登録されています。";

/// The audit rows of a new association.
pub(crate) fn added_changes(a: &Association, parent: &str) -> Vec<FieldChange> {
    let mut changes = vec![
        FieldChange::new(form::NAME, "", a.name.clone()),
        FieldChange::new(form::KIND, "", a.kind.label()),
        FieldChange::new(form::PARENT, "", parent),
    ];
    changes.extend(contact_changes(&Contact::default(), &a.contact()));
    changes
}

fn contact_changes(old: &Contact, new: &Contact) -> Vec<FieldChange> {
    let show = |v: Option<&str>| v.unwrap_or_default().to_owned();
    vec![
        FieldChange::new(
            form::POSTAL_CODE,
            show(old.postal_code.as_ref().map(|p| p.as_str())),
            show(new.postal_code.as_ref().map(|p| p.as_str())),
        ),
        FieldChange::new(
            form::ADDRESS,
            show(old.address.as_deref()),
            show(new.address.as_deref()),
        ),
        FieldChange::new(
            form::PHONE,
            show(old.phone.as_ref().map(|p| p.as_str())),
            show(new.phone.as_ref().map(|p| p.as_str())),
        ),
    ]
}

/// Adds a 郡市区等医師会 under the prefectural association `parent`, which
/// must be within the scope of `staff` (a 管理者); the record and its
/// audit entry in one transaction, the scope read in it too.
pub async fn add(
    store: &Store,
    staff: &Staff,
    parent: u64,
    new: NewAssociation,
) -> anyhow::Result<Result<Association, AddError>> {
    let staff_member = staff.clone();
    store
        .write(move |tx| {
            let all = associations::all_in_write(tx)?;
            let Some(parent) = addable_parents(&staff_member, &all)
                .into_iter()
                .find(|p| p.id.0 == parent)
            else {
                return Ok(Err(AddError::NotFound));
            };
            let added = associations::add_under(tx, parent.id, &new.name, new.kind, new.contact)?;
            match added {
                Ok(a) => {
                    audit::record(
                        tx,
                        AuditEntry::new(AuditKind::AssociationAdded)
                            .actor(staff_member.account.id)
                            .target(Target::Association(a.id), Some(a.id))
                            .changes(added_changes(&a, &parent.name))
                            .detail(format!(
                                "{} ({}) under {}",
                                a.name,
                                a.kind.label(),
                                parent.name
                            )),
                    )?;
                    Ok(Ok(a))
                }
                Err(AddRefusal::Duplicate) => Ok(Err(AddError::NameTaken(NAME_TAKEN.to_owned()))),
                Err(AddRefusal::UnknownParent | AddRefusal::WrongLevel { .. }) => {
                    Ok(Err(AddError::NotFound))
                }
            }
        })
        .await
}

/// Replaces the contact details of association `id`, which must be within
/// the scope of `staff` (a 管理者); the change and its audit entry (old →
/// new) in one transaction. `None` when out of scope or missing.
pub async fn set_contact(
    store: &Store,
    staff: &Staff,
    id: u64,
    contact: Contact,
) -> anyhow::Result<Option<()>> {
    let staff_member = staff.clone();
    let changed = store
        .write(move |tx| {
            let all = associations::all_in_write(tx)?;
            let id = AssociationId(id);
            if staff_member.role != StaffRole::Admin || !staff_member.scope(&all).allows(id) {
                return Ok(Err(()));
            }
            let Some((old, new)) = associations::set_contact(tx, id, contact)? else {
                return Ok(Err(()));
            };
            audit::record(
                tx,
                AuditEntry::new(AuditKind::AssociationChanged)
                    .actor(staff_member.account.id)
                    .target(Target::Association(id), Some(id))
                    .changes(contact_changes(&old.contact(), &new.contact()))
                    .detail(new.name),
            )?;
            Ok(Ok(()))
        })
        .await?;
    Ok(changed.ok())
}

/// True when `staff` may set the class list of association `a`: a 管理者
/// of that very association, a prefecture or one below it (日本医師会's
/// classes are derived, not listed).
pub fn may_set_classes(staff: &Staff, a: &Association) -> bool {
    staff.role == StaffRole::Admin
        && staff.association == a.id
        && a.kind != crate::domain::association::AssociationKind::National
}

/// Replaces the class list of association `id` (see [`may_set_classes`]);
/// the change and its audit entry (old → new) in one transaction. `None`
/// when not allowed or missing.
pub async fn set_classes(
    store: &Store,
    staff: &Staff,
    id: u64,
    classes: Vec<String>,
) -> anyhow::Result<Option<()>> {
    let staff_member = staff.clone();
    let changed = store
        .write(move |tx| {
            let all = associations::all_in_write(tx)?;
            let id = AssociationId(id);
            let Some(a) = all.iter().find(|a| a.id == id) else {
                return Ok(Err(()));
            };
            if !may_set_classes(&staff_member, a) {
                return Ok(Err(()));
            }
            let Some((old, new)) = associations::set_classes(tx, id, classes)? else {
                return Ok(Err(()));
            };
            if old.classes != new.classes {
                audit::record(
                    tx,
                    AuditEntry::new(AuditKind::AssociationChanged)
                        .actor(staff_member.account.id)
                        .target(Target::Association(id), Some(id))
                        .changes([FieldChange::new(
                            "会員種別",
                            old.classes.join("、"),
                            new.classes.join("、"),
                        )])
                        .detail(new.name),
                )?;
            }
            Ok(Ok(()))
        })
        .await?;
    Ok(changed.ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn a(id: u64, kind: AssociationKind, parent: Option<u64>) -> Association {
        Association {
            id: AssociationId(id),
            name: format!("医師会{id}"),
            kind,
            parent: parent.map(AssociationId),
            postal_code: None,
            address: None,
            phone: None,
            classes: Vec::new(),
        }
    }

    #[test]
    fn the_tree_is_listed_depth_first_from_the_own_association() {
        use AssociationKind::*;
        let all = [
            a(1, National, None),
            a(2, Prefectural, Some(1)),
            a(3, Prefectural, Some(1)),
            a(4, District, Some(2)),
            a(5, District, Some(3)),
            a(6, University, Some(2)),
        ];
        let listed: Vec<(u64, usize)> = ordered(AssociationId(1), &all)
            .into_iter()
            .map(|(a, d)| (a.id.0, d))
            .collect();
        assert_eq!(listed, [(1, 0), (2, 1), (4, 2), (6, 2), (3, 1), (5, 2)]);
        let listed: Vec<u64> = ordered(AssociationId(3), &all)
            .into_iter()
            .map(|(a, _)| a.id.0)
            .collect();
        assert_eq!(listed, [3, 5]);
    }
}
