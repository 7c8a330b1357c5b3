//! A physician's memberships: one per level (郡市区等 → 都道府県 → 日医), each
//! with its association, class and class history, 入会日 and 退会日; the
//! 日本医師会 class derived from the answers; the young doctors' dues
//! reduction and the end-of-training reminder.
//!
//! Membership is bottom-up: a 都道府県 membership needs a 郡市区等 (大学医師会
//! counts) membership in that prefecture, a 日医 membership needs a 都道府県
//! one (research notes §2.1, [S4] [S5] [S7] [S8]: 山形県医師会 入会のご案内,
//! JMA ドクタラーゼ 入会のご案内, 大阪府医師会 入会案内, 滋賀県医師会 入会について).

use serde::{Deserialize, Serialize};
use time::{Date, Month};

use super::AssociationId;

time::serde::format_description!(pub day, Date, "[year]-[month]-[day]");

/// A level of the tree a person may be a member of.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Level {
    /// 郡市区等医師会 (郡市区, 大学 or 職域).
    District,
    /// 都道府県医師会.
    Prefecture,
    /// 日本医師会.
    National,
}

impl Level {
    pub const ALL: [Level; 3] = [Level::District, Level::Prefecture, Level::National];

    /// The name shown on screens.
    pub fn label(self) -> &'static str {
        match self {
            Level::District => "郡市区等医師会",
            Level::Prefecture => "都道府県医師会",
            Level::National => "日本医師会",
        }
    }

    /// The short name of the timeline (郡市区 → 都道府県 → 日医).
    pub fn short(self) -> &'static str {
        match self {
            Level::District => "郡市区",
            Level::Prefecture => "都道府県",
            Level::National => "日医",
        }
    }

    /// The level a membership at this level requires, if any.
    pub fn below(self) -> Option<Level> {
        match self {
            Level::District => None,
            Level::Prefecture => Some(Level::District),
            Level::National => Some(Level::Prefecture),
        }
    }
}

/// 日本医師会's classes (会員種別).
///
/// Source: research notes §2.2, [S9] 島根県医師会 入会, [S16] 三重県医師会
/// 入会の手引き, [S8] 滋賀県医師会, [S10] 那覇市医師会 (identical wording);
/// 医賠責 only for A classes: [S18] JMA 日医医賠責特約保険 加入手続き.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum JmaClass {
    /// A①会員: 病院・診療所の開設者・管理者 (incl. a corporation's
    /// representative and a hired 管理者).
    A1,
    /// A②会員(B): every other member, typically a 勤務医.
    A2B,
    /// A②会員(C): a 研修医 under the 医師法.
    A2C,
    /// B会員: an A②(B) member out of 日医医賠責.
    B,
    /// C会員: an A②(C) member out of 日医医賠責.
    C,
}

impl JmaClass {
    /// The name shown on screens.
    pub fn label(self) -> &'static str {
        match self {
            JmaClass::A1 => "A①会員",
            JmaClass::A2B => "A②会員(B)",
            JmaClass::A2C => "A②会員(C)",
            JmaClass::B => "B会員",
            JmaClass::C => "C会員",
        }
    }

    /// True for the classes that carry 日医医賠責保険 (the A classes).
    pub fn has_liability_insurance(self) -> bool {
        matches!(self, JmaClass::A1 | JmaClass::A2B | JmaClass::A2C)
    }

    /// True for the 研修医 classes (A②(C), C), whose holders are reminded
    /// to file a class change at the end of the clinical training.
    pub fn is_trainee(self) -> bool {
        matches!(self, JmaClass::A2C | JmaClass::C)
    }

    /// The class from the answers: 開設者 or 管理者 → A①; 研修医 → A②(C), or
    /// C when out of 医賠責; anyone else → A②(B), or B when out of 医賠責.
    /// A① has no opt-out class: an A① member always carries the insurance.
    pub fn derive(role: WorkRole, liability_opt_out: bool) -> JmaClass {
        match (role, liability_opt_out) {
            (WorkRole::Founder | WorkRole::Manager, _) => JmaClass::A1,
            (WorkRole::Trainee, false) => JmaClass::A2C,
            (WorkRole::Trainee, true) => JmaClass::C,
            (WorkRole::Employed | WorkRole::NotWorking, false) => JmaClass::A2B,
            (WorkRole::Employed | WorkRole::NotWorking, true) => JmaClass::B,
        }
    }
}

/// The role at the workplace (勤務先での立場).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WorkRole {
    /// 開設者 (incl. a corporation's representative).
    Founder,
    /// 管理者 (incl. a hired 管理者 who is not the 開設者).
    Manager,
    /// 勤務.
    Employed,
    /// 研修医 (臨床研修, 医師法第16条の2).
    Trainee,
    /// No workplace (勤務なし).
    NotWorking,
}

impl WorkRole {
    pub const ALL: [WorkRole; 5] = [
        WorkRole::Founder,
        WorkRole::Manager,
        WorkRole::Employed,
        WorkRole::Trainee,
        WorkRole::NotWorking,
    ];

    pub fn label(self) -> &'static str {
        match self {
            WorkRole::Founder => "開設者",
            WorkRole::Manager => "管理者",
            WorkRole::Employed => "勤務",
            WorkRole::Trainee => "研修医",
            WorkRole::NotWorking => "勤務なし",
        }
    }

    /// The form value (`founder`, …).
    pub fn key(self) -> &'static str {
        match self {
            WorkRole::Founder => "founder",
            WorkRole::Manager => "manager",
            WorkRole::Employed => "employed",
            WorkRole::Trainee => "trainee",
            WorkRole::NotWorking => "not_working",
        }
    }

    pub fn from_key(key: &str) -> Option<WorkRole> {
        WorkRole::ALL.into_iter().find(|r| r.key() == key)
    }
}

/// A period of one class, from `since` on.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClassPeriod {
    #[serde(with = "day")]
    pub since: Date,
    /// The class as shown (`A②会員(C)`, or the association's own label).
    pub class: String,
}

/// A membership at one level.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Membership {
    pub level: Level,
    pub association: AssociationId,
    /// 入会日.
    #[serde(with = "day")]
    pub joined: Date,
    /// 退会日; none while a member (在籍).
    #[serde(default, with = "day::option")]
    pub left: Option<Date>,
    /// The 日医 class (national memberships only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jma_class: Option<JmaClass>,
    /// The class history, oldest first; the last one is the current class.
    pub classes: Vec<ClassPeriod>,
}

impl Membership {
    /// A new membership from `joined`, of `class`.
    pub fn new(
        level: Level,
        association: AssociationId,
        joined: Date,
        class: String,
        jma_class: Option<JmaClass>,
    ) -> Membership {
        Membership {
            level,
            association,
            joined,
            left: None,
            jma_class,
            classes: vec![ClassPeriod {
                since: joined,
                class,
            }],
        }
    }

    /// True while a member (在籍).
    pub fn is_current(&self) -> bool {
        self.left.is_none()
    }

    /// The current class's label (empty when none was given).
    pub fn class(&self) -> &str {
        self.classes.last().map_or("", |c| c.class.as_str())
    }

    /// Changes the class from `since` (a class period of the same label is
    /// not repeated).
    pub fn change_class(&mut self, since: Date, class: String) {
        if self.class() != class {
            self.classes.push(ClassPeriod { since, class });
        }
    }

    /// The state shown on the 所属状況 card.
    pub fn state_label(&self) -> &'static str {
        if self.is_current() {
            "在籍"
        } else {
            "退会"
        }
    }
}

/// The workplace kind (勤務先の種別).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WorkplaceKind {
    Hospital,
    Clinic,
    Other,
    None,
}

impl WorkplaceKind {
    pub const ALL: [WorkplaceKind; 4] = [
        WorkplaceKind::Hospital,
        WorkplaceKind::Clinic,
        WorkplaceKind::Other,
        WorkplaceKind::None,
    ];

    pub fn label(self) -> &'static str {
        match self {
            WorkplaceKind::Hospital => "病院",
            WorkplaceKind::Clinic => "診療所",
            WorkplaceKind::Other => "その他",
            WorkplaceKind::None => "勤務なし",
        }
    }

    pub fn key(self) -> &'static str {
        match self {
            WorkplaceKind::Hospital => "hospital",
            WorkplaceKind::Clinic => "clinic",
            WorkplaceKind::Other => "other",
            WorkplaceKind::None => "none",
        }
    }

    pub fn from_key(key: &str) -> Option<WorkplaceKind> {
        WorkplaceKind::ALL.into_iter().find(|k| k.key() == key)
    }
}

/// The workplace (勤務先) as the applicant gives it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Workplace {
    pub kind: WorkplaceKind,
    pub role: WorkRole,
    /// 医療機関名 (empty for 勤務なし).
    pub name: String,
    pub postal_code: String,
    pub address: String,
    pub phone: String,
}

impl Workplace {
    /// No workplace.
    pub fn none() -> Workplace {
        Workplace {
            kind: WorkplaceKind::None,
            role: WorkRole::NotWorking,
            name: String::new(),
            postal_code: String::new(),
            address: String::new(),
            phone: String::new(),
        }
    }

    /// The problems of the answers, as messages (empty when none): a
    /// workplace needs a name and an address; 勤務なし goes with no role
    /// but 勤務なし; 開設者・管理者 are of a 病院 or 診療所.
    pub fn problems(&self) -> Vec<String> {
        self.keyed_problems().into_iter().map(|(_, m)| m).collect()
    }

    /// [`Workplace::problems`], each with the field it is about, named as
    /// this struct's field (`kind`, `role`, `name`, `postal_code`,
    /// `address`, `phone`); a message about two fields goes with the first
    /// of them that is wrong.
    pub fn keyed_problems(&self) -> Vec<(&'static str, String)> {
        let mut out = Vec::new();
        let too_long = |s: &str, max: usize| s.chars().count() > max;
        match self.kind {
            WorkplaceKind::None => {
                if self.role != WorkRole::NotWorking {
                    out.push((
                        "role",
                        "勤務先がない場合、立場は「勤務なし」を選んでください。".to_owned(),
                    ));
                }
            }
            _ => {
                if self.name.trim().is_empty() {
                    out.push(("name", "勤務先の名称を入力してください。".to_owned()));
                }
                if self.address.trim().is_empty() {
                    out.push(("address", "勤務先の所在地を入力してください。".to_owned()));
                }
                if self.role == WorkRole::NotWorking {
                    out.push(("role", "勤務先での立場を選んでください。".to_owned()));
                }
            }
        }
        if matches!(self.role, WorkRole::Founder | WorkRole::Manager)
            && !matches!(self.kind, WorkplaceKind::Hospital | WorkplaceKind::Clinic)
        {
            out.push((
                "role",
                "開設者・管理者は病院または診療所の場合に選んでください。".to_owned(),
            ));
        }
        if too_long(&self.name, 100) || too_long(&self.address, 200) {
            let key = if too_long(&self.name, 100) {
                "name"
            } else {
                "address"
            };
            out.push((key, "勤務先の名称・所在地が長すぎます。".to_owned()));
        }
        if too_long(&self.postal_code, 10) || too_long(&self.phone, 20) {
            let key = if too_long(&self.postal_code, 10) {
                "postal_code"
            } else {
                "phone"
            };
            out.push((key, "勤務先の郵便番号・電話番号が長すぎます。".to_owned()));
        }
        out
    }

    /// One line for screens and the audit history.
    pub fn summary(&self) -> String {
        match self.kind {
            WorkplaceKind::None => "勤務なし".to_owned(),
            kind => format!(
                "{}（{}・{}） {} {} {}",
                self.name,
                kind.label(),
                self.role.label(),
                self.postal_code,
                self.address,
                self.phone
            )
            .trim_end()
            .to_owned(),
        }
    }
}

/// Where the associations' mail goes (送付先).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MailTo {
    Home,
    Work,
}

impl MailTo {
    pub fn label(self) -> &'static str {
        match self {
            MailTo::Home => "自宅",
            MailTo::Work => "勤務先",
        }
    }
}

/// Everything the procedures keep about one person besides the person's
/// record: the memberships (every one ever held, in the order they began),
/// the workplace, the 送付先 and the 医賠責 choice.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MemberFile {
    pub memberships: Vec<Membership>,
    pub workplace: Option<Workplace>,
    pub mail_to: MailTo,
    /// Out of 日医医賠責 (B / C classes).
    pub liability_opt_out: bool,
}

impl Default for MemberFile {
    fn default() -> Self {
        MemberFile {
            memberships: Vec::new(),
            workplace: None,
            mail_to: MailTo::Home,
            liability_opt_out: false,
        }
    }
}

impl MemberFile {
    /// The current membership at `level`, if any.
    pub fn current(&self, level: Level) -> Option<&Membership> {
        self.memberships
            .iter()
            .rev()
            .find(|m| m.level == level && m.is_current())
    }

    /// The current membership at `level`, to change it.
    pub fn current_mut(&mut self, level: Level) -> Option<&mut Membership> {
        self.memberships
            .iter_mut()
            .rev()
            .find(|m| m.level == level && m.is_current())
    }

    /// The levels held now, bottom-up.
    pub fn held(&self) -> Vec<Level> {
        Level::ALL
            .into_iter()
            .filter(|l| self.current(*l).is_some())
            .collect()
    }

    /// The district association of the current district membership.
    pub fn district(&self) -> Option<AssociationId> {
        self.current(Level::District).map(|m| m.association)
    }

    /// The JMA class the current answers give.
    pub fn derived_jma_class(&self) -> JmaClass {
        let role = self
            .workplace
            .as_ref()
            .map_or(WorkRole::NotWorking, |w| w.role);
        JmaClass::derive(role, self.liability_opt_out)
    }
}

/// The fiscal year (April–March) `date` falls in, named by the year it
/// begins in (2025-03-31 → 2024). Source: research notes §8 rule 11, [S15]
/// 大阪府医師会 (dues in periods 4–7, 8–11, 12–3 月), [S37] 日医生涯教育制度.
pub fn fiscal_year(date: Date) -> i32 {
    if u8::from(date.month()) >= 4 {
        date.year()
    } else {
        date.year() - 1
    }
}

/// True when JMA dues are reduced on `on` for a doctor who graduated in
/// `graduation` (year, month 1–12): up to the 5th year after graduation —
/// a March graduate for 5 fiscal years from the next April, an
/// April–February graduate from the fiscal year of graduation.
///
/// Source: research notes §2.3, [S32] 日医on-line 010750 (会費減免 卒後5年目まで,
/// 理事会 2022-07-26), [S33] ドクタラーゼ vol.44. The system flags who
/// qualifies; it does not bill.
pub fn dues_reduced(graduation_year: i32, graduation_month: u8, on: Date) -> bool {
    let Ok(month) = Month::try_from(graduation_month) else {
        return false;
    };
    let Ok(graduated) = Date::from_calendar_date(graduation_year, month, 1) else {
        return false;
    };
    let first = if month == Month::March {
        fiscal_year(graduated) + 1
    } else {
        fiscal_year(graduated)
    };
    let fy = fiscal_year(on);
    (first..first + 5).contains(&fy)
}

/// The length of the clinical training (臨床研修, 2 years; research notes
/// §2.2, [S2] 日医on-line 012126: "2年間の臨床研修を終え、C会員からB会員
/// 等へ").
pub const TRAINING_YEARS: i32 = 2;

/// True when a member of `class` whose clinical training began on
/// `training_start` is to be reminded, on `today`, to file the class
/// change: a 研修医 class (A②(C), C) once the 2 years have passed.
pub fn class_change_reminder_due(class: JmaClass, training_start: Date, today: Date) -> bool {
    if !class.is_trainee() {
        return false;
    }
    let end = training_start
        .replace_year(training_start.year() + TRAINING_YEARS)
        .or_else(|_| {
            // 29 February: the training ends on 1 March two years on.
            Date::from_calendar_date(training_start.year() + TRAINING_YEARS, Month::March, 1)
        });
    end.is_ok_and(|end| today >= end)
}

#[cfg(test)]
mod tests {
    use time::macros::date;

    use super::*;

    #[test]
    fn the_jma_class_is_derived_from_the_answers() {
        use JmaClass::*;
        use WorkRole::*;
        let table = [
            (Founder, false, A1),
            (Founder, true, A1),
            (Manager, false, A1),
            (Manager, true, A1),
            (Employed, false, A2B),
            (Employed, true, B),
            (NotWorking, false, A2B),
            (NotWorking, true, B),
            (Trainee, false, A2C),
            (Trainee, true, C),
        ];
        for (role, opt_out, class) in table {
            assert_eq!(JmaClass::derive(role, opt_out), class, "{role:?} {opt_out}");
        }
        for (class, insured) in [(A1, true), (A2B, true), (A2C, true), (B, false), (C, false)] {
            assert_eq!(class.has_liability_insurance(), insured, "{class:?}");
        }
    }

    #[test]
    fn dues_are_reduced_for_five_fiscal_years_after_graduation() {
        let table = [
            // March graduate: FY from the next April, five of them.
            (2020, 3, date!(2020 - 03 - 31), false),
            (2020, 3, date!(2020 - 04 - 01), true),
            (2020, 3, date!(2025 - 03 - 31), true),
            (2020, 3, date!(2025 - 04 - 01), false),
            // September graduate: from that fiscal year (FY2020).
            (2020, 9, date!(2020 - 04 - 01), true),
            (2020, 9, date!(2020 - 03 - 31), false),
            (2020, 9, date!(2025 - 03 - 31), true),
            (2020, 9, date!(2025 - 04 - 01), false),
            // April graduate: FY of graduation.
            (2020, 4, date!(2020 - 04 - 01), true),
            (2020, 4, date!(2025 - 04 - 01), false),
            // February graduate: the fiscal year began the April before.
            (2021, 2, date!(2020 - 04 - 01), true),
            (2021, 2, date!(2020 - 03 - 31), false),
            (2021, 2, date!(2025 - 03 - 31), true),
            (2021, 2, date!(2025 - 04 - 01), false),
            // Nonsense month.
            (2021, 13, date!(2021 - 04 - 01), false),
        ];
        for (y, m, on, reduced) in table {
            assert_eq!(dues_reduced(y, m, on), reduced, "{y}/{m} on {on}");
        }
        assert_eq!(fiscal_year(date!(2025 - 03 - 31)), 2024);
        assert_eq!(fiscal_year(date!(2025 - 04 - 01)), 2025);
    }

    #[test]
    fn trainees_are_reminded_of_the_class_change_after_two_years() {
        let start = date!(2024 - 04 - 01);
        let table = [
            (JmaClass::A2C, date!(2026 - 03 - 31), false),
            (JmaClass::A2C, date!(2026 - 04 - 01), true),
            (JmaClass::C, date!(2027 - 01 - 01), true),
            (JmaClass::B, date!(2027 - 01 - 01), false),
            (JmaClass::A2B, date!(2027 - 01 - 01), false),
            (JmaClass::A1, date!(2027 - 01 - 01), false),
        ];
        for (class, today, due) in table {
            assert_eq!(
                class_change_reminder_due(class, start, today),
                due,
                "{class:?} {today}"
            );
        }
        assert!(!class_change_reminder_due(
            JmaClass::C,
            date!(2024 - 02 - 29),
            date!(2026 - 02 - 28)
        ));
        assert!(class_change_reminder_due(
            JmaClass::C,
            date!(2024 - 02 - 29),
            date!(2026 - 03 - 01)
        ));
    }

    #[test]
    fn a_member_file_knows_the_levels_held_now() {
        let mut f = MemberFile::default();
        f.memberships.push(Membership::new(
            Level::District,
            AssociationId(50),
            date!(2020 - 04 - 01),
            "A".into(),
            None,
        ));
        f.memberships.push(Membership::new(
            Level::Prefecture,
            AssociationId(13),
            date!(2020 - 04 - 01),
            String::new(),
            None,
        ));
        assert_eq!(f.held(), [Level::District, Level::Prefecture]);
        if let Some(m) = f.current_mut(Level::Prefecture) {
            m.left = Some(date!(2021 - 03 - 31));
        }
        assert_eq!(f.held(), [Level::District]);
        assert_eq!(f.district(), Some(AssociationId(50)));
        let json = serde_json::to_string(&f).unwrap();
        assert!(json.contains("\"joined\":\"2020-04-01\""), "{json}");
        let back: MemberFile = serde_json::from_str(&json).unwrap();
        assert_eq!(back, f);
    }

    #[test]
    fn workplace_problems_name_their_fields() {
        let w = Workplace {
            kind: WorkplaceKind::Other,
            role: WorkRole::Founder,
            name: String::new(),
            postal_code: "1".repeat(11),
            address: "東京都".to_owned(),
            phone: String::new(),
        };
        let keys: Vec<&str> = w.keyed_problems().into_iter().map(|(k, _)| k).collect();
        assert_eq!(keys, ["name", "role", "postal_code"]);
        let plain: Vec<String> = w.keyed_problems().into_iter().map(|(_, m)| m).collect();
        assert_eq!(w.problems(), plain);
        assert!(Workplace::none().keyed_problems().is_empty());
    }
}
