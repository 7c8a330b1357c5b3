//! Width and kana conversions for Japanese input.
//!
//! Only unambiguous conversions live here: full-width ASCII to half-width,
//! half-width katakana to full-width (dakuten composed), hiragana to katakana.
//! No blanket NFKC: it would rewrite characters such as ㈱, ① or compatibility
//! ideographs that people type on purpose in their names.

use unicode_normalization::UnicodeNormalization;

/// Full-width ASCII (U+FF01–U+FF5E) and the ideographic space become their
/// half-width forms; every other character is left as it is.
pub fn to_halfwidth_ascii(s: &str) -> String {
    s.chars().map(halfwidth_ascii_char).collect()
}

fn halfwidth_ascii_char(c: char) -> char {
    match c {
        '\u{FF01}'..='\u{FF5E}' => char::from_u32(c as u32 - 0xFEE0).unwrap_or(c),
        '\u{3000}' => ' ',
        _ => c,
    }
}

fn is_halfwidth_katakana(c: char) -> bool {
    ('\u{FF61}'..='\u{FF9F}').contains(&c)
}

/// Half-width katakana (and half-width Japanese punctuation, U+FF61–U+FF9F)
/// become full-width, with voiced marks composed (`ｶﾞ` → `ガ`). Everything
/// else is left as it is.
pub fn halfwidth_kana_to_fullwidth(s: &str) -> String {
    if !s.chars().any(is_halfwidth_katakana) {
        return s.to_owned();
    }
    let mut out = String::with_capacity(s.len());
    let mut run = String::new();
    for c in s.chars() {
        if is_halfwidth_katakana(c) {
            run.push(c);
        } else {
            flush_kana_run(&mut run, &mut out);
            out.push(c);
        }
    }
    flush_kana_run(&mut run, &mut out);
    out
}

fn flush_kana_run(run: &mut String, out: &mut String) {
    if !run.is_empty() {
        // NFKC maps half-width katakana to full-width and composes the voiced
        // marks; it is applied to these characters only.
        out.extend(run.nfkc());
        run.clear();
    }
}

/// Hiragana (U+3041–U+3096, and the iteration marks ゝゞ) become katakana.
pub fn hiragana_to_katakana(s: &str) -> String {
    s.chars()
        .map(|c| match c {
            '\u{3041}'..='\u{3096}' | '\u{309D}' | '\u{309E}' => {
                char::from_u32(c as u32 + 0x60).unwrap_or(c)
            }
            _ => c,
        })
        .collect()
}

/// Characters that look like the long-vowel mark and that people type in its
/// place in kana fields: hyphen-minus, minus sign, hyphens and dashes.
fn is_long_vowel_lookalike(c: char) -> bool {
    matches!(
        c,
        '-' | '\u{2010}'
            | '\u{2011}'
            | '\u{2012}'
            | '\u{2013}'
            | '\u{2014}'
            | '\u{2015}'
            | '\u{2212}'
            | '\u{FF0D}'
            | '\u{FF70}'
            | '\u{30FC}'
    )
}

/// Normalises a katakana field (フリガナ): half-width katakana and hiragana
/// become full-width katakana, long-vowel look-alikes become `ー`, the
/// surrounding white space is trimmed. Nothing else changes.
pub fn normalize_katakana_field(s: &str) -> String {
    let s = halfwidth_kana_to_fullwidth(s.trim());
    hiragana_to_katakana(&s)
        .chars()
        .map(|c| if is_long_vowel_lookalike(c) { 'ー' } else { c })
        .collect::<String>()
        .trim_matches(|c: char| c.is_whitespace())
        .to_owned()
}

/// Normalises a half-width field (IDs, numbers, dates, e-mail): full-width
/// ASCII becomes half-width and surrounding white space is trimmed.
pub fn normalize_halfwidth_field(s: &str) -> String {
    to_halfwidth_ascii(s).trim().to_owned()
}

/// Normalises a full-width text field (names, school names): half-width
/// katakana becomes full-width and surrounding white space is trimmed.
pub fn normalize_fullwidth_field(s: &str) -> String {
    halfwidth_kana_to_fullwidth(s.trim()).trim().to_owned()
}

/// A key for partial-match search that ignores width, case, hiragana versus
/// katakana, the long-vowel look-alikes and white space. Use it on both the
/// catalogue entry and the query, then compare with `contains`.
pub fn search_key(s: &str) -> String {
    let s = to_halfwidth_ascii(s);
    let s = halfwidth_kana_to_fullwidth(&s);
    hiragana_to_katakana(&s)
        .chars()
        .filter(|c| !c.is_whitespace() && !matches!(c, '・' | '･'))
        .map(|c| if is_long_vowel_lookalike(c) { 'ー' } else { c })
        .flat_map(char::to_lowercase)
        .collect()
}

/// Variant characters of people's names and the everyday form a person
/// types in their place: 髙/高, 﨑/崎, 邊/邉/辺, 齋/齊/斎, 澤/沢, 濵/濱/浜,
/// 𠮷/吉. A name search treats each group as one character.
const NAME_VARIANTS: &[(char, char)] = &[
    ('髙', '高'),
    ('\u{FA11}', '崎'),
    ('邊', '辺'),
    ('邉', '辺'),
    ('齋', '斎'),
    ('齊', '斎'),
    ('澤', '沢'),
    ('濵', '浜'),
    ('濱', '浜'),
    ('\u{20BB7}', '吉'),
];

/// The everyday form of a variant character of names (`髙` → `高`);
/// every other character is left as it is.
pub fn fold_name_variant(c: char) -> char {
    NAME_VARIANTS
        .iter()
        .find(|(variant, _)| *variant == c)
        .map_or(c, |(_, everyday)| *everyday)
}

/// [`search_key`] that also folds the variant characters of names
/// ([`fold_name_variant`]): the key of people's names, kanji and kana, used
/// on both the index and the query.
pub fn name_search_key(s: &str) -> String {
    search_key(s).chars().map(fold_name_variant).collect()
}

/// True for a full-width katakana character accepted in a フリガナ field:
/// katakana letters, `ー`, the middle dot and the full-width space.
pub fn is_fullwidth_katakana(c: char) -> bool {
    matches!(
        c,
        '\u{30A1}'..='\u{30FA}' | 'ー' | '・' | '\u{3000}' | 'ヽ' | 'ヾ'
    )
}

/// True for a half-width character (ASCII printable, no control characters).
pub fn is_halfwidth(c: char) -> bool {
    c.is_ascii_graphic() || c == ' '
}

/// True for a character a person reads as full-width (not ASCII, not
/// half-width katakana, not a control character).
pub fn is_fullwidth(c: char) -> bool {
    !c.is_ascii() && !is_halfwidth_katakana(c) && !c.is_control()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fullwidth_ascii_becomes_halfwidth_and_nothing_else_changes() {
        assert_eq!(to_halfwidth_ascii("ＡＢＣ１２３＠！"), "ABC123@!");
        assert_eq!(to_halfwidth_ascii("山田　太郎"), "山田 太郎");
        assert_eq!(to_halfwidth_ascii("㈱①髙"), "㈱①髙");
    }

    #[test]
    fn halfwidth_katakana_is_widened_with_composed_voiced_marks() {
        assert_eq!(halfwidth_kana_to_fullwidth("ｶﾞｸ"), "ガク");
        assert_eq!(halfwidth_kana_to_fullwidth("ﾊﾟﾋﾟﾌﾟ"), "パピプ");
        assert_eq!(halfwidth_kana_to_fullwidth("ﾔﾏﾀﾞ ﾀﾛｳ"), "ヤマダ タロウ");
        assert_eq!(halfwidth_kana_to_fullwidth("ｳﾞ"), "ヴ");
        assert_eq!(halfwidth_kana_to_fullwidth("ABC㈱"), "ABC㈱");
    }

    #[test]
    fn hiragana_becomes_katakana() {
        assert_eq!(hiragana_to_katakana("やまだ たろう"), "ヤマダ タロウ");
        assert_eq!(hiragana_to_katakana("ゔぁ"), "ヴァ");
        assert_eq!(hiragana_to_katakana("漢字ABC"), "漢字ABC");
    }

    #[test]
    fn katakana_field_unifies_long_vowel_lookalikes() {
        assert_eq!(normalize_katakana_field("ｺｰﾋｰ"), "コーヒー");
        assert_eq!(normalize_katakana_field("こ-ひ−"), "コーヒー");
        assert_eq!(normalize_katakana_field("ス‐パ―"), "スーパー");
        assert_eq!(normalize_katakana_field("  ヤマダ  "), "ヤマダ");
    }

    #[test]
    fn fullwidth_field_keeps_compatibility_characters() {
        assert_eq!(normalize_fullwidth_field(" ㈱髙橋ｶﾞ "), "㈱髙橋ガ");
    }

    #[test]
    fn search_key_ignores_width_kana_and_case() {
        assert_eq!(search_key("とうほく"), search_key("トウホク"));
        assert_eq!(search_key("ﾄｳﾎｸ"), "トウホク");
        assert_eq!(search_key("ＴＯＫＹＯ Univ"), "tokyouniv");
        assert!(search_key("日本内科学会").contains(&search_key("内科")));
    }

    #[test]
    fn name_search_key_folds_every_variant_pair_width_and_kana() {
        for (variant, everyday) in [
            ("髙橋", "高橋"),
            ("山\u{FA11}", "山崎"),
            ("渡邊", "渡辺"),
            ("渡邉", "渡辺"),
            ("齋藤", "斎藤"),
            ("齊藤", "斎藤"),
            ("澤田", "沢田"),
            ("濵田", "浜田"),
            ("濱田", "浜田"),
            ("\u{20BB7}田", "吉田"),
        ] {
            assert_eq!(
                name_search_key(variant),
                name_search_key(everyday),
                "{variant}"
            );
            assert_eq!(name_search_key(variant), everyday, "{variant}");
        }
        assert_eq!(name_search_key("やまだ　たろう"), "ヤマダタロウ");
        assert_eq!(name_search_key("ﾔﾏﾀﾞ ﾀﾛｳ"), "ヤマダタロウ");
        assert_eq!(name_search_key("ＴＡＫＡＨＡＳＨＩ"), "takahashi");
        assert_eq!(name_search_key("高橋"), "高橋");
    }

    #[test]
    fn character_classes() {
        assert!("ヤマダー".chars().all(is_fullwidth_katakana));
        assert!(!"やまだ".chars().any(is_fullwidth_katakana));
        assert!("山田".chars().all(is_fullwidth));
        assert!(!"ﾔ".chars().any(is_fullwidth));
        assert!("abc-1".chars().all(is_halfwidth));
    }

    proptest::proptest! {
        #[test]
        fn conversions_are_idempotent_and_total(s in "\\PC*") {
            let k = normalize_katakana_field(&s);
            proptest::prop_assert_eq!(normalize_katakana_field(&k), k);
            let h = normalize_halfwidth_field(&s);
            proptest::prop_assert_eq!(normalize_halfwidth_field(&h), h);
            let f = normalize_fullwidth_field(&s);
            proptest::prop_assert_eq!(normalize_fullwidth_field(&f), f);
            let key = search_key(&s);
            proptest::prop_assert_eq!(search_key(&key), key);
            let name = name_search_key(&s);
            proptest::prop_assert_eq!(name_search_key(&name), name);
        }

        #[test]
        fn halfwidth_katakana_never_survives_the_kana_field(s in "[\\u{FF61}-\\u{FF9F}ぁ-ゖ]{0,20}") {
            let k = normalize_katakana_field(&s);
            proptest::prop_assert!(!k.chars().any(is_halfwidth_katakana), "{}", k);
            proptest::prop_assert!(!k.chars().any(|c| ('\u{3041}'..='\u{3096}').contains(&c)), "{}", k);
        }
    }
}
