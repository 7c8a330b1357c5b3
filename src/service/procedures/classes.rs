//! 承認 with the association's own class: when a 郡市区等 or 都道府県 医師会
//! that lists its classes (`Association::classes`) approves, at its level, a
//! 入会, a 種別変更 or a 移動 (joining it), its staff choose one of them; it
//! is written on the application (its district or prefecture class) and
//! becomes the membership's class at completion (a 種別変更 starts a new
//! class period). With no list, approval is as before (the class stays as
//! filed, usually empty or unchanged).

use time::Date;

use super::{Refused, decide_in};
use crate::{
    auth::guards::Staff,
    config::Config,
    domain::{
        application::{Application, Decision, Outcome},
        association::Association,
        membership::Level,
        procedure::{Change, Procedure},
    },
    mail::worker::MailSignal,
    store::{Store, applications, associations},
};

/// The message when no class of the list was chosen.
pub const CLASS_REQUIRED: &str = "会員種別を選択してください。";

/// The list to choose from when `staff`'s association decides `app` now:
/// a 入会, 種別変更 or 移動 at its district or prefecture stage, and a
/// non-empty list.
fn choice<'a>(app: &Application, staff: &Staff, all: &'a [Association]) -> Option<&'a [String]> {
    let stage = app.current_stage()?;
    let classed = matches!(
        app.procedure,
        Procedure::Join(_) | Procedure::Change(Change::Class { .. } | Change::Transfer { .. })
    );
    if stage.association != staff.association
        || !classed
        || !matches!(stage.level, Level::District | Level::Prefecture)
    {
        return None;
    }
    let a = all.iter().find(|a| a.id == stage.association)?;
    (!a.classes.is_empty()).then_some(a.classes.as_slice())
}

/// The classes `staff` chooses from when approving application `id` now;
/// none when there is nothing to choose.
pub async fn class_choice(
    store: &Store,
    staff: &Staff,
    id: u64,
) -> anyhow::Result<Option<Vec<String>>> {
    let staff = staff.clone();
    store
        .read(move |tx| {
            let Some(app) = applications::get(tx, id)? else {
                return Ok(None);
            };
            let all = associations::all(tx)?;
            Ok(choice(&app, &staff, &all).map(<[String]>::to_vec))
        })
        .await
}

/// Approves `id` at `version` inside `tx`, writing the chosen `class` on
/// the join first when the association lists classes.
fn approve_in(
    tx: &redb::WriteTransaction,
    config: &Config,
    all: &[Association],
    staff: &Staff,
    (id, version): (u64, u64),
    date: Option<Date>,
    class: Option<&str>,
) -> anyhow::Result<Result<Outcome, Refused>> {
    let mut written = None;
    if let Some(old) = applications::get_for_update(tx, id)?
        && old.version == version
        && let Some(list) = choice(&old, staff, all)
    {
        let Some(class) = class.filter(|c| list.iter().any(|l| l == c)) else {
            return Ok(Err(Refused::Rule(CLASS_REQUIRED.into())));
        };
        let mut new = old.clone();
        let level = old.current_stage().map(|s| s.level);
        let district = level == Some(Level::District);
        match &mut new.procedure {
            Procedure::Join(j) => {
                let field = if district {
                    &mut j.district_class
                } else {
                    &mut j.prefecture_class
                };
                *field = class.to_owned();
            }
            Procedure::Change(Change::Class {
                district_class,
                prefecture_class,
                ..
            }) => {
                let field = if district {
                    district_class
                } else {
                    prefecture_class
                };
                *field = Some(class.to_owned());
            }
            Procedure::Change(Change::Transfer {
                district_class,
                prefecture_class,
                ..
            }) => {
                let field = if district {
                    district_class
                } else {
                    prefecture_class
                };
                *field = class.to_owned();
            }
            _ => {}
        }
        // Same version: the decision below bumps it, in this transaction.
        applications::update(tx, &old, &new)?;
        written = Some((old, new));
    }
    let outcome = decide_in(tx, config, all, staff, id, version, Decision::Approve(date))?;
    if outcome.is_err()
        && let Some((old, new)) = written
    {
        // Refused: the application stays as it was shown, class included.
        applications::update(tx, &new, &old)?;
    }
    Ok(outcome)
}

/// 承認 of application `id` (shown at `version`) by `staff`, with the
/// 入会日 / effective `date` and the chosen `class`; as `decide` otherwise.
#[allow(clippy::too_many_arguments)]
pub async fn approve(
    store: &Store,
    config: &Config,
    mail: &MailSignal,
    staff: &Staff,
    id: u64,
    version: u64,
    date: Option<Date>,
    class: Option<String>,
) -> anyhow::Result<Result<Outcome, Refused>> {
    let all = store.read(associations::all).await?;
    let (config, staff_c) = (config.clone(), staff.clone());
    let outcome = store
        .write(move |tx| {
            approve_in(
                tx,
                &config,
                &all,
                &staff_c,
                (id, version),
                date,
                class.as_deref(),
            )
        })
        .await?;
    if let Ok(o) = &outcome {
        mail.wake();
        tracing::info!(application = id, staff_id = staff.account.id, outcome = ?o, "application approved");
    }
    Ok(outcome)
}

/// Bulk 承認 (a 理事会 batch) with one `date` and, for the 入会 that need
/// one, one `class`; each item checked on its own, those refused left as
/// they were (their class too).
pub async fn approve_many(
    store: &Store,
    config: &Config,
    mail: &MailSignal,
    staff: &Staff,
    items: Vec<(u64, u64)>,
    date: Date,
    class: Option<String>,
) -> anyhow::Result<Vec<(u64, Result<Outcome, Refused>)>> {
    let all = store.read(associations::all).await?;
    let (config, staff_c) = (config.clone(), staff.clone());
    let results = store
        .write_ok(move |tx| {
            let mut out = Vec::new();
            for item in items {
                let r = approve_in(
                    tx,
                    &config,
                    &all,
                    &staff_c,
                    item,
                    Some(date),
                    class.as_deref(),
                )?;
                out.push((item.0, r));
            }
            Ok(out)
        })
        .await?;
    let approved = results.iter().filter(|(_, r)| r.is_ok()).count();
    if approved > 0 {
        mail.wake();
    }
    tracing::info!(
        staff_id = staff.account.id,
        approved,
        refused = results.len() - approved,
        "applications approved in bulk"
    );
    Ok(results)
}
