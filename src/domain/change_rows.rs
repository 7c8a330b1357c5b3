//! What a 異動 (change) would change, as the rows 申請詳細 shows: 項目 /
//! 変更前 / 変更後, the person's current record and memberships against the
//! requested values, changed fields only.
//!
//! One arm per `Change` variant (no catch-all), so that a new variant does
//! not compile until its rows are written here.

use super::{
    AssociationId,
    association::Association,
    membership::{JmaClass, Level, MemberFile, Workplace},
    person::Person,
    person_form,
    procedure::{Change, prefecture_of},
};

/// One row: 項目, 変更前, 変更後.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChangeRow {
    pub label: String,
    pub before: String,
    pub after: String,
}

#[derive(Default)]
struct Rows(Vec<ChangeRow>);

/// One field of a workplace, as shown.
type WorkplaceField = fn(&Workplace) -> String;

impl Rows {
    fn push(&mut self, label: impl Into<String>, before: String, after: String) {
        if before != after {
            self.0.push(ChangeRow {
                label: label.into(),
                before,
                after,
            });
        }
    }

    fn workplace(&mut self, old: Option<&Workplace>, new: &Workplace) {
        let field =
            |w: Option<&Workplace>, f: fn(&Workplace) -> String| w.map(f).unwrap_or_default();
        let fields: [(&str, WorkplaceField); 6] = [
            ("勤務先の種類", |w| w.kind.label().to_owned()),
            ("勤務先での立場", |w| w.role.label().to_owned()),
            ("勤務先の名称", |w| w.name.clone()),
            ("勤務先の郵便番号", |w| w.postal_code.clone()),
            ("勤務先の住所", |w| w.address.clone()),
            ("勤務先の電話番号", |w| w.phone.clone()),
        ];
        for (label, f) in fields {
            self.push(label, field(old, f), field(Some(new), f));
        }
    }

    /// The class at `level` now against `new` (none: unchanged).
    fn class(&mut self, file: &MemberFile, level: Level, new: Option<&str>) {
        if let Some(new) = new {
            let old = file.current(level).map(|m| m.class()).unwrap_or_default();
            self.push(
                format!("{}の会員種別", level.label()),
                old.to_owned(),
                new.to_owned(),
            );
        }
    }
}

fn name(id: AssociationId, all: &[Association]) -> String {
    all.iter()
        .find(|a| a.id == id)
        .map_or_else(|| format!("医師会 #{}", id.0), |a| a.name.clone())
}

fn insured(opt_out: bool) -> String {
    if opt_out {
        "加入しない"
    } else {
        "加入する"
    }
    .to_owned()
}

/// The rows of `change` for `person` with memberships `file`, in the tree
/// `all`.
pub fn rows(
    change: &Change,
    person: &Person,
    file: &MemberFile,
    all: &[Association],
) -> Vec<ChangeRow> {
    let mut out = Rows::default();
    match change {
        Change::Record {
            person: new_person,
            workplace,
            mail_to,
        } => {
            if let Some(p) = new_person {
                for (label, old, new) in person_form::changed_rows(person, p) {
                    out.push(label, old, new);
                }
            }
            if let Some(w) = workplace {
                out.workplace(file.workplace.as_ref(), w);
            }
            if let Some(to) = mail_to {
                out.push("送付先", file.mail_to.label().into(), to.label().into());
            }
        }
        Change::Class {
            workplace,
            liability_opt_out,
            district_class,
            prefecture_class,
        } => {
            out.workplace(file.workplace.as_ref(), workplace);
            out.push(
                "日医医賠責",
                insured(file.liability_opt_out),
                insured(*liability_opt_out),
            );
            out.class(file, Level::District, district_class.as_deref());
            out.class(file, Level::Prefecture, prefecture_class.as_deref());
            if file.current(Level::National).is_some() {
                let jma = JmaClass::derive(workplace.role, *liability_opt_out);
                out.class(file, Level::National, Some(jma.label()));
            }
        }
        Change::Transfer {
            to,
            district_class,
            prefecture_class,
        } => {
            let district = file.current(Level::District);
            out.push(
                Level::District.label(),
                district
                    .map(|m| name(m.association, all))
                    .unwrap_or_default(),
                name(*to, all),
            );
            out.class(file, Level::District, Some(district_class));
            if let (Some(m), Some(dest)) =
                (file.current(Level::Prefecture), prefecture_of(*to, all))
                && m.association != dest
            {
                out.push(
                    Level::Prefecture.label(),
                    name(m.association, all),
                    name(dest, all),
                );
                out.class(file, Level::Prefecture, Some(prefecture_class));
            }
        }
    }
    out.0
}

#[cfg(test)]
mod tests {
    use time::macros::date;

    use super::*;
    use crate::domain::{
        association::AssociationKind,
        membership::{MailTo, Membership, WorkRole, WorkplaceKind},
    };

    fn association(id: u64, name: &str, kind: AssociationKind, parent: Option<u64>) -> Association {
        Association {
            id: AssociationId(id),
            name: name.into(),
            kind,
            parent: parent.map(AssociationId),
            postal_code: None,
            address: None,
            phone: None,
            classes: Vec::new(),
        }
    }

    fn tree() -> Vec<Association> {
        vec![
            association(1, "日本医師会", AssociationKind::National, None),
            association(2, "東京都医師会", AssociationKind::Prefectural, Some(1)),
            association(3, "大阪府医師会", AssociationKind::Prefectural, Some(1)),
            association(10, "新宿区医師会", AssociationKind::District, Some(2)),
            association(11, "渋谷区医師会", AssociationKind::District, Some(2)),
            association(12, "北区医師会", AssociationKind::District, Some(3)),
        ]
    }

    fn hospital(role: WorkRole) -> Workplace {
        Workplace {
            kind: WorkplaceKind::Hospital,
            role,
            name: "東都病院".into(),
            postal_code: "113-8655".into(),
            address: "東京都文京区本郷7-3-1".into(),
            phone: "03-3815-5411".into(),
        }
    }

    fn member() -> MemberFile {
        let d = date!(2020 - 04 - 01);
        MemberFile {
            memberships: vec![
                Membership::new(Level::District, AssociationId(10), d, "A会員".into(), None),
                Membership::new(Level::Prefecture, AssociationId(2), d, "甲種".into(), None),
            ],
            workplace: Some(hospital(WorkRole::Trainee)),
            mail_to: MailTo::Home,
            liability_opt_out: false,
        }
    }

    fn row(label: &str, before: &str, after: &str) -> ChangeRow {
        ChangeRow {
            label: label.into(),
            before: before.into(),
            after: after.into(),
        }
    }

    #[test]
    fn a_record_change_lists_only_what_differs() {
        let change = Change::Record {
            person: None,
            workplace: Some(Workplace {
                phone: "03-0000-0000".into(),
                ..hospital(WorkRole::Trainee)
            }),
            mail_to: Some(MailTo::Work),
        };
        let person = crate::domain::procedure::tests::person();
        assert_eq!(
            rows(&change, &person, &member(), &tree()),
            vec![
                row("勤務先の電話番号", "03-3815-5411", "03-0000-0000"),
                row("送付先", "自宅", "勤務先"),
            ]
        );
    }

    #[test]
    fn a_transfer_to_another_prefecture_moves_both_levels_and_their_classes() {
        let change = Change::Transfer {
            to: AssociationId(12),
            district_class: "B会員".into(),
            prefecture_class: "甲種".into(),
        };
        let person = crate::domain::procedure::tests::person();
        assert_eq!(
            rows(&change, &person, &member(), &tree()),
            vec![
                row("郡市区等医師会", "新宿区医師会", "北区医師会"),
                row("郡市区等医師会の会員種別", "A会員", "B会員"),
                row("都道府県医師会", "東京都医師会", "大阪府医師会"),
            ]
        );
        let within = Change::Transfer {
            to: AssociationId(11),
            district_class: "A会員".into(),
            prefecture_class: String::new(),
        };
        assert_eq!(
            rows(&within, &person, &member(), &tree()),
            vec![row("郡市区等医師会", "新宿区医師会", "渋谷区医師会")]
        );
    }

    #[test]
    fn a_class_change_shows_the_role_and_the_new_classes() {
        let change = Change::Class {
            workplace: hospital(WorkRole::Employed),
            liability_opt_out: false,
            district_class: Some("B会員".into()),
            prefecture_class: None,
        };
        let person = crate::domain::procedure::tests::person();
        assert_eq!(
            rows(&change, &person, &member(), &tree()),
            vec![
                row("勤務先での立場", "研修医", "勤務"),
                row("郡市区等医師会の会員種別", "A会員", "B会員"),
            ]
        );
    }
}
