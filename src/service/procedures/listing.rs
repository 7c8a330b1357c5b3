//! The office's 申請一覧 beyond its own queue: the applications a staff
//! member may see (those that reached their association, or raised a
//! 確認依頼 to it), filtered by kind, stage, filed date and the association
//! below, for the screen and its CSV export.
//!
//! Scope: the same rule as the detail page (`visible_to`); the association
//! filter offers only the associations in the staff member's scope and an
//! id outside it matches nothing.

use time::Date;

use super::{QueueRow, name_of, row, visible_to};
use crate::{
    auth::guards::Staff,
    domain::{
        AssociationId,
        application::{Application, Status},
        procedure::{ApplicationKind, Procedure},
    },
    store::{
        Store, applications, associations,
        audit::{AuditEntry, AuditKind},
        users,
    },
};

/// Which applications by where they are.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum StageFilter {
    /// 貴会の処理待ち: waiting for the staff member's association.
    #[default]
    Waiting,
    /// Every state.
    All,
    /// 申請中 anywhere.
    Pending,
    SentBack,
    Completed,
    Rejected,
    Withdrawn,
}

impl StageFilter {
    pub const ALL: [StageFilter; 7] = [
        StageFilter::Waiting,
        StageFilter::All,
        StageFilter::Pending,
        StageFilter::SentBack,
        StageFilter::Completed,
        StageFilter::Rejected,
        StageFilter::Withdrawn,
    ];

    pub fn key(self) -> &'static str {
        match self {
            StageFilter::Waiting => "",
            StageFilter::All => "all",
            StageFilter::Pending => "pending",
            StageFilter::SentBack => "sent_back",
            StageFilter::Completed => "completed",
            StageFilter::Rejected => "rejected",
            StageFilter::Withdrawn => "withdrawn",
        }
    }

    pub fn from_key(key: &str) -> StageFilter {
        StageFilter::ALL
            .into_iter()
            .find(|s| s.key() == key.trim())
            .unwrap_or_default()
    }

    pub fn label(self) -> &'static str {
        match self {
            StageFilter::Waiting => "貴会の処理待ち",
            StageFilter::All => "すべて",
            StageFilter::Pending => "申請中（すべての段階）",
            StageFilter::SentBack => "差戻し",
            StageFilter::Completed => "完了",
            StageFilter::Rejected => "却下",
            StageFilter::Withdrawn => "取下げ",
        }
    }

    fn matches(self, app: &Application, association: AssociationId) -> bool {
        match self {
            StageFilter::Waiting => app.current_stage().map(|s| s.association) == Some(association),
            StageFilter::All => true,
            StageFilter::Pending => matches!(app.status, Status::Pending { .. }),
            StageFilter::SentBack => matches!(app.status, Status::SentBack { .. }),
            StageFilter::Completed => app.status == Status::Completed,
            StageFilter::Rejected => app.status == Status::Rejected,
            StageFilter::Withdrawn => app.status == Status::Withdrawn,
        }
    }
}

/// The filters of 申請一覧.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ListFilter {
    pub kind: Option<ApplicationKind>,
    pub stage: StageFilter,
    /// Filed on or after (JST day).
    pub from: Option<Date>,
    /// Filed on or before (JST day).
    pub to: Option<Date>,
    /// An association of the staff member's scope the application goes
    /// through, or the applicant belongs to.
    pub association: Option<AssociationId>,
}

/// One row of 申請一覧 and of its CSV.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ListRow {
    pub row: QueueRow,
    /// フリガナ (empty when unknown).
    pub kana: String,
    /// 医籍登録番号 (empty when unknown).
    pub registry: String,
    /// The association it was filed at (its first stage).
    pub association: String,
    /// 現在の段階: the level and association it waits at (empty when done).
    pub stage: String,
    /// 状態.
    pub status: &'static str,
    /// 入会日 / effective date, once completed.
    pub effective: Option<Date>,
    /// True when the staff member's association decides it now.
    pub decides_here: bool,
}

/// The rows and the associations the filter may name.
#[derive(Clone, Debug, Default)]
pub struct Listing {
    pub rows: Vec<ListRow>,
    /// The associations of the scope, by name, for the filter's select.
    pub associations: Vec<(AssociationId, String)>,
    /// The staff member's association's own classes, chosen at bulk 承認
    /// of a 入会 (empty: none to choose).
    pub classes: Vec<String>,
}

/// The JST day of Unix seconds `at`.
pub fn jst_day(at: i64) -> Date {
    time::OffsetDateTime::from_unix_timestamp(at)
        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH)
        .to_offset(time::macros::offset!(+9))
        .date()
}

fn goes_through(app: &Application, association: AssociationId) -> bool {
    app.stages.iter().any(|s| s.association == association)
        || matches!(&app.procedure, Procedure::Join(j) if j.district == association)
}

/// 申請一覧 of `staff` with `filter`: waiting ones oldest first, the
/// others newest first.
pub async fn list(store: &Store, staff: &Staff, filter: ListFilter) -> anyhow::Result<Listing> {
    let own = staff.association;
    let staff = staff.clone();
    store
        .read(move |tx| {
            let all = associations::all(tx)?;
            let scope = staff.scope(&all);
            let mut in_scope: Vec<(AssociationId, String)> = all
                .iter()
                .filter(|a| scope.allows(a.id))
                .map(|a| (a.id, a.name.clone()))
                .collect();
            in_scope.sort_by_key(|a| a.0);
            let apps = match filter.stage {
                StageFilter::Waiting => applications::queue(tx, own, applications::WAITING)?,
                _ => {
                    let mut v = applications::all(tx)?;
                    v.reverse();
                    v
                }
            };
            let mut rows = Vec::new();
            for app in apps {
                if !visible_to(&app, own) || !filter.stage.matches(&app, own) {
                    continue;
                }
                if filter.kind.is_some_and(|k| app.procedure.kind() != k) {
                    continue;
                }
                let filed = jst_day(app.steps.first().map_or(0, |s| s.at));
                if filter.from.is_some_and(|d| filed < d) || filter.to.is_some_and(|d| filed > d) {
                    continue;
                }
                let user = users::get(tx, app.person)?;
                if let Some(a) = filter.association
                    && !(scope.allows(a)
                        && (goes_through(&app, a)
                            || user.as_ref().and_then(|u| u.association) == Some(a)))
                {
                    continue;
                }
                let person = user.as_ref().and_then(|u| u.person.as_ref());
                rows.push(ListRow {
                    kana: person
                        .map(|p| format!("{} {}", p.kana.last.as_str(), p.kana.first.as_str()))
                        .unwrap_or_default(),
                    registry: person
                        .map(|p| p.registry.number.as_str().to_owned())
                        .unwrap_or_default(),
                    association: app
                        .stages
                        .first()
                        .map(|s| name_of(s.association, &all))
                        .unwrap_or_default(),
                    stage: app
                        .current_stage()
                        .map(|s| format!("{}：{}", s.level.short(), name_of(s.association, &all)))
                        .unwrap_or_default(),
                    status: app.status.label(),
                    effective: app.effective,
                    decides_here: app.current_stage().map(|s| s.association) == Some(own),
                    row: row(tx, &app, &all)?,
                });
            }
            let classes = all
                .iter()
                .find(|a| a.id == own)
                .map(|a| a.classes.clone())
                .unwrap_or_default();
            Ok(Listing {
                rows,
                associations: in_scope,
                classes,
            })
        })
        .await
}

/// Records that `staff` exported `count` rows of 申請一覧 (`detail`: the
/// filter as a query string).
pub async fn audit_export(
    store: &Store,
    staff: &Staff,
    detail: String,
    count: usize,
) -> anyhow::Result<()> {
    store
        .audit(
            AuditEntry::new(AuditKind::ApplicationsExported)
                .actor(staff.account.id)
                .user(staff.account.id)
                .login_id(&staff.account.login_id)
                .detail(format!("{detail}: {count} rows")),
        )
        .await
}
