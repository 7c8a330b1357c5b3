//! The mail to the staff of the queue an application enters: each staff
//! member of that association with a 連絡用メールアドレス gets one mail,
//! queued in the transition's own write transaction (the outbox), with the
//! application's number, kind and link only (see
//! `procedure_mails::to_staff`).

use crate::{
    config::Config,
    domain::{AssociationId, application::Application},
    mail::procedure_mails::{self, StaffEvent},
    store::{outbox, staff},
};

fn mail_association(
    tx: &redb::WriteTransaction,
    config: &Config,
    app: &Application,
    association: AssociationId,
    event: StaffEvent,
) -> anyhow::Result<usize> {
    let to = staff::contact_emails_of(tx, association)?;
    let (subject, body) =
        procedure_mails::to_staff(config, app.id, app.procedure.kind().label(), event);
    for address in &to {
        outbox::enqueue(tx, address, &subject, body.clone())?;
    }
    Ok(to.len())
}

/// Mails the staff of the association `app` now waits for (none when it
/// waits nowhere); the number of mails queued.
pub(super) fn mail_queue(
    tx: &redb::WriteTransaction,
    config: &Config,
    app: &Application,
) -> anyhow::Result<usize> {
    match app.current_stage() {
        Some(stage) => mail_association(tx, config, app, stage.association, StaffEvent::Waiting),
        None => Ok(0),
    }
}

/// Mails the staff of each association `app` raised an open 確認依頼 to.
pub(super) fn mail_notices(
    tx: &redb::WriteTransaction,
    config: &Config,
    app: &Application,
) -> anyhow::Result<usize> {
    let mut sent = 0;
    for n in app.notices.iter().filter(|n| n.confirmed.is_none()) {
        sent += mail_association(tx, config, app, n.association, StaffEvent::Notice)?;
    }
    Ok(sent)
}
