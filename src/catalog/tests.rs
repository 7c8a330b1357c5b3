use super::*;

fn names(hits: &[Hit<'_>]) -> Vec<&'static str> {
    hits.iter().map(|hit| hit.entry.name).collect()
}

fn first(catalog: &Catalog, query: &str) -> &'static str {
    catalog
        .search(query, 10)
        .first()
        .unwrap_or_else(|| panic!("nothing found for {query:?}"))
        .entry
        .name
}

#[test]
fn every_file_parses() {
    assert!(!medical_schools().entries().is_empty());
    assert!(!universities().entries().is_empty());
    assert!(!societies().entries().is_empty());
    assert!(!departments().is_empty());
    assert!(!prefectures().is_empty());
}

#[test]
fn there_are_82_medical_schools_42_national_8_public_31_private_and_one_other() {
    let schools = medical_schools().entries();
    assert_eq!(schools.len(), 82);
    let count = |kind| schools.iter().filter(|e| e.kind == Some(kind)).count();
    assert_eq!(count(Kind::National), 42);
    assert_eq!(count(Kind::Public), 8);
    assert_eq!(count(Kind::Private), 31);
    assert_eq!(count(Kind::Other), 1);
    assert_eq!(
        medical_schools().get("ndmc").unwrap().name,
        "防衛医科大学校"
    );
}

#[test]
fn every_medical_school_is_also_a_university_under_the_same_id() {
    for school in medical_schools().entries() {
        let university = universities()
            .get(school.id)
            .unwrap_or_else(|| panic!("{} is missing from universities", school.name));
        assert_eq!(university.name, school.name);
        assert_eq!(university.reading, school.reading);
        for former in &school.former_names {
            assert!(university.former_names.contains(former), "{}", former.name);
        }
    }
    let count = universities().entries().len();
    assert!((150..=250).contains(&count), "{count} universities");
}

/// Most suggestions the society input shows at once (`web::suggest::LIMIT`,
/// which the catalogue may not import): every search below is the one the
/// suggestion endpoint makes.
const SUGGESTIONS: usize = 12;

#[test]
fn the_society_list_is_the_143_jams_members_under_their_official_numbers() {
    let all = societies().entries();
    assert_eq!(all.len(), 143);
    let mut numbers: Vec<u32> = all
        .iter()
        .map(|s| s.id.parse().expect("a number"))
        .collect();
    assert!(numbers.windows(2).all(|w| w[0] < w[1]), "in number order");
    numbers.dedup();
    assert_eq!(numbers.len(), 143, "numbers are unique");
    // The JAMS page numbers its 143 members 1-145; 130 and 142 are unused.
    assert_eq!((numbers[0], numbers[142]), (1, 145));
    assert!(!numbers.contains(&130) && !numbers.contains(&142));
    for society in all {
        assert!(society.name.starts_with("日本"), "{}", society.name);
        assert!(society.name.ends_with("学会"), "{}", society.name);
        assert!(society.kind.is_none() && society.prefecture.is_none());
    }
    // Official numbers as the JAMS page gives them.
    for (number, name) in [
        ("1", "日本医史学会"),
        ("17", "日本内科学会"),
        ("24", "日本外科学会"),
        ("28", "日本耳鼻咽喉科頭頸部外科学会"),
        ("37", "日本衛生動物学会"),
        ("61", "日本先天異常学会"),
        ("67", "日本周産期・新生児医学会"),
        ("82", "日本リンパ腫学会"),
        ("115", "日本熱傷学会"),
        ("121", "日本造血・免疫細胞療法学会"),
        ("145", "日本小児内分泌学会"),
    ] {
        assert_eq!(societies().get(number).map(|e| e.name), Some(name));
    }
}

#[test]
fn every_society_is_suggested_by_its_full_name_and_by_its_reading() {
    for society in societies().entries() {
        let hiragana: String = society
            .reading
            .chars()
            .map(|c| match c {
                'ァ'..='ヶ' => char::from_u32(c as u32 - 0x60).unwrap_or(c),
                _ => c,
            })
            .collect();
        for query in [society.name, society.reading, hiragana.as_str()] {
            let hits = societies().search(query, SUGGESTIONS);
            assert!(
                hits.iter().any(|hit| hit.entry.id == society.id),
                "{} not suggested for {query:?}: {:?}",
                society.name,
                names(&hits)
            );
        }
        assert_eq!(
            societies().find_exact(society.name).map(|e| e.id),
            Some(society.id)
        );
    }
}

#[test]
fn the_societies_new_users_missed_are_suggested() {
    for name in [
        "日本熱傷学会",
        "日本リンパ腫学会",
        "日本先天異常学会",
        "日本造血・免疫細胞療法学会",
        "日本衛生動物学会",
    ] {
        assert_eq!(first(societies(), name), name);
    }
    assert_eq!(first(societies(), "ねっしょう"), "日本熱傷学会");
    assert_eq!(first(societies(), "リンパ腫"), "日本リンパ腫学会");
    // Societies that are not 分科会 are not offered as if they were.
    for not_a_member in ["日本不整脈心電学会", "日本腹部救急医学会", "日本蘇生学会"]
    {
        assert!(
            societies().find_exact(not_a_member).is_none(),
            "{not_a_member}"
        );
    }
}

#[test]
fn prefectures_are_the_47_in_jis_order() {
    let all = prefectures();
    assert_eq!(all.len(), 47);
    for (i, prefecture) in all.iter().enumerate() {
        assert_eq!(prefecture.code, format!("{:02}", i + 1));
    }
    assert_eq!(all[0].name, "北海道");
    assert_eq!(all[12].name, "東京都");
    assert_eq!(all[46].name, "沖縄県");
    assert_eq!(prefecture_by_name(" 大阪府 ").unwrap().code, "27");
    assert_eq!(prefecture_by_code("１３").unwrap().name, "東京都");
    assert!(prefecture_by_name("大阪").is_none());
}

#[test]
fn departments_are_coded_in_order_and_found_by_code() {
    let all = departments();
    for (i, department) in all.iter().enumerate() {
        assert_eq!(department.code, format!("{:02}", i + 1));
    }
    assert_eq!(department("01").unwrap().to_string(), "01内科");
    assert_eq!(department(" ０３ ").unwrap().name, "循環器内科");
    assert_eq!(department("40").unwrap().name, "臨床研修医");
    assert_eq!(all.last().unwrap().name, "主に従事している診療科はない");
    assert!(department("1").is_none());
    assert!(department("99").is_none());
}

#[test]
fn a_reading_in_hiragana_katakana_or_half_width_finds_the_school() {
    for query in ["とうほく", "トウホク", "ﾄｳﾎｸ", " と う ほ く "] {
        let hits = medical_schools().search(query, 10);
        assert!(
            names(&hits).contains(&"東北大学"),
            "{query}: {:?}",
            names(&hits)
        );
        let hit = hits
            .iter()
            .find(|hit| hit.entry.name == "東北大学")
            .unwrap();
        assert!(hit.matched_former.is_none());
    }
}

#[test]
fn a_former_name_finds_the_renamed_school_and_says_so() {
    let hits = medical_schools().search("東京医科歯科", 10);
    assert_eq!(names(&hits), ["東京科学大学"]);
    let former = hits[0].matched_former.expect("former name matched");
    assert_eq!((former.name, former.until), ("東京医科歯科大学", "2024-10"));

    let hits = medical_schools().search("昭和大学", 10);
    assert_eq!(names(&hits), ["昭和医科大学"]);
    assert_eq!(hits[0].matched_former.unwrap().until, "2025-04");

    let hits = medical_schools().search("大阪市立", 10);
    assert_eq!(names(&hits), ["大阪公立大学"]);
    assert_eq!(hits[0].matched_former.unwrap().name, "大阪市立大学");

    let hits = universities().search("東京工業大学", 10);
    assert_eq!(names(&hits), ["東京科学大学"]);
    assert_eq!(hits[0].matched_former.unwrap().name, "東京工業大学");
}

#[test]
fn a_current_name_match_does_not_report_a_former_name() {
    let hits = medical_schools().search("東京", 100);
    let science = hits
        .iter()
        .find(|hit| hit.entry.id == "science-tokyo")
        .unwrap();
    assert!(science.matched_former.is_none());
}

#[test]
fn name_prefix_ranks_before_name_substring_before_reading_and_former_names() {
    // Catalogue order is 広島大学, 県立広島大学 (public), 広島国際大学 (private).
    // Name prefix first, then name substring:
    let hits = universities().search("広島", 10);
    assert_eq!(names(&hits), ["広島大学", "広島国際大学", "県立広島大学"]);
    // The same tiers for readings (ヒロシマ… before ケンリツヒロシマ…):
    let hits = universities().search("ひろしま", 10);
    assert_eq!(names(&hits), ["広島大学", "広島国際大学", "県立広島大学"]);
    // A name match before reading matches that come earlier in the catalogue:
    // がん is in the name of 日本小児血液・がん学会 (No. 126) and only in the
    // readings of 日本癌学会 (No. 7), 日本癌治療学会 (No. 78) and others.
    let hits = societies().search("がん", 200);
    assert_eq!(hits[0].entry.name, "日本小児血液・がん学会");
    assert!(names(&hits)[1..].contains(&"日本癌治療学会"));
    // Two name prefixes stay in catalogue order.
    let hits = medical_schools().search("日本", 10);
    assert_eq!(names(&hits), ["日本大学", "日本医科大学"]);
}

#[test]
fn ranking_is_stable_in_catalogue_order_within_a_tier() {
    // 医科大学 is inside many current names (one tier) and inside former
    // names such as 福井医科大学 (a later tier).
    let catalog = medical_schools();
    let position = |hit: &Hit<'_>| {
        catalog
            .entries()
            .iter()
            .position(|e| e.id == hit.entry.id)
            .unwrap()
    };
    let hits = catalog.search("医科大学", 100);
    let split = hits
        .iter()
        .position(|hit| hit.matched_former.is_some())
        .expect("some former names match");
    let (by_name, by_former) = hits.split_at(split);
    assert!(by_former.iter().all(|hit| hit.matched_former.is_some()));
    assert!(by_former.iter().any(|hit| hit.entry.id == "fukui"));
    for group in [by_name, by_former] {
        let positions: Vec<usize> = group.iter().map(position).collect();
        assert!(positions.windows(2).all(|w| w[0] < w[1]), "{positions:?}");
    }
}

#[test]
fn common_abbreviations_and_variant_spellings_find_the_school() {
    assert_eq!(first(medical_schools(), "東京女子医大"), "東京女子医科大学");
    assert_eq!(first(medical_schools(), "札幌医大"), "札幌医科大学");
    assert_eq!(first(medical_schools(), "慶応"), "慶應義塾大学");
    assert_eq!(first(medical_schools(), "独協"), "獨協医科大学");
    assert_eq!(first(medical_schools(), "慈恵医大"), "東京慈恵会医科大学");
    assert_eq!(first(medical_schools(), "大阪医大"), "大阪医科薬科大学");
    assert_eq!(first(universities(), "早大"), "早稲田大学");
}

#[test]
fn society_search_finds_by_reading_and_kanji() {
    assert_eq!(first(societies(), "ないか"), "日本内科学会");
    assert_eq!(first(societies(), "内科"), "日本内科学会");
    assert_eq!(first(societies(), "ｹﾞｶ"), "日本外科学会");
    let hits = societies().search("耳鼻咽喉科学会", 10);
    assert_eq!(names(&hits), ["日本耳鼻咽喉科頭頸部外科学会"]);
    assert_eq!(hits[0].matched_former.unwrap().name, "日本耳鼻咽喉科学会");
}

#[test]
fn university_search_covers_graduate_only_schools() {
    for name in [
        "早稲田大学",
        "東京理科大学",
        "北里大学",
        "国際医療福祉大学",
        "筑波大学",
        "放送大学",
        "京都薬科大学",
        "星薬科大学",
        "東京薬科大学",
        "明治薬科大学",
        "聖路加国際大学",
        "広島大学",
    ] {
        assert_eq!(first(universities(), name), name);
    }
}

#[test]
fn blank_queries_and_a_zero_limit_find_nothing() {
    for query in ["", "   ", "\u{3000}", "・"] {
        assert!(medical_schools().search(query, 10).is_empty(), "{query:?}");
    }
    assert!(medical_schools().search("大学", 0).is_empty());
    assert!(medical_schools().search("存在しない大学名", 10).is_empty());
}

#[test]
fn the_limit_caps_the_results() {
    assert_eq!(universities().search("大学", 5).len(), 5);
}

#[test]
fn find_exact_matches_the_current_name_after_folding() {
    assert_eq!(
        medical_schools().find_exact("東北大学").unwrap().id,
        "tohoku"
    );
    assert_eq!(
        medical_schools().find_exact("　東北大学 ").unwrap().id,
        "tohoku"
    );
    assert_eq!(societies().find_exact("日本 内科 学会").unwrap().id, "17");
    assert!(medical_schools().find_exact("東北大").is_none());
    assert!(medical_schools().find_exact("東京医科歯科大学").is_none());
    assert!(medical_schools().find_exact("").is_none());
}

#[test]
fn every_entry_has_a_unique_id_and_a_katakana_reading() {
    // Duplicates and bad readings panic while parsing; this states it.
    for catalog in [medical_schools(), universities(), societies()] {
        for entry in catalog.entries() {
            assert!(!entry.reading.is_empty());
            assert!(
                entry
                    .reading
                    .chars()
                    .all(crate::text::is_fullwidth_katakana)
            );
        }
    }
}

/// What `search` must return: every entry ranked in every tier, ordered by
/// tier (stable in catalogue order), cut at `limit`.
fn search_by_ranking_everything(
    catalog: &Catalog,
    query: &str,
    limit: usize,
) -> Vec<(&'static str, Option<&'static str>)> {
    let key = crate::text::search_key(query);
    let mut ranked: Vec<_> = catalog
        .entries()
        .iter()
        .filter_map(|entry| {
            let (tier, former) = entry.rank(&key, 4)?;
            Some((tier, entry.name, former.map(|f| f.name)))
        })
        .collect();
    ranked.sort_by_key(|(tier, ..)| *tier);
    ranked
        .into_iter()
        .take(limit)
        .map(|(_, name, former)| (name, former))
        .collect()
}

#[test]
fn skipping_tiers_that_can_no_longer_show_changes_no_answer() {
    for catalog in [medical_schools(), universities(), societies()] {
        let mut queries = vec![
            "大学".to_string(),
            "学会".into(),
            "医科".into(),
            "日本".into(),
        ];
        for entry in catalog.entries() {
            let name: Vec<char> = entry.name.chars().collect();
            let reading: Vec<char> = entry.reading.chars().collect();
            queries.push(name.iter().take(2).collect());
            queries.push(name.iter().skip(2).take(2).collect());
            queries.push(reading.iter().take(3).collect());
            queries.extend(entry.former_names.iter().map(|f| f.name.to_string()));
        }
        for query in &queries {
            for limit in [1, 3, 10, 50] {
                let got: Vec<_> = catalog
                    .search(query, limit)
                    .iter()
                    .map(|hit| (hit.entry.name, hit.matched_former.map(|f| f.name)))
                    .collect();
                assert_eq!(
                    got,
                    search_by_ranking_everything(catalog, query, limit),
                    "{query:?}, limit {limit}"
                );
            }
        }
    }
}
