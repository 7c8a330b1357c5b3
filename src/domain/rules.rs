//! Small helpers shared by the field parsers: message shapes and character
//! classes.

use crate::text::is_fullwidth;

/// 「〇〇を入力してください。」
pub(crate) fn missing(label: &str) -> String {
    format!("{label}を入力してください。")
}

/// 「〇〇を選択してください。」 (for fields chosen from a list)
pub(crate) fn not_chosen(label: &str) -> String {
    format!("{label}を選択してください。")
}

pub(crate) fn char_count(s: &str) -> usize {
    s.chars().count()
}

/// Every character full-width and at most `max` of them.
pub(crate) fn is_fullwidth_within(s: &str, max: usize) -> bool {
    s.chars().all(is_fullwidth) && char_count(s) <= max
}

/// Control characters (newlines, tabs, NUL…) have no place in a one-line field.
pub(crate) fn has_control(s: &str) -> bool {
    s.chars().any(char::is_control)
}

/// Control characters refused in free text (C0, DEL, C1); a multi-line field
/// allows the newline and the tab. Carriage returns are expected to have been
/// folded into newlines before (`\r\n` → `\n`).
pub fn has_forbidden_control(s: &str, multiline: bool) -> bool {
    s.chars()
        .any(|c| c.is_control() && !(multiline && matches!(c, '\n' | '\t')))
}

/// The message for a free-text field holding control characters.
pub fn control_message(label: &str) -> String {
    format!("{label}に使用できない文字（制御文字）が含まれています。入力し直してください。")
}

/// In fields made of digits and hyphens only (postal codes, phone numbers),
/// every dash look-alike a Japanese IME produces means the hyphen.
pub(crate) fn unify_hyphens(s: &str) -> String {
    s.chars()
        .map(|c| match c {
            '\u{2010}'..='\u{2015}' | '\u{2212}' | '\u{FF0D}' | '\u{30FC}' | '\u{FF70}' => '-',
            _ => c,
        })
        .collect()
}

/// Shortens text quoted back in a message.
pub(crate) fn quote(s: &str) -> String {
    const MAX: usize = 20;
    if char_count(s) <= MAX {
        s.to_owned()
    } else {
        let mut out: String = s.chars().take(MAX).collect();
        out.push('…');
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hyphen_lookalikes_become_hyphens() {
        assert_eq!(unify_hyphens("090ー1234−5678"), "090-1234-5678");
        assert_eq!(unify_hyphens("113‐8621"), "113-8621");
        assert_eq!(unify_hyphens("113ｰ8621"), "113-8621");
    }

    #[test]
    fn fullwidth_within_counts_characters_not_bytes() {
        assert!(is_fullwidth_within("日医", 2));
        assert!(!is_fullwidth_within("日医太", 2));
        assert!(!is_fullwidth_within("日医A", 5));
    }

    #[test]
    fn control_characters_are_found_except_line_breaks_in_multi_line_text() {
        for bad in ["a\0b", "a\u{1b}[31m", "a\u{7f}", "a\u{85}", "a\u{9b}"] {
            assert!(has_forbidden_control(bad, true), "{bad:?}");
            assert!(has_forbidden_control(bad, false), "{bad:?}");
        }
        assert!(!has_forbidden_control("一行目\n\t二行目", true));
        assert!(has_forbidden_control("一行目\n二行目", false));
        assert!(has_forbidden_control("a\rb", true));
        assert!(!has_forbidden_control("東京都文京区 本駒込2-28-16", false));
    }

    #[test]
    fn long_quotes_are_shortened() {
        assert_eq!(quote("短い"), "短い");
        assert_eq!(quote(&"あ".repeat(25)), format!("{}…", "あ".repeat(20)));
    }
}
