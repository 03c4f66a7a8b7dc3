use super::{PageSet, Query, Range, fold, snippet};

#[test]
fn a_query_is_words_of_letters_and_digits_and_nothing_else() {
    let q = Query::parse("  \"Café\" OR 2x* -near(").unwrap();
    assert_eq!(q.terms, ["Café", "OR", "2x", "near"]);
    assert_eq!(
        q.fts5("body", &PageSet::Some(vec!["1".into(), "2".into()])),
        "(page : \"p1\" OR page : \"p2\") AND (body : \"Café\"* AND body : \"OR\"* \
         AND body : \"2x\"* AND body : \"near\"*)"
    );
    assert_eq!(q.tsquery(), "'Café':* & 'OR':* & '2x':* & 'near':*");
    assert_eq!(Query::parse("a b").unwrap().tsquery(), "'a' & 'b'");
}

#[test]
fn empty_long_and_wordy_queries_are_refused() {
    for bad in ["", "  ", "?!* \"", &"x".repeat(201), "a b c d e f g h i"] {
        assert!(Query::parse(bad).is_err(), "{bad:?}");
    }
    assert!(Query::parse(&"x".repeat(200)).is_ok());
}

#[test]
fn folding_drops_case_and_latin_accents() {
    assert_eq!(fold("Café ÉLAN Ångström"), "cafe elan angstrom");
    assert_eq!(fold("Привет"), "привет");
}

#[test]
fn a_snippet_shows_the_first_match_and_marks_every_matching_word() {
    let terms = Query::parse("cafe or").unwrap().folded_terms();
    let (text, marks) = snippet("Le Café est ouvert, order now", &terms);
    assert_eq!(text, "Le Café est ouvert, order now");
    assert_eq!(
        marks,
        [
            Range {
                start: 3,
                length: 4
            },
            Range {
                start: 20,
                length: 5
            }
        ]
    );
    let long = format!("{} needle {}", "word ".repeat(40), "tail ".repeat(40));
    let (text, marks) = snippet(&long, &Query::parse("needle").unwrap().folded_terms());
    assert!(text.starts_with('…') && text.ends_with('…'), "{text}");
    let chars: Vec<char> = text.chars().collect();
    let mark = marks[0];
    let marked: String = chars[mark.start..mark.start + mark.length].iter().collect();
    assert_eq!(marked, "needle");
    assert!(chars.len() <= 122);
}
