//! What keeps customers from slipping by, on the client's side: which conversations the
//! list holds (status, assignee and "ending soon", all filtered by the server so they
//! reach conversations not loaded yet) and the snooze choices of the chat header.
use super::time::{civil_from_days, days_from_civil, format_rfc3339};
use super::{Conversation, ConversationStatus, Window, parse_rfc3339};

const MINUTE: i64 = 60_000;
const HOUR: i64 = 60 * MINUTE;
const DAY: i64 = 24 * HOUR;

/// "Ending soon": windows that close within this many hours.
pub const ENDING_SOON_HOURS: i64 = 4;

/// Whose conversations the list shows (`assignee` / `assigneeId` on the server).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum AssigneeChoice {
    #[default]
    All,
    Mine,
    Unassigned,
    Agent(String),
}

impl AssigneeChoice {
    /// From the filter's `<select>` value.
    pub fn parse(value: &str) -> Self {
        match value {
            "me" => Self::Mine,
            "unassigned" => Self::Unassigned,
            other => other
                .strip_prefix("agent:")
                .filter(|id| !id.is_empty())
                .map_or(Self::All, |id| Self::Agent(id.to_string())),
        }
    }

    /// The `<select>` value.
    pub fn value(&self) -> String {
        match self {
            Self::All => String::new(),
            Self::Mine => "me".into(),
            Self::Unassigned => "unassigned".into(),
            Self::Agent(id) => format!("agent:{id}"),
        }
    }
}

/// Which conversations the list holds, and in which order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ListFilter {
    pub status: Option<ConversationStatus>,
    pub assignee: AssigneeChoice,
    /// Open windows closing within [`ENDING_SOON_HOURS`], soonest first.
    pub ending_soon: bool,
    /// The signed-in agent (what "Mine" means).
    pub me: Option<String>,
    /// Only conversations carrying this label (`labelId`).
    pub label: Option<String>,
}

impl ListFilter {
    /// The status the server is asked for: "ending soon" means OPEN unless one is chosen.
    pub fn status(&self) -> Option<ConversationStatus> {
        if self.ending_soon {
            self.status.or(Some(ConversationStatus::OPEN))
        } else {
            self.status
        }
    }

    /// `windowClosesWithinHours`, for "ending soon".
    pub fn window_hours(&self) -> Option<i64> {
        self.ending_soon.then_some(ENDING_SOON_HOURS)
    }

    /// Whether `c` belongs in the list at `now` (for live changes and new arrivals).
    pub fn matches(&self, c: &Conversation, now: i64) -> bool {
        let assignee = c.assignee.as_ref().map(|a| a.id.as_str());
        let whose = match &self.assignee {
            AssigneeChoice::All => true,
            AssigneeChoice::Mine => assignee.is_some() && assignee == self.me.as_deref(),
            AssigneeChoice::Unassigned => assignee.is_none(),
            AssigneeChoice::Agent(id) => assignee == Some(id.as_str()),
        };
        let soon = !self.ending_soon || ends_soon(c, now);
        let labelled = self
            .label
            .as_ref()
            .is_none_or(|id| c.labels.iter().any(|l| &l.id == id));
        whose && soon && labelled && self.status().is_none_or(|s| s == c.status)
    }

    /// Whether `a` is listed before `b`: newest message first, or for "ending soon" the
    /// window that closes first.
    pub fn before(&self, a: &Conversation, b: &Conversation) -> bool {
        if self.ending_soon {
            window_key(a) < window_key(b)
        } else {
            a.sort_key() > b.sort_key()
        }
    }

    /// What an empty list says.
    pub fn empty_text(&self) -> &'static str {
        if self.label.is_some() {
            return "No conversations with this label.";
        }
        match (&self.assignee, self.ending_soon) {
            (_, true) => "No reply window closes within 4 hours.",
            (AssigneeChoice::Mine, _) => "No conversations assigned to you here.",
            (AssigneeChoice::Unassigned, _) => "No unassigned conversations.",
            (AssigneeChoice::Agent(_), _) => "No conversations assigned to this agent.",
            (AssigneeChoice::All, _) => "No conversations.",
        }
    }
}

/// The standard window is open and closes within [`ENDING_SOON_HOURS`] of `now`. At
/// `now == 0` (no clock given) every open-looking window counts.
fn ends_soon(c: &Conversation, now: i64) -> bool {
    if now == 0 {
        return c.window_expires_at.is_some();
    }
    matches!(c.window(now), Window::Standard { left_ms, .. } if left_ms <= ENDING_SOON_HOURS * HOUR)
}

fn window_key(c: &Conversation) -> (i64, i64) {
    (
        c.window_expires_at
            .as_deref()
            .and_then(parse_rfc3339)
            .unwrap_or(i64::MAX),
        c.id.parse().unwrap_or(0),
    )
}

/// The snooze choices of the chat header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SnoozeChoice {
    OneHour,
    /// Tomorrow at 9:00, local time.
    Tomorrow,
    /// Next Monday at 9:00, local time.
    NextWeek,
}

impl SnoozeChoice {
    pub const ALL: [SnoozeChoice; 3] = [Self::OneHour, Self::Tomorrow, Self::NextWeek];

    pub fn label(self) -> &'static str {
        match self {
            Self::OneHour => "1 hour",
            Self::Tomorrow => "Tomorrow (9:00)",
            Self::NextWeek => "Next week (Monday 9:00)",
        }
    }

    /// `data-snooze` of its button.
    pub fn key(self) -> &'static str {
        match self {
            Self::OneHour => "hour",
            Self::Tomorrow => "tomorrow",
            Self::NextWeek => "next-week",
        }
    }

    /// When it wakes, in ms, from `now` in a time zone `offset_minutes` behind UTC (as
    /// JavaScript's `getTimezoneOffset` says: -60 in Berlin in winter).
    pub fn until(self, now: i64, offset_minutes: i64) -> i64 {
        let local_now = now - offset_minutes * MINUTE;
        let today = local_now.div_euclid(DAY);
        let nine = |day: i64| day * DAY + 9 * HOUR + offset_minutes * MINUTE;
        match self {
            Self::OneHour => now + HOUR,
            Self::Tomorrow => nine(today + 1),
            Self::NextWeek => {
                // 1970-01-01 was a Thursday: day 4 of a week that starts on Monday 0.
                let weekday = (today + 3).rem_euclid(7);
                nine(today + 7 - weekday)
            }
        }
    }
}

/// A `datetime-local` value (`2026-12-01T09:30`) in a time zone `offset_minutes` behind
/// UTC, as ms.
pub fn parse_local(value: &str, offset_minutes: i64) -> Option<i64> {
    let b = value.as_bytes();
    if b.len() < 16 || b[4] != b'-' || b[7] != b'-' || b[10] != b'T' || b[13] != b':' {
        return None;
    }
    let num =
        |from: usize, len: usize| -> Option<i64> { value.get(from..from + len)?.parse().ok() };
    let (y, m, d, h, min) = (num(0, 4)?, num(5, 2)?, num(8, 2)?, num(11, 2)?, num(14, 2)?);
    if !(1..=12).contains(&m) || !(1..=31).contains(&d) || h > 23 || min > 59 {
        return None;
    }
    Some(days_from_civil(y, m, d) * DAY + h * HOUR + min * MINUTE + offset_minutes * MINUTE)
}

/// `ms` as a `datetime-local` value in a time zone `offset_minutes` behind UTC.
pub fn format_local(ms: i64, offset_minutes: i64) -> String {
    let local = ms - offset_minutes * MINUTE;
    let (y, m, d) = civil_from_days(local.div_euclid(DAY));
    let rest = local.rem_euclid(DAY);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}",
        rest / HOUR,
        rest % HOUR / MINUTE
    )
}

/// "Snoozed until Tue 9:00" (or a date further off), local time.
pub fn snoozed_until_text(until: &str, now: i64, offset_minutes: i64) -> String {
    let Some(ms) = parse_rfc3339(until) else {
        return "Snoozed".into();
    };
    const DAYS: [&str; 7] = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];
    let local = ms - offset_minutes * MINUTE;
    let day = local.div_euclid(DAY);
    let today = (now - offset_minutes * MINUTE).div_euclid(DAY);
    let rest = local.rem_euclid(DAY);
    let clock = format!("{}:{:02}", rest / HOUR, rest % HOUR / MINUTE);
    let when = match day - today {
        0 => format!("today {clock}"),
        1 => format!("tomorrow {clock}"),
        2..=6 => format!("{} {clock}", DAYS[(day + 3).rem_euclid(7) as usize]),
        _ => {
            let (y, m, d) = civil_from_days(day);
            format!("{y:04}-{m:02}-{d:02} {clock}")
        }
    };
    format!("Snoozed until {when}")
}

/// `until` as the API takes it (RFC 3339, UTC).
pub fn snooze_value(until: i64) -> String {
    format_rfc3339(until)
}

#[cfg(test)]
mod tests {
    use super::*;

    // 2026-12-01 is a Tuesday; 10:00 UTC.
    const NOW: i64 = 1_796_119_200_000;
    const BERLIN: i64 = -60;

    #[test]
    fn snooze_choices_fall_on_the_next_hour_tomorrow_nine_and_monday_nine_local() {
        assert_eq!(format_rfc3339(NOW), "2026-12-01T10:00:00.000Z");
        assert_eq!(SnoozeChoice::OneHour.until(NOW, BERLIN), NOW + HOUR);
        assert_eq!(
            format_rfc3339(SnoozeChoice::Tomorrow.until(NOW, BERLIN)),
            "2026-12-02T08:00:00.000Z"
        );
        assert_eq!(
            format_rfc3339(SnoozeChoice::NextWeek.until(NOW, BERLIN)),
            "2026-12-07T08:00:00.000Z"
        );
        // On a Monday, next week is seven days on; in New York (+300) dates shift too.
        let monday = NOW + 6 * DAY;
        assert_eq!(
            format_rfc3339(SnoozeChoice::NextWeek.until(monday, 0)),
            "2026-12-14T09:00:00.000Z"
        );
        let late_evening_ny = parse_rfc3339("2026-12-02T03:30:00Z").unwrap();
        assert_eq!(
            format_rfc3339(SnoozeChoice::Tomorrow.until(late_evening_ny, 300)),
            "2026-12-02T14:00:00.000Z"
        );
    }

    #[test]
    fn datetime_local_values_round_trip_and_garbage_is_refused() {
        let ms = parse_local("2026-12-01T11:00", BERLIN).unwrap();
        assert_eq!(ms, NOW);
        assert_eq!(format_local(NOW, BERLIN), "2026-12-01T11:00");
        for bad in [
            "",
            "2026-12-01",
            "2026-13-01T10:00",
            "2026-12-01T25:00",
            "nope",
        ] {
            assert!(parse_local(bad, 0).is_none(), "{bad}");
        }
    }

    #[test]
    fn snoozed_until_reads_as_a_day_and_a_time() {
        let text = |until: &str| snoozed_until_text(until, NOW, BERLIN);
        assert_eq!(text("2026-12-01T12:30:00Z"), "Snoozed until today 13:30");
        assert_eq!(text("2026-12-02T08:00:00Z"), "Snoozed until tomorrow 9:00");
        assert_eq!(text("2026-12-04T08:00:00Z"), "Snoozed until Fri 9:00");
        assert_eq!(
            text("2027-01-04T08:00:00Z"),
            "Snoozed until 2027-01-04 9:00"
        );
    }

    #[test]
    fn assignee_choices_round_trip_through_their_select_values() {
        for choice in [
            AssigneeChoice::All,
            AssigneeChoice::Mine,
            AssigneeChoice::Unassigned,
            AssigneeChoice::Agent("42".into()),
        ] {
            assert_eq!(AssigneeChoice::parse(&choice.value()), choice);
        }
        assert_eq!(AssigneeChoice::parse("agent:"), AssigneeChoice::All);
    }
}
