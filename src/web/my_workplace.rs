//! The 勤務先 fieldset, its parser and its confirmation rows, shared by
//! 入会申込 and the 異動届 (記録の変更, 会員種別の変更), and the region
//! with the 日医 class the answers give (htmx).

use maud::{Markup, html};

use super::my_filing::{ProcErrors, field_message, pick};
use crate::{
    domain::membership::{JmaClass, WorkRole, Workplace, WorkplaceKind},
    views::components::{msg_id, required_mark},
};

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

/// The labels of the fields, as the summary and 確認 name them.
const LABELS: [&str; 6] = [
    "勤務先の種別",
    "勤務先での立場",
    "勤務先の名称",
    "勤務先の郵便番号",
    "勤務先の所在地",
    "勤務先の電話番号",
];

/// The label of the field with id `id`.
fn label_of(id: &str) -> &'static str {
    NAMES
        .iter()
        .position(|n| *n == id)
        .map_or("勤務先", |i| LABELS[i])
}

/// The id of the field of [`Workplace::keyed_problems`]'s `key`.
fn id_of(key: &str) -> &'static str {
    match key {
        "kind" => NAMES[0],
        "role" => NAMES[1],
        "name" => NAMES[2],
        "postal_code" => NAMES[3],
        "address" => NAMES[4],
        _ => NAMES[5],
    }
}

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

    /// The workplace, or none with the messages of what is wrong added to
    /// `errors`, each on its field.
    pub fn parse(&self, errors: &mut ProcErrors) -> Option<Workplace> {
        let kind = WorkplaceKind::from_key(&self.kind);
        let role = WorkRole::from_key(&self.role);
        let (Some(kind), Some(role)) = (kind, role) else {
            let id = if kind.is_none() { NAMES[0] } else { NAMES[1] };
            errors.insert(id, label_of(id), "勤務先の種別と立場を選んでください。");
            return None;
        };
        let w = Workplace {
            kind,
            role,
            name: self.name.clone(),
            postal_code: self.postal.clone(),
            address: self.address.clone(),
            phone: self.phone.clone(),
        };
        let problems = w.keyed_problems();
        if problems.is_empty() {
            return Some(w);
        }
        for (key, message) in problems {
            let id = id_of(key);
            errors.insert(id, label_of(id), message);
        }
        None
    }

    /// The rows of the confirmation.
    pub fn rows(&self) -> Vec<(String, String)> {
        let kind = WorkplaceKind::from_key(&self.kind).map_or("", |k| k.label());
        let role = WorkRole::from_key(&self.role).map_or("", |r| r.label());
        [
            kind.to_owned(),
            role.to_owned(),
            self.name.clone(),
            self.postal.clone(),
            self.address.clone(),
            self.phone.clone(),
        ]
        .into_iter()
        .zip(LABELS)
        .map(|(v, l)| (l.to_owned(), v))
        .collect()
    }
}

/// The 勤務先 fieldset, each field with its message region.
pub fn fieldset(f: &WorkplaceForm, errors: &ProcErrors) -> Markup {
    let [kind, role, name, postal, address, phone] = NAMES;
    let text =
        |id: &'static str, label: &str, required: bool, ty: &str, max: usize, value: &str| {
            html! {
                label for=(id) { (label) " " (required_mark(required)) }
                input id=(id) type=(ty) name=(id) maxlength=(max) value=(value)
                    aria-invalid=[errors.invalid(id)] aria-describedby=(msg_id(id));
                (field_message(errors, id))
            }
        };
    html! {
        fieldset.field {
            legend { "勤務先" }
            p.hint { "勤務先がない場合は、種別・立場とも「勤務なし」を選んでください（名称・所在地は不要です）。" }
            label for=(kind) { "種別 " (required_mark(true)) }
            select id=(kind) name=(kind) aria-invalid=[errors.invalid(kind)] aria-describedby=(msg_id(kind)) {
                @for k in WorkplaceKind::ALL { option value=(k.key()) selected[k.key() == f.kind] { (k.label()) } }
            }
            (field_message(errors, kind))
            label for=(role) { "立場 " (required_mark(true)) }
            select id=(role) name=(role) aria-invalid=[errors.invalid(role)] aria-describedby=(msg_id(role)) {
                @for r in WorkRole::ALL { option value=(r.key()) selected[r.key() == f.role || (f.role.is_empty() && r == WorkRole::Employed)] { (r.label()) } }
            }
            (field_message(errors, role))
            (text(name, "名称", true, "text", 100, &f.name))
            (text(postal, "郵便番号", false, "text", 10, &f.postal))
            (text(address, "所在地", true, "text", 200, &f.address))
            (text(phone, "電話番号", false, "tel", 20, &f.phone))
        }
    }
}

/// The region with the 日医 class the answers give; it asks again when
/// the form changes.
pub fn class_region(role: WorkRole, opt_out: bool) -> Markup {
    class_region_at(CLASS, role, opt_out)
}

/// The JMA class region answered by `endpoint` (マイページ's, or the
/// office's for 代行入力).
pub fn class_region_at(endpoint: &str, role: WorkRole, opt_out: bool) -> Markup {
    let class = JmaClass::derive(role, opt_out);
    html! {
        div #jma-class role="status" hx-post=(endpoint) hx-trigger="change from:closest form"
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_fieldset_marks_what_a_workplace_must_have() {
        let html = fieldset(&WorkplaceForm::default(), &ProcErrors::default()).into_string();
        let label = |id: &str| {
            let start = html
                .find(&format!("<label for=\"{id}\">"))
                .unwrap_or_else(|| panic!("no label for {id}"));
            let end = start + html[start..].find("</label>").expect("label end");
            html[start..end].to_owned()
        };
        let [kind, role, name, postal, address, phone] = NAMES;
        for required in [kind, role, name, address] {
            assert!(label(required).contains("必須"), "{}", label(required));
        }
        for optional in [postal, phone] {
            assert!(label(optional).contains("任意"), "{}", label(optional));
        }
        assert!(html.contains("「勤務なし」を選んでください"));
    }
}
