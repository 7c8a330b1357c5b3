//! An association (医師会) and its place in the tree: 日本医師会 → 都道府県医師会 → 郡市区等医師会.

use serde::{Deserialize, Serialize};

use super::{AssociationId, PhoneNumber, PostalCode};

/// The association at the root of the tree.
pub const NATIONAL: &str = "日本医師会";

/// What level and kind of association it is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AssociationKind {
    /// 日本医師会, the root.
    National,
    /// 都道府県医師会, under 日本医師会.
    Prefectural,
    /// 郡市区医師会, under its prefecture.
    District,
    /// 大学医師会, under its prefecture.
    University,
    /// 職域医師会, under its prefecture.
    Workplace,
}

impl AssociationKind {
    /// The kinds added below a prefecture, by the names staff use
    /// (`郡市区`, `大学`, `職域`, also with `医師会` after them).
    pub fn parse_local(label: &str) -> Option<AssociationKind> {
        let label = label.trim();
        match label.strip_suffix("医師会").unwrap_or(label) {
            "郡市区" => Some(AssociationKind::District),
            "大学" => Some(AssociationKind::University),
            "職域" => Some(AssociationKind::Workplace),
            _ => None,
        }
    }

    /// The name shown on screens.
    pub fn label(self) -> &'static str {
        match self {
            AssociationKind::National => "日本医師会",
            AssociationKind::Prefectural => "都道府県医師会",
            AssociationKind::District => "郡市区医師会",
            AssociationKind::University => "大学医師会",
            AssociationKind::Workplace => "職域医師会",
        }
    }

    /// The kind an association under `parent` must have been given, if it
    /// may be placed there at all: prefectures under 日本医師会, the local
    /// kinds under a prefecture.
    pub fn fits_under(self, parent: AssociationKind) -> bool {
        match self {
            AssociationKind::National => false,
            AssociationKind::Prefectural => parent == AssociationKind::National,
            AssociationKind::District
            | AssociationKind::University
            | AssociationKind::Workplace => parent == AssociationKind::Prefectural,
        }
    }
}

/// One association of the tree.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Association {
    pub id: AssociationId,
    /// As the association writes its own name (e.g. 東京都医師会).
    pub name: String,
    pub kind: AssociationKind,
    /// None for 日本医師会 only.
    pub parent: Option<AssociationId>,
    /// Contact details (郵便番号, 住所, 電話番号), each optional; absent in
    /// records written before they were kept.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub postal_code: Option<PostalCode>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone: Option<PhoneNumber>,
    /// The association's own member classes (A会員, B会員; 甲種, 乙種, 丙種),
    /// set by its 管理者, in their order; absent (empty) in records written
    /// before they were kept.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub classes: Vec<String>,
}

impl Association {
    /// The contact details as one value.
    pub fn contact(&self) -> Contact {
        Contact {
            postal_code: self.postal_code.clone(),
            address: self.address.clone(),
            phone: self.phone.clone(),
        }
    }

    /// Replaces the contact details.
    pub fn set_contact(&mut self, contact: Contact) {
        self.postal_code = contact.postal_code;
        self.address = contact.address;
        self.phone = contact.phone;
    }
}

/// The most classes an association lists.
pub const CLASSES_MAX: usize = 20;
/// The longest class name.
pub const CLASS_MAX_CHARS: usize = 20;

/// An association's class list as typed: one class a line (or separated by
/// 、 or commas), blanks dropped; every problem in one message.
pub fn parse_classes(text: &str) -> Result<Vec<String>, String> {
    let mut out: Vec<String> = Vec::new();
    for c in text
        .split(['\n', '、', ',', '，'])
        .map(str::trim)
        .filter(|c| !c.is_empty())
    {
        if c.chars().any(char::is_control) {
            return Err("会員種別に使用できない文字が含まれています。".into());
        }
        if c.chars().count() > CLASS_MAX_CHARS {
            return Err(format!(
                "会員種別は1つ{CLASS_MAX_CHARS}文字以内で入力してください（{c}）。"
            ));
        }
        if out.iter().any(|o| o == c) {
            return Err(format!("会員種別「{c}」が重複しています。"));
        }
        out.push(c.to_owned());
    }
    if out.len() > CLASSES_MAX {
        return Err(format!("会員種別は{CLASSES_MAX}個までです。"));
    }
    Ok(out)
}

/// An association's contact details, each optional (parsed by
/// `association_form::ContactForm`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Contact {
    pub postal_code: Option<PostalCode>,
    pub address: Option<String>,
    pub phone: Option<PhoneNumber>,
}

/// The 47 prefectural associations' names, in JIS X 0401 order: the
/// prefecture's full name followed by 医師会 (東京都医師会, 大阪府医師会,
/// 京都府医師会, 北海道医師会, 青森県医師会, …).
///
/// Source: this is how each of the 47 writes its own name, as in 日本医師会's
/// list of 都道府県医師会 (https://www.med.or.jp/, 「都道府県医師会」); the
/// prefecture names come from `catalog/data/prefectures.tsv` (JIS X 0401).
/// Written 2026-12-02 from that rule, not re-checked against each
/// association's site one by one.
pub fn prefectural_names() -> Vec<String> {
    crate::catalog::prefectures()
        .iter()
        .map(|p| format!("{}医師会", p.name))
        .collect()
}

/// `root` and every association below it, found in `all` (the whole tree
/// or any part of it; an association whose parent is missing is simply not
/// reached).
pub fn subtree(root: AssociationId, all: &[Association]) -> Vec<AssociationId> {
    let mut found = vec![root];
    let mut next = 0;
    while next < found.len() {
        let parent = found[next];
        found.extend(
            all.iter()
                .filter(|a| a.parent == Some(parent) && !found.contains(&a.id))
                .map(|a| a.id)
                .collect::<Vec<_>>(),
        );
        next += 1;
    }
    found
}

/// `id` and every association above it, up to the root (a loop in a
/// damaged tree ends the walk).
pub fn ancestors_and_self(id: AssociationId, all: &[Association]) -> Vec<AssociationId> {
    let mut chain = vec![id];
    let mut current = id;
    while let Some(parent) = all.iter().find(|a| a.id == current).and_then(|a| a.parent) {
        if chain.contains(&parent) {
            break;
        }
        chain.push(parent);
        current = parent;
    }
    chain
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_class_list_is_read_line_by_line_or_by_commas_without_duplicates() {
        assert_eq!(
            parse_classes("A会員\r\n B会員 \n\n").unwrap(),
            vec!["A会員", "B会員"]
        );
        assert_eq!(
            parse_classes("甲種、乙種,丙種").unwrap(),
            vec!["甲種", "乙種", "丙種"]
        );
        assert_eq!(parse_classes("  ").unwrap(), Vec::<String>::new());
        assert!(parse_classes("A\nA").unwrap_err().contains("重複"));
        assert!(parse_classes(&"長".repeat(21)).is_err());
        assert!(
            parse_classes(
                &(0..21)
                    .map(|i| i.to_string())
                    .collect::<Vec<_>>()
                    .join("\n")
            )
            .is_err()
        );
    }

    fn a(id: u64, kind: AssociationKind, parent: Option<u64>) -> Association {
        Association {
            id: AssociationId(id),
            name: format!("医師会{id}"),
            kind,
            parent: parent.map(AssociationId),
            postal_code: None,
            address: None,
            phone: None,
            classes: Vec::new(),
        }
    }

    #[test]
    fn a_record_written_before_contact_details_reads_without_them() {
        let old = r#"{"id":5,"name":"新宿区医師会","kind":"district","parent":2}"#;
        let read: Association = serde_json::from_str(old).unwrap();
        assert_eq!(
            read,
            a(5, AssociationKind::District, Some(2)).renamed("新宿区医師会")
        );
        assert_eq!(read.contact(), Contact::default());
        // Written again without details, it keeps its old shape.
        assert_eq!(serde_json::to_string(&read).unwrap(), old);
    }

    impl Association {
        fn renamed(mut self, name: &str) -> Association {
            self.name = name.to_owned();
            self
        }
    }

    #[test]
    fn the_prefectural_names_are_the_prefectures_with_ishikai() {
        let names = prefectural_names();
        assert_eq!(names.len(), 47);
        for n in [
            "北海道医師会",
            "東京都医師会",
            "大阪府医師会",
            "京都府医師会",
            "沖縄県医師会",
        ] {
            assert!(names.iter().any(|x| x == n), "{n}");
        }
        assert_eq!(names[0], "北海道医師会");
    }

    #[test]
    fn a_subtree_holds_the_root_and_everything_below_it_only() {
        use AssociationKind::*;
        let all = [
            a(1, National, None),
            a(2, Prefectural, Some(1)),
            a(3, Prefectural, Some(1)),
            a(4, District, Some(2)),
            a(5, University, Some(2)),
            a(6, District, Some(3)),
        ];
        let ids = |v: Vec<AssociationId>| v.into_iter().map(|i| i.0).collect::<Vec<_>>();
        assert_eq!(ids(subtree(AssociationId(1), &all)), [1, 2, 3, 4, 5, 6]);
        assert_eq!(ids(subtree(AssociationId(2), &all)), [2, 4, 5]);
        assert_eq!(ids(subtree(AssociationId(4), &all)), [4]);
        assert_eq!(ids(ancestors_and_self(AssociationId(5), &all)), [5, 2, 1]);
        assert_eq!(ids(ancestors_and_self(AssociationId(1), &all)), [1]);
    }

    #[test]
    fn local_kinds_go_under_a_prefecture_and_prefectures_under_the_nation() {
        let district = AssociationKind::parse_local("郡市区").unwrap();
        assert!(district.fits_under(AssociationKind::Prefectural));
        assert!(!district.fits_under(AssociationKind::National));
        assert!(!district.fits_under(AssociationKind::District));
        assert!(AssociationKind::Prefectural.fits_under(AssociationKind::National));
        assert_eq!(AssociationKind::parse_local("県"), None);
        assert_eq!(
            AssociationKind::parse_local("大学医師会"),
            Some(AssociationKind::University)
        );
    }
}
