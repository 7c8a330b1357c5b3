//! Where an application goes: the ordered stages that decide it (each a
//! level and the association deciding there) and the associations told of
//! the result with a 確認依頼 (a notice to confirm, not an approval).
//!
//! The order is 郡市区 → 都道府県 → 日医, each level approving in turn, "the
//! same flow as the paper forms, on the web" (research notes §3, [S14]
//! 京都医報 26270, [S6] 京都医報 27804). A level sees an application only
//! after the level below approved it; 日医 only when it is involved; a stage
//! the application does not need is skipped.
//!
//! - 入会: the district, then the prefecture when 都道府県 or 日医 is joined,
//!   then 日医 when 日医 is joined (a district-only join completes there).
//! - 退会, as in the MAMIS FAQ ([S12]): all three — the district decides,
//!   the prefecture gets a 確認依頼; 都道府県 + 日医 — the district receives
//!   and passes it on, the prefecture decides; 日医 only — received by the
//!   district, passed on by the prefecture, decided by 日医.
//! - 異動: a record change is decided by the district that keeps the
//!   record; a class change goes up to the highest level held (each level's
//!   class may change); a transfer is decided by the destination district
//!   (and its prefecture when it is another prefecture and a 都道府県
//!   membership moves with it), and the source district (and source
//!   prefecture) get a 確認依頼.

use serde::{Deserialize, Serialize};

use super::{
    AssociationId,
    association::Association,
    membership::{Level, MemberFile},
    procedure::{Change, Procedure, WithdrawScope, national, prefecture_of},
};

/// What a stage does.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StageRole {
    /// Decides for its own level (承認).
    Approve,
    /// Receives and passes on to the level above (受付・進達).
    Forward,
}

/// One stage of an application's way up the tree.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Stage {
    pub level: Level,
    /// The association whose staff decide at this stage.
    pub association: AssociationId,
    pub role: StageRole,
}

impl Stage {
    fn approve(level: Level, association: AssociationId) -> Stage {
        Stage {
            level,
            association,
            role: StageRole::Approve,
        }
    }

    fn forward(level: Level, association: AssociationId) -> Stage {
        Stage {
            level,
            association,
            role: StageRole::Forward,
        }
    }
}

fn need<T>(v: Option<T>, what: &str) -> Result<T, String> {
    v.ok_or_else(|| format!("{what}が見つかりません。"))
}

/// The stages `procedure` needs, for a person whose memberships are `file`
/// (checked with `procedure::check` first), in the tree `all`.
pub fn stages(
    procedure: &Procedure,
    file: &MemberFile,
    all: &[Association],
) -> Result<Vec<Stage>, String> {
    let pref = |district| need(prefecture_of(district, all), "都道府県医師会");
    let root = || need(national(all), "日本医師会");
    let current = || need(file.district(), "所属する郡市区等医師会");
    let held = file.held();
    Ok(match procedure {
        Procedure::Join(j) => {
            let joins = |l| j.levels.contains(&l);
            let mut out = vec![if joins(Level::District) {
                Stage::approve(Level::District, j.district)
            } else {
                Stage::forward(Level::District, j.district)
            }];
            if joins(Level::Prefecture) || joins(Level::National) {
                let p = pref(j.district)?;
                out.push(if joins(Level::Prefecture) {
                    Stage::approve(Level::Prefecture, p)
                } else {
                    Stage::forward(Level::Prefecture, p)
                });
            }
            if joins(Level::National) {
                out.push(Stage::approve(Level::National, root()?));
            }
            out
        }
        Procedure::Change(Change::Record { .. }) => {
            vec![Stage::approve(Level::District, current()?)]
        }
        Procedure::Change(Change::Class { .. }) => {
            let d = current()?;
            let mut out = vec![Stage::approve(Level::District, d)];
            if held.contains(&Level::Prefecture) {
                out.push(Stage::approve(Level::Prefecture, pref(d)?));
            }
            if held.contains(&Level::National) {
                out.push(Stage::approve(Level::National, root()?));
            }
            out
        }
        Procedure::Change(Change::Transfer { to, .. }) => {
            let mut out = vec![Stage::approve(Level::District, *to)];
            if held.contains(&Level::Prefecture) {
                let (from, dest) = (pref(current()?)?, pref(*to)?);
                if from != dest {
                    out.push(Stage::approve(Level::Prefecture, dest));
                }
            }
            out
        }
        Procedure::Withdraw(scope) => {
            let d = current()?;
            match scope {
                WithdrawScope::All => vec![Stage::approve(Level::District, d)],
                WithdrawScope::PrefectureAndNational => vec![
                    Stage::forward(Level::District, d),
                    Stage::approve(Level::Prefecture, pref(d)?),
                ],
                WithdrawScope::NationalOnly => vec![
                    Stage::forward(Level::District, d),
                    Stage::forward(Level::Prefecture, pref(d)?),
                    Stage::approve(Level::National, root()?),
                ],
            }
        }
    })
}

/// The associations that get a 確認依頼 when `procedure` completes, for a
/// person whose memberships were `file` before it.
pub fn notices(
    procedure: &Procedure,
    file: &MemberFile,
    all: &[Association],
) -> Vec<AssociationId> {
    let held = file.held();
    let Some(district) = file.district() else {
        return Vec::new();
    };
    match procedure {
        // The prefecture's (and with it 日医's) membership ended
        // automatically: the prefecture is asked to confirm ([S12]).
        Procedure::Withdraw(WithdrawScope::All) if held.contains(&Level::Prefecture) => {
            prefecture_of(district, all).into_iter().collect()
        }
        Procedure::Change(Change::Transfer { to, .. }) => {
            let mut out = vec![district];
            if held.contains(&Level::Prefecture) {
                let (from, dest) = (prefecture_of(district, all), prefecture_of(*to, all));
                if let Some(from) = from
                    && from != dest.unwrap_or(from)
                {
                    out.push(from);
                }
            }
            out
        }
        _ => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::procedure::tests::{holding, join, tree};

    fn route(p: &Procedure, file: &MemberFile) -> Vec<(Level, u64, StageRole)> {
        stages(p, file, &tree())
            .unwrap_or_else(|e| panic!("{e}"))
            .into_iter()
            .map(|s| (s.level, s.association.0, s.role))
            .collect()
    }

    #[test]
    fn joins_go_up_as_far_as_the_levels_joined() {
        use Level::*;
        use StageRole::*;
        let none = MemberFile::default();
        assert_eq!(
            route(&join(10, &[District]), &none),
            [(District, 10, Approve)]
        );
        assert_eq!(
            route(&join(10, &[District, Prefecture]), &none),
            [(District, 10, Approve), (Prefecture, 2, Approve)]
        );
        assert_eq!(
            route(&join(11, &[District, Prefecture, National]), &none),
            [
                (District, 11, Approve),
                (Prefecture, 2, Approve),
                (National, 1, Approve)
            ]
        );
        let dp = holding(&[(District, 10), (Prefecture, 2)]);
        assert_eq!(
            route(&join(10, &[National]), &dp),
            [
                (District, 10, Forward),
                (Prefecture, 2, Forward),
                (National, 1, Approve)
            ]
        );
    }

    #[test]
    fn withdrawals_follow_the_three_shapes_of_the_faq() {
        use Level::*;
        use StageRole::*;
        let all3 = holding(&[(District, 10), (Prefecture, 2), (National, 1)]);
        let w = |s| Procedure::Withdraw(s);
        assert_eq!(
            route(&w(WithdrawScope::All), &all3),
            [(District, 10, Approve)]
        );
        assert_eq!(
            notices(&w(WithdrawScope::All), &all3, &tree()),
            [AssociationId(2)]
        );
        assert_eq!(
            route(&w(WithdrawScope::PrefectureAndNational), &all3),
            [(District, 10, Forward), (Prefecture, 2, Approve)]
        );
        assert!(notices(&w(WithdrawScope::PrefectureAndNational), &all3, &tree()).is_empty());
        assert_eq!(
            route(&w(WithdrawScope::NationalOnly), &all3),
            [
                (District, 10, Forward),
                (Prefecture, 2, Forward),
                (National, 1, Approve)
            ]
        );
        let d = holding(&[(District, 10)]);
        assert!(notices(&w(WithdrawScope::All), &d, &tree()).is_empty());
    }

    #[test]
    fn a_transfer_is_decided_at_the_destination_and_told_to_the_source() {
        use Level::*;
        use StageRole::*;
        let t = |to| {
            Procedure::Change(Change::Transfer {
                to: AssociationId(to),
                district_class: String::new(),
                prefecture_class: String::new(),
            })
        };
        let all3 = holding(&[(District, 10), (Prefecture, 2), (National, 1)]);
        assert_eq!(route(&t(11), &all3), [(District, 11, Approve)]);
        assert_eq!(notices(&t(11), &all3, &tree()), [AssociationId(10)]);
        assert_eq!(
            route(&t(20), &all3),
            [(District, 20, Approve), (Prefecture, 3, Approve)]
        );
        assert_eq!(
            notices(&t(20), &all3, &tree()),
            [AssociationId(10), AssociationId(2)]
        );
        let d = holding(&[(District, 10)]);
        assert_eq!(route(&t(20), &d), [(District, 20, Approve)]);
        assert_eq!(notices(&t(20), &d, &tree()), [AssociationId(10)]);
    }

    #[test]
    fn a_class_change_goes_up_to_the_highest_level_held() {
        use crate::domain::{membership::WorkRole, procedure::tests::hospital};
        use Level::*;
        use StageRole::*;
        let c = Procedure::Change(Change::Class {
            workplace: hospital(WorkRole::Employed),
            liability_opt_out: false,
            district_class: None,
            prefecture_class: None,
        });
        let all3 = holding(&[(District, 10), (Prefecture, 2), (National, 1)]);
        assert_eq!(
            route(&c, &all3),
            [
                (District, 10, Approve),
                (Prefecture, 2, Approve),
                (National, 1, Approve)
            ]
        );
        assert_eq!(
            route(&c, &holding(&[(District, 10)])),
            [(District, 10, Approve)]
        );
    }
}
