//! The 勤務先 fieldset, its parser and its confirmation rows, shared by
//! 入会申込 and the 異動届 (記録の変更, 会員種別の変更), and the region
//! with the 日医 class the answers give (htmx).

use maud::{Markup, html};

use super::my_filing::pick;
use crate::domain::membership::{JmaClass, WorkRole, Workplace, WorkplaceKind};

/// The htmx region with the derived 日医 class.
pub const CLASS: &str = "/mypage/applications/class";

/// The names of the fields, in form order.
pub const NAMES: [&str; 6] = [
    "wp_kind",
    "wp_role",
    "wp_name",
    "wp_postal",
    "wp_address",
    "wp_phone",
];

/// The 勤務先 as typed.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct WorkplaceForm {
    pub kind: String,
    pub role: String,
    pub name: String,
    pub postal: String,
    pub address: String,
    pub phone: String,
}

impl WorkplaceForm {
    pub fn from_pairs(pairs: &[(String, String)]) -> WorkplaceForm {
        let v = |n: &str| pick(pairs, n).trim().to_owned();
        WorkplaceForm {
            kind: v(NAMES[0]),
            role: v(NAMES[1]),
            name: v(NAMES[2]),
            postal: v(NAMES[3]),
            address: v(NAMES[4]),
            phone: v(NAMES[5]),
        }
    }

    /// The form showing a stored workplace.
    pub fn of(w: &Workplace) -> WorkplaceForm {
        WorkplaceForm {
            kind: w.kind.key().to_owned(),
            role: w.role.key().to_owned(),
            name: w.name.clone(),
            postal: w.postal_code.clone(),
            address: w.address.clone(),
            phone: w.phone.clone(),
        }
    }

    /// The values as (name, value) pairs, for hidden inputs.
    pub fn pairs(&self) -> Vec<(String, String)> {
        [
            &self.kind,
            &self.role,
            &self.name,
            &self.postal,
            &self.address,
            &self.phone,
        ]
        .into_iter()
        .zip(NAMES)
        .map(|(v, n)| (n.to_owned(), v.clone()))
        .collect()
    }

    /// The role chosen (勤務 until one is).
    pub fn role(&self) -> WorkRole {
        WorkRole::from_key(&self.role).unwrap_or(WorkRole::Employed)
    }

    /// The workplace, or the messages of what is wrong.
    pub fn parse(&self) -> Result<Workplace, Vec<String>> {
        let (Some(kind), Some(role)) = (
            WorkplaceKind::from_key(&self.kind),
            WorkRole::from_key(&self.role),
        ) else {
            return Err(vec!["勤務先の種別と立場を選んでください。".to_owned()]);
        };
        let w = Workplace {
            kind,
            role,
            name: self.name.clone(),
            postal_code: self.postal.clone(),
            address: self.address.clone(),
            phone: self.phone.clone(),
        };
        let problems = w.problems();
        if problems.is_empty() {
            Ok(w)
        } else {
            Err(problems)
        }
    }

    /// The rows of the confirmation.
    pub fn rows(&self) -> Vec<(String, String)> {
        let kind = WorkplaceKind::from_key(&self.kind).map_or("", |k| k.label());
        let role = WorkRole::from_key(&self.role).map_or("", |r| r.label());
        [
            ("勤務先の種別", kind.to_owned()),
            ("勤務先での立場", role.to_owned()),
            ("勤務先の名称", self.name.clone()),
            ("勤務先の郵便番号", self.postal.clone()),
            ("勤務先の所在地", self.address.clone()),
            ("勤務先の電話番号", self.phone.clone()),
        ]
        .into_iter()
        .map(|(l, v)| (l.to_owned(), v))
        .collect()
    }
}

/// The 勤務先 fieldset.
pub fn fieldset(f: &WorkplaceForm) -> Markup {
    html! {
        fieldset.field {
            legend { "勤務先" }
            label for="wp_kind" { "種別" }
            select #wp_kind name="wp_kind" {
                @for k in WorkplaceKind::ALL { option value=(k.key()) selected[k.key() == f.kind] { (k.label()) } }
            }
            label for="wp_role" { "立場" }
            select #wp_role name="wp_role" {
                @for r in WorkRole::ALL { option value=(r.key()) selected[r.key() == f.role || (f.role.is_empty() && r == WorkRole::Employed)] { (r.label()) } }
            }
            label for="wp_name" { "名称" }
            input #wp_name type="text" name="wp_name" maxlength="100" value=(f.name);
            label for="wp_postal" { "郵便番号" }
            input #wp_postal type="text" name="wp_postal" maxlength="10" value=(f.postal);
            label for="wp_address" { "所在地" }
            input #wp_address type="text" name="wp_address" maxlength="200" value=(f.address);
            label for="wp_phone" { "電話番号" }
            input #wp_phone type="tel" name="wp_phone" maxlength="20" value=(f.phone);
        }
    }
}

/// The region with the 日医 class the answers give; it asks again when
/// the form changes.
pub fn class_region(role: WorkRole, opt_out: bool) -> Markup {
    let class = JmaClass::derive(role, opt_out);
    html! {
        div #jma-class role="status" hx-post=(CLASS) hx-trigger="change from:closest form"
            hx-include="closest form" hx-swap="outerHTML" {
            p { "日医の会員種別（日医会員の場合）：" strong { (class.label()) } }
            p.hint {
                @if class.has_liability_insurance() { "日医医賠責保険が付きます。" }
                @else { "日医医賠責保険は付きません。" }
            }
        }
    }
}

/// The label of the 医賠責 answer.
pub fn opt_out_label(opt_out: bool) -> &'static str {
    if opt_out {
        "加入しない"
    } else {
        "加入する"
    }
}
