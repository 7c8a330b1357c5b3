//! What a physician files: 入会 (join), 異動 (a record change, a class
//! change, a transfer to another 郡市区等医師会) or 退会 (withdraw, in three
//! shapes), with how it came in (Web / 紙 / 窓口), and whether the person's
//! memberships allow it.
//!
//! The levels of a join must be bottom-up: a 都道府県 membership needs a
//! 郡市区等 one in that prefecture (大学医師会 counts), a 日医 one needs a
//! 都道府県 one (research notes §2.1, [S4] [S5] [S7] [S8]); a person may stop
//! at a lower level ([S12] MAMIS FAQ, [S36]).

use serde::{Deserialize, Serialize};

use super::{
    AssociationId,
    association::{Association, AssociationKind},
    membership::{JmaClass, Level, MailTo, MemberFile, Workplace},
    person::Person,
};

/// The three kinds of application; one may be open per person and kind.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ApplicationKind {
    Join,
    Change,
    Withdraw,
}

impl ApplicationKind {
    pub const ALL: [ApplicationKind; 3] = [
        ApplicationKind::Join,
        ApplicationKind::Change,
        ApplicationKind::Withdraw,
    ];

    pub fn label(self) -> &'static str {
        match self {
            ApplicationKind::Join => "入会",
            ApplicationKind::Change => "異動",
            ApplicationKind::Withdraw => "退会",
        }
    }

    /// The number the store keys it by.
    pub fn code(self) -> u8 {
        match self {
            ApplicationKind::Join => 1,
            ApplicationKind::Change => 2,
            ApplicationKind::Withdraw => 3,
        }
    }
}

/// How the application came in (受付方法).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Intake {
    /// Filed by the physician on マイページ.
    Web,
    /// Entered by staff from a paper form (代行入力).
    Paper,
    /// Entered by staff at the counter (代行入力).
    Counter,
}

impl Intake {
    pub fn label(self) -> &'static str {
        match self {
            Intake::Web => "Web",
            Intake::Paper => "紙",
            Intake::Counter => "窓口",
        }
    }
}

/// A join: the 郡市区等医師会 and the levels to join there.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Join {
    /// The 郡市区・大学・職域医師会 applied to.
    pub district: AssociationId,
    /// The levels joined now (a level held already is not among them).
    pub levels: Vec<Level>,
    pub workplace: Workplace,
    pub mail_to: MailTo,
    /// Out of 日医医賠責 (only meaningful for a 日医 join).
    pub liability_opt_out: bool,
    /// The class in the district's own list (free label; may be empty).
    pub district_class: String,
    /// The class in the prefecture's own list (free label; may be empty).
    pub prefecture_class: String,
}

/// A change while a member (異動).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Change {
    /// 記録変更: the person's record (氏名, 自宅, phones), the workplace, the
    /// 送付先; what is none stays as it is.
    Record {
        person: Option<Box<Person>>,
        workplace: Option<Workplace>,
        mail_to: Option<MailTo>,
    },
    /// 種別変更: the new answers (研修修了, 開業, 医賠責 out) and any new
    /// class labels of the district and prefecture.
    Class {
        workplace: Workplace,
        liability_opt_out: bool,
        district_class: Option<String>,
        prefecture_class: Option<String>,
    },
    /// 移動: to another 郡市区等医師会, in the same or another prefecture;
    /// one linked transfer (leave at the source, join at the destination).
    Transfer {
        to: AssociationId,
        district_class: String,
        prefecture_class: String,
    },
}

impl Change {
    pub fn label(&self) -> &'static str {
        match self {
            Change::Record { .. } => "記録変更",
            Change::Class { .. } => "種別変更",
            Change::Transfer { .. } => "所属医師会の移動",
        }
    }
}

/// The three shapes of 退会 (MAMIS FAQ, research notes §2.5, [S12]
/// https://member-sys.info/?p=598).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WithdrawScope {
    /// 郡市区・都道府県・日医 all three.
    All,
    /// 都道府県 and 日医, staying in the district.
    PrefectureAndNational,
    /// 日医 only.
    NationalOnly,
}

impl WithdrawScope {
    pub fn label(self) -> &'static str {
        match self {
            WithdrawScope::All => "郡市区・都道府県・日医すべて",
            WithdrawScope::PrefectureAndNational => "都道府県・日医（郡市区は継続）",
            WithdrawScope::NationalOnly => "日医のみ",
        }
    }

    /// The levels that end.
    pub fn levels(self) -> &'static [Level] {
        match self {
            WithdrawScope::All => &[Level::District, Level::Prefecture, Level::National],
            WithdrawScope::PrefectureAndNational => &[Level::Prefecture, Level::National],
            WithdrawScope::NationalOnly => &[Level::National],
        }
    }
}

/// What is filed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Procedure {
    Join(Join),
    Change(Change),
    Withdraw(WithdrawScope),
}

impl Procedure {
    pub fn kind(&self) -> ApplicationKind {
        match self {
            Procedure::Join(_) => ApplicationKind::Join,
            Procedure::Change(_) => ApplicationKind::Change,
            Procedure::Withdraw(_) => ApplicationKind::Withdraw,
        }
    }

    /// What it is, in a few words (「入会（郡市区・都道府県・日医）」).
    pub fn summary(&self) -> String {
        match self {
            Procedure::Join(j) => format!(
                "入会（{}）",
                j.levels
                    .iter()
                    .map(|l| l.short())
                    .collect::<Vec<_>>()
                    .join("・")
            ),
            Procedure::Change(c) => format!("異動（{}）", c.label()),
            Procedure::Withdraw(s) => format!("退会（{}）", s.label()),
        }
    }
}

/// The prefectural association above a local one.
pub fn prefecture_of(local: AssociationId, all: &[Association]) -> Option<AssociationId> {
    let a = all.iter().find(|a| a.id == local)?;
    let parent = all.iter().find(|p| Some(p.id) == a.parent)?;
    (parent.kind == AssociationKind::Prefectural).then_some(parent.id)
}

/// The root of the tree (日本医師会).
pub fn national(all: &[Association]) -> Option<AssociationId> {
    all.iter().find(|a| a.parent.is_none()).map(|a| a.id)
}

/// True for the associations a district membership is held at (郡市区,
/// 大学 and 職域医師会).
pub fn is_local(id: AssociationId, all: &[Association]) -> bool {
    all.iter().any(|a| {
        a.id == id
            && matches!(
                a.kind,
                AssociationKind::District
                    | AssociationKind::University
                    | AssociationKind::Workplace
            )
    })
}

/// Whether `procedure` may be filed by a person whose memberships are
/// `file`: the message to show when not.
pub fn check(procedure: &Procedure, file: &MemberFile, all: &[Association]) -> Result<(), String> {
    let held = file.held();
    match procedure {
        Procedure::Join(j) => check_join(j, file, &held, all),
        Procedure::Change(c) => {
            if file.district().is_none() {
                return Err("医師会に在籍していないため、異動届は出せません。".into());
            }
            match c {
                Change::Record {
                    person,
                    workplace,
                    mail_to,
                } => {
                    if person.is_none() && workplace.is_none() && mail_to.is_none() {
                        return Err("変更する内容を入力してください。".into());
                    }
                    if let Some(w) = workplace {
                        first_problem(w)?;
                        if held.contains(&Level::National)
                            && JmaClass::derive(w.role, file.liability_opt_out)
                                != file.derived_jma_class()
                        {
                            return Err(
                                "日医の会員種別が変わるため、種別変更として届け出てください。"
                                    .into(),
                            );
                        }
                    }
                    Ok(())
                }
                Change::Class { workplace, .. } => first_problem(workplace),
                Change::Transfer { to, .. } => {
                    if !is_local(*to, all) {
                        return Err("移動先の郡市区等医師会を選んでください。".into());
                    }
                    if file.district() == Some(*to) {
                        return Err("現在所属している医師会です。".into());
                    }
                    if held.contains(&Level::Prefecture) && prefecture_of(*to, all).is_none() {
                        return Err("移動先の都道府県医師会が見つかりません。".into());
                    }
                    Ok(())
                }
            }
        }
        Procedure::Withdraw(scope) => {
            let needed = match scope {
                WithdrawScope::All => Level::District,
                WithdrawScope::PrefectureAndNational => Level::Prefecture,
                WithdrawScope::NationalOnly => Level::National,
            };
            if held.contains(&needed) {
                Ok(())
            } else {
                Err(format!("{}に在籍していません。", needed.label()))
            }
        }
    }
}

/// The message when a 記録変更 would change the 医籍登録番号.
pub const REGISTRY_NUMBER_FIXED: &str =
    "医籍登録番号は異動届では変更できません。誤りがある場合は医師会事務局にお問い合わせください。";

/// Whether a 記録変更 of the person now `current` keeps the 医籍登録番号:
/// it is the person's unique key, corrected by staff only, never by a
/// 異動届.
pub fn check_person(procedure: &Procedure, current: &Person) -> Result<(), String> {
    match procedure {
        Procedure::Change(Change::Record {
            person: Some(new), ..
        }) if new.registry.number != current.registry.number => {
            Err(REGISTRY_NUMBER_FIXED.to_owned())
        }
        _ => Ok(()),
    }
}

fn first_problem(w: &Workplace) -> Result<(), String> {
    match w.problems().into_iter().next() {
        Some(p) => Err(p),
        None => Ok(()),
    }
}

fn check_join(
    j: &Join,
    file: &MemberFile,
    held: &[Level],
    all: &[Association],
) -> Result<(), String> {
    if j.levels.is_empty() {
        return Err("入会する医師会を選んでください。".into());
    }
    if !is_local(j.district, all) {
        return Err("郡市区等医師会を選んでください。".into());
    }
    if let Some(current) = file.district()
        && current != j.district
    {
        return Err(
            "別の郡市区等医師会に在籍中です。所属医師会の移動は異動届で行ってください。".into(),
        );
    }
    for level in &j.levels {
        if held.contains(level) {
            return Err(format!("{}には既に在籍しています。", level.label()));
        }
        if let Some(below) = level.below()
            && !held.contains(&below)
            && !j.levels.contains(&below)
        {
            return Err(format!(
                "{}に入会するには{}への入会が必要です。",
                level.label(),
                below.label()
            ));
        }
    }
    if (j.levels.contains(&Level::Prefecture) || j.levels.contains(&Level::National))
        && prefecture_of(j.district, all).is_none()
    {
        return Err("この医師会の都道府県医師会が見つかりません。".into());
    }
    first_problem(&j.workplace)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::domain::membership::{Membership, WorkRole, WorkplaceKind};

    /// 日医 1, 東京 2, 大阪 3, 新宿 10 and 本郷大学 11 under 東京, 北区 20
    /// under 大阪.
    pub(crate) fn tree() -> Vec<Association> {
        let a = |id, kind, parent: Option<u64>| Association {
            id: AssociationId(id),
            name: format!("医師会{id}"),
            kind,
            parent: parent.map(AssociationId),
            postal_code: None,
            address: None,
            phone: None,
            classes: Vec::new(),
        };
        vec![
            a(1, AssociationKind::National, None),
            a(2, AssociationKind::Prefectural, Some(1)),
            a(3, AssociationKind::Prefectural, Some(1)),
            a(10, AssociationKind::District, Some(2)),
            a(11, AssociationKind::University, Some(2)),
            a(20, AssociationKind::District, Some(3)),
        ]
    }

    /// A registered physician (山田 太郎, graduated 2024/03).
    pub(crate) fn person() -> Person {
        let pairs: Vec<(String, String)> = [
            ("login_id", "doctor01"),
            ("password", "Kusuri#2024x"),
            ("registry_number", "123456"),
            ("registry_date", "2024/04/20"),
            ("kana_last", "ヤマダ"),
            ("kana_first", "タロウ"),
            ("name_last", "山田"),
            ("name_first", "太郎"),
            ("postal_code", "113-8621"),
            ("prefecture", "東京都"),
            ("address", "文京区本駒込2-28-16"),
            ("mobile", "090-1234-5678"),
            ("birth_date", "1998/04/01"),
            ("main_dept", "01"),
            ("school", "東北大学"),
            ("graduation", "2024/03"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
        let form = crate::domain::RegistrationForm::from_pairs(&pairs).normalized();
        match crate::domain::validate_registration(&form, time::macros::date!(2026 - 01 - 01)) {
            Ok((r, _)) => Person::from(r),
            Err(e) => panic!("invalid test form: {e:?}"),
        }
    }

    pub(crate) fn hospital(role: WorkRole) -> Workplace {
        Workplace {
            kind: WorkplaceKind::Hospital,
            role,
            name: "東都病院".into(),
            postal_code: "160-0023".into(),
            address: "東京都新宿区西新宿1-1-1".into(),
            phone: "03-1234-5678".into(),
        }
    }

    pub(crate) fn join(district: u64, levels: &[Level]) -> Procedure {
        Procedure::Join(Join {
            district: AssociationId(district),
            levels: levels.to_vec(),
            workplace: hospital(WorkRole::Trainee),
            mail_to: MailTo::Home,
            liability_opt_out: false,
            district_class: "B".into(),
            prefecture_class: "乙".into(),
        })
    }

    pub(crate) fn holding(levels: &[(Level, u64)]) -> MemberFile {
        let mut f = MemberFile::default();
        for (level, a) in levels {
            f.memberships.push(Membership::new(
                *level,
                AssociationId(*a),
                time::macros::date!(2020 - 04 - 01),
                String::new(),
                None,
            ));
        }
        f
    }

    #[test]
    fn only_bottom_up_level_sets_may_be_joined() {
        use Level::*;
        let all = tree();
        let none = MemberFile::default();
        let d = holding(&[(District, 10)]);
        let dp = holding(&[(District, 10), (Prefecture, 2)]);
        let table: [(&MemberFile, u64, &[Level], bool); 14] = [
            (&none, 10, &[District], true),
            (&none, 10, &[District, Prefecture], true),
            (&none, 10, &[District, Prefecture, National], true),
            (&none, 11, &[District, Prefecture, National], true),
            (&none, 10, &[Prefecture], false),
            (&none, 10, &[National], false),
            (&none, 10, &[District, National], false),
            (&none, 10, &[], false),
            (&none, 2, &[District], false),
            (&d, 10, &[Prefecture, National], true),
            (&d, 10, &[District], false),
            (&d, 20, &[Prefecture], false),
            (&dp, 10, &[National], true),
            (&dp, 10, &[Prefecture], false),
        ];
        for (file, district, levels, ok) in table {
            let r = check(&join(district, levels), file, &all);
            assert_eq!(r.is_ok(), ok, "{district} {levels:?}: {r:?}");
        }
    }

    #[test]
    fn withdrawals_and_changes_need_the_memberships_they_end_or_change() {
        use Level::*;
        let all = tree();
        let d = holding(&[(District, 10)]);
        let dpn = holding(&[(District, 10), (Prefecture, 2), (National, 1)]);
        for (file, scope, ok) in [
            (&d, WithdrawScope::All, true),
            (&d, WithdrawScope::PrefectureAndNational, false),
            (&d, WithdrawScope::NationalOnly, false),
            (&dpn, WithdrawScope::NationalOnly, true),
        ] {
            assert_eq!(
                check(&Procedure::Withdraw(scope), file, &all).is_ok(),
                ok,
                "{scope:?}"
            );
        }
        let transfer = |to| {
            Procedure::Change(Change::Transfer {
                to: AssociationId(to),
                district_class: String::new(),
                prefecture_class: String::new(),
            })
        };
        assert!(check(&transfer(20), &d, &all).is_ok());
        assert!(check(&transfer(10), &d, &all).is_err(), "the same one");
        assert!(check(&transfer(3), &d, &all).is_err(), "a prefecture");
        assert!(check(&transfer(20), &MemberFile::default(), &all).is_err());
        let empty = Procedure::Change(Change::Record {
            person: None,
            workplace: None,
            mail_to: None,
        });
        assert!(check(&empty, &d, &all).is_err());
        let opening = Procedure::Change(Change::Record {
            person: None,
            workplace: Some(hospital(WorkRole::Founder)),
            mail_to: None,
        });
        assert!(
            check(&opening, &dpn, &all).is_err(),
            "a JMA class change is not a record change"
        );
        assert!(check(&opening, &d, &all).is_ok());
    }
}
