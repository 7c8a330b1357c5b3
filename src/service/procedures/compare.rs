//! 申請詳細's before → after of a 異動: the applicant's current record and
//! memberships against what the application asks for (`change_rows`), read
//! under the same scope rule as the detail page.

use super::{physician, visible_to};
use crate::{
    auth::guards::Staff,
    domain::{
        change_rows::{self, ChangeRow},
        procedure::Procedure,
    },
    store::{Store, applications, associations, memberships, users},
};

/// The rows of application `id` for `staff`: none when it is not theirs to
/// see, not a 異動, or no longer open (what a completed one changed is in
/// its decision history and the audit entries).
pub async fn change_rows(
    store: &Store,
    staff: &Staff,
    id: u64,
) -> anyhow::Result<Option<Vec<ChangeRow>>> {
    let association = staff.association;
    store
        .read(move |tx| {
            let Some(app) = applications::get(tx, id)? else {
                return Ok(None);
            };
            let Procedure::Change(change) = &app.procedure else {
                return Ok(None);
            };
            if !visible_to(&app, association) || !app.status.is_open() {
                return Ok(None);
            }
            let Some((_, person)) = physician(users::get(tx, app.person)?) else {
                return Ok(None);
            };
            let file = memberships::get(tx, app.person)?;
            let all = associations::all(tx)?;
            Ok(Some(change_rows::rows(change, &person, &file, &all)))
        })
        .await
}
