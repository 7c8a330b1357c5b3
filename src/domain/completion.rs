//! What a completed application changes: the memberships and their class
//! history (with the effective date), the workplace, 送付先 and 医賠責
//! choice, the person's record for a record change, and the district the
//! account belongs to. Worked out here, written by the store in the same
//! transaction as the application's last decision.
//!
//! Withdrawals end the levels of their shape and everything above them
//! (a prefecture's membership ending ends 日医's: research notes §2.5,
//! [S12]); a transfer ends the source memberships it moves and begins the
//! destination ones on the same date; 日医 membership carries on.

use time::Date;

use super::{
    AssociationId,
    association::Association,
    membership::{JmaClass, Level, MemberFile, Membership},
    person::Person,
    procedure::{Change, Procedure, national, prefecture_of},
};

/// The result of completing an application.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Completion {
    /// Each change as (label, old, new), for the audit entry.
    pub changes: Vec<(String, String, String)>,
    /// The person's record to store, for a record change.
    pub person: Option<Person>,
    /// The account's new district, when it moved or first joined one.
    pub district: Option<AssociationId>,
}

fn name(id: AssociationId, all: &[Association]) -> String {
    all.iter()
        .find(|a| a.id == id)
        .map_or_else(|| format!("#{}", id.0), |a| a.name.clone())
}

fn membership_line(m: &Membership, all: &[Association]) -> String {
    let class = m.class();
    match (class.is_empty(), m.left) {
        (true, None) => format!("{} 在籍（{}入会）", name(m.association, all), m.joined),
        (false, None) => format!(
            "{} {class} 在籍（{}入会）",
            name(m.association, all),
            m.joined
        ),
        (_, Some(left)) => format!("{} 退会（{left}）", name(m.association, all)),
    }
}

impl Completion {
    fn push(&mut self, label: impl Into<String>, old: String, new: String) {
        if old != new {
            self.changes.push((label.into(), old, new));
        }
    }
}

/// Applies the completed `procedure` on `date` to `file` (and, for a
/// record change, to `person`), in the tree `all`. Refused with a message
/// when the memberships no longer allow it (they changed while it waited).
pub fn complete(
    procedure: &Procedure,
    date: Date,
    file: &mut MemberFile,
    person: &Person,
    all: &[Association],
) -> Result<Completion, String> {
    super::procedure::check(procedure, file, all)?;
    super::procedure::check_person(procedure, person)?;
    let mut out = Completion::default();
    match procedure {
        Procedure::Join(j) => {
            file.workplace = Some(j.workplace.clone());
            file.mail_to = j.mail_to;
            file.liability_opt_out = j.liability_opt_out;
            for level in &j.levels {
                let (association, class, jma) = match level {
                    Level::District => (Some(j.district), j.district_class.clone(), None),
                    Level::Prefecture => (
                        prefecture_of(j.district, all),
                        j.prefecture_class.clone(),
                        None,
                    ),
                    Level::National => {
                        let c = JmaClass::derive(j.workplace.role, j.liability_opt_out);
                        (national(all), c.label().to_owned(), Some(c))
                    }
                };
                let Some(association) = association else {
                    return Err(format!("{}が見つかりません。", level.label()));
                };
                let m = Membership::new(*level, association, date, class, jma);
                out.push(level.label(), "未入会".into(), membership_line(&m, all));
                file.memberships.push(m);
                if *level == Level::District {
                    out.district = Some(association);
                }
            }
        }
        Procedure::Withdraw(scope) => {
            for level in scope.levels() {
                if let Some(m) = file.current_mut(*level) {
                    let old = membership_line(m, all);
                    m.left = Some(date);
                    let new = membership_line(m, all);
                    out.push(level.label(), old, new);
                }
            }
        }
        Procedure::Change(Change::Record {
            person: new_person,
            workplace,
            mail_to,
        }) => {
            if let Some(w) = workplace {
                let old = file
                    .workplace
                    .as_ref()
                    .map(|w| w.summary())
                    .unwrap_or_default();
                out.push("勤務先", old, w.summary());
                file.workplace = Some(w.clone());
            }
            if let Some(to) = mail_to {
                out.push("送付先", file.mail_to.label().into(), to.label().into());
                file.mail_to = *to;
            }
            if let Some(p) = new_person {
                let rows = super::person_form::changed_rows(person, p);
                for (label, old, new) in rows {
                    out.push(label, old, new);
                }
                out.person = Some((**p).clone());
            }
        }
        Procedure::Change(Change::Class {
            workplace,
            liability_opt_out,
            district_class,
            prefecture_class,
        }) => {
            let old = file
                .workplace
                .as_ref()
                .map(|w| w.summary())
                .unwrap_or_default();
            out.push("勤務先", old, workplace.summary());
            out.push(
                "日医医賠責",
                insured_label(file.liability_opt_out).into(),
                insured_label(*liability_opt_out).into(),
            );
            file.workplace = Some(workplace.clone());
            file.liability_opt_out = *liability_opt_out;
            let jma = JmaClass::derive(workplace.role, *liability_opt_out);
            for (level, class) in [
                (Level::District, district_class.clone()),
                (Level::Prefecture, prefecture_class.clone()),
                (Level::National, Some(jma.label().to_owned())),
            ] {
                if let (Some(class), Some(m)) = (class, file.current_mut(level)) {
                    let old = m.class().to_owned();
                    m.change_class(date, class.clone());
                    if level == Level::National {
                        m.jma_class = Some(jma);
                    }
                    out.push(format!("{}の会員種別", level.label()), old, class);
                }
            }
        }
        Procedure::Change(Change::Transfer {
            to,
            district_class,
            prefecture_class,
        }) => {
            let moves_prefecture = file
                .current(Level::Prefecture)
                .is_some_and(|m| prefecture_of(*to, all).is_some_and(|dest| dest != m.association));
            let mut moving = vec![(Level::District, *to, district_class.clone())];
            if moves_prefecture && let Some(dest) = prefecture_of(*to, all) {
                moving.push((Level::Prefecture, dest, prefecture_class.clone()));
            }
            for (level, dest, class) in moving {
                let old = file
                    .current_mut(level)
                    .map(|m| {
                        m.left = Some(date);
                        membership_line(m, all)
                    })
                    .unwrap_or_default();
                let m = Membership::new(level, dest, date, class, None);
                out.push(level.label(), old, membership_line(&m, all));
                file.memberships.push(m);
            }
            out.district = Some(*to);
        }
    }
    Ok(out)
}

fn insured_label(opt_out: bool) -> &'static str {
    if opt_out {
        "加入しない"
    } else {
        "加入する"
    }
}

#[cfg(test)]
mod tests {
    use time::macros::date;

    use super::*;
    use crate::domain::{
        membership::WorkRole,
        procedure::{
            WithdrawScope,
            tests::{holding, hospital, join, tree},
        },
    };

    use crate::domain::procedure::tests::person;

    #[test]
    fn a_three_level_join_begins_three_memberships_with_the_derived_class() {
        let mut f = MemberFile::default();
        let day = date!(2026 - 04 - 01);
        let done = complete(
            &join(10, &[Level::District, Level::Prefecture, Level::National]),
            day,
            &mut f,
            &person(),
            &tree(),
        )
        .unwrap();
        assert_eq!(f.held(), Level::ALL);
        let jma = f.current(Level::National).unwrap();
        assert_eq!(
            (jma.jma_class, jma.class()),
            (Some(JmaClass::A2C), "A②会員(C)")
        );
        assert_eq!(
            f.current(Level::Prefecture).unwrap().association,
            AssociationId(2)
        );
        assert_eq!(done.district, Some(AssociationId(10)));
        assert_eq!(done.changes.len(), 3);
    }

    #[test]
    fn withdrawing_all_ends_every_level_on_the_date() {
        let mut f = holding(&[
            (Level::District, 10),
            (Level::Prefecture, 2),
            (Level::National, 1),
        ]);
        let day = date!(2027 - 03 - 31);
        complete(
            &Procedure::Withdraw(WithdrawScope::All),
            day,
            &mut f,
            &person(),
            &tree(),
        )
        .unwrap();
        assert!(f.held().is_empty());
        assert!(f.memberships.iter().all(|m| m.left == Some(day)));
        assert!(
            complete(
                &Procedure::Withdraw(WithdrawScope::All),
                day,
                &mut f,
                &person(),
                &tree()
            )
            .is_err(),
            "nothing left to end"
        );
    }

    #[test]
    fn a_class_change_adds_a_class_period_from_the_date() {
        let mut f = holding(&[
            (Level::District, 10),
            (Level::Prefecture, 2),
            (Level::National, 1),
        ]);
        let c = Procedure::Change(Change::Class {
            workplace: hospital(WorkRole::Employed),
            liability_opt_out: true,
            district_class: Some("B".into()),
            prefecture_class: None,
        });
        complete(&c, date!(2026 - 04 - 01), &mut f, &person(), &tree()).unwrap();
        let jma = f.current(Level::National).unwrap();
        assert_eq!(jma.jma_class, Some(JmaClass::B));
        assert_eq!(jma.classes.len(), 2);
        assert_eq!(jma.classes[1].since, date!(2026 - 04 - 01));
        assert_eq!(f.current(Level::District).unwrap().class(), "B");
        assert_eq!(f.current(Level::Prefecture).unwrap().classes.len(), 1);
    }

    #[test]
    fn a_transfer_across_prefectures_moves_district_and_prefecture_only() {
        let mut f = holding(&[
            (Level::District, 10),
            (Level::Prefecture, 2),
            (Level::National, 1),
        ]);
        let t = Procedure::Change(Change::Transfer {
            to: AssociationId(20),
            district_class: "A".into(),
            prefecture_class: "甲".into(),
        });
        let done = complete(&t, date!(2026 - 10 - 01), &mut f, &person(), &tree()).unwrap();
        assert_eq!(done.district, Some(AssociationId(20)));
        assert_eq!(f.district(), Some(AssociationId(20)));
        assert_eq!(
            f.current(Level::Prefecture).unwrap().association,
            AssociationId(3)
        );
        assert_eq!(
            f.current(Level::National).unwrap().association,
            AssociationId(1)
        );
        assert_eq!(f.memberships.len(), 5);
    }
}
