//! A person's own record on マイページ: what they see of it (the
//! registration's fields, their association) and the change of their
//! contact details (home address, phones), which they make themselves.
//!
//! A change is one write transaction: the record read again, refused if it
//! changed since the confirmation was shown (its version, e.g. staff
//! corrected it meanwhile), only the contact details taken from the new
//! person, the person replaced (moving its search index entries), the audit
//! entry (the person as actor, every changed row old → new) and a notice
//! mail to the account's address.

use crate::{
    config::Config,
    domain::{AssociationId, Role, person::Person, person_form},
    mail::{templates, worker::MailSignal},
    service::person_record::{field_changes, version_of},
    store::{
        Store, associations,
        audit::{self, AuditEntry, AuditKind, Target},
        now, outbox, users,
    },
};

/// What マイページ shows of a signed-in account.
#[derive(Clone, Debug)]
pub struct MyProfile {
    pub login_id: String,
    pub email: String,
    pub role: Role,
    /// The name to greet with (the person's, or a staff account's).
    pub name: String,
    /// The registered person; none for an account without one.
    pub person: Option<Person>,
    pub association: Option<AssociationId>,
    /// The association's name; none when the person belongs to none yet.
    pub association_name: Option<String>,
    /// The person's version: a change confirmed from an older one is refused.
    pub version: String,
}

/// Account `id` as マイページ shows it; `None` when there is no such account.
pub async fn open(store: &Store, id: u64) -> anyhow::Result<Option<MyProfile>> {
    store
        .read(move |tx| {
            let Some(user) = users::get(tx, id)? else {
                return Ok(None);
            };
            let association_name = match user.association {
                Some(a) => associations::get(tx, a)?.map(|a| a.name),
                None => None,
            };
            let version = match &user.person {
                Some(p) => version_of(p)?,
                None => String::new(),
            };
            Ok(Some(MyProfile {
                name: user.display_name(),
                login_id: user.login_id,
                email: user.email,
                role: user.role,
                person: user.person,
                association: user.association,
                association_name,
                version,
            }))
        })
        .await
}

/// How a change of contact details ended.
#[derive(Debug, PartialEq, Eq)]
pub enum ContactChange {
    /// The account has no person (or no longer exists): nothing was written.
    NoPerson,
    /// The record changed after the confirmation was shown: nothing written.
    Stale,
    /// Nothing differed: nothing was written.
    Unchanged,
    /// Written, with the number of rows changed.
    Saved(usize),
}

/// Changes the contact details of account `id`'s person to those of
/// `new`, if the person is still at `version`; the rest of `new` is
/// ignored. See the module documentation for what is written.
pub async fn change_contact(
    store: &Store,
    config: &Config,
    mail: &MailSignal,
    id: u64,
    version: String,
    new: Person,
) -> anyhow::Result<ContactChange> {
    let config = config.clone();
    let outcome = store
        .write_ok(move |tx| {
            let Some(user) = users::get_for_update(tx, id)? else {
                return Ok(ContactChange::NoPerson);
            };
            let Some(old) = user.person.clone() else {
                return Ok(ContactChange::NoPerson);
            };
            if version_of(&old)? != version {
                return Ok(ContactChange::Stale);
            }
            let person = person_form::with_contact_of(&old, &new);
            let changes = field_changes(&old, &person);
            if changes.is_empty() {
                return Ok(ContactChange::Unchanged);
            }
            if users::replace_person(tx, id, person)?.is_none() {
                return Ok(ContactChange::NoPerson);
            }
            let items: Vec<String> = changes.iter().map(|c| c.field.clone()).collect();
            let n = changes.len();
            audit::record(
                tx,
                AuditEntry::new(AuditKind::ContactChanged)
                    .actor(id)
                    .user(id)
                    .login_id(&user.login_id)
                    .target(Target::Person(id), user.association)
                    .changes(changes),
            )?;
            if !user.email.trim().is_empty() {
                let (subject, body) =
                    templates::contact_changed(&config, &user.login_id, now(), &items);
                outbox::enqueue(tx, &user.email, &subject, body)?;
            }
            Ok(ContactChange::Saved(n))
        })
        .await?;
    if let ContactChange::Saved(n) = outcome {
        mail.wake();
        tracing::info!(person_id = id, fields = n, "contact details changed");
    }
    Ok(outcome)
}
