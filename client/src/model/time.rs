//! RFC 3339 timestamps to milliseconds, and the short forms the inbox shows.

const MINUTE: i64 = 60_000;
const HOUR: i64 = 60 * MINUTE;
const DAY: i64 = 24 * HOUR;

/// Milliseconds since the Unix epoch of an RFC 3339 time such as
/// `2026-11-26T15:59:43.123Z` or `2026-11-26T16:59:43+01:00`.
pub fn parse_rfc3339(s: &str) -> Option<i64> {
    let b = s.as_bytes();
    if b.len() < 20 || b[4] != b'-' || b[7] != b'-' || !matches!(b[10], b'T' | b't' | b' ') {
        return None;
    }
    let num = |from: usize, len: usize| -> Option<i64> {
        s.get(from..from + len)?.bytes().try_fold(0i64, |acc, d| {
            d.is_ascii_digit().then(|| acc * 10 + i64::from(d - b'0'))
        })
    };
    let (year, month, day) = (num(0, 4)?, num(5, 2)?, num(8, 2)?);
    let (hour, minute, second) = (num(11, 2)?, num(14, 2)?, num(17, 2)?);
    if !(1..=12).contains(&month)
        || !(1..=31).contains(&day)
        || hour > 23
        || minute > 59
        || second > 60
    {
        return None;
    }
    let mut i = 19;
    let mut millis = 0i64;
    if b.get(i) == Some(&b'.') {
        i += 1;
        let start = i;
        while b.get(i).is_some_and(u8::is_ascii_digit) {
            if i - start < 3 {
                millis = millis * 10 + i64::from(b[i] - b'0');
            }
            i += 1;
        }
        for _ in (i - start)..3 {
            millis *= 10;
        }
    }
    let offset = match b.get(i)? {
        b'Z' | b'z' if i + 1 == b.len() => 0,
        sign @ (b'+' | b'-') if i + 6 == b.len() && b[i + 3] == b':' => {
            let minutes = num(i + 1, 2)? * 60 + num(i + 4, 2)?;
            if *sign == b'+' { minutes } else { -minutes }
        }
        _ => return None,
    };
    let days = days_from_civil(year, month, day);
    Some(days * DAY + hour * HOUR + minute * MINUTE + second * 1000 + millis - offset * MINUTE)
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
pub(crate) fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The date of a day count since 1970-01-01.
pub(crate) fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

/// An RFC 3339 UTC string for a time in milliseconds (for optimistic messages).
pub fn format_rfc3339(ms: i64) -> String {
    let (y, m, d) = civil_from_days(ms.div_euclid(DAY));
    let rest = ms.rem_euclid(DAY);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{:03}Z",
        rest / HOUR,
        rest % HOUR / MINUTE,
        rest % MINUTE / 1000,
        rest % 1000
    )
}

/// How long ago, briefly: `now`, `5m`, `3h`, `2d`, then the date (`12 Nov`, or
/// `12 Nov 2025` in another year).
pub fn relative_time(ms: i64, now_ms: i64) -> String {
    let ago = now_ms - ms;
    if ago < MINUTE {
        "now".to_string()
    } else if ago < HOUR {
        format!("{}m", ago / MINUTE)
    } else if ago < DAY {
        format!("{}h", ago / HOUR)
    } else if ago < 7 * DAY {
        format!("{}d", ago / DAY)
    } else {
        const MONTHS: [&str; 12] = [
            "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
        ];
        let (y, m, d) = civil_from_days(ms.div_euclid(DAY));
        let (now_y, _, _) = civil_from_days(now_ms.div_euclid(DAY));
        let month = MONTHS[usize::try_from(m - 1).unwrap_or(0) % 12];
        if y == now_y {
            format!("{d} {month}")
        } else {
            format!("{d} {month} {y}")
        }
    }
}

/// A duration left, to the minute: `42m`, `3h 12m`, `24h 0m`, then `5d 2h`.
pub fn format_left(ms: i64) -> String {
    let ms = ms.max(0);
    if ms >= 2 * DAY {
        format!("{}d {}h", ms / DAY, ms % DAY / HOUR)
    } else if ms >= HOUR {
        format!("{}h {}m", ms / HOUR, ms % HOUR / MINUTE)
    } else {
        format!("{}m", (ms + MINUTE - 1) / MINUTE)
    }
}

/// The clock time `HH:MM` (UTC) of a timestamp, for message bubbles.
pub fn clock(ms: i64, offset_minutes: i64) -> String {
    let local = (ms - offset_minutes * MINUTE).rem_euclid(DAY);
    format!("{:02}:{:02}", local / HOUR, local % HOUR / MINUTE)
}

/// The calendar day (days since 1970-01-01) of `ms` in a time zone `offset_minutes`
/// behind UTC (JavaScript's `getTimezoneOffset` for that moment).
pub fn local_day(ms: i64, offset_minutes: i64) -> i64 {
    (ms - offset_minutes * MINUTE).div_euclid(DAY)
}

const MONTH_NAMES: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];
const WEEKDAYS: [&str; 7] = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];

/// What a day separator in the timeline says for `day` when it is `today` (both from
/// [`local_day`]): `Today`, `Yesterday`, else `Mon 24 Nov`, with the year when it is
/// not this year's (`Fri 26 Dec 2025`).
pub fn day_label(day: i64, today: i64) -> String {
    if day == today {
        return "Today".to_string();
    }
    if day == today - 1 {
        return "Yesterday".to_string();
    }
    let (y, m, d) = civil_from_days(day);
    let (this_year, _, _) = civil_from_days(today);
    // 1970-01-01 was a Thursday.
    let weekday = WEEKDAYS[usize::try_from((day + 4).rem_euclid(7)).unwrap_or(0)];
    let month = MONTH_NAMES[usize::try_from(m - 1).unwrap_or(0) % 12];
    if y == this_year {
        format!("{weekday} {d} {month}")
    } else {
        format!("{weekday} {d} {month} {y}")
    }
}

/// The ISO date (`2026-11-24`) of a day from [`local_day`].
pub fn iso_date(day: i64) -> String {
    let (y, m, d) = civil_from_days(day);
    format!("{y:04}-{m:02}-{d:02}")
}
