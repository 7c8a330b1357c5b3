//! The お問合せ inbox of 日本医師会's office: stored inquiries with their
//! status (未対応 / 対応中 / 完了) and note, and replies mailed to the sender
//! through the outbox. Only staff of the root of the association tree see it;
//! for anyone else every function answers `None` (the screen's 404).

use crate::{
    auth::guards::Staff,
    config::Config,
    domain::InquiryStatus,
    mail::{templates, worker::MailSignal},
    store::{
        Store, associations,
        audit::{self, AuditEntry, AuditKind},
        inquiries, now, outbox,
    },
};

pub use crate::store::inquiries::Inquiry;

/// The longest note kept.
pub const NOTE_MAX: usize = 2000;
/// The longest reply subject and body.
pub const SUBJECT_MAX: usize = 100;
pub const REPLY_MAX: usize = 4000;

/// True when `staff` belong to the root of the tree (日本医師会).
fn at_root(tx: &redb::ReadTransaction, staff: &Staff) -> anyhow::Result<bool> {
    associations::is_root(tx, staff.association)
}

fn at_root_w(tx: &redb::WriteTransaction, staff: &Staff) -> anyhow::Result<bool> {
    associations::is_root_for_update(tx, staff.association)
}

/// True when `staff` may open the inbox.
pub async fn allowed(store: &Store, staff: &Staff) -> anyhow::Result<bool> {
    let staff = staff.clone();
    store.read(move |tx| at_root(tx, &staff)).await
}

/// The inquiries newest first (only those in `status` when given); `None`
/// for staff who may not see the inbox.
pub async fn list(
    store: &Store,
    staff: &Staff,
    status: Option<InquiryStatus>,
) -> anyhow::Result<Option<Vec<Inquiry>>> {
    let staff = staff.clone();
    store
        .read(move |tx| {
            if !at_root(tx, &staff)? {
                return Ok(None);
            }
            inquiries::newest(tx, status).map(Some)
        })
        .await
}

/// The number of 未対応 inquiries, for 事務局TOP; `None` outside the root.
pub async fn open_count(store: &Store, staff: &Staff) -> anyhow::Result<Option<u64>> {
    let staff = staff.clone();
    store
        .read(move |tx| {
            if !at_root(tx, &staff)? {
                return Ok(None);
            }
            inquiries::count(tx, InquiryStatus::Open).map(Some)
        })
        .await
}

/// One inquiry; `None` when it does not exist or the inbox is not theirs.
pub async fn get(store: &Store, staff: &Staff, id: u64) -> anyhow::Result<Option<Inquiry>> {
    let staff = staff.clone();
    store
        .read(move |tx| {
            if !at_root(tx, &staff)? {
                return Ok(None);
            }
            inquiries::get(tx, id)
        })
        .await
}

/// Sets an inquiry's status and note, with an audit entry naming who
/// changed what (old → new) in the same transaction. `None`: not found.
pub async fn update(
    store: &Store,
    staff: &Staff,
    id: u64,
    status: InquiryStatus,
    note: String,
) -> anyhow::Result<Option<Inquiry>> {
    let staff = staff.clone();
    store
        .write_ok(move |tx| {
            if !at_root_w(tx, &staff)? {
                return Ok(None);
            }
            let Some(mut q) = inquiries::get_for_update(tx, id)? else {
                return Ok(None);
            };
            let mut changes = Vec::new();
            if q.status != status {
                changes.push(format!("status {} → {}", q.status.label(), status.label()));
            }
            if q.note != note {
                changes.push(format!("note {:?} → {:?}", q.note, note));
            }
            if changes.is_empty() {
                return Ok(Some(q));
            }
            q.status = status;
            q.note = note;
            q.updated_at = now();
            inquiries::put(tx, &q)?;
            audit::record(
                tx,
                AuditEntry::new(AuditKind::InquiryUpdated)
                    .user(staff.account.id)
                    .login_id(&staff.account.login_id)
                    .detail(format!("inquiry {id}: {}", changes.join("; "))),
            )?;
            Ok(Some(q))
        })
        .await
}

/// A reply to send to an inquiry's sender.
pub struct Reply {
    pub subject: String,
    pub body: String,
}

/// Queues `reply` to the inquiry's sender through the outbox, marks a
/// 未対応 inquiry 対応中, and records who replied, all in one transaction;
/// wakes the mail worker after it. `None`: not found.
pub async fn reply(
    store: &Store,
    config: &Config,
    mail: &MailSignal,
    staff: &Staff,
    id: u64,
    reply: Reply,
) -> anyhow::Result<Option<Inquiry>> {
    let staff = staff.clone();
    let (subject, body) = templates::inquiry_reply(config, &reply.subject, &reply.body, id);
    let sent = store
        .write_ok(move |tx| {
            if !at_root_w(tx, &staff)? {
                return Ok(None);
            }
            let Some(mut q) = inquiries::get_for_update(tx, id)? else {
                return Ok(None);
            };
            outbox::enqueue(tx, &q.email, &subject, body)?;
            let old = q.status;
            if old == InquiryStatus::Open {
                q.status = InquiryStatus::InProgress;
            }
            q.replies += 1;
            q.updated_at = now();
            inquiries::put(tx, &q)?;
            let mut detail = format!("inquiry {id}: reply {subject:?} mailed to {}", q.email);
            if old != q.status {
                detail.push_str(&format!("; status {} → {}", old.label(), q.status.label()));
            }
            audit::record(
                tx,
                AuditEntry::new(AuditKind::InquiryReplied)
                    .user(staff.account.id)
                    .login_id(&staff.account.login_id)
                    .detail(detail),
            )?;
            Ok(Some(q))
        })
        .await?;
    if sent.is_some() {
        mail.wake();
        tracing::info!(inquiry_id = id, "inquiry reply queued");
    }
    Ok(sent)
}
