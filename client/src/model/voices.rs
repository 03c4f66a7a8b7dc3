//! Who did what in a conversation, and who is in it now: the thread's system lines
//! ("Sam resolved this · 14:02") and the chat header's collision warning ("Sam is
//! replying…").
use super::{ConversationStatus, parse_rfc3339};

/// What one activity entry changed.
#[derive(Debug, Clone, PartialEq)]
pub enum ActivityChange {
    Status {
        from: Option<ConversationStatus>,
        to: Option<ConversationStatus>,
    },
    /// The new assignee (id, name); `None`: unassigned.
    Assignee { to: Option<(String, String)> },
    /// Until when (RFC 3339); `None`: not snoozed.
    Snooze { until: Option<String> },
}

/// One status change, assignment or snooze of a conversation.
#[derive(Debug, Clone, PartialEq)]
pub struct Activity {
    pub id: String,
    pub conversation_id: String,
    /// RFC 3339.
    pub created_at: String,
    /// Who did it; `None`: MessengerFlow by itself.
    pub actor: Option<(String, String)>,
    pub change: ActivityChange,
}

impl Activity {
    /// The line the thread shows, without its time. `me` is the signed-in agent's id;
    /// `until` formats a snooze's wake time.
    pub fn describe(&self, me: Option<&str>, until: impl Fn(&str) -> String) -> Option<String> {
        let who = match &self.actor {
            Some((id, _)) if Some(id.as_str()) == me => "You".to_string(),
            Some((_, name)) => name.clone(),
            None => String::new(),
        };
        let system = self.actor.is_none();
        Some(match &self.change {
            // The SNOOZE entry of the same change says it, with the time.
            ActivityChange::Status {
                to: Some(ConversationStatus::SNOOZED),
                ..
            } => return None,
            ActivityChange::Status {
                from: Some(ConversationStatus::SNOOZED),
                to: Some(ConversationStatus::OPEN),
            } if system => "The snooze ended: open again".to_string(),
            ActivityChange::Status {
                to: Some(ConversationStatus::OPEN),
                ..
            } if system => "Reopened: the customer wrote".to_string(),
            ActivityChange::Status { to, .. } => {
                let verb = match to {
                    Some(ConversationStatus::OPEN) => "reopened this",
                    Some(ConversationStatus::PENDING) => "marked this pending",
                    Some(ConversationStatus::RESOLVED) => "resolved this",
                    _ => "changed the status",
                };
                if system {
                    format!("MessengerFlow {verb}")
                } else {
                    format!("{who} {verb}")
                }
            }
            ActivityChange::Assignee { to } => {
                let who = if system {
                    "MessengerFlow".to_string()
                } else {
                    who
                };
                let actor = self.actor.as_ref().map(|(id, _)| id);
                match to {
                    // Self-assignment: "Sam took this", not "Sam assigned Sam".
                    Some((id, _)) if actor == Some(id) => format!("{who} took this"),
                    Some((_, name)) => format!("{who} assigned {name}"),
                    None => format!("{who} unassigned this"),
                }
            }
            ActivityChange::Snooze { until: Some(t) } => {
                format!("{who} snoozed this until {}", until(t))
            }
            ActivityChange::Snooze { until: None } => format!("{who} ended the snooze"),
        })
    }

    /// (time, id): the thread's order.
    pub fn sort_key(&self) -> (i64, i64) {
        (
            parse_rfc3339(&self.created_at).unwrap_or(0),
            self.id.parse().unwrap_or(0),
        )
    }
}

/// Puts an entry into a conversation's activity, once, in time order.
pub fn upsert_activity(list: &mut Vec<Activity>, a: Activity) {
    list.retain(|it| it.id != a.id);
    let key = a.sort_key();
    let at = list
        .iter()
        .position(|it| it.sort_key() > key)
        .unwrap_or(list.len());
    list.insert(at, a);
}

/// What another agent is doing in a conversation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ViewerState {
    Viewing,
    Typing,
}

/// Who is in which conversation now: (conversation id, agent id, name, state). A plain
/// list: a handful of entries, and a map's code would weigh on the wasm.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Viewers(Vec<(String, String, String, ViewerState)>);

impl Viewers {
    /// Applies one change; `state` `None`: the agent left (or expired).
    pub fn set(&mut self, conversation: &str, agent: &str, name: &str, state: Option<ViewerState>) {
        self.0
            .retain(|(c, a, _, _)| !(c == conversation && a == agent));
        if let Some(state) = state {
            self.0.push((
                conversation.to_string(),
                agent.to_string(),
                name.to_string(),
                state,
            ));
        }
    }

    /// The names of the others in `conversation` (everyone but `me`) in this state.
    fn names_in(&self, conversation: &str, me: Option<&str>, wanted: ViewerState) -> Vec<&str> {
        let mut found: Vec<&str> = self
            .0
            .iter()
            .filter(|(c, a, _, s)| c == conversation && Some(a.as_str()) != me && *s == wanted)
            .map(|(_, _, name, _)| name.as_str())
            .collect();
        found.sort_unstable();
        found
    }

    /// The collision warning for `conversation`: ("typing" | "viewing", text), or `None`
    /// when nobody else is there.
    pub fn warning(&self, conversation: &str, me: Option<&str>) -> Option<(&'static str, String)> {
        let typing = self.names_in(conversation, me, ViewerState::Typing);
        let viewing = self.names_in(conversation, me, ViewerState::Viewing);
        let verb = |n: usize| if n == 1 { "is" } else { "are" };
        match (typing.is_empty(), viewing.is_empty()) {
            (false, true) => Some((
                "typing",
                format!("{} {} replying…", names(&typing), verb(typing.len())),
            )),
            (false, false) => Some((
                "typing",
                format!(
                    "{} {} replying… · {} viewing",
                    names(&typing),
                    verb(typing.len()),
                    names(&viewing)
                ),
            )),
            (true, false) => Some((
                "viewing",
                format!("{} {} viewing", names(&viewing), verb(viewing.len())),
            )),
            (true, true) => None,
        }
    }
}

/// "Sam", "Sam and Ana", "Sam, Ana and 2 others".
fn names(list: &[&str]) -> String {
    match list {
        [] => String::new(),
        [one] => (*one).to_string(),
        [a, b] => format!("{a} and {b}"),
        [a, b, rest @ ..] => format!("{a}, {b} and {} more", rest.len()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(actor: Option<(&str, &str)>, change: ActivityChange) -> Activity {
        Activity {
            id: "1".into(),
            conversation_id: "7".into(),
            created_at: "2026-12-01T14:02:00Z".into(),
            actor: actor.map(|(id, name)| (id.into(), name.into())),
            change,
        }
    }

    #[test]
    fn system_lines_say_who_did_what() {
        let until = |t: &str| format!("<{t}>");
        let status = |from, to| ActivityChange::Status {
            from: Some(from),
            to: Some(to),
        };
        use ConversationStatus::*;
        let cases = [
            (
                entry(Some(("2", "Sam")), status(OPEN, RESOLVED)),
                Some("Sam resolved this"),
            ),
            (
                entry(Some(("1", "Ana")), status(OPEN, RESOLVED)),
                Some("You resolved this"),
            ),
            (
                entry(None, status(SNOOZED, OPEN)),
                Some("The snooze ended: open again"),
            ),
            (
                entry(None, status(RESOLVED, OPEN)),
                Some("Reopened: the customer wrote"),
            ),
            (entry(Some(("2", "Sam")), status(OPEN, SNOOZED)), None),
            (
                entry(
                    Some(("1", "Ana")),
                    ActivityChange::Assignee {
                        to: Some(("2".into(), "Sam".into())),
                    },
                ),
                Some("You assigned Sam"),
            ),
            (
                entry(
                    Some(("2", "Sam")),
                    ActivityChange::Assignee {
                        to: Some(("2".into(), "Sam".into())),
                    },
                ),
                Some("Sam took this"),
            ),
            (
                entry(
                    Some(("1", "Ana")),
                    ActivityChange::Assignee {
                        to: Some(("1".into(), "Ana".into())),
                    },
                ),
                Some("You took this"),
            ),
            (
                entry(Some(("2", "Sam")), ActivityChange::Assignee { to: None }),
                Some("Sam unassigned this"),
            ),
            (
                entry(
                    Some(("2", "Sam")),
                    ActivityChange::Snooze {
                        until: Some("T".into()),
                    },
                ),
                Some("Sam snoozed this until <T>"),
            ),
        ];
        for (a, want) in cases {
            assert_eq!(a.describe(Some("1"), until).as_deref(), want, "{a:?}");
        }
    }

    #[test]
    fn the_warning_names_the_others_replying_first_never_me() {
        let mut v = Viewers::default();
        assert_eq!(v.warning("7", Some("1")), None);
        v.set("7", "1", "Me", Some(ViewerState::Typing));
        assert_eq!(v.warning("7", Some("1")), None);
        v.set("7", "2", "Sam", Some(ViewerState::Viewing));
        assert_eq!(
            v.warning("7", Some("1")),
            Some(("viewing", "Sam is viewing".into()))
        );
        v.set("7", "3", "Ana", Some(ViewerState::Typing));
        v.set("8", "4", "Bo", Some(ViewerState::Typing));
        assert_eq!(
            v.warning("7", Some("1")),
            Some(("typing", "Ana is replying… · Sam viewing".into()))
        );
        v.set("7", "3", "Ana", None);
        v.set("7", "2", "Sam", Some(ViewerState::Typing));
        assert_eq!(
            v.warning("7", Some("1")),
            Some(("typing", "Sam is replying…".into()))
        );
        v.set("7", "2", "Sam", None);
        assert_eq!(v.warning("7", Some("1")), None);
    }

    #[test]
    fn activity_stays_in_time_order_once_each() {
        let mut list = Vec::new();
        let mut later = entry(None, ActivityChange::Snooze { until: None });
        later.id = "2".into();
        later.created_at = "2026-12-01T15:00:00Z".into();
        upsert_activity(&mut list, later.clone());
        upsert_activity(
            &mut list,
            entry(None, ActivityChange::Snooze { until: None }),
        );
        upsert_activity(&mut list, later);
        let ids: Vec<&str> = list.iter().map(|a| a.id.as_str()).collect();
        assert_eq!(ids, ["1", "2"]);
    }
}
