//! The CSV import of 郡市区等医師会: reading the file (UTF-8 with or without BOM, else Shift_JIS/CP932), the dry run line by line, and the import of every new line in one write transaction or nothing.
//!
//! The file's header is `名称,種別,都道府県,郵便番号,住所,電話番号`. Each
//! line is checked as the console's form is (same parsers, same
//! messages), then against the tree: the prefecture must be one the
//! 管理者 may add under, a name already registered within the scope is
//! 登録済み and skipped (so a file imported twice adds nothing the second
//! time), a name used elsewhere or twice in the file is refused. The
//! import checks everything again inside its write transaction.

use crate::{
    auth::guards::Staff,
    domain::{
        association::Association,
        association_form::{self as form, ContactForm, NewAssociation},
    },
    store::{
        Store,
        associations::{self, AddRefusal},
        audit::{self, AuditEntry, AuditKind, Target},
    },
};

use super::associations::{addable_parents, added_changes};

/// The header every file starts with.
pub const HEADER: [&str; 6] = ["名称", "種別", "都道府県", "郵便番号", "住所", "電話番号"];
/// The most lines one file may hold.
pub const MAX_LINES: usize = 2000;

/// The file's text and the encoding it was read in.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Decoded {
    pub text: String,
    pub encoding: &'static str,
}

/// Reads the file's bytes: valid UTF-8 is UTF-8 (a BOM is dropped);
/// anything else is read as Shift_JIS (CP932, as Excel saves it). `None`
/// when neither reads cleanly.
pub fn decode(bytes: &[u8]) -> Option<Decoded> {
    if let Ok(text) = std::str::from_utf8(bytes) {
        return Some(Decoded {
            text: text.strip_prefix('\u{feff}').unwrap_or(text).to_owned(),
            encoding: "UTF-8",
        });
    }
    let (text, had_errors) = encoding_rs::SHIFT_JIS.decode_without_bom_handling(bytes);
    if had_errors {
        return None;
    }
    Some(Decoded {
        text: text.into_owned(),
        encoding: "Shift_JIS",
    })
}

/// What the import would do with one line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Added under this prefectural association.
    Add { parent: String },
    /// The name is registered already (within the scope): skipped.
    Registered,
    /// Refused, with every reason.
    Refused(Vec<String>),
}

/// One line of the file and its outcome.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Line {
    /// The line number in the file (the header is line 1).
    pub line: u64,
    pub name: String,
    pub kind: String,
    pub prefecture: String,
    pub outcome: Outcome,
}

/// The dry run of a file.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Plan {
    pub lines: Vec<Line>,
    /// What makes the whole file unreadable (wrong header, bad CSV).
    pub problem: Option<String>,
}

impl Plan {
    fn problem(message: impl Into<String>) -> Plan {
        Plan {
            lines: Vec::new(),
            problem: Some(message.into()),
        }
    }

    /// Lines that would be added.
    pub fn to_add(&self) -> usize {
        self.count(|o| matches!(o, Outcome::Add { .. }))
    }

    /// Lines refused.
    pub fn refused(&self) -> usize {
        self.count(|o| matches!(o, Outcome::Refused(_)))
    }

    /// Lines skipped as 登録済み.
    pub fn registered(&self) -> usize {
        self.count(|o| matches!(o, Outcome::Registered))
    }

    fn count(&self, f: impl Fn(&Outcome) -> bool) -> usize {
        self.lines.iter().filter(|l| f(&l.outcome)).count()
    }

    /// True when the file can be imported: readable, nothing refused,
    /// something to add.
    pub fn importable(&self) -> bool {
        self.problem.is_none() && self.refused() == 0 && self.to_add() > 0
    }
}

/// A line as read, before it is checked.
struct Row {
    line: u64,
    fields: Vec<String>,
}

/// The line number of a record: counted from its byte offset, since the
/// reader's own line count leaves out blank lines (and the offset points
/// before the blank lines the reader skipped).
fn line_at(text: &str, position: Option<&csv::Position>) -> u64 {
    let bytes = text.as_bytes();
    let mut byte = position.map_or(0, |p| usize::try_from(p.byte()).unwrap_or(usize::MAX));
    while bytes.get(byte).is_some_and(|b| matches!(b, b'\r' | b'\n')) {
        byte += 1;
    }
    let before = bytes.get(..byte).unwrap_or(bytes);
    let newlines = before.iter().filter(|b| **b == b'\n').count();
    u64::try_from(newlines)
        .unwrap_or(u64::MAX)
        .saturating_add(1)
}

/// Splits the text into rows after checking the header.
fn rows(text: &str) -> Result<Vec<Row>, String> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .flexible(true)
        .from_reader(text.as_bytes());
    let header = reader
        .headers()
        .map_err(|_| "ファイルをCSVとして読み取れませんでした。".to_owned())?;
    let header: Vec<&str> = header.iter().map(str::trim).collect();
    if header != HEADER {
        return Err(format!(
            "1行目（見出し）は「{}」にしてください。テンプレートをご利用ください。",
            HEADER.join(",")
        ));
    }
    let mut out = Vec::new();
    for record in reader.records() {
        let record = record.map_err(|e| {
            let line = line_at(text, e.position());
            format!("{line}行目をCSVとして読み取れませんでした。")
        })?;
        if record.iter().all(|f| f.trim().is_empty()) {
            continue;
        }
        if out.len() >= MAX_LINES {
            return Err(format!(
                "一度に取り込めるのは{MAX_LINES}行までです。ファイルを分けてください。"
            ));
        }
        out.push(Row {
            line: line_at(text, record.position()),
            fields: record.iter().map(str::to_owned).collect(),
        });
    }
    if out.is_empty() {
        return Err("取り込む行がありません。".to_owned());
    }
    Ok(out)
}

/// A line checked: its outcome, and what to add when it is added.
fn check(
    row: &Row,
    all: &[Association],
    parents: &[Association],
    staff: &Staff,
    seen: &mut Vec<(String, u64)>,
) -> (Line, Option<(NewAssociation, Association)>) {
    let field = |i: usize| row.fields.get(i).map_or("", String::as_str);
    let mut line = Line {
        line: row.line,
        name: field(0).trim().to_owned(),
        kind: field(1).trim().to_owned(),
        prefecture: field(2).trim().to_owned(),
        outcome: Outcome::Registered,
    };
    if row.fields.len() != HEADER.len() {
        line.outcome = Outcome::Refused(vec![format!(
            "列の数が正しくありません（{}列必要です）。",
            HEADER.len()
        )]);
        return (line, None);
    }
    let contact = ContactForm {
        postal_code: field(3).to_owned(),
        address: field(4).to_owned(),
        phone: field(5).to_owned(),
    };
    let mut reasons = Vec::new();
    let new = form::parse_new(field(0), field(1), &contact)
        .map_err(|errors| reasons.extend(errors.iter().map(|e| e.message.clone())))
        .ok();
    let parent = match form::prefectural_name(field(2)) {
        Ok(name) => match parents.iter().find(|p| p.name == name) {
            Some(p) => Some(p.clone()),
            None => {
                reasons.push(format!(
                    "{name}の下には追加できません（権限の範囲外か、未登録の都道府県医師会です）。"
                ));
                None
            }
        },
        Err(m) => {
            reasons.push(m);
            None
        }
    };
    if let Some(new) = &new {
        line.name.clone_from(&new.name);
        if let Some((_, first)) = seen.iter().find(|(n, _)| *n == new.name) {
            reasons.push(format!("同じ名称が{first}行目にもあります。"));
        } else {
            seen.push((new.name.clone(), row.line));
        }
    }
    if !reasons.is_empty() {
        line.outcome = Outcome::Refused(reasons);
        return (line, None);
    }
    let (Some(new), Some(parent)) = (new, parent) else {
        line.outcome = Outcome::Refused(vec!["取り込めない行です。".to_owned()]);
        return (line, None);
    };
    if let Some(existing) = all.iter().find(|a| a.name == new.name) {
        line.outcome = if staff.scope(all).allows(existing.id) {
            Outcome::Registered
        } else {
            Outcome::Refused(vec![NAME_USED_ELSEWHERE.to_owned()])
        };
        return (line, None);
    }
    line.outcome = Outcome::Add {
        parent: parent.name.clone(),
    };
    (line, Some((new, parent)))
}

/// A name that exists outside the scope (names are unique in the tree).
const NAME_USED_ELSEWHERE: &str = "この名称は他の医師会で使われています。";

/// The plan of `text` against the tree `all`, and what it would add.
fn plan_of(
    text: &str,
    all: &[Association],
    staff: &Staff,
) -> (Plan, Vec<(NewAssociation, Association)>) {
    let rows = match rows(text) {
        Ok(rows) => rows,
        Err(m) => return (Plan::problem(m), Vec::new()),
    };
    let parents = addable_parents(staff, all);
    let mut seen = Vec::new();
    let mut plan = Plan::default();
    let mut adds = Vec::new();
    for row in &rows {
        let (line, add) = check(row, all, &parents, staff, &mut seen);
        plan.lines.push(line);
        adds.extend(add);
    }
    (plan, adds)
}

/// The dry run: what importing `text` would do, nothing written.
pub async fn dry_run(store: &Store, staff: &Staff, text: String) -> anyhow::Result<Plan> {
    let staff_member = staff.clone();
    store
        .read(move |tx| {
            let all = associations::all(tx)?;
            Ok(plan_of(&text, &all, &staff_member).0)
        })
        .await
}

/// Imports `text`: every line to add, with its audit entry, in one write
/// transaction, after checking the whole file again inside it. The number
/// added, or the plan when anything is refused (nothing is written then).
pub async fn import(
    store: &Store,
    staff: &Staff,
    text: String,
) -> anyhow::Result<Result<usize, Plan>> {
    let staff_member = staff.clone();
    store
        .write(move |tx| {
            let all = associations::all_in_write(tx)?;
            let (plan, adds) = plan_of(&text, &all, &staff_member);
            if !plan.importable() {
                return Ok(Err(plan));
            }
            let mut added = 0;
            for (new, parent) in adds {
                let a =
                    match associations::add_under(tx, parent.id, &new.name, new.kind, new.contact)?
                    {
                        Ok(a) => a,
                        Err(AddRefusal::Duplicate) => {
                            // Checked above; a duplicate here means the plan
                            // and the store disagree: give the plan back.
                            return Ok(Err(plan));
                        }
                        Err(AddRefusal::UnknownParent | AddRefusal::WrongLevel { .. }) => {
                            return Ok(Err(plan));
                        }
                    };
                audit::record(
                    tx,
                    AuditEntry::new(AuditKind::AssociationAdded)
                        .actor(staff_member.account.id)
                        .target(Target::Association(a.id), Some(a.id))
                        .changes(added_changes(&a, &parent.name))
                        .detail(format!(
                            "{} ({}) under {} (CSV import)",
                            a.name,
                            a.kind.label(),
                            parent.name
                        )),
                )?;
                added += 1;
            }
            Ok(Ok(added))
        })
        .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utf8_with_or_without_bom_and_shift_jis_are_read() {
        let text = "名称,種別\n新宿区医師会,郡市区\n";
        let plain = decode(text.as_bytes()).unwrap();
        assert_eq!((plain.text.as_str(), plain.encoding), (text, "UTF-8"));
        let bom = decode(format!("\u{feff}{text}").as_bytes()).unwrap();
        assert_eq!(bom.text, text);
        let (sjis, _, _) = encoding_rs::SHIFT_JIS.encode(text);
        let read = decode(&sjis).unwrap();
        assert_eq!((read.text.as_str(), read.encoding), (text, "Shift_JIS"));
        assert_eq!(decode(&[0x82, 0xff, 0xff]), None);
    }

    #[test]
    fn the_header_must_be_the_template_s() {
        assert!(rows("名前,種別\nA,B\n").is_err());
        let lf_first = rows(
            "名称,種別,都道府県,郵便番号,住所,電話番号\nA,郡市区,東京都,,,\n\nB,郡市区,東京都,,,\n",
        )
        .unwrap();
        assert_eq!(lf_first.iter().map(|r| r.line).collect::<Vec<_>>(), [2, 4]);
        let ok = rows("名称,種別,都道府県,郵便番号,住所,電話番号\r\n\r\nA,郡市区,東京都,,,\r\n")
            .unwrap();
        assert_eq!(ok.len(), 1);
        assert_eq!(ok[0].line, 3);
        assert!(rows("名称,種別,都道府県,郵便番号,住所,電話番号\n").is_err());
    }
}
