//! An application (申請) and its state machine.
//!
//! ```text
//! 提出 → 申請中 at stage 0 ─承認→ 申請中 at stage 1 … ─承認 (last)→ 完了
//!            │  ├─差戻し (comment) → 差戻し ─再提出→ 申請中 at the stage
//!            │  │    that sent it back (at stage 0 when the corrections
//!            │  │    changed the route)
//!            │  └─却下 (reason) → 却下 (final)
//!            └─取下げ (applicant; no level has approved since the last
//!              提出, or sent back) → 取下げ (final)
//! ```
//!
//! Only the association of the current stage decides; every decision names
//! the application's version (bumped by every transition), so a second
//! click or a second staff member acting on the same version is refused
//! and nothing is applied twice. The last approval carries the 入会日 /
//! effective date. On completion the associations named by
//! `routing::notices` get a 確認依頼, confirmed one by one.

use serde::{Deserialize, Serialize};
use time::Date;

use super::{
    AssociationId,
    membership::day,
    procedure::{Intake, Procedure},
    routing::{Stage, StageRole},
};

/// Where an application is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// 申請中: waiting for the association of `stages[stage]`.
    Pending { stage: usize },
    /// 差戻し at `stage`: back with the applicant.
    SentBack { stage: usize },
    /// 却下 (final).
    Rejected,
    /// 取下げ (final).
    Withdrawn,
    /// 完了 (final): the memberships changed.
    Completed,
}

impl Status {
    pub fn label(self) -> &'static str {
        match self {
            Status::Pending { .. } => "申請中",
            Status::SentBack { .. } => "差戻し",
            Status::Rejected => "却下",
            Status::Withdrawn => "取下げ",
            Status::Completed => "完了",
        }
    }

    /// True while not finished (申請中 or 差戻し).
    pub fn is_open(self) -> bool {
        matches!(self, Status::Pending { .. } | Status::SentBack { .. })
    }
}

/// What happened at a step of the history.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    Filed,
    Resubmitted,
    Approved,
    SentBack,
    Rejected,
    Withdrawn,
}

impl Action {
    pub fn label(self) -> &'static str {
        match self {
            Action::Filed => "提出",
            Action::Resubmitted => "再提出",
            Action::Approved => "承認",
            Action::SentBack => "差戻し",
            Action::Rejected => "却下",
            Action::Withdrawn => "取下げ",
        }
    }
}

/// One step of the history.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Step {
    /// Unix seconds.
    pub at: i64,
    pub action: Action,
    /// The staff account that acted; none when the applicant did.
    pub actor: Option<u64>,
    /// The stage decided, for decisions.
    pub stage: Option<usize>,
    /// The 差戻し comment or the 却下 reason.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub text: String,
    /// The date the last approval set (入会日 / effective date).
    #[serde(default, with = "day::option", skip_serializing_if = "Option::is_none")]
    pub date: Option<Date>,
}

/// A 確認依頼 to an association about a completed application.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Notice {
    pub association: AssociationId,
    /// Unix seconds it was raised.
    pub at: i64,
    /// The staff account that confirmed it, and when.
    pub confirmed: Option<(u64, i64)>,
}

/// A staff decision on the current stage.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Decision {
    /// 承認; the date is required at the last stage (入会日 / effective date).
    Approve(Option<Date>),
    /// 差戻し with a comment.
    SendBack(String),
    /// 却下 with a reason.
    Reject(String),
}

/// Why a transition was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Refusal {
    /// The application changed since it was shown (another click, another
    /// staff member): nothing was done.
    Stale,
    /// It is not waiting for this association (another stage, or finished).
    NotYourStage,
    /// It is finished (完了, 却下, 取下げ) or not in the applicant's hands.
    Closed,
    /// A level has approved it already: it can no longer be withdrawn.
    AlreadyApproved,
    CommentRequired,
    ReasonRequired,
    /// The last approval needs the 入会日 / effective date.
    DateRequired,
    /// Not the applicant's own application.
    NotYours,
}

impl Refusal {
    /// The message shown to whoever acted.
    pub fn message(self) -> &'static str {
        match self {
            Refusal::Stale => {
                "この申請は先に処理されています（他の職員の操作または二重送信）。最新の状態を確認してください。"
            }
            Refusal::NotYourStage => "この申請は現在、貴会の処理待ちではありません。",
            Refusal::Closed => "この申請は既に終了しています。",
            Refusal::AlreadyApproved => "医師会が承認済みのため、取下げできません。",
            Refusal::CommentRequired => "差戻しの理由（コメント）を入力してください。",
            Refusal::ReasonRequired => "却下の理由を入力してください。",
            Refusal::DateRequired => "入会日・異動日・退会日を入力してください。",
            Refusal::NotYours => "この申請は見つかりません。",
        }
    }
}

/// What a decision led to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Approved; now waiting at the next stage.
    Advanced {
        stage: usize,
    },
    /// The last stage approved on this date: the memberships change.
    Completed(Date),
    SentBack,
    Rejected,
}

/// An application.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Application {
    pub id: u64,
    /// The person (account id) it is for.
    pub person: u64,
    pub procedure: Procedure,
    /// 理由 as given (may be empty).
    #[serde(default)]
    pub reason: String,
    /// The date asked for (希望日 / 異動日 / 退会日), if any.
    #[serde(default, with = "day::option")]
    pub desired: Option<Date>,
    pub intake: Intake,
    /// The staff account that entered it (代行入力); none when the
    /// physician filed it.
    pub entered_by: Option<u64>,
    pub stages: Vec<Stage>,
    pub status: Status,
    /// Bumped by every transition.
    pub version: u64,
    pub steps: Vec<Step>,
    #[serde(default)]
    pub notices: Vec<Notice>,
    /// The date the last approval set.
    #[serde(default, with = "day::option")]
    pub effective: Option<Date>,
}

/// What is filed (and refiled on resubmission).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Filing {
    pub procedure: Procedure,
    pub reason: String,
    pub desired: Option<Date>,
}

impl Application {
    /// A new application, waiting at its first stage (`stages` must not be
    /// empty: `routing::stages` never returns none).
    pub fn file(
        person: u64,
        filing: Filing,
        intake: Intake,
        entered_by: Option<u64>,
        stages: Vec<Stage>,
        at: i64,
    ) -> Application {
        Application {
            id: 0,
            person,
            procedure: filing.procedure,
            reason: filing.reason,
            desired: filing.desired,
            intake,
            entered_by,
            stages,
            status: Status::Pending { stage: 0 },
            version: 1,
            steps: vec![Step {
                at,
                action: Action::Filed,
                actor: entered_by,
                stage: None,
                text: String::new(),
                date: None,
            }],
            notices: Vec::new(),
            effective: None,
        }
    }

    /// The stage it waits at, while 申請中.
    pub fn current_stage(&self) -> Option<Stage> {
        match self.status {
            Status::Pending { stage } => self.stages.get(stage).copied(),
            _ => None,
        }
    }

    /// When it started waiting where it is (the last step).
    pub fn waiting_since(&self) -> i64 {
        self.steps.last().map_or(0, |s| s.at)
    }

    /// The stages approved since the last 提出 / 再提出.
    pub fn approvals_this_round(&self) -> usize {
        self.steps
            .iter()
            .rev()
            .take_while(|s| !matches!(s.action, Action::Filed | Action::Resubmitted))
            .filter(|s| s.action == Action::Approved)
            .count()
    }

    fn bump(&mut self, step: Step) {
        self.steps.push(step);
        self.version += 1;
    }

    /// A decision by staff member `actor` of association `by`, on version
    /// `version`, at `at`.
    pub fn decide(
        &mut self,
        by: AssociationId,
        actor: u64,
        version: u64,
        decision: Decision,
        at: i64,
    ) -> Result<Outcome, Refusal> {
        if version != self.version {
            return Err(Refusal::Stale);
        }
        let Status::Pending { stage } = self.status else {
            return Err(Refusal::NotYourStage);
        };
        let Some(current) = self.stages.get(stage) else {
            return Err(Refusal::NotYourStage);
        };
        if current.association != by {
            return Err(Refusal::NotYourStage);
        }
        let last = stage + 1 == self.stages.len();
        let mut step = Step {
            at,
            action: Action::Approved,
            actor: Some(actor),
            stage: Some(stage),
            text: String::new(),
            date: None,
        };
        let outcome = match decision {
            Decision::Approve(date) if last => {
                let Some(date) = date else {
                    return Err(Refusal::DateRequired);
                };
                step.date = Some(date);
                self.status = Status::Completed;
                self.effective = Some(date);
                Outcome::Completed(date)
            }
            Decision::Approve(_) => {
                self.status = Status::Pending { stage: stage + 1 };
                Outcome::Advanced { stage: stage + 1 }
            }
            Decision::SendBack(comment) => {
                let comment = comment.trim();
                if comment.is_empty() {
                    return Err(Refusal::CommentRequired);
                }
                step.action = Action::SentBack;
                step.text = comment.to_owned();
                self.status = Status::SentBack { stage };
                Outcome::SentBack
            }
            Decision::Reject(reason) => {
                let reason = reason.trim();
                if reason.is_empty() {
                    return Err(Refusal::ReasonRequired);
                }
                step.action = Action::Rejected;
                step.text = reason.to_owned();
                self.status = Status::Rejected;
                Outcome::Rejected
            }
        };
        self.bump(step);
        Ok(outcome)
    }

    /// 取下げ by the applicant `person` (or staff `actor` on their behalf):
    /// while no level has approved it (since the last 提出, or before the
    /// 差戻し it was resubmitted to), or when sent back.
    pub fn withdraw(
        &mut self,
        person: u64,
        actor: Option<u64>,
        version: u64,
        at: i64,
    ) -> Result<(), Refusal> {
        if person != self.person {
            return Err(Refusal::NotYours);
        }
        if version != self.version {
            return Err(Refusal::Stale);
        }
        match self.status {
            Status::Pending { stage } if stage > 0 || self.approvals_this_round() > 0 => {
                return Err(Refusal::AlreadyApproved);
            }
            Status::Pending { .. } | Status::SentBack { .. } => {}
            _ => return Err(Refusal::Closed),
        }
        self.status = Status::Withdrawn;
        self.bump(Step {
            at,
            action: Action::Withdrawn,
            actor,
            stage: None,
            text: String::new(),
            date: None,
        });
        Ok(())
    }

    /// 再提出 of a sent-back application, edited, with its stages worked
    /// out again: it goes back to the stage that sent it back (the levels
    /// below it approved already), or starts again at the first stage when
    /// the corrections changed the route (another district, other levels).
    pub fn resubmit(
        &mut self,
        person: u64,
        actor: Option<u64>,
        version: u64,
        filing: Filing,
        stages: Vec<Stage>,
        at: i64,
    ) -> Result<(), Refusal> {
        if person != self.person {
            return Err(Refusal::NotYours);
        }
        if version != self.version {
            return Err(Refusal::Stale);
        }
        let Status::SentBack {
            stage: sent_back_at,
        } = self.status
        else {
            return Err(Refusal::Closed);
        };
        let stage = if stages == self.stages {
            sent_back_at
        } else {
            0
        };
        self.procedure = filing.procedure;
        self.reason = filing.reason;
        self.desired = filing.desired;
        self.stages = stages;
        self.status = Status::Pending { stage };
        self.bump(Step {
            at,
            action: Action::Resubmitted,
            actor,
            stage: None,
            text: String::new(),
            date: None,
        });
        Ok(())
    }

    /// Raises a 確認依頼 at each of `to`.
    pub fn raise_notices(&mut self, to: &[AssociationId], at: i64) {
        for a in to {
            self.notices.push(Notice {
                association: *a,
                at,
                confirmed: None,
            });
        }
    }

    /// The open 確認依頼 of association `by`, confirmed by `actor`; false
    /// when there is none.
    pub fn confirm_notice(&mut self, by: AssociationId, actor: u64, at: i64) -> bool {
        match self
            .notices
            .iter_mut()
            .find(|n| n.association == by && n.confirmed.is_none())
        {
            Some(n) => {
                n.confirmed = Some((actor, at));
                self.version += 1;
                true
            }
            None => false,
        }
    }

    /// The step timeline the applicant sees: 提出 → each stage → 完了.
    pub fn timeline(&self) -> Vec<TimelineStep> {
        let mut out = vec![TimelineStep {
            label: "提出".to_owned(),
            state: StepState::Done,
            at: self.steps.iter().rev().find_map(|s| {
                matches!(s.action, Action::Filed | Action::Resubmitted).then_some(s.at)
            }),
        }];
        let round: Vec<&Step> = {
            let mut r: Vec<&Step> = self
                .steps
                .iter()
                .rev()
                .take_while(|s| !matches!(s.action, Action::Filed | Action::Resubmitted))
                .collect();
            r.reverse();
            r
        };
        let reached = match self.status {
            Status::Pending { stage } | Status::SentBack { stage } => stage,
            Status::Completed => self.stages.len(),
            _ => round.iter().filter_map(|s| s.stage).max().unwrap_or(0),
        };
        for (i, stage) in self.stages.iter().enumerate() {
            let decided = round.iter().rev().find(|s| s.stage == Some(i));
            let state = match (decided.map(|s| s.action), self.status) {
                (Some(Action::Approved), _) => StepState::Done,
                (Some(Action::SentBack), _) => StepState::SentBack,
                (Some(Action::Rejected), _) => StepState::Rejected,
                (_, Status::Pending { stage }) if stage == i => StepState::Current,
                // Approved in an earlier round, before a 差戻し above it.
                (None, _) if i < reached => StepState::Done,
                _ => StepState::Waiting,
            };
            let verb = match stage.role {
                StageRole::Approve => "",
                StageRole::Forward => "（受付・進達）",
            };
            out.push(TimelineStep {
                label: format!("{}{verb}", stage.level.short()),
                state,
                at: decided.map(|s| s.at),
            });
        }
        out.push(TimelineStep {
            label: self.status.label().to_owned(),
            state: match self.status {
                Status::Completed => StepState::Done,
                Status::Rejected => StepState::Rejected,
                Status::Withdrawn => StepState::Withdrawn,
                _ => StepState::Waiting,
            },
            at: (!self.status.is_open()).then(|| self.waiting_since()),
        });
        if self.status.is_open()
            && let Some(last) = out.last_mut()
        {
            last.label = "完了".to_owned();
        }
        out
    }
}

/// The state of one point of the timeline.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StepState {
    Done,
    Current,
    Waiting,
    SentBack,
    Rejected,
    Withdrawn,
}

/// One point of the applicant's timeline.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TimelineStep {
    pub label: String,
    pub state: StepState,
    /// Unix seconds, when it happened.
    pub at: Option<i64>,
}

#[cfg(test)]
mod tests {
    use time::macros::date;

    use super::*;
    use crate::domain::{
        membership::Level,
        procedure::{WithdrawScope, tests::join},
    };

    fn app(levels: usize) -> Application {
        let all = [
            (Level::District, 10),
            (Level::Prefecture, 2),
            (Level::National, 1),
        ];
        let stages = all[..levels]
            .iter()
            .map(|(l, a)| Stage {
                level: *l,
                association: AssociationId(*a),
                role: StageRole::Approve,
            })
            .collect();
        Application::file(
            7,
            Filing {
                procedure: join(10, &[Level::District]),
                reason: String::new(),
                desired: None,
            },
            Intake::Web,
            None,
            stages,
            100,
        )
    }

    const D: AssociationId = AssociationId(10);
    const P: AssociationId = AssociationId(2);
    const N: AssociationId = AssociationId(1);

    #[test]
    fn each_stage_decides_in_turn_and_the_last_approval_sets_the_date() {
        let mut a = app(3);
        let day = date!(2026 - 04 - 01);
        let approve = Decision::Approve(None);
        assert_eq!(
            a.decide(P, 5, 1, approve.clone(), 1),
            Err(Refusal::NotYourStage)
        );
        assert_eq!(
            a.decide(D, 5, 1, approve.clone(), 1),
            Ok(Outcome::Advanced { stage: 1 })
        );
        assert_eq!(a.decide(D, 5, 1, approve.clone(), 1), Err(Refusal::Stale));
        assert_eq!(
            a.decide(D, 5, 2, approve.clone(), 1),
            Err(Refusal::NotYourStage)
        );
        assert_eq!(
            a.decide(P, 6, 2, approve.clone(), 2),
            Ok(Outcome::Advanced { stage: 2 })
        );
        assert_eq!(a.decide(N, 7, 3, approve, 3), Err(Refusal::DateRequired));
        assert_eq!(a.version, 3, "a refusal changes nothing");
        assert_eq!(
            a.decide(N, 7, 3, Decision::Approve(Some(day)), 3),
            Ok(Outcome::Completed(day))
        );
        assert_eq!(a.status, Status::Completed);
        assert_eq!(a.effective, Some(day));
        assert_eq!(
            a.decide(N, 7, 4, Decision::Approve(Some(day)), 4),
            Err(Refusal::NotYourStage)
        );
        let states: Vec<StepState> = a.timeline().iter().map(|t| t.state).collect();
        assert_eq!(states, [StepState::Done; 5]);
    }

    #[test]
    fn a_sent_back_application_goes_back_to_the_stage_that_sent_it_back() {
        let mut a = app(2);
        a.decide(D, 5, 1, Decision::Approve(None), 1).unwrap();
        assert_eq!(
            a.decide(P, 6, 2, Decision::SendBack("  ".into()), 2),
            Err(Refusal::CommentRequired)
        );
        assert_eq!(
            a.decide(
                P,
                6,
                2,
                Decision::SendBack("勤務先の電話番号が違います".into()),
                2
            ),
            Ok(Outcome::SentBack)
        );
        assert_eq!(a.status, Status::SentBack { stage: 1 });
        let timeline = a.timeline();
        assert_eq!(timeline[2].state, StepState::SentBack);
        let filing = Filing {
            procedure: join(10, &[Level::District, Level::Prefecture]),
            reason: "訂正しました".into(),
            desired: None,
        };
        assert_eq!(
            a.resubmit(8, None, 3, filing.clone(), a.stages.clone(), 3),
            Err(Refusal::NotYours)
        );
        let mut rerouted = a.clone();
        a.resubmit(7, None, 3, filing.clone(), a.stages.clone(), 3)
            .unwrap();
        assert_eq!(a.status, Status::Pending { stage: 1 });
        assert_eq!(a.current_stage().map(|s| s.association), Some(P));
        let states: Vec<StepState> = a.timeline().iter().map(|t| t.state).collect();
        assert_eq!(
            states,
            [
                StepState::Done,
                StepState::Done,
                StepState::Current,
                StepState::Waiting
            ]
        );
        assert_eq!(
            a.withdraw(7, None, 4, 4),
            Err(Refusal::AlreadyApproved),
            "the district approved it"
        );
        assert_eq!(
            a.decide(P, 6, 4, Decision::Approve(Some(date!(2026 - 04 - 01))), 4),
            Ok(Outcome::Completed(date!(2026 - 04 - 01)))
        );
        assert!(a.timeline().iter().all(|t| t.state == StepState::Done));

        // Corrections that change the route start again at the first stage.
        let other = vec![Stage {
            level: Level::District,
            association: AssociationId(11),
            role: StageRole::Approve,
        }];
        rerouted.resubmit(7, None, 3, filing, other, 3).unwrap();
        assert_eq!(rerouted.status, Status::Pending { stage: 0 });
        assert_eq!(rerouted.approvals_this_round(), 0);
        assert_eq!(rerouted.timeline()[1].state, StepState::Current);
    }

    #[test]
    fn rejection_needs_a_reason_and_ends_it() {
        let mut a = app(1);
        assert_eq!(
            a.decide(D, 5, 1, Decision::Reject(String::new()), 1),
            Err(Refusal::ReasonRequired)
        );
        assert_eq!(
            a.decide(D, 5, 1, Decision::Reject("区域外".into()), 1),
            Ok(Outcome::Rejected)
        );
        assert_eq!(a.withdraw(7, None, 2, 2), Err(Refusal::Closed));
        assert!(!a.status.is_open());
    }

    #[test]
    fn the_applicant_withdraws_only_before_any_approval() {
        let mut a = app(2);
        assert_eq!(a.withdraw(8, None, 1, 1), Err(Refusal::NotYours));
        let mut b = a.clone();
        b.withdraw(7, None, 1, 1).unwrap();
        assert_eq!(b.status, Status::Withdrawn);
        a.decide(D, 5, 1, Decision::Approve(None), 1).unwrap();
        assert_eq!(a.withdraw(7, None, 2, 2), Err(Refusal::AlreadyApproved));
        a.decide(P, 6, 2, Decision::SendBack("不備".into()), 2)
            .unwrap();
        assert_eq!(a.withdraw(7, None, 3, 3), Ok(()));
    }

    #[test]
    fn notices_are_confirmed_once_each() {
        let mut a = app(1);
        a.procedure = crate::domain::procedure::Procedure::Withdraw(WithdrawScope::All);
        a.raise_notices(&[P], 5);
        assert!(!a.confirm_notice(D, 9, 6));
        assert!(a.confirm_notice(P, 9, 6));
        assert!(!a.confirm_notice(P, 9, 7));
        assert_eq!(a.notices[0].confirmed, Some((9, 6)));
    }
}
