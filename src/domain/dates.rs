//! Dates and year-months as Japanese people type them.
//!
//! Accepted (after full-width → half-width; white space ignored):
//! `1995/5/1`, `1995-05-01`, `1995.5.1`, `19950501`, `1995年5月1日`, and 和暦
//! with the era as kanji, letter or square character: `平成7年5月1日`,
//! `H7.5.1`, `h7/5/1`, `㍻7.5.1`, `令和元年5月1日`. Year-months: `1995/5`,
//! `199505`, `1995年5月`, `昭和42年3月`, `S42.3`; a full date typed in a
//! year-month field is read as its year-month.
//!
//! Refused with a message: unreadable text, days that do not exist (2月30日),
//! era years outside the era (平成32年, 平成31年5月1日, 令和元年4月30日), dates
//! before 1900, and, when "today" is given, dates in the future.
//!
//! Shown back as `1995/05/01` and `1995/05`, with [`Date::wareki`] and
//! [`YearMonth::wareki`] for the 和暦 beside them.

use serde::{Deserialize, Serialize};
use time::Month;

use super::wareki::{self, Era};
use crate::text::normalize_halfwidth_field;

/// The earliest year the form accepts.
const MIN_YEAR: i32 = 1900;

/// A calendar day, from 1900-01-01 on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(into = "String", try_from = "String")]
pub struct Date(time::Date);

/// A year and month, from 1900/01 on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(into = "String", try_from = "String")]
pub struct YearMonth {
    /// Always the first day of the month.
    first_day: time::Date,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Shape {
    Day,
    Month,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Problem {
    Missing,
    Format,
    /// A date field with only a year-month, or a year-month field with only a year.
    Incomplete,
    NoSuchDate,
    BeforeEra(&'static Era),
    AfterEra(&'static Era),
    TooEarly,
    Future,
}

impl Problem {
    fn message(self, label: &str, shape: Shape) -> String {
        let (noun, example) = match shape {
            Shape::Day => ("日付", "1995/05/01、平成7年5月1日"),
            Shape::Month => ("年月", "1995/03、平成7年3月"),
        };
        match self {
            Problem::Missing => super::rules::missing(label),
            Problem::Format => format!("{label}の形式が正しくありません（例：{example}）。"),
            Problem::Incomplete => match shape {
                Shape::Day => format!("{label}は日まで入力してください（例：{example}）。"),
                Shape::Month => format!("{label}は月まで入力してください（例：{example}）。"),
            },
            Problem::NoSuchDate => format!("存在しない{noun}です。"),
            Problem::BeforeEra(era) => {
                let from = match shape {
                    Shape::Day => wareki::format_date(era.first_day),
                    Shape::Month => wareki::format_year_month(era.first_day),
                };
                // 「令和元年5月1日」 → 「令和は元年5月1日からです」
                let from = from.strip_prefix(era.name).unwrap_or(&from).to_owned();
                format!("存在しない{noun}です（{}は{from}からです）。", era.name)
            }
            Problem::AfterEra(era) => {
                let until = match (era.last_day(), shape) {
                    (Some(last), Shape::Day) => wareki::format_date(last),
                    (Some(last), Shape::Month) => {
                        wareki::format_year_month(last.replace_day(1).unwrap_or(last))
                    }
                    (None, _) => String::new(),
                };
                let until = until.strip_prefix(era.name).unwrap_or(&until).to_owned();
                format!("存在しない{noun}です（{}は{until}までです）。", era.name)
            }
            Problem::TooEarly => format!("{MIN_YEAR}年以降の{noun}を入力してください。"),
            Problem::Future => format!("未来の{noun}は入力できません。"),
        }
    }
}

/// What was typed, before calendar checks.
struct Reading {
    era: Option<&'static Era>,
    year: i32,
    month: u32,
    day: Option<u32>,
}

struct Part {
    value: u32,
    len: usize,
    sep: Option<char>,
}

fn read(raw: &str) -> Result<Reading, Problem> {
    let s: String = normalize_halfwidth_field(raw)
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect();
    if s.is_empty() {
        return Err(Problem::Missing);
    }
    let (era, rest) = match Era::split_prefix(&s) {
        Some((era, rest)) => (Some(era), rest),
        None => (None, s.as_str()),
    };
    let parts = split_parts(rest, era.is_some())?;
    let number_ok = |p: &Part| (1..=2).contains(&p.len);
    let year_ok = |p: &Part| match era {
        Some(_) => (1..=3).contains(&p.len),
        None => p.len == 4,
    };
    let year = |p: &Part| -> Result<i32, Problem> {
        let value = i32::try_from(p.value).map_err(|_| Problem::Format)?;
        match era {
            Some(_) if value == 0 => Err(Problem::NoSuchDate),
            Some(era) => Ok(era.gregorian_year(value)),
            None => Ok(value),
        }
    };
    match parts.as_slice() {
        // 19950501, 199505 (western only)
        [p] if era.is_none() && p.sep.is_none() && p.len == 8 => Ok(Reading {
            era,
            year: (p.value / 10_000) as i32,
            month: p.value / 100 % 100,
            day: Some(p.value % 100),
        }),
        [p] if era.is_none() && p.sep.is_none() && p.len == 6 => Ok(Reading {
            era,
            year: (p.value / 100) as i32,
            month: p.value % 100,
            day: None,
        }),
        // A year alone: 「令和元年」, 「R1」, 「1995年」
        [p] if year_ok(p) && matches!(p.sep, None | Some('年')) => Err(Problem::Incomplete),
        [y, m] if year_ok(y) && number_ok(m) => Ok(Reading {
            era,
            year: year(y)?,
            month: m.value,
            day: None,
        }),
        [y, m, d] if year_ok(y) && number_ok(m) && number_ok(d) => Ok(Reading {
            era,
            year: year(y)?,
            month: m.value,
            day: Some(d.value),
        }),
        _ => Err(Problem::Format),
    }
}

/// Splits `7.5.1` / `7年5月1日` / `元年5月` into numbers and the separator after
/// each; checks that 年, 月, 日 stand in their places and that an ASCII
/// separator is always followed by a number.
fn split_parts(s: &str, era: bool) -> Result<Vec<Part>, Problem> {
    let mut parts: Vec<Part> = Vec::with_capacity(3);
    let mut value: u32 = 0;
    let mut len = 0usize;
    let mut gannen = false;
    for c in s.chars() {
        match c {
            '0'..='9' => {
                if gannen || len >= 8 {
                    return Err(Problem::Format);
                }
                value = value * 10 + c.to_digit(10).unwrap_or(0);
                len += 1;
            }
            '元' if era && parts.is_empty() && len == 0 && !gannen => gannen = true,
            '/' | '-' | '.' | '年' | '月' | '日' => {
                if gannen {
                    (value, len, gannen) = (1, 1, false);
                }
                if len == 0 || parts.len() == 3 {
                    return Err(Problem::Format);
                }
                parts.push(Part {
                    value,
                    len,
                    sep: Some(c),
                });
                (value, len) = (0, 0);
            }
            _ => return Err(Problem::Format),
        }
    }
    if gannen {
        (value, len) = (1, 1);
    }
    if len > 0 {
        if parts.len() == 3 {
            return Err(Problem::Format);
        }
        parts.push(Part {
            value,
            len,
            sep: None,
        });
    }
    let last = parts.len().saturating_sub(1);
    for (i, p) in parts.iter().enumerate() {
        let in_place = match p.sep {
            None => true,
            Some('年') => i == 0,
            Some('月') => i == 1,
            Some('日') => i == 2,
            Some(_) => i < last,
        };
        if !in_place {
            return Err(Problem::Format);
        }
    }
    Ok(parts)
}

fn month_of(n: u32) -> Result<Month, Problem> {
    u8::try_from(n)
        .ok()
        .and_then(|n| Month::try_from(n).ok())
        .ok_or(Problem::NoSuchDate)
}

fn to_day(r: &Reading, day: u32) -> Result<time::Date, Problem> {
    let day_u8 = u8::try_from(day).map_err(|_| Problem::NoSuchDate)?;
    let date = time::Date::from_calendar_date(r.year, month_of(r.month)?, day_u8)
        .map_err(|_| Problem::NoSuchDate)?;
    if let Some(era) = r.era {
        if date < era.first_day {
            return Err(Problem::BeforeEra(era));
        }
        if era.last_day().is_some_and(|last| date > last) {
            return Err(Problem::AfterEra(era));
        }
    }
    if date.year() < MIN_YEAR {
        return Err(Problem::TooEarly);
    }
    Ok(date)
}

fn to_month(r: &Reading) -> Result<time::Date, Problem> {
    if let Some(day) = r.day {
        return to_day(r, day).and_then(|d| d.replace_day(1).map_err(|_| Problem::NoSuchDate));
    }
    let month = month_of(r.month)?;
    let first =
        time::Date::from_calendar_date(r.year, month, 1).map_err(|_| Problem::NoSuchDate)?;
    let last_day = time::util::days_in_month(month, r.year);
    let last = first
        .replace_day(last_day)
        .map_err(|_| Problem::NoSuchDate)?;
    if let Some(era) = r.era {
        if last < era.first_day {
            return Err(Problem::BeforeEra(era));
        }
        if era.last_day().is_some_and(|end| first > end) {
            return Err(Problem::AfterEra(era));
        }
    }
    if first.year() < MIN_YEAR {
        return Err(Problem::TooEarly);
    }
    Ok(first)
}

impl Date {
    /// Parses a date typed in any of the accepted forms (full-width digits too).
    pub fn parse(s: &str) -> Result<Self, String> {
        Self::parse_as(s, "日付")
    }

    /// As [`Date::parse`], naming the field `label` in the messages.
    pub fn parse_as(s: &str, label: &str) -> Result<Self, String> {
        Self::read(s).map_err(|p| p.message(label, Shape::Day))
    }

    /// As [`Date::parse_as`], and not after `today`.
    pub fn parse_past(s: &str, label: &str, today: time::Date) -> Result<Self, String> {
        match Self::read(s) {
            Ok(d) if d.0 > today => Err(Problem::Future.message(label, Shape::Day)),
            other => other.map_err(|p| p.message(label, Shape::Day)),
        }
    }

    fn read(s: &str) -> Result<Self, Problem> {
        let r = read(s)?;
        match r.day {
            Some(day) => to_day(&r, day).map(Self),
            None => Err(Problem::Incomplete),
        }
    }

    pub fn get(self) -> time::Date {
        self.0
    }

    /// 「平成7年5月1日」
    pub fn wareki(&self) -> String {
        wareki::format_date(self.0)
    }

    pub fn year_month(self) -> YearMonth {
        YearMonth {
            first_day: self.0.replace_day(1).unwrap_or(self.0),
        }
    }
}

impl YearMonth {
    /// Parses a year-month typed in any of the accepted forms (a full date is
    /// read as its year-month).
    pub fn parse(s: &str) -> Result<Self, String> {
        Self::parse_as(s, "年月")
    }

    /// As [`YearMonth::parse`], naming the field `label` in the messages.
    pub fn parse_as(s: &str, label: &str) -> Result<Self, String> {
        Self::read(s).map_err(|(p, shape)| p.message(label, shape))
    }

    /// As [`YearMonth::parse_as`], and not after the month of `today`.
    pub fn parse_past(s: &str, label: &str, today: time::Date) -> Result<Self, String> {
        match Self::read(s) {
            Ok(ym) if ym.first_day > today => Err(Problem::Future.message(label, Shape::Month)),
            other => other.map_err(|(p, shape)| p.message(label, shape)),
        }
    }

    /// A problem with a full date typed here is told as one about a date.
    fn read(s: &str) -> Result<Self, (Problem, Shape)> {
        let r = read(s).map_err(|p| (p, Shape::Month))?;
        let shape = if r.day.is_some() {
            Shape::Day
        } else {
            Shape::Month
        };
        to_month(&r)
            .map(|first_day| Self { first_day })
            .map_err(|p| (p, shape))
    }

    pub fn year(self) -> i32 {
        self.first_day.year()
    }

    pub fn month(self) -> u8 {
        u8::from(self.first_day.month())
    }

    pub fn first_day(self) -> time::Date {
        self.first_day
    }

    /// 「平成7年5月」, in the era of the month's first day.
    pub fn wareki(&self) -> String {
        wareki::format_year_month(self.first_day)
    }
}

/// A date field's text as shown back: `YYYY/MM/DD` when it reads as a date,
/// otherwise the half-width-normalised text as typed.
pub(crate) fn normalize_date_text(s: &str) -> String {
    match Date::read(s) {
        Ok(d) => d.to_string(),
        Err(_) => normalize_halfwidth_field(s),
    }
}

/// A year-month field's text as shown back: `YYYY/MM` when it reads as one.
pub(crate) fn normalize_year_month_text(s: &str) -> String {
    match YearMonth::read(s) {
        Ok(ym) => ym.to_string(),
        Err(_) => normalize_halfwidth_field(s),
    }
}

impl std::fmt::Display for Date {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{:04}/{:02}/{:02}",
            self.0.year(),
            u8::from(self.0.month()),
            self.0.day()
        )
    }
}

impl std::fmt::Display for YearMonth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:04}/{:02}", self.year(), self.month())
    }
}

impl From<Date> for String {
    fn from(d: Date) -> String {
        d.to_string()
    }
}

impl TryFrom<String> for Date {
    type Error = String;
    fn try_from(s: String) -> Result<Self, String> {
        Self::parse(&s)
    }
}

impl From<YearMonth> for String {
    fn from(ym: YearMonth) -> String {
        ym.to_string()
    }
}

impl TryFrom<String> for YearMonth {
    type Error = String;
    fn try_from(s: String) -> Result<Self, String> {
        Self::parse(&s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    const TODAY: time::Date = date!(2024 - 10 - 30);

    fn day(s: &str) -> Result<String, String> {
        Date::parse_past(s, "生年月日", TODAY).map(|d| d.to_string())
    }

    fn month(s: &str) -> Result<String, String> {
        YearMonth::parse_past(s, "卒業年月", TODAY).map(|d| d.to_string())
    }

    #[test]
    fn dates_in_every_accepted_form() {
        let table = [
            ("1995/5/1", "1995/05/01"),
            ("1995/05/01", "1995/05/01"),
            ("1995-05-01", "1995/05/01"),
            ("1995.5.1", "1995/05/01"),
            ("19950501", "1995/05/01"),
            ("１９９５／５／１", "1995/05/01"),
            ("１９９５０５０１", "1995/05/01"),
            ("1995年5月1日", "1995/05/01"),
            ("1995年05月01日", "1995/05/01"),
            (" 1995 / 5 / 1 ", "1995/05/01"),
            ("平成7年5月1日", "1995/05/01"),
            ("平成７年５月１日", "1995/05/01"),
            ("H7.5.1", "1995/05/01"),
            ("h7/5/1", "1995/05/01"),
            ("Ｈ７．５．１", "1995/05/01"),
            ("H07.05.01", "1995/05/01"),
            ("㍻7年5月1日", "1995/05/01"),
            ("平成7.5.1", "1995/05/01"),
            ("令和元年5月1日", "2019/05/01"),
            ("R1.5.1", "2019/05/01"),
            ("R元.5.1", "2019/05/01"),
            ("令和6年10月30日", "2024/10/30"),
            ("昭和42年3月1日", "1967/03/01"),
            ("S42.3.1", "1967/03/01"),
            ("昭和64年1月7日", "1989/01/07"),
            ("平成元年1月8日", "1989/01/08"),
            ("平成31年4月30日", "2019/04/30"),
            ("大正15年12月24日", "1926/12/24"),
            ("昭和元年12月25日", "1926/12/25"),
            ("明治33年1月1日", "1900/01/01"),
            ("M45.7.29", "1912/07/29"),
            ("T1.7.30", "1912/07/30"),
            ("2000/2/29", "2000/02/29"),
            ("2024/2/29", "2024/02/29"),
            ("1900/1/1", "1900/01/01"),
        ];
        for (raw, want) in table {
            assert_eq!(day(raw), Ok(want.to_owned()), "{raw}");
        }
    }

    #[test]
    fn impossible_dates_are_refused_with_a_reason() {
        let no_such = || Err("存在しない日付です。".to_owned());
        let heisei_ended = || Err("存在しない日付です（平成は31年4月30日までです）。".to_owned());
        let reiwa_began = || Err("存在しない日付です（令和は元年5月1日からです）。".to_owned());
        let format = || {
            Err("生年月日の形式が正しくありません（例：1995/05/01、平成7年5月1日）。".to_owned())
        };
        let table = [
            ("1995/2/30", no_such()),
            ("1995/13/1", no_such()),
            ("1995/0/1", no_such()),
            ("1995/1/0", no_such()),
            ("1995/4/31", no_such()),
            ("2023/2/29", no_such()),
            ("1900/2/29", no_such()),
            ("平成0年1月1日", no_such()),
            ("平成7年2月30日", no_such()),
            ("平成32年1月1日", heisei_ended()),
            ("平成31年5月1日", heisei_ended()),
            ("H31.5.1", heisei_ended()),
            ("令和元年4月30日", reiwa_began()),
            ("R1.1.1", reiwa_began()),
            (
                "平成元年1月7日",
                Err("存在しない日付です（平成は元年1月8日からです）。".to_owned()),
            ),
            (
                "昭和64年1月8日",
                Err("存在しない日付です（昭和は64年1月7日までです）。".to_owned()),
            ),
            (
                "大正15年12月25日",
                Err("存在しない日付です（大正は15年12月24日までです）。".to_owned()),
            ),
            (
                "1899/12/31",
                Err("1900年以降の日付を入力してください。".to_owned()),
            ),
            (
                "明治32年1月1日",
                Err("1900年以降の日付を入力してください。".to_owned()),
            ),
            ("2024/10/31", Err("未来の日付は入力できません。".to_owned())),
            (
                "令和7年1月1日",
                Err("未来の日付は入力できません。".to_owned()),
            ),
            ("95/5/1", format()),
            ("1995/5/1/1", format()),
            ("1995//5/1", format()),
            ("1995/5/1/", format()),
            ("1995年5月1", Ok("1995/05/01".to_owned())),
            ("1995月5年1日", format()),
            ("1995/5/1日", Ok("1995/05/01".to_owned())),
            ("1995/5/123", format()),
            ("abc", format()),
            ("平成", format()),
            ("X7.5.1", format()),
            ("H元7.5.1", format()),
            ("1995５月1日x", format()),
            ("9999999999999999/1/1", format()),
            (
                "1995/5",
                Err(
                    "生年月日は日まで入力してください（例：1995/05/01、平成7年5月1日）。"
                        .to_owned(),
                ),
            ),
            (
                "令和元年",
                Err(
                    "生年月日は日まで入力してください（例：1995/05/01、平成7年5月1日）。"
                        .to_owned(),
                ),
            ),
            ("", Err("生年月日を入力してください。".to_owned())),
            ("　", Err("生年月日を入力してください。".to_owned())),
        ];
        for (raw, want) in table {
            assert_eq!(day(raw), want, "{raw}");
        }
    }

    #[test]
    fn year_months_in_every_accepted_form() {
        let table = [
            ("1967/3", "1967/03"),
            ("1967/03", "1967/03"),
            ("1967-03", "1967/03"),
            ("1967.3", "1967/03"),
            ("196703", "1967/03"),
            ("1967年3月", "1967/03"),
            ("１９６７年３月", "1967/03"),
            ("昭和42年3月", "1967/03"),
            ("S42.3", "1967/03"),
            ("s42/3", "1967/03"),
            ("令和元年5月", "2019/05"),
            ("R1.5", "2019/05"),
            ("平成31年4月", "2019/04"),
            ("昭和64年1月", "1989/01"),
            ("平成元年1月", "1989/01"),
            ("1967/03/31", "1967/03"),
            ("昭和42年3月31日", "1967/03"),
            ("2024/10", "2024/10"),
        ];
        for (raw, want) in table {
            assert_eq!(month(raw), Ok(want.to_owned()), "{raw}");
        }
    }

    #[test]
    fn impossible_year_months_are_refused() {
        let table = [
            ("1967/13", "存在しない年月です。"),
            ("1967/0", "存在しない年月です。"),
            (
                "平成32年1月",
                "存在しない年月です（平成は31年4月までです）。",
            ),
            (
                "平成31年5月",
                "存在しない年月です（平成は31年4月までです）。",
            ),
            (
                "令和元年4月",
                "存在しない年月です（令和は元年5月からです）。",
            ),
            (
                "昭和64年2月",
                "存在しない年月です（昭和は64年1月までです）。",
            ),
            (
                "平成31年5月1日",
                "存在しない日付です（平成は31年4月30日までです）。",
            ),
            ("1967/2/30", "存在しない日付です。"),
            (
                "令和元年4月1日",
                "存在しない日付です（令和は元年5月1日からです）。",
            ),
            ("2024/11", "未来の年月は入力できません。"),
            ("1899/12", "1900年以降の年月を入力してください。"),
            (
                "1967",
                "卒業年月は月まで入力してください（例：1995/03、平成7年3月）。",
            ),
            (
                "令和元年",
                "卒業年月は月まで入力してください（例：1995/03、平成7年3月）。",
            ),
            (
                "R1",
                "卒業年月は月まで入力してください（例：1995/03、平成7年3月）。",
            ),
            (
                "67/3",
                "卒業年月の形式が正しくありません（例：1995/03、平成7年3月）。",
            ),
            ("", "卒業年月を入力してください。"),
        ];
        for (raw, want) in table {
            assert_eq!(month(raw), Err(want.to_owned()), "{raw}");
        }
    }

    #[test]
    fn today_itself_is_not_the_future() {
        assert_eq!(day("2024/10/30"), Ok("2024/10/30".to_owned()));
        assert_eq!(month("2024/10"), Ok("2024/10".to_owned()));
        // Without "today" nothing is in the future.
        assert!(Date::parse("2999/1/1").is_ok());
    }

    #[test]
    fn wareki_is_shown_beside() {
        let d = Date::parse("1995/5/1").expect("valid");
        assert_eq!(d.wareki(), "平成7年5月1日");
        let d = Date::parse("2019/5/1").expect("valid");
        assert_eq!(d.wareki(), "令和元年5月1日");
        let ym = YearMonth::parse("1967/3").expect("valid");
        assert_eq!(ym.wareki(), "昭和42年3月");
        assert_eq!(
            Date::parse("1995/5/1").map(|d| d.year_month()),
            YearMonth::parse("1995/5")
        );
    }

    #[test]
    fn shown_back_normalised_or_as_typed() {
        assert_eq!(normalize_date_text("Ｈ７．５．１"), "1995/05/01");
        assert_eq!(normalize_date_text("平成32年1月1日"), "平成32年1月1日");
        assert_eq!(normalize_date_text("１９９５／２／３０"), "1995/2/30");
        assert_eq!(normalize_year_month_text("S42.3"), "1967/03");
        assert_eq!(normalize_year_month_text("S42"), "S42");
    }

    proptest::proptest! {
        #[test]
        fn date_like_text_never_panics_and_round_trips(
            s in "[0-9０-９/.．年月日元HhSsRrMTＨ平成令和昭明治大正㍻ 　-]{0,14}",
        ) {
            if let Ok(d) = Date::parse(&s) {
                proptest::prop_assert_eq!(Date::parse(&d.to_string()), Ok(d));
            }
            if let Ok(ym) = YearMonth::parse(&s) {
                proptest::prop_assert_eq!(YearMonth::parse(&ym.to_string()), Ok(ym));
            }
            let once = normalize_date_text(&s);
            proptest::prop_assert_eq!(normalize_date_text(&once), once.clone());
            let once = normalize_year_month_text(&s);
            proptest::prop_assert_eq!(normalize_year_month_text(&once), once.clone());
        }
    }

    #[test]
    fn serialises_as_shown() {
        let d = Date::parse("1995/5/1").expect("valid");
        assert_eq!(
            serde_json::to_string(&d).ok(),
            Some("\"1995/05/01\"".to_owned())
        );
        let back: Result<Date, _> = serde_json::from_str("\"1995/05/01\"");
        assert_eq!(back.ok(), Some(d));
        let ym = YearMonth::parse("1967/3").expect("valid");
        assert_eq!(
            serde_json::to_string(&ym).ok(),
            Some("\"1967/03\"".to_owned())
        );
        let back: Result<YearMonth, _> = serde_json::from_str("\"1967/03\"");
        assert_eq!(back.ok(), Some(ym));
        assert!(serde_json::from_str::<Date>("\"1995/02/30\"").is_err());
    }
}
