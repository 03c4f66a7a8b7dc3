//! Snippets: the part of a text around its first match, and where the query's words match.
use unicode_normalization::UnicodeNormalization;
use unicode_normalization::char::is_combining_mark;

/// How much text a snippet shows, in characters, around the first match.
const SNIPPET_CHARS: usize = 120;
const SNIPPET_BEFORE: usize = 30;

/// A part of a snippet that matched, in characters (Unicode scalar values) of the snippet.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Range {
    pub start: usize,
    pub length: usize,
}

/// Lowercase, without combining marks after canonical decomposition ("Café" → "cafe").
pub(super) fn fold(text: &str) -> String {
    text.nfd()
        .filter(|c| !is_combining_mark(*c))
        .flat_map(char::to_lowercase)
        .collect()
}

/// The part of `text` around its first matching word (at most `SNIPPET_CHARS` characters,
/// with "…" where it was cut), and where the words of the query match in it.
pub(super) fn snippet(text: &str, terms: &[(String, bool)]) -> (String, Vec<Range>) {
    let chars: Vec<char> = text.chars().collect();
    // Words of the text: runs of letters and digits, as character ranges.
    let mut matches = Vec::new();
    let mut start = None;
    for i in 0..=chars.len() {
        let in_word = chars.get(i).is_some_and(|c| c.is_alphanumeric());
        match (in_word, start) {
            (true, None) => start = Some(i),
            (false, Some(s)) => {
                let word: String = chars[s..i].iter().collect();
                let folded = fold(&word);
                if terms.iter().any(|(term, prefix)| {
                    if *prefix {
                        folded.starts_with(term.as_str())
                    } else {
                        folded == *term
                    }
                }) {
                    matches.push(Range {
                        start: s,
                        length: i - s,
                    });
                }
                start = None;
            }
            _ => {}
        }
    }
    let first = matches.first().map_or(0, |r| r.start);
    let mut from = first.saturating_sub(SNIPPET_BEFORE);
    // Start at a word's beginning.
    while from > 0 && from < first && chars[from - 1].is_alphanumeric() {
        from += 1;
    }
    let to = (from + SNIPPET_CHARS).min(chars.len());
    let mut snippet = String::new();
    let mut offset = 0usize;
    if from > 0 {
        snippet.push('…');
        offset = 1;
    }
    snippet.extend(&chars[from..to]);
    if to < chars.len() {
        snippet.push('…');
    }
    let highlights = matches
        .into_iter()
        .filter(|r| r.start >= from && r.start + r.length <= to)
        .map(|r| Range {
            start: r.start - from + offset,
            length: r.length,
        })
        .collect();
    (snippet, highlights)
}
