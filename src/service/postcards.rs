//! The ID・パスワード通知ハガキ: the batches of an association's staff, the
//! print view and mail-merge rows of a batch (with the initial passwords
//! until it is closed), closing a batch (its passwords deleted for good),
//! and a new initial password for one member (a batch of one).
//!
//! A batch is seen by the staff whose scope holds the association that
//! made it; anyone else is answered as if it did not exist.

use crate::{
    auth::{
        guards::{Scope, Staff},
        password,
    },
    store::{
        Store,
        audit::{self, AuditEntry, AuditKind, Target},
        imports, now,
        postcards::{self, Batch, Postcard, Summary},
        users,
    },
};

pub use crate::store::postcards::{Origin, State};

/// One postcard as printed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Card {
    /// `113-8621`.
    pub postal_code: String,
    /// 都道府県, 住所 and 建物名.
    pub address: String,
    /// 姓 名.
    pub name: String,
    pub login_id: String,
    pub initial_password: String,
}

/// A batch as its print view or CSV shows it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Printable {
    /// Open: every postcard with its password.
    Open {
        id: u64,
        /// Unix seconds.
        expires_at: i64,
        cards: Vec<Card>,
    },
    /// Closed: the passwords are gone and are never shown again.
    Closed { id: u64 },
}

/// The batches the staff member's scope sees, newest first.
pub async fn list(store: &Store, scope: &Scope) -> anyhow::Result<Vec<Summary>> {
    let scope = scope.clone();
    store
        .read(move |tx| postcards::list(tx, |a| scope.allows(a)))
        .await
}

/// The postcards of batch `id` (marked 印刷済 at the first opening); `None`
/// when the scope does not see it.
pub async fn printable(store: &Store, scope: &Scope, id: u64) -> anyhow::Result<Option<Printable>> {
    let scope = scope.clone();
    let batch = store
        .write_ok(move |tx| {
            let Some(mut batch) = postcards::get_in_write(tx, id)? else {
                return Ok(None);
            };
            if !scope.allows(batch.association) {
                return Ok(None);
            }
            if batch.closed_at.is_none() && batch.printed_at.is_none() {
                batch.printed_at = Some(now());
                postcards::put(tx, &batch)?;
            }
            Ok(Some(batch))
        })
        .await?;
    let Some(batch) = batch else {
        return Ok(None);
    };
    if batch.closed_at.is_some() {
        return Ok(Some(Printable::Closed { id }));
    }
    let cards = store
        .read(move |tx| {
            let mut cards = Vec::with_capacity(batch.postcards.len());
            for p in &batch.postcards {
                let (Some(password), Some(user)) =
                    (&p.initial_password, users::get(tx, p.person_id)?)
                else {
                    continue;
                };
                let Some(person) = user.person.as_ref() else {
                    continue;
                };
                let a = &person.address;
                let address = [
                    Some(a.prefecture.as_str()),
                    Some(a.line.as_str()),
                    a.building.as_ref().map(|b| b.as_str()),
                ]
                .into_iter()
                .flatten()
                .collect::<Vec<_>>()
                .join(" ");
                cards.push(Card {
                    postal_code: a.postal_code.as_str().to_owned(),
                    address,
                    name: person.display_name(),
                    login_id: p.login_id.clone(),
                    initial_password: password.clone(),
                });
            }
            Ok((batch.expires_at, cards))
        })
        .await?;
    Ok(Some(Printable::Open {
        id,
        expires_at: cards.0,
        cards: cards.1,
    }))
}

/// How closing a batch ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Closed {
    /// Closed now: its passwords are deleted.
    Now,
    /// It was closed already.
    Already,
    /// The scope does not see it.
    NotFound,
}

/// 締める: deletes the batch's plaintext passwords in one transaction with
/// the audit entry.
pub async fn close(store: &Store, staff: &Staff, scope: &Scope, id: u64) -> anyhow::Result<Closed> {
    let scope = scope.clone();
    let staff_id = staff.account.id;
    store
        .write_ok(move |tx| {
            let Some(mut batch) = postcards::get_in_write(tx, id)? else {
                return Ok(Closed::NotFound);
            };
            if !scope.allows(batch.association) {
                return Ok(Closed::NotFound);
            }
            if batch.closed_at.is_some() {
                return Ok(Closed::Already);
            }
            batch.closed_at = Some(now());
            for p in &mut batch.postcards {
                p.initial_password = None;
            }
            postcards::put(tx, &batch)?;
            audit::record(
                tx,
                AuditEntry::new(AuditKind::PostcardBatchClosed)
                    .actor(staff_id)
                    .target(
                        Target::Association(batch.association),
                        Some(batch.association),
                    )
                    .detail(format!(
                        "postcard batch {id}: {} postcards, passwords deleted",
                        batch.postcards.len()
                    )),
            )?;
            Ok(Closed::Now)
        })
        .await
}

/// A new initial password for member `person_id` (staff action, for the
/// person page): the old password stops working, every session of the
/// account ends, the member must choose a password at the next login, and
/// a new batch of one postcard holds the new password until it is closed.
/// Returns the batch id; `None` when the scope does not see the person or
/// the account has no person.
pub async fn reissue_initial_password(
    store: &Store,
    staff: &Staff,
    scope: &Scope,
    person_id: u64,
) -> anyhow::Result<Option<u64>> {
    let secret = imports::initial_key(store).await?;
    let (staff_id, association) = (staff.account.id, staff.association);
    let scope = scope.clone();
    let validity = {
        let a = association;
        store
            .read(move |tx| imports::settings(tx, a))
            .await?
            .validity_days
    };
    store
        .write_ok(move |tx| {
            let Some(user) = users::get_in_write(tx, person_id)? else {
                return Ok(None);
            };
            if user.person.is_none() || !scope.sees(user.association) {
                return Ok(None);
            }
            let initial = crate::service::office::one_time_password();
            let hash = password::hash_initial(&secret, &initial)?;
            let started = now();
            let expires_at = started + i64::from(validity) * 86_400;
            let Some(user) = users::set_initial_password(tx, person_id, hash, expires_at)? else {
                return Ok(None);
            };
            let id = postcards::next_batch_id(tx)?;
            postcards::put(
                tx,
                &Batch {
                    id,
                    association,
                    origin: Origin::Reissue,
                    created_by: staff_id,
                    created_at: started,
                    expires_at,
                    printed_at: None,
                    closed_at: None,
                    postcards: vec![Postcard {
                        person_id,
                        login_id: user.login_id.clone(),
                        initial_password: Some(initial),
                    }],
                },
            )?;
            audit::record(
                tx,
                AuditEntry::new(AuditKind::InitialPasswordReissued)
                    .actor(staff_id)
                    .user(person_id)
                    .login_id(&user.login_id)
                    .target(Target::Person(person_id), user.association)
                    .detail(format!("postcard batch {id}")),
            )?;
            Ok(Some(id))
        })
        .await
}
