//! Search as the inbox keeps it: the query asked, its hits so far, and where the next
//! page starts. Kept across screens, so coming back from a hit shows the same results.

/// The search box's state; `query` empty: no search, the conversation list shows.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Search {
    pub query: String,
    pub hits: Vec<Hit>,
    pub end_cursor: Option<String>,
    pub has_next: bool,
    pub loading: bool,
    pub error: Option<String>,
    /// Bumped by each new query, so a late answer to an older one is dropped.
    pub generation: u32,
}

/// One hit: a conversation (its customer's name matched) or a message of it.
#[derive(Clone, Debug, PartialEq)]
pub struct Hit {
    pub conversation_id: String,
    pub customer: String,
    /// The message to scroll to; `None` for a name hit.
    pub message_id: Option<String>,
    /// The message's time (RFC 3339).
    pub timestamp: Option<String>,
    pub snippet: String,
    /// Matches in `snippet`: (start, length) in characters.
    pub highlights: Vec<(usize, usize)>,
}

/// The customer's name, or "Customer …1234" (the PSID's end) without one.
pub fn customer_label(name: Option<&str>, psid: &str) -> String {
    match name {
        Some(name) if !name.trim().is_empty() => name.to_owned(),
        _ => {
            let tail: Vec<char> = psid.chars().rev().take(4).collect();
            format!("Customer …{}", tail.iter().rev().collect::<String>())
        }
    }
}

/// `snippet` cut into runs, each with whether it matched; highlights out of range or
/// overlapping a previous one are ignored.
pub fn segments(snippet: &str, highlights: &[(usize, usize)]) -> Vec<(String, bool)> {
    let chars: Vec<char> = snippet.chars().collect();
    let mut runs = Vec::new();
    let mut at = 0;
    for &(start, length) in highlights {
        let end = start.saturating_add(length);
        if start < at || end > chars.len() || length == 0 {
            continue;
        }
        if start > at {
            runs.push((chars[at..start].iter().collect(), false));
        }
        runs.push((chars[start..end].iter().collect(), true));
        at = end;
    }
    if at < chars.len() {
        runs.push((chars[at..].iter().collect(), false));
    }
    runs
}

#[cfg(test)]
mod tests {
    use super::{customer_label, segments};

    #[test]
    fn a_snippet_is_cut_at_its_highlights_and_bad_ones_are_ignored() {
        let runs = segments("Le Café est là", &[(3, 4), (2, 3), (12, 9), (8, 3)]);
        assert_eq!(
            runs,
            [
                ("Le ".to_owned(), false),
                ("Café".to_owned(), true),
                (" ".to_owned(), false),
                ("est".to_owned(), true),
                (" là".to_owned(), false),
            ]
        );
        assert_eq!(segments("", &[(0, 1)]), Vec::<(String, bool)>::new());
    }

    #[test]
    fn a_customer_without_a_name_is_shown_by_the_end_of_the_psid() {
        assert_eq!(customer_label(Some("Zoë"), "123456"), "Zoë");
        assert_eq!(customer_label(Some("  "), "123456"), "Customer …3456");
        assert_eq!(customer_label(None, "12"), "Customer …12");
    }
}
