//! The procedures' routing rules, one test each, against a real store:
//! the three join shapes, the three withdrawal shapes (cascade, 確認依頼),
//! a class change, transfers within and across prefectures, 差戻し and
//! 再提出, 取下げ, bulk approval, two staff at once, and the scope.

use time::macros::date;

use super::*;
use crate::{
    auth::current_user::Account,
    domain::{
        AssociationKind, StaffRole,
        application::StepState,
        membership::{JmaClass, Level, MailTo, WorkRole},
        procedure::{
            Change, Join, Procedure, WithdrawScope,
            tests::{hospital, person},
        },
    },
    store::{outbox::Mail, users::UserRecord},
};

mod changes;

struct World {
    _dir: tempfile::TempDir,
    store: Store,
    config: Config,
    mail: MailSignal,
    national: AssociationId,
    tokyo: AssociationId,
    osaka: AssociationId,
    shinjuku: AssociationId,
    bunkyo: AssociationId,
    todai: AssociationId,
    kita: AssociationId,
}

impl World {
    async fn new() -> World {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let added = store
            .write_ok(|tx| {
                let mut ids = Vec::new();
                for (parent, name, kind) in [
                    ("東京都医師会", "新宿区医師会", AssociationKind::District),
                    ("東京都医師会", "文京区医師会", AssociationKind::District),
                    (
                        "東京都医師会",
                        "東京大学医師会",
                        AssociationKind::University,
                    ),
                    ("大阪府医師会", "北区医師会", AssociationKind::District),
                ] {
                    let a = associations::add(tx, parent, name, kind)?
                        .map_err(|e| anyhow::anyhow!("{e:?}"))?;
                    ids.push(a.id);
                }
                Ok(ids)
            })
            .await
            .unwrap();
        let all = store.read(associations::all).await.unwrap();
        let by = |n: &str| all.iter().find(|a| a.name == n).unwrap().id;
        World {
            config: Config::for_tests(dir.path().to_owned(), None),
            mail: MailSignal::default(),
            national: by("日本医師会"),
            tokyo: by("東京都医師会"),
            osaka: by("大阪府医師会"),
            shinjuku: added[0],
            bunkyo: added[1],
            todai: added[2],
            kita: added[3],
            store,
            _dir: dir,
        }
    }

    /// A registered physician (no association yet); the account id.
    async fn physician(&self, n: u32) -> u64 {
        let mut p = person();
        p.registry.number =
            crate::domain::MedicalRegistryNumber::parse(&format!("{}", 500_000 + n)).unwrap();
        self.store
            .write_ok(move |tx| {
                let user = UserRecord {
                    id: 0,
                    login_id: format!("doctor{n:02}"),
                    email: format!("doctor{n:02}@example.jp"),
                    registry_number: p.registry.number.to_string(),
                    password_hash: String::new(),
                    role: Role::Physician,
                    person: Some(p),
                    association: None,
                    session_generation: 0,
                    must_change_password: false,
                    staff_name: None,
                    terms_version: "1".into(),
                    terms_agreed_at: 0,
                    created_at: 0,
                    terms_history: Vec::new(),
                    initial_password_expires_at: None,
                    membership: None,
                };
                users::create(tx, user)?.map_err(|c| anyhow::anyhow!("{c:?}"))
            })
            .await
            .unwrap()
    }

    fn staff(&self, association: AssociationId) -> Staff {
        let id = 1000 + association.0;
        Staff {
            account: Account {
                id,
                login_id: format!("staff{id}"),
                role: Role::Staff {
                    association,
                    role: StaffRole::Clerk,
                },
            },
            association,
            role: StaffRole::Clerk,
        }
    }

    async fn file(&self, person: u64, procedure: Procedure) -> Result<u64, Refused> {
        let filing = Filing {
            procedure,
            reason: String::new(),
            desired: None,
        };
        file(
            &self.store,
            &self.config,
            &self.mail,
            Filer::Physician(person),
            person,
            filing,
        )
        .await
        .unwrap()
    }

    async fn app(&self, id: u64) -> Application {
        self.store
            .read(move |tx| applications::get(tx, id))
            .await
            .unwrap()
            .unwrap()
    }

    async fn decide(
        &self,
        by: AssociationId,
        id: u64,
        decision: Decision,
    ) -> Result<Outcome, Refused> {
        let version = self.app(id).await.version;
        decide(
            &self.store,
            &self.config,
            &self.mail,
            &self.staff(by),
            id,
            version,
            decision,
        )
        .await
        .unwrap()
    }

    async fn approve(&self, by: AssociationId, id: u64) -> Result<Outcome, Refused> {
        self.decide(by, id, Decision::Approve(Some(date!(2026 - 04 - 01))))
            .await
    }

    async fn file_of(&self, person: u64) -> MemberFile {
        memberships_of(&self.store, person).await.unwrap()
    }

    async fn account(&self, person: u64) -> UserRecord {
        self.store
            .read(move |tx| users::get(tx, person))
            .await
            .unwrap()
            .unwrap()
    }

    async fn mails_to(&self, person: u64) -> Vec<Mail> {
        let to = format!("doctor{:02}@example.jp", person_number(person));
        let mut all = self
            .store
            .read(|tx| outbox::recent(tx, 1000))
            .await
            .unwrap();
        all.retain(|m| m.to == to);
        all.sort_by_key(|m| m.id);
        all
    }

    async fn queue_ids(&self, of: AssociationId) -> Vec<u64> {
        queue(&self.store, &self.staff(of), None)
            .await
            .unwrap()
            .into_iter()
            .map(|r| r.id)
            .collect()
    }

    /// A physician who joined all three levels through `district`.
    async fn member_of_all(&self, n: u32, district: AssociationId) -> u64 {
        let p = self.physician(n).await;
        let id = self
            .file(
                p,
                join(
                    district,
                    &[Level::District, Level::Prefecture, Level::National],
                ),
            )
            .await
            .unwrap();
        for by in [district, self.tokyo, self.national] {
            let by = if by == self.tokyo {
                self.prefecture_of(district).await
            } else {
                by
            };
            self.approve(by, id).await.unwrap();
        }
        assert_eq!(self.file_of(p).await.held(), Level::ALL);
        p
    }

    async fn prefecture_of(&self, district: AssociationId) -> AssociationId {
        let all = self.store.read(associations::all).await.unwrap();
        procedure::prefecture_of(district, &all).unwrap()
    }
}

/// Test accounts are made in order: the mail address of account `id` is
/// numbered by the physician's `n`, which the tests keep equal to the id.
fn person_number(id: u64) -> u64 {
    id
}

fn join(district: AssociationId, levels: &[Level]) -> Procedure {
    Procedure::Join(Join {
        district,
        levels: levels.to_vec(),
        workplace: hospital(WorkRole::Trainee),
        mail_to: MailTo::Work,
        liability_opt_out: false,
        district_class: "B".into(),
        prefecture_class: "乙".into(),
    })
}

fn stage_of(app: &Application) -> Option<AssociationId> {
    app.current_stage().map(|s| s.association)
}

#[tokio::test]
async fn a_district_only_join_completes_at_the_district() {
    let w = World::new().await;
    let p = w.physician(1).await;
    let id = w
        .file(p, join(w.shinjuku, &[Level::District]))
        .await
        .unwrap();
    assert_eq!(w.queue_ids(w.shinjuku).await, [id]);
    assert!(w.queue_ids(w.tokyo).await.is_empty());
    assert_eq!(
        w.file_of(p).await.held(),
        [],
        "nothing changes before completion"
    );
    assert_eq!(
        w.decide(w.shinjuku, id, Decision::Approve(None)).await,
        Err(Refused::Transition(Refusal::DateRequired))
    );
    assert_eq!(
        w.approve(w.shinjuku, id).await,
        Ok(Outcome::Completed(date!(2026 - 04 - 01)))
    );
    let f = w.file_of(p).await;
    assert_eq!(f.held(), [Level::District]);
    assert_eq!(f.current(Level::District).unwrap().class(), "B");
    assert_eq!(w.account(p).await.association, Some(w.shinjuku));
    assert!(w.queue_ids(w.shinjuku).await.is_empty());
    let mails = w.mails_to(p).await;
    assert_eq!(mails.len(), 2, "受付 and 完了");
    assert!(mails[1].subject.contains("完了"), "{}", mails[1].subject);
    assert!(mails[1].body.contains("2026-04-01"));
}

#[tokio::test]
async fn a_district_and_prefecture_join_stops_at_the_prefecture() {
    let w = World::new().await;
    let p = w.physician(1).await;
    let id = w
        .file(p, join(w.bunkyo, &[Level::District, Level::Prefecture]))
        .await
        .unwrap();
    assert_eq!(
        w.approve(w.bunkyo, id).await,
        Ok(Outcome::Advanced { stage: 1 })
    );
    assert_eq!(w.queue_ids(w.tokyo).await, [id]);
    assert!(
        w.queue_ids(w.national).await.is_empty(),
        "JMA is not involved"
    );
    assert!(matches!(
        w.approve(w.tokyo, id).await,
        Ok(Outcome::Completed(_))
    ));
    let f = w.file_of(p).await;
    assert_eq!(f.held(), [Level::District, Level::Prefecture]);
    assert_eq!(f.current(Level::Prefecture).unwrap().association, w.tokyo);
    assert_eq!(f.current(Level::Prefecture).unwrap().class(), "乙");
}

#[tokio::test]
async fn a_trainee_joining_all_three_levels_is_approved_in_turn_and_told_each_step() {
    let w = World::new().await;
    let p = w.physician(1).await;
    let id = w
        .file(
            p,
            join(
                w.todai,
                &[Level::District, Level::Prefecture, Level::National],
            ),
        )
        .await
        .unwrap();
    assert_eq!(stage_of(&w.app(id).await), Some(w.todai));
    w.approve(w.todai, id).await.unwrap();
    assert_eq!(stage_of(&w.app(id).await), Some(w.tokyo));
    w.approve(w.tokyo, id).await.unwrap();
    assert_eq!(w.queue_ids(w.national).await, [id]);
    w.approve(w.national, id).await.unwrap();
    let f = w.file_of(p).await;
    let jma = f.current(Level::National).unwrap();
    assert_eq!(jma.jma_class, Some(JmaClass::A2C));
    assert_eq!(jma.joined, date!(2026 - 04 - 01));
    let subjects: Vec<String> = w.mails_to(p).await.into_iter().map(|m| m.subject).collect();
    assert_eq!(subjects.len(), 4, "{subjects:?}");
    assert!(subjects[0].contains("受付") && subjects[1].contains("承認"));
    assert!(subjects[2].contains("承認") && subjects[3].contains("完了"));
    let mine = mine(&w.store, p).await.unwrap();
    let states: Vec<StepState> = mine[0].timeline.iter().map(|t| t.state).collect();
    assert_eq!(states, [StepState::Done; 5]);
    let history = w
        .store
        .read(move |tx| audit::of_target(tx, Target::Person(p), 50))
        .await
        .unwrap();
    let kinds: Vec<AuditKind> = history.iter().map(|e| e.kind).collect();
    assert_eq!(
        kinds
            .iter()
            .filter(|k| **k == AuditKind::ApplicationApproved)
            .count(),
        3
    );
    assert!(kinds.contains(&AuditKind::ApplicationFiled));
    let changed = history
        .iter()
        .find(|e| e.kind == AuditKind::MembershipChanged)
        .unwrap();
    assert!(changed.changes.iter().any(|c| c.field == "日本医師会"));
    assert!(changed.changes.iter().any(|c| c.field == "所属医師会"));
}

#[tokio::test]
async fn leaving_all_three_is_decided_by_the_district_and_the_prefecture_confirms() {
    let w = World::new().await;
    let p = w.member_of_all(1, w.shinjuku).await;
    let id = w
        .file(p, Procedure::Withdraw(WithdrawScope::All))
        .await
        .unwrap();
    assert!(w.queue_ids(w.tokyo).await.is_empty());
    let day = date!(2027 - 03 - 31);
    w.decide(w.shinjuku, id, Decision::Approve(Some(day)))
        .await
        .unwrap();
    let f = w.file_of(p).await;
    assert!(f.held().is_empty(), "prefecture and JMA ended with it");
    assert!(f.memberships.iter().all(|m| m.left == Some(day)));
    let tokyo = w.staff(w.tokyo);
    let inbox = notices(&w.store, &tokyo).await.unwrap();
    assert_eq!(inbox.iter().map(|r| r.id).collect::<Vec<_>>(), [id]);
    let c = counts(&w.store, &tokyo, now()).await.unwrap();
    assert_eq!(c.notices.count, 1);
    assert!(
        open_for_staff(&w.store, &tokyo, id)
            .await
            .unwrap()
            .is_some()
    );
    assert!(
        notices(&w.store, &w.staff(w.national))
            .await
            .unwrap()
            .is_empty()
    );
    confirm_notice(&w.store, &tokyo, id).await.unwrap().unwrap();
    assert!(notices(&w.store, &tokyo).await.unwrap().is_empty());
    assert_eq!(
        confirm_notice(&w.store, &tokyo, id).await.unwrap(),
        Err(Refused::NotFound)
    );
}

#[tokio::test]
async fn leaving_prefecture_and_jma_is_received_by_the_district_and_approved_by_the_prefecture() {
    let w = World::new().await;
    let p = w.member_of_all(1, w.shinjuku).await;
    let id = w
        .file(p, Procedure::Withdraw(WithdrawScope::PrefectureAndNational))
        .await
        .unwrap();
    assert_eq!(
        w.approve(w.shinjuku, id).await,
        Ok(Outcome::Advanced { stage: 1 })
    );
    assert_eq!(
        w.file_of(p).await.held(),
        Level::ALL,
        "not before the prefecture"
    );
    assert!(matches!(
        w.approve(w.tokyo, id).await,
        Ok(Outcome::Completed(_))
    ));
    assert_eq!(w.file_of(p).await.held(), [Level::District]);
    assert!(w.queue_ids(w.national).await.is_empty());
}

#[tokio::test]
async fn leaving_jma_only_passes_the_prefecture_and_is_approved_by_jma() {
    let w = World::new().await;
    let p = w.member_of_all(1, w.shinjuku).await;
    let id = w
        .file(p, Procedure::Withdraw(WithdrawScope::NationalOnly))
        .await
        .unwrap();
    w.approve(w.shinjuku, id).await.unwrap();
    w.approve(w.tokyo, id).await.unwrap();
    assert_eq!(w.file_of(p).await.held(), Level::ALL);
    assert!(matches!(
        w.approve(w.national, id).await,
        Ok(Outcome::Completed(_))
    ));
    assert_eq!(
        w.file_of(p).await.held(),
        [Level::District, Level::Prefecture]
    );
}

#[tokio::test]
async fn a_class_change_after_training_changes_the_class_history_when_complete() {
    let w = World::new().await;
    let p = w.member_of_all(1, w.shinjuku).await;
    let change = Procedure::Change(Change::Class {
        workplace: hospital(WorkRole::Employed),
        liability_opt_out: true,
        district_class: Some("A".into()),
        prefecture_class: None,
    });
    let id = w.file(p, change).await.unwrap();
    w.approve(w.shinjuku, id).await.unwrap();
    w.approve(w.tokyo, id).await.unwrap();
    let jma = w.file_of(p).await.current(Level::National).unwrap().clone();
    assert_eq!(jma.jma_class, Some(JmaClass::A2C), "pending: unchanged");
    w.decide(
        w.national,
        id,
        Decision::Approve(Some(date!(2026 - 04 - 01))),
    )
    .await
    .unwrap();
    let f = w.file_of(p).await;
    let jma = f.current(Level::National).unwrap();
    assert_eq!(jma.jma_class, Some(JmaClass::B));
    assert_eq!(jma.classes.len(), 2);
    assert_eq!(f.current(Level::District).unwrap().class(), "A");
    assert!(f.liability_opt_out);
}

#[tokio::test]
async fn a_transfer_within_the_prefecture_is_decided_by_the_destination_and_told_to_the_source() {
    let w = World::new().await;
    let p = w.member_of_all(1, w.shinjuku).await;
    let id = w
        .file(
            p,
            Procedure::Change(Change::Transfer {
                to: w.bunkyo,
                district_class: "A".into(),
                prefecture_class: String::new(),
            }),
        )
        .await
        .unwrap();
    assert!(w.queue_ids(w.shinjuku).await.is_empty());
    assert!(matches!(
        w.approve(w.bunkyo, id).await,
        Ok(Outcome::Completed(_))
    ));
    let f = w.file_of(p).await;
    assert_eq!(f.district(), Some(w.bunkyo));
    assert_eq!(f.current(Level::Prefecture).unwrap().association, w.tokyo);
    assert_eq!(w.account(p).await.association, Some(w.bunkyo));
    let source = notices(&w.store, &w.staff(w.shinjuku)).await.unwrap();
    assert_eq!(source.len(), 1);
    assert!(
        notices(&w.store, &w.staff(w.tokyo))
            .await
            .unwrap()
            .is_empty()
    );
}

#[tokio::test]
async fn a_transfer_to_another_prefecture_is_approved_there_and_moves_the_prefecture() {
    let w = World::new().await;
    let p = w.member_of_all(1, w.shinjuku).await;
    let id = w
        .file(
            p,
            Procedure::Change(Change::Transfer {
                to: w.kita,
                district_class: "A".into(),
                prefecture_class: "A".into(),
            }),
        )
        .await
        .unwrap();
    w.approve(w.kita, id).await.unwrap();
    assert_eq!(w.queue_ids(w.osaka).await, [id]);
    assert!(matches!(
        w.approve(w.osaka, id).await,
        Ok(Outcome::Completed(_))
    ));
    let f = w.file_of(p).await;
    assert_eq!(f.district(), Some(w.kita));
    assert_eq!(f.current(Level::Prefecture).unwrap().association, w.osaka);
    assert_eq!(f.current(Level::National).unwrap().association, w.national);
    assert_eq!(
        notices(&w.store, &w.staff(w.shinjuku)).await.unwrap().len(),
        1
    );
    assert_eq!(notices(&w.store, &w.staff(w.tokyo)).await.unwrap().len(), 1);
}

#[tokio::test]
async fn a_sent_back_application_is_edited_resubmitted_and_goes_back_to_the_level_that_sent_it_back()
 {
    let w = World::new().await;
    let p = w.physician(1).await;
    let id = w
        .file(p, join(w.shinjuku, &[Level::District, Level::Prefecture]))
        .await
        .unwrap();
    w.approve(w.shinjuku, id).await.unwrap();
    assert_eq!(
        w.decide(w.tokyo, id, Decision::SendBack(String::new()))
            .await,
        Err(Refused::Transition(Refusal::CommentRequired))
    );
    w.decide(
        w.tokyo,
        id,
        Decision::SendBack("勤務先の住所をご確認ください".into()),
    )
    .await
    .unwrap();
    assert!(w.queue_ids(w.tokyo).await.is_empty());
    let mails = w.mails_to(p).await;
    assert!(
        mails
            .last()
            .unwrap()
            .body
            .contains("勤務先の住所をご確認ください")
    );
    let version = w.app(id).await.version;
    let filing = Filing {
        procedure: join(w.shinjuku, &[Level::District, Level::Prefecture]),
        reason: "住所を訂正".into(),
        desired: None,
    };
    resubmit(
        &w.store,
        &w.config,
        &w.mail,
        Filer::Physician(p),
        id,
        version,
        filing,
    )
    .await
    .unwrap()
    .unwrap();
    // Back to the prefecture that sent it back; the district approved it.
    assert_eq!(stage_of(&w.app(id).await), Some(w.tokyo));
    assert_eq!(w.queue_ids(w.tokyo).await, [id]);
    assert!(w.queue_ids(w.shinjuku).await.is_empty());
    assert!(matches!(
        w.approve(w.tokyo, id).await,
        Ok(Outcome::Completed(_))
    ));
}

#[tokio::test]
async fn an_application_is_withdrawn_before_any_approval_and_one_per_kind_is_open() {
    let w = World::new().await;
    let p = w.physician(1).await;
    let id = w
        .file(p, join(w.shinjuku, &[Level::District]))
        .await
        .unwrap();
    assert_eq!(
        w.file(p, join(w.bunkyo, &[Level::District])).await,
        Err(Refused::Rule(ALREADY_OPEN.into()))
    );
    let version = w.app(id).await.version;
    let other = w.physician(2).await;
    let not_theirs = withdraw(
        &w.store,
        &w.config,
        &w.mail,
        Filer::Physician(other),
        id,
        version,
    )
    .await
    .unwrap();
    assert_eq!(not_theirs, Err(Refused::NotFound));
    withdraw(
        &w.store,
        &w.config,
        &w.mail,
        Filer::Physician(p),
        id,
        version,
    )
    .await
    .unwrap()
    .unwrap();
    assert_eq!(w.app(id).await.status, Status::Withdrawn);
    assert!(w.queue_ids(w.shinjuku).await.is_empty());
    let again = w.file(p, join(w.bunkyo, &[Level::District])).await.unwrap();
    w.decide(w.bunkyo, again, Decision::Approve(None))
        .await
        .ok();
    let two = w
        .file(p, join(w.shinjuku, &[Level::District, Level::Prefecture]))
        .await;
    assert!(two.is_err());
    let p3 = w.physician(3).await;
    let id3 = w
        .file(p3, join(w.shinjuku, &[Level::District, Level::Prefecture]))
        .await
        .unwrap();
    w.approve(w.shinjuku, id3).await.unwrap();
    let v = w.app(id3).await.version;
    assert_eq!(
        withdraw(&w.store, &w.config, &w.mail, Filer::Physician(p3), id3, v)
            .await
            .unwrap(),
        Err(Refused::Transition(Refusal::AlreadyApproved))
    );
}

#[tokio::test]
async fn a_board_batch_is_approved_with_one_date_each_checked() {
    let w = World::new().await;
    let mut ids = Vec::new();
    for n in 1..=3 {
        let p = w.physician(n).await;
        ids.push(
            w.file(p, join(w.shinjuku, &[Level::District]))
                .await
                .unwrap(),
        );
    }
    let mut items: Vec<(u64, u64)> = Vec::new();
    for id in &ids {
        items.push((*id, w.app(*id).await.version));
    }
    // The third was shown at an older version.
    items[2].1 += 7;
    let day = date!(2026 - 05 - 15);
    let results = classes::approve_many(
        &w.store,
        &w.config,
        &w.mail,
        &w.staff(w.shinjuku),
        items,
        day,
        None,
    )
    .await
    .unwrap();
    assert_eq!(results[0].1, Ok(Outcome::Completed(day)));
    assert_eq!(results[1].1, Ok(Outcome::Completed(day)));
    assert_eq!(results[2].1, Err(Refused::Transition(Refusal::Stale)));
    assert_eq!(w.queue_ids(w.shinjuku).await, [ids[2]]);
    assert_eq!(
        w.file_of(1).await.current(Level::District).unwrap().joined,
        day
    );
}

#[tokio::test]
async fn an_item_of_a_batch_refused_at_completion_keeps_the_class_it_was_filed_with() {
    let w = World::new().await;
    let shinjuku = w.shinjuku;
    w.store
        .write_ok(move |tx| associations::set_classes(tx, shinjuku, vec!["A".into(), "B".into()]))
        .await
        .unwrap();
    let p1 = w.physician(1).await;
    let p2 = w.physician(2).await;
    let one = w
        .file(p1, join(w.shinjuku, &[Level::District]))
        .await
        .unwrap();
    let two = w
        .file(p2, join(w.shinjuku, &[Level::District]))
        .await
        .unwrap();
    // Meanwhile p2 became a member of another district (as a record
    // corrected by an office would say): p2's 入会 can no longer complete.
    let elsewhere = w.member_of_all(3, w.bunkyo).await;
    let file = w.file_of(elsewhere).await;
    w.store
        .write_ok(move |tx| memberships::put(tx, p2, &file))
        .await
        .unwrap();
    let before = w.app(two).await;
    let items = vec![(one, w.app(one).await.version), (two, before.version)];
    let day = date!(2026 - 05 - 15);
    let results = classes::approve_many(
        &w.store,
        &w.config,
        &w.mail,
        &w.staff(w.shinjuku),
        items,
        day,
        Some("A".into()),
    )
    .await
    .unwrap();
    assert_eq!(results[0].1, Ok(Outcome::Completed(day)));
    assert!(matches!(results[1].1, Err(Refused::Rule(_))), "{results:?}");
    let Procedure::Join(j) = &w.app(one).await.procedure else {
        panic!("not a join");
    };
    assert_eq!(j.district_class, "A");
    let after = w.app(two).await;
    assert_eq!(after, before, "the refused item changed");
    let Procedure::Join(j) = &after.procedure else {
        panic!("not a join");
    };
    assert_eq!(j.district_class, "B");
}

#[tokio::test]
async fn two_staff_approving_at_once_apply_it_once() {
    let w = World::new().await;
    let p = w.physician(1).await;
    let id = w
        .file(p, join(w.shinjuku, &[Level::District]))
        .await
        .unwrap();
    let version = w.app(id).await.version;
    let mut tasks = Vec::new();
    for clerk in 0..2u64 {
        let (store, config, mail) = (w.store.clone(), w.config.clone(), w.mail.clone());
        let mut staff = w.staff(w.shinjuku);
        staff.account.id += clerk;
        tasks.push(tokio::spawn(async move {
            decide(
                &store,
                &config,
                &mail,
                &staff,
                id,
                version,
                Decision::Approve(Some(date!(2026 - 04 - 01))),
            )
            .await
            .unwrap()
        }));
    }
    let mut results = Vec::new();
    for t in tasks {
        results.push(t.await.unwrap());
    }
    assert_eq!(
        results.iter().filter(|r| r.is_ok()).count(),
        1,
        "{results:?}"
    );
    assert!(results.contains(&Err(Refused::Transition(Refusal::Stale))));
    assert_eq!(w.file_of(p).await.memberships.len(), 1, "applied once");
    let approvals = w
        .app(id)
        .await
        .steps
        .iter()
        .filter(|s| s.action == crate::domain::application::Action::Approved)
        .count();
    assert_eq!(approvals, 1);
}

#[tokio::test]
async fn a_level_sees_an_application_only_once_it_has_reached_it() {
    let w = World::new().await;
    let p = w.physician(1).await;
    let id = w
        .file(p, join(w.shinjuku, &[Level::District, Level::Prefecture]))
        .await
        .unwrap();
    let tokyo = w.staff(w.tokyo);
    assert!(
        open_for_staff(&w.store, &tokyo, id)
            .await
            .unwrap()
            .is_none()
    );
    assert_eq!(
        w.approve(w.tokyo, id).await,
        Err(Refused::NotFound),
        "the prefecture cannot act before its district approved"
    );
    let bunkyo = w.staff(w.bunkyo);
    assert!(
        open_for_staff(&w.store, &bunkyo, id)
            .await
            .unwrap()
            .is_none()
    );
    assert_eq!(w.approve(w.bunkyo, id).await, Err(Refused::NotFound));
    let shinjuku = w.staff(w.shinjuku);
    let seen = open_for_staff(&w.store, &shinjuku, id)
        .await
        .unwrap()
        .unwrap();
    assert!(seen.decides_now);
    let c = counts(&w.store, &shinjuku, now() + 3600).await.unwrap();
    assert_eq!(c.join.count, 1);
    assert!(c.join.oldest_secs.unwrap() >= 3600);
    w.approve(w.shinjuku, id).await.unwrap();
    let seen = open_for_staff(&w.store, &shinjuku, id)
        .await
        .unwrap()
        .unwrap();
    assert!(
        !seen.decides_now,
        "still seen by the district, no longer its turn"
    );
    assert_eq!(
        w.approve(w.shinjuku, id).await,
        Err(Refused::Transition(Refusal::NotYourStage))
    );
    assert!(
        open_for_staff(&w.store, &tokyo, id)
            .await
            .unwrap()
            .is_some()
    );
    assert!(
        open_for_staff(&w.store, &w.staff(w.national), id)
            .await
            .unwrap()
            .is_none()
    );
}

#[tokio::test]
async fn staff_enter_a_paper_form_and_a_record_change_applies_only_when_complete() {
    let w = World::new().await;
    let p = w.physician(1).await;
    let filing = Filing {
        procedure: join(w.shinjuku, &[Level::District]),
        reason: String::new(),
        desired: Some(date!(2026 - 06 - 01)),
    };
    let bunkyo = Filer::Staff(w.staff(w.bunkyo), Intake::Paper);
    let elsewhere = file(&w.store, &w.config, &w.mail, bunkyo, p, filing.clone())
        .await
        .unwrap();
    assert_eq!(
        elsewhere,
        Err(Refused::NotFound),
        "not into another district"
    );
    let by_staff = Filer::Staff(w.staff(w.shinjuku), Intake::Paper);
    let id = file(&w.store, &w.config, &w.mail, by_staff, p, filing)
        .await
        .unwrap()
        .unwrap();
    let app = w.app(id).await;
    assert_eq!(app.intake, Intake::Paper);
    assert_eq!(app.entered_by, Some(w.staff(w.shinjuku).account.id));
    w.approve(w.shinjuku, id).await.unwrap();
    let mut renamed = person();
    // A 異動届 keeps the 医籍登録番号 (see `changes`).
    renamed.registry.number =
        crate::domain::MedicalRegistryNumber::parse(&w.account(p).await.registry_number).unwrap();
    renamed.name.last = crate::domain::KanjiName::parse("佐藤").unwrap();
    let change = Procedure::Change(Change::Record {
        person: Some(Box::new(renamed)),
        workplace: None,
        mail_to: Some(MailTo::Home),
    });
    let cid = w.file(p, change).await.unwrap();
    let name = |u: UserRecord| u.display_name();
    assert_eq!(name(w.account(p).await), "山田 太郎", "pending: unchanged");
    w.approve(w.shinjuku, cid).await.unwrap();
    assert_eq!(name(w.account(p).await), "佐藤 太郎");
    assert_eq!(w.file_of(p).await.mail_to, MailTo::Home);
}

#[tokio::test]
async fn a_trainee_member_is_flagged_for_reduced_dues_and_reminded_after_two_years() {
    let w = World::new().await;
    // Graduated 2024/03, registered 2024/04/20 (see `procedure::tests::person`).
    let p = w.member_of_all(1, w.shinjuku).await;
    let on = |d| flags(&w.store, p, d);
    let f = on(date!(2026 - 04 - 19)).await.unwrap().unwrap();
    assert_eq!((f.dues_reduced, f.class_change_due), (true, false));
    let f = on(date!(2026 - 04 - 20)).await.unwrap().unwrap();
    assert_eq!((f.dues_reduced, f.class_change_due), (true, true));
    let f = on(date!(2029 - 04 - 01)).await.unwrap().unwrap();
    assert!(!f.dues_reduced, "FY2024..FY2028 only");
    assert!(
        flags(&w.store, 99, date!(2026 - 04 - 01))
            .await
            .unwrap()
            .is_none()
    );
}
