//! Announcements: the login page's (システム管理者からのお知らせ), managed by
//! the 管理者 of 日本医師会 (the root of the tree), and each association's
//! own for its members' マイページ, managed by that association's 管理者.
//! A 管理者 manages only their own board's; every change is audited in its
//! transaction; for another board's announcement the functions answer
//! `None` (the 404 page).

use redb::ReadTransaction;

use crate::{
    auth::guards::StaffAdmin,
    domain::{AssociationId, announcement::AnnouncementDraft, association},
    store::{
        Store, announcements, associations,
        audit::{self, AuditEntry, AuditKind},
        now,
    },
};

pub use crate::store::announcements::Announcement;

/// Announcements shown at most.
const SHOWN: usize = 20;

/// The login page's announcements published on `today` (JST), newest
/// first (by date, then by the order they were added).
pub async fn newest(store: &Store, today: time::Date) -> anyhow::Result<Vec<Announcement>> {
    store
        .read(move |tx| announcements::newest(tx, today, SHOWN, |board| board.is_none()))
        .await
}

/// The announcements a member of `association` sees on their マイページ on
/// `today`: those of the association and of every association above it
/// (not the login page's), newest first. None for a person of no
/// association.
pub async fn for_members_of(
    store: &Store,
    association: Option<AssociationId>,
    today: time::Date,
) -> anyhow::Result<Vec<Announcement>> {
    let Some(association) = association else {
        return Ok(Vec::new());
    };
    store
        .read(move |tx| {
            let all = associations::all(tx)?;
            let chain = association::ancestors_and_self(association, &all);
            announcements::newest(tx, today, SHOWN, |board| {
                board.is_some_and(|b| chain.contains(&b))
            })
        })
        .await
}

/// Where a 管理者's announcements are shown.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Board {
    /// The login page (the 管理者 is of 日本医師会).
    LoginPage,
    /// The マイページ of the members of the named association.
    Members(String),
}

/// The board of `admin`'s association.
pub async fn board(store: &Store, admin: &StaffAdmin) -> anyhow::Result<Option<Board>> {
    let association = admin.0.association;
    store
        .read(move |tx| {
            Ok(match associations::get(tx, association)? {
                None => None,
                Some(a) if a.parent.is_none() => Some(Board::LoginPage),
                Some(a) => Some(Board::Members(a.name)),
            })
        })
        .await
}

/// The owner stored with `admin`'s announcements: none for the root (the
/// login page), else the association.
fn owner(tx: &ReadTransaction, admin: &StaffAdmin) -> anyhow::Result<Option<AssociationId>> {
    let association = admin.0.association;
    Ok(if associations::is_root(tx, association)? {
        None
    } else {
        Some(association)
    })
}

fn owner_for_update(
    tx: &redb::WriteTransaction,
    admin: &StaffAdmin,
) -> anyhow::Result<Option<AssociationId>> {
    let association = admin.0.association;
    Ok(if associations::is_root_for_update(tx, association)? {
        None
    } else {
        Some(association)
    })
}

/// Every announcement of `admin`'s board, newest first, published or not.
pub async fn all(store: &Store, admin: &StaffAdmin) -> anyhow::Result<Vec<Announcement>> {
    let admin = admin.clone();
    store
        .read(move |tx| {
            let mine = owner(tx, &admin)?;
            Ok(announcements::all(tx)?
                .into_iter()
                .filter(|a| a.association == mine)
                .collect())
        })
        .await
}

/// One announcement of `admin`'s board.
pub async fn get(
    store: &Store,
    admin: &StaffAdmin,
    id: u64,
) -> anyhow::Result<Option<Announcement>> {
    let admin = admin.clone();
    store
        .read(move |tx| {
            let mine = owner(tx, &admin)?;
            Ok(announcements::get(tx, id)?.filter(|a| a.association == mine))
        })
        .await
}

fn entry(admin: &StaffAdmin, kind: AuditKind, detail: String) -> AuditEntry {
    AuditEntry::new(kind)
        .user(admin.0.account.id)
        .actor(admin.0.account.id)
        .login_id(&admin.0.account.login_id)
        .detail(detail)
}

fn describe(a: &Announcement) -> String {
    format!(
        "{} {} {:?}",
        a.date,
        a.category,
        a.title.as_deref().unwrap_or("")
    )
}

/// What changed between two versions, field by field (old → new).
fn changes(old: &Announcement, new: &Announcement) -> Vec<String> {
    let mut out = Vec::new();
    let mut field = |name: &str, a: String, b: String| {
        if a != b {
            out.push(format!("{name} {a:?} → {b:?}"));
        }
    };
    field("category", old.category.clone(), new.category.clone());
    field("date", old.date.to_string(), new.date.to_string());
    field(
        "title",
        old.title.clone().unwrap_or_default(),
        new.title.clone().unwrap_or_default(),
    );
    field(
        "link",
        old.link.clone().unwrap_or_default(),
        new.link.clone().unwrap_or_default(),
    );
    let d = |d: Option<time::Date>| d.map(|d| d.to_string()).unwrap_or_default();
    field("publish_from", d(old.publish_from), d(new.publish_from));
    field("withdraw_at", d(old.withdraw_at), d(new.withdraw_at));
    if old.body != new.body {
        out.push("body changed".to_owned());
    }
    out
}

/// Adds an announcement to `admin`'s board; returns its id.
pub async fn create(
    store: &Store,
    admin: &StaffAdmin,
    draft: AnnouncementDraft,
) -> anyhow::Result<Option<u64>> {
    let admin = admin.clone();
    store
        .write_ok(move |tx| {
            let mine = owner_for_update(tx, &admin)?;
            let at = now();
            let mut a = Announcement {
                id: 0,
                date: draft.date,
                category: draft.category,
                title: draft.title,
                body: draft.body,
                link: draft.link,
                publish_from: draft.publish_from,
                withdraw_at: draft.withdraw_at,
                created_at: at,
                updated_at: at,
                association: mine,
            };
            a.id = announcements::insert(tx, a.clone())?;
            audit::record(
                tx,
                entry(
                    &admin,
                    AuditKind::AnnouncementAdded,
                    format!("announcement {}: {}", a.id, describe(&a)),
                ),
            )?;
            Ok(Some(a.id))
        })
        .await
}

/// Replaces an announcement's fields (`None`: not found or not allowed).
pub async fn update(
    store: &Store,
    admin: &StaffAdmin,
    id: u64,
    draft: AnnouncementDraft,
) -> anyhow::Result<Option<()>> {
    let admin = admin.clone();
    store
        .write_ok(move |tx| {
            let mine = owner_for_update(tx, &admin)?;
            let Some(old) =
                announcements::get_for_update(tx, id)?.filter(|a| a.association == mine)
            else {
                return Ok(None);
            };
            let new = Announcement {
                date: draft.date,
                category: draft.category,
                title: draft.title,
                body: draft.body,
                link: draft.link,
                publish_from: draft.publish_from,
                withdraw_at: draft.withdraw_at,
                updated_at: now(),
                ..old.clone()
            };
            let changed = changes(&old, &new);
            if changed.is_empty() {
                return Ok(Some(()));
            }
            announcements::put(tx, &new)?;
            audit::record(
                tx,
                entry(
                    &admin,
                    AuditKind::AnnouncementChanged,
                    format!("announcement {id}: {}", changed.join("; ")),
                ),
            )?;
            Ok(Some(()))
        })
        .await
}

/// Deletes an announcement (`None`: not found or not allowed).
pub async fn delete(store: &Store, admin: &StaffAdmin, id: u64) -> anyhow::Result<Option<()>> {
    let admin = admin.clone();
    store
        .write_ok(move |tx| {
            let mine = owner_for_update(tx, &admin)?;
            if announcements::get_for_update(tx, id)?.is_none_or(|a| a.association != mine) {
                return Ok(None);
            }
            let Some(old) = announcements::remove(tx, id)? else {
                return Ok(None);
            };
            audit::record(
                tx,
                entry(
                    &admin,
                    AuditKind::AnnouncementDeleted,
                    format!("announcement {id}: {}", describe(&old)),
                ),
            )?;
            Ok(Some(()))
        })
        .await
}
