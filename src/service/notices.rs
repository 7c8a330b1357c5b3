//! The announcements shown on the login page (システム管理者からのお知らせ):
//! the published ones for the login page, and their management by the
//! 管理者 of 日本医師会 (the root of the tree). Every change is audited in
//! its transaction; for anyone else the management functions answer `None`.

use crate::{
    auth::guards::StaffAdmin,
    domain::announcement::AnnouncementDraft,
    store::{
        Store, announcements, associations,
        audit::{self, AuditEntry, AuditKind},
        now,
    },
};

pub use crate::store::announcements::Announcement;

/// Announcements shown at most.
const SHOWN: usize = 20;

/// The announcements published on `today` (JST), newest first (by date,
/// then by the order they were added).
pub async fn newest(store: &Store, today: time::Date) -> anyhow::Result<Vec<Announcement>> {
    store
        .read(move |tx| announcements::newest(tx, today, SHOWN))
        .await
}

/// True when `admin` may manage the announcements (a 管理者 of the root).
pub async fn allowed(store: &Store, admin: &StaffAdmin) -> anyhow::Result<bool> {
    let association = admin.0.association;
    store
        .read(move |tx| associations::is_root(tx, association))
        .await
}

/// Every announcement, newest first, published or not.
pub async fn all(store: &Store, admin: &StaffAdmin) -> anyhow::Result<Option<Vec<Announcement>>> {
    let association = admin.0.association;
    store
        .read(move |tx| {
            if !associations::is_root(tx, association)? {
                return Ok(None);
            }
            announcements::all(tx).map(Some)
        })
        .await
}

/// One announcement.
pub async fn get(
    store: &Store,
    admin: &StaffAdmin,
    id: u64,
) -> anyhow::Result<Option<Announcement>> {
    let association = admin.0.association;
    store
        .read(move |tx| {
            if !associations::is_root(tx, association)? {
                return Ok(None);
            }
            announcements::get(tx, id)
        })
        .await
}

fn entry(admin: &StaffAdmin, kind: AuditKind, detail: String) -> AuditEntry {
    AuditEntry::new(kind)
        .user(admin.0.account.id)
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

/// Adds an announcement; returns its id (`None`: not allowed).
pub async fn create(
    store: &Store,
    admin: &StaffAdmin,
    draft: AnnouncementDraft,
) -> anyhow::Result<Option<u64>> {
    let admin = admin.clone();
    store
        .write_ok(move |tx| {
            if !associations::is_root_for_update(tx, admin.0.association)? {
                return Ok(None);
            }
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
            if !associations::is_root_for_update(tx, admin.0.association)? {
                return Ok(None);
            }
            let Some(old) = announcements::get_for_update(tx, id)? else {
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
            if !associations::is_root_for_update(tx, admin.0.association)? {
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
