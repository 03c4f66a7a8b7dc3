//! Private notes in a thread: what agents write for each other, never sent to the
//! customer, and whether one mentions the signed-in agent.
use super::parse_rfc3339;

/// One private note of a conversation.
#[derive(Debug, Clone, PartialEq)]
pub struct Note {
    pub id: String,
    pub conversation_id: String,
    pub text: String,
    /// RFC 3339.
    pub created_at: String,
    /// Who wrote it (id, name).
    pub author: (String, String),
    /// The agents it mentions (id, name), as the server found them.
    pub mentions: Vec<(String, String)>,
}

impl Note {
    /// When (ms), the thread's order (notes of the same millisecond keep their order).
    pub fn at(&self) -> i64 {
        parse_rfc3339(&self.created_at).unwrap_or(0)
    }

    /// Whether it mentions `me` (and someone else wrote it): the mention alerts `me`.
    pub fn mentions_me(&self, me: Option<&str>) -> bool {
        me.is_some_and(|me| me != self.author.0 && self.mentions.iter().any(|(id, _)| id == me))
    }

    /// "Sam Lee, Ana": the names it mentions.
    pub fn mentioned(&self) -> String {
        let names: Vec<&str> = self.mentions.iter().map(|(_, n)| n.as_str()).collect();
        names.join(", ")
    }
}

/// Puts a note into a conversation's notes, once, in time order.
pub fn upsert_note(list: &mut Vec<Note>, n: Note) {
    list.retain(|it| it.id != n.id);
    let key = n.at();
    let at = list
        .iter()
        .position(|it| it.at() > key)
        .unwrap_or(list.len());
    list.insert(at, n);
}

#[cfg(test)]
mod tests {
    use super::{Note, upsert_note};

    fn note(id: &str, at: &str, author: &str, mentions: &[&str]) -> Note {
        Note {
            id: id.into(),
            conversation_id: "7".into(),
            text: "t".into(),
            created_at: at.into(),
            author: (author.into(), "A".into()),
            mentions: mentions
                .iter()
                .map(|m| (m.to_string(), "M".into()))
                .collect(),
        }
    }

    #[test]
    fn notes_are_kept_once_in_time_order() {
        let mut list = Vec::new();
        upsert_note(&mut list, note("2", "2026-12-02T10:00:00Z", "1", &[]));
        upsert_note(&mut list, note("1", "2026-12-02T09:00:00Z", "1", &[]));
        upsert_note(&mut list, note("2", "2026-12-02T10:00:00Z", "1", &[]));
        let ids: Vec<&str> = list.iter().map(|n| n.id.as_str()).collect();
        assert_eq!(ids, ["1", "2"]);
    }

    #[test]
    fn a_mention_alerts_the_mentioned_agent_unless_they_wrote_it() {
        let n = note("1", "2026-12-02T10:00:00Z", "1", &["2"]);
        assert!(n.mentions_me(Some("2")));
        assert!(!n.mentions_me(Some("3")));
        assert!(!n.mentions_me(None));
        assert!(!note("1", "2026-12-02T10:00:00Z", "2", &["2"]).mentions_me(Some("2")));
    }
}
