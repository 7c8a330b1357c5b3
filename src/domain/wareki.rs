//! 和暦: the five modern eras, for reading and showing dates.
//!
//! First days (Gregorian):
//!
//! | era  | letter | first day  |
//! |------|--------|------------|
//! | 明治 | M      | 1868-10-23 |
//! | 大正 | T      | 1912-07-30 |
//! | 昭和 | S      | 1926-12-25 |
//! | 平成 | H      | 1989-01-08 |
//! | 令和 | R      | 2019-05-01 |
//!
//! 明治: the era was proclaimed on 慶応4年9月8日, which is 1868-10-23 in the
//! Gregorian calendar, and that is the first day used here. (It was applied
//! retroactively to the start of that lunisolar year, 1868-01-25, and Japan
//! kept the lunisolar calendar until 明治5年12月2日 = 1872-12-31; neither is
//! modelled: 明治 dates are read as Gregorian.) The form accepts no date before
//! 1900 anyway, so only 明治33年 onwards is ever reached.
//!
//! A year-month is shown in the era in force on the first day of the month
//! (1989/01 is 昭和64年1月, 2019/05 is 令和元年5月); both eras of a month in
//! which the era changed are accepted when reading.

use time::Date;
use time::macros::date;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Era {
    /// 「平成」
    pub name: &'static str,
    /// `H` (also read in lower case)
    pub letter: char,
    /// The one-character form some IMEs produce (㍻).
    pub square: char,
    pub first_day: Date,
}

pub const ERAS: [Era; 5] = [
    Era {
        name: "明治",
        letter: 'M',
        square: '㍾',
        first_day: date!(1868 - 10 - 23),
    },
    Era {
        name: "大正",
        letter: 'T',
        square: '㍽',
        first_day: date!(1912 - 07 - 30),
    },
    Era {
        name: "昭和",
        letter: 'S',
        square: '㍼',
        first_day: date!(1926 - 12 - 25),
    },
    Era {
        name: "平成",
        letter: 'H',
        square: '㍻',
        first_day: date!(1989 - 01 - 08),
    },
    Era {
        name: "令和",
        letter: 'R',
        square: '㋿',
        first_day: date!(2019 - 05 - 01),
    },
];

impl Era {
    /// The last day of the era; `None` for the current one.
    pub fn last_day(&self) -> Option<Date> {
        ERAS.windows(2)
            .find(|w| w[0] == *self)
            .and_then(|w| w[1].first_day.previous_day())
    }

    /// The Gregorian year of year `era_year` of this era (元年 = 1).
    pub fn gregorian_year(&self, era_year: i32) -> i32 {
        self.first_day.year() + era_year - 1
    }

    /// The era year of a Gregorian year (1 for the year the era began).
    pub fn era_year(&self, gregorian_year: i32) -> i32 {
        gregorian_year - self.first_day.year() + 1
    }

    /// The era in force on `day`, if any.
    pub fn of(day: Date) -> Option<&'static Era> {
        ERAS.iter().rev().find(|e| e.first_day <= day)
    }

    /// Splits an era prefix (`平成`, `H`, `h`, `㍻`) off `s`.
    pub fn split_prefix(s: &str) -> Option<(&'static Era, &str)> {
        ERAS.iter().find_map(|era| {
            if let Some(rest) = s.strip_prefix(era.name) {
                return Some((era, rest));
            }
            let mut chars = s.chars();
            let first = chars.next()?;
            (first == era.square || first.to_ascii_uppercase() == era.letter)
                .then_some((era, chars.as_str()))
        })
    }

    /// 「平成7年」, 「令和元年」.
    pub fn year_text(&self, gregorian_year: i32) -> String {
        match self.era_year(gregorian_year) {
            1 => format!("{}元年", self.name),
            y => format!("{}{y}年", self.name),
        }
    }
}

/// 「平成7年5月1日」; empty before 明治.
pub fn format_date(day: Date) -> String {
    match Era::of(day) {
        Some(era) => format!(
            "{}{}月{}日",
            era.year_text(day.year()),
            u8::from(day.month()),
            day.day()
        ),
        None => String::new(),
    }
}

/// 「平成7年5月」, in the era of the month's first day; empty before 明治.
pub fn format_year_month(first_of_month: Date) -> String {
    match Era::of(first_of_month) {
        Some(era) => format!(
            "{}{}月",
            era.year_text(first_of_month.year()),
            u8::from(first_of_month.month())
        ),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn eras_follow_each_other_without_gaps() {
        assert_eq!(ERAS[3].last_day(), Some(date!(2019 - 04 - 30)));
        assert_eq!(ERAS[2].last_day(), Some(date!(1989 - 01 - 07)));
        assert_eq!(ERAS[4].last_day(), None);
        assert_eq!(Era::of(date!(1989 - 01 - 07)).map(|e| e.name), Some("昭和"));
        assert_eq!(Era::of(date!(1989 - 01 - 08)).map(|e| e.name), Some("平成"));
        assert_eq!(Era::of(date!(1868 - 10 - 22)), None);
    }

    #[test]
    fn formats_with_gannen() {
        assert_eq!(format_date(date!(1995 - 05 - 01)), "平成7年5月1日");
        assert_eq!(format_date(date!(2019 - 05 - 01)), "令和元年5月1日");
        assert_eq!(format_date(date!(2019 - 04 - 30)), "平成31年4月30日");
        assert_eq!(format_date(date!(1926 - 12 - 25)), "昭和元年12月25日");
        assert_eq!(format_date(date!(1926 - 12 - 24)), "大正15年12月24日");
        assert_eq!(format_date(date!(1900 - 01 - 01)), "明治33年1月1日");
        assert_eq!(format_date(date!(1800 - 01 - 01)), "");
        assert_eq!(format_year_month(date!(1989 - 01 - 01)), "昭和64年1月");
        assert_eq!(format_year_month(date!(2019 - 05 - 01)), "令和元年5月");
    }

    #[test]
    fn prefixes_in_every_spelling() {
        for (s, name, rest) in [
            ("平成7年", "平成", "7年"),
            ("H7.5.1", "平成", "7.5.1"),
            ("h7/5/1", "平成", "7/5/1"),
            ("㍻7", "平成", "7"),
            ("令和元年", "令和", "元年"),
            ("r1", "令和", "1"),
            ("㋿1", "令和", "1"),
            ("S42.3", "昭和", "42.3"),
            ("明治45", "明治", "45"),
            ("T1", "大正", "1"),
        ] {
            let got = Era::split_prefix(s).map(|(e, r)| (e.name, r));
            assert_eq!(got, Some((name, rest)), "{s}");
        }
        assert_eq!(Era::split_prefix("1995/5/1"), None);
        assert_eq!(Era::split_prefix("X7"), None);
        assert_eq!(Era::split_prefix(""), None);
    }
}
