//! An announcement as typed by the office (システム管理者からのお知らせ), parsed
//! field by field: category, date, title, body, link (http/https or a path of
//! this site), publish-from and withdraw-at dates.

use crate::domain::{FieldError, FieldErrors};

/// The form's fields, as posted.
#[derive(Clone, Debug, Default, serde::Deserialize)]
pub struct AnnouncementForm {
    #[serde(default)]
    pub category: String,
    #[serde(default)]
    pub date: String,
    #[serde(default)]
    pub title: String,
    #[serde(default)]
    pub body: String,
    #[serde(default)]
    pub link: String,
    #[serde(default)]
    pub publish_from: String,
    #[serde(default)]
    pub withdraw_at: String,
}

/// An announcement whose fields passed their rules.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AnnouncementDraft {
    pub category: String,
    pub date: time::Date,
    pub title: Option<String>,
    pub body: String,
    pub link: Option<String>,
    pub publish_from: Option<time::Date>,
    pub withdraw_at: Option<time::Date>,
}

pub const CATEGORY_MAX: usize = 50;
pub const TITLE_MAX: usize = 100;
pub const BODY_MAX: usize = 2000;
pub const LINK_MAX: usize = 500;

fn err(errors: &mut FieldErrors, name: &'static str, label: &'static str, m: String) {
    errors.push(FieldError::new(name, label, m));
}

use crate::domain::has_forbidden_control as has_control;

fn one_line(
    raw: &str,
    name: &'static str,
    label: &'static str,
    max: usize,
    required: bool,
    errors: &mut FieldErrors,
) -> Option<String> {
    let v = raw.trim();
    if v.is_empty() {
        if required {
            err(errors, name, label, format!("{label}を入力してください。"));
        }
        return None;
    }
    if v.chars().count() > max || has_control(v, false) {
        err(
            errors,
            name,
            label,
            format!("{label}は改行を含めず{max}文字以内で入力してください。"),
        );
        return None;
    }
    Some(v.to_owned())
}

fn date(
    raw: &str,
    name: &'static str,
    label: &'static str,
    errors: &mut FieldErrors,
) -> Option<time::Date> {
    let v = raw.trim();
    if v.is_empty() {
        return None;
    }
    let parsed = time::Date::parse(v, time::macros::format_description!("[year]-[month]-[day]"));
    if parsed.is_err() {
        err(
            errors,
            name,
            label,
            format!("{label}は 2026-04-01 の形で入力してください。"),
        );
    }
    parsed.ok()
}

/// True for links the login page may show: `http://` or `https://` with a
/// host, or a path of this site (`/…`, not `//…`).
pub fn safe_link(link: &str) -> bool {
    let lower = link.to_ascii_lowercase();
    let web = ["https://", "http://"]
        .iter()
        .any(|p| lower.starts_with(p) && lower.len() > p.len());
    let path = link.starts_with('/') && !link.starts_with("//") && !link.starts_with("/\\");
    (web || path) && !link.chars().any(|c| c.is_whitespace() || c.is_control())
}

impl AnnouncementForm {
    /// Parses every field, collecting every error at once. `today` fills an
    /// empty date; `title_required` is false only when editing a record that
    /// has none (announcements made before titles existed).
    pub fn parse(
        &self,
        today: time::Date,
        title_required: bool,
    ) -> Result<AnnouncementDraft, FieldErrors> {
        let mut e = FieldErrors::default();
        let category = one_line(
            &self.category,
            "category",
            "分類",
            CATEGORY_MAX,
            true,
            &mut e,
        );
        let date_value = date(&self.date, "date", "日付", &mut e).unwrap_or(today);
        let title = one_line(
            &self.title,
            "title",
            "タイトル",
            TITLE_MAX,
            title_required,
            &mut e,
        );
        let body = self.body.trim().replace("\r\n", "\n");
        if body.is_empty() {
            err(&mut e, "body", "本文", "本文を入力してください。".into());
        } else if body.chars().count() > BODY_MAX || has_control(&body, true) {
            err(
                &mut e,
                "body",
                "本文",
                format!("本文は{BODY_MAX}文字以内で入力してください。"),
            );
        }
        let link = self.link.trim();
        let link = if link.is_empty() {
            None
        } else if link.chars().count() > LINK_MAX || !safe_link(link) {
            err(
                &mut e,
                "link",
                "リンク",
                "リンクは http:// または https:// で始まるURL、または / で始まるパスを入力してください。"
                    .into(),
            );
            None
        } else {
            Some(link.to_owned())
        };
        let publish_from = date(&self.publish_from, "publish_from", "掲載開始日", &mut e);
        let withdraw_at = date(&self.withdraw_at, "withdraw_at", "掲載終了日", &mut e);
        if let (Some(from), Some(until)) = (publish_from, withdraw_at)
            && until <= from
        {
            err(
                &mut e,
                "withdraw_at",
                "掲載終了日",
                "掲載終了日は掲載開始日より後の日付を入力してください。".into(),
            );
        }
        match category {
            Some(category) if e.is_empty() => Ok(AnnouncementDraft {
                category,
                date: date_value,
                title,
                body,
                link,
                publish_from,
                withdraw_at,
            }),
            _ => Err(e),
        }
    }
}

#[cfg(test)]
mod tests {
    use time::macros::date;

    use super::*;

    fn form() -> AnnouncementForm {
        AnnouncementForm {
            category: "お知らせ".into(),
            title: "メンテナンス".into(),
            body: "本文".into(),
            ..AnnouncementForm::default()
        }
    }

    #[test]
    fn links_are_web_addresses_or_paths_of_this_site() {
        for ok in [
            "https://www.med.or.jp/",
            "http://example.jp/a?b=1",
            "/inquiry",
        ] {
            assert!(safe_link(ok), "{ok}");
        }
        for bad in [
            "javascript:alert(1)",
            "//evil.example",
            "/\\evil",
            "https://",
            "ftp://x",
            "data:text/html,x",
            "https://a b",
        ] {
            assert!(!safe_link(bad), "{bad}");
        }
    }

    #[test]
    fn a_form_parses_with_today_as_the_default_date_and_collects_every_error() {
        let today = date!(2026 - 12 - 02);
        let d = form().parse(today, true).unwrap();
        assert_eq!((d.date, d.link, d.publish_from), (today, None, None));
        let bad = AnnouncementForm {
            category: String::new(),
            title: String::new(),
            link: "javascript:x".into(),
            publish_from: "2026-12-10".into(),
            withdraw_at: "2026-12-01".into(),
            ..form()
        };
        let e = bad.parse(today, true).unwrap_err();
        let names: Vec<&str> = e.names().collect();
        assert_eq!(names, ["category", "title", "link", "withdraw_at"]);
        let untitled = AnnouncementForm {
            title: String::new(),
            ..form()
        };
        assert_eq!(untitled.parse(today, false).unwrap().title, None);
    }
}
