//! 異動 on the physician's side: a pending change leaves the record and the
//! memberships as they are; the 医籍登録番号 is never changed by a 異動届,
//! neither when filed nor when resubmitted.

use super::*;
use crate::domain::{MedicalRegistryNumber, procedure::REGISTRY_NUMBER_FIXED};

fn renumbered(n: &str) -> Procedure {
    let mut p = person();
    p.registry.number = MedicalRegistryNumber::parse(n).unwrap();
    Procedure::Change(Change::Record {
        person: Some(Box::new(p)),
        workplace: None,
        mail_to: None,
    })
}

#[tokio::test]
async fn a_record_change_of_the_registry_number_is_refused_when_filed_and_resubmitted() {
    let w = World::new().await;
    let p = w.member_of_all(1, w.shinjuku).await;
    assert_eq!(
        w.file(p, renumbered("999999")).await,
        Err(Refused::Rule(REGISTRY_NUMBER_FIXED.into()))
    );
    // The same number (the form's own) is a record change like any other.
    let own = w.account(p).await.registry_number;
    let mut same = person();
    same.registry.number = MedicalRegistryNumber::parse(&own).unwrap();
    same.name.last = crate::domain::KanjiName::parse("佐藤").unwrap();
    let id = w
        .file(
            p,
            Procedure::Change(Change::Record {
                person: Some(Box::new(same)),
                workplace: None,
                mail_to: None,
            }),
        )
        .await
        .unwrap();
    w.decide(
        w.shinjuku,
        id,
        Decision::SendBack("旧姓もご記入ください".into()),
    )
    .await
    .unwrap();
    let version = w.app(id).await.version;
    let filing = Filing {
        procedure: renumbered("999999"),
        reason: String::new(),
        desired: None,
    };
    let refused = resubmit(
        &w.store,
        &w.config,
        &w.mail,
        Filer::Physician(p),
        id,
        version,
        filing,
    )
    .await
    .unwrap();
    assert_eq!(refused, Err(Refused::Rule(REGISTRY_NUMBER_FIXED.into())));
    assert_eq!(w.account(p).await.registry_number, own);
}

#[tokio::test]
async fn pending_changes_leave_the_record_and_the_memberships_as_they_are() {
    let w = World::new().await;
    let p = w.member_of_all(1, w.shinjuku).await;
    let before = (w.file_of(p).await, w.account(p).await);
    let class = w
        .file(
            p,
            Procedure::Change(Change::Class {
                workplace: hospital(WorkRole::Founder),
                liability_opt_out: false,
                district_class: None,
                prefecture_class: None,
            }),
        )
        .await
        .unwrap();
    w.approve(w.shinjuku, class).await.unwrap();
    w.approve(w.tokyo, class).await.unwrap();
    let after = (w.file_of(p).await, w.account(p).await);
    assert_eq!(before.0, after.0, "two of three approved: still pending");
    assert_eq!(before.1.person, after.1.person);
    assert_eq!(before.1.association, after.1.association);
    w.approve(w.national, class).await.unwrap();
    let done = w.file_of(p).await;
    assert_eq!(
        done.current(Level::National).unwrap().jma_class,
        Some(JmaClass::A1)
    );

    let moved = w
        .file(
            p,
            Procedure::Change(Change::Transfer {
                to: w.kita,
                district_class: String::new(),
                prefecture_class: String::new(),
            }),
        )
        .await
        .unwrap();
    w.approve(w.kita, moved).await.unwrap();
    assert_eq!(
        w.file_of(p).await,
        done,
        "the destination district approved, not yet Osaka"
    );
    assert_eq!(w.account(p).await.association, Some(w.shinjuku));
}
