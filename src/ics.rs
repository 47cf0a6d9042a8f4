//! iCalendar (RFC 5545) for Spaces: one writer for the single Space's file and the
//! subscribable calendars of a list. Escaping, line folding, CRLF.

use chrono::{DateTime, TimeZone, Utc};

/// One event, already in domain terms.
pub struct Event {
    pub uid: String,
    /// When the event's information was last revised (see [`Calendar`] on why this
    /// is not "now").
    pub stamp: DateTime<Utc>,
    /// Goes up with each revision; see [`sequence`].
    pub sequence: u32,
    pub start: DateTime<Utc>,
    pub end: Option<DateTime<Utc>>,
    pub summary: String,
    pub description: String,
    pub url: String,
    pub location: String,
    pub cancelled: bool,
}

/// A calendar of events. Without `METHOD`, `DTSTAMP` is when an event was last
/// revised (RFC 5545 §3.8.7.2), which the upstream tells us; with `METHOD:PUBLISH`
/// it would be the moment the file was made, so every poll would differ and no
/// subscriber's `If-None-Match` would ever be answered 304.
pub struct Calendar<'a> {
    /// What a calendar application names the subscription (RFC 7986 `NAME`).
    pub name: &'a str,
    pub events: &'a [Event],
}

/// How often subscribers should ask again: about as often as scheduled lists change
/// enough to matter, and no more often than a calendar application usually would.
const REFRESH: &str = "PT1H";

/// The alarm: ten minutes before the start, shown on the subscriber's screen.
const ALARM: &str = "-PT10M";

impl Calendar<'_> {
    /// The complete VCALENDAR, CRLF-terminated and folded.
    pub fn render(&self) -> String {
        let mut out = String::with_capacity(512 + 768 * self.events.len());
        let mut line = |name: &str, value: &str| fold_into(&mut out, name, value);
        line("BEGIN", "VCALENDAR");
        line("VERSION", "2.0");
        line("PRODID", "-//earshot//X Spaces//EN");
        line("CALSCALE", "GREGORIAN");
        line("NAME", &escape(self.name));
        line("X-WR-CALNAME", &escape(self.name));
        line("REFRESH-INTERVAL;VALUE=DURATION", REFRESH);
        line("X-PUBLISHED-TTL", REFRESH);
        for event in self.events {
            event.write(&mut line);
        }
        line("END", "VCALENDAR");
        out
    }
}

impl Event {
    fn write(&self, line: &mut impl FnMut(&str, &str)) {
        line("BEGIN", "VEVENT");
        line("UID", &escape(&self.uid));
        line("DTSTAMP", &utc(self.stamp));
        line("LAST-MODIFIED", &utc(self.stamp));
        line("SEQUENCE", &self.sequence.to_string());
        line("DTSTART", &utc(self.start));
        match self.end {
            Some(end) if end > self.start => line("DTEND", &utc(end)),
            // Spaces have no planned length; an hour is what calendars show sensibly.
            _ => line("DURATION", "PT1H"),
        }
        line("SUMMARY", &escape(&self.summary));
        line("DESCRIPTION", &escape(&self.description));
        // URL is a URI value: not TEXT, so not escaped.
        line("URL", &self.url);
        line("LOCATION", &escape(&self.location));
        line(
            "STATUS",
            if self.cancelled {
                "CANCELLED"
            } else {
                "CONFIRMED"
            },
        );
        // No reminder for a Space that will not happen.
        if !self.cancelled {
            line("BEGIN", "VALARM");
            line("ACTION", "DISPLAY");
            line("DESCRIPTION", &escape(&self.summary));
            line("TRIGGER", ALARM);
            line("END", "VALARM");
        }
        line("END", "VEVENT");
    }
}

/// A complete VCALENDAR with one VEVENT: a single Space's file.
pub fn calendar(name: &str, event: Event) -> String {
    Calendar {
        name,
        events: std::slice::from_ref(&event),
    }
    .render()
}

/// Where [`sequence`] counts from: before X Spaces existed, so every `updated_at`
/// is after it. Also the revision date of a Space the upstream dates nowhere.
pub fn sequence_epoch() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2020, 1, 1, 0, 0, 0)
        .single()
        .unwrap_or(DateTime::<Utc>::UNIX_EPOCH)
}

/// The event's `SEQUENCE`, derived from what the upstream says rather than counted,
/// so every replica, and the same replica after a restart, gives the same number
/// without shared state: the seconds from 2020 to the Space's `updated_at` (which X
/// documents as "the last update to any of the Space's metadata, such as its title
/// or scheduled time", so a reschedule moves it forward), plus one once it is
/// cancelled (in case cancelling does not move `updated_at`; nothing follows a
/// cancellation, so the extra one never collides with a later revision). It fits
/// in RFC 5545's INTEGER until 2088.
///
/// Without `updated_at` (an upstream that leaves it out) nothing the upstream gives
/// moves forward on a reschedule (a start can move earlier), so the sequence is
/// then 0, and 1 once cancelled: a cancellation still reaches subscribers as a
/// revision, a reschedule only through the changed `DTSTART` and `DTSTAMP`.
pub fn sequence(updated_at: Option<DateTime<Utc>>, cancelled: bool) -> u32 {
    let revised = updated_at
        .map(|t| (t - sequence_epoch()).num_seconds())
        .unwrap_or(0)
        .clamp(0, i64::from(i32::MAX - 1));
    // In range by the clamp: 0 ..= i32::MAX - 1.
    u32::try_from(revised).unwrap_or(0) + u32::from(cancelled)
}

fn utc(t: DateTime<Utc>) -> String {
    t.format("%Y%m%dT%H%M%SZ").to_string()
}

/// TEXT escaping (RFC 5545 §3.3.11): backslash, semicolon, comma, newline.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            ';' => out.push_str("\\;"),
            ',' => out.push_str("\\,"),
            '\n' => out.push_str("\\n"),
            '\r' => {}
            c if c.is_control() => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

/// Appends a content line folded at 75 octets (§3.1), never inside a UTF-8 sequence.
fn fold_into(out: &mut String, name: &str, value: &str) {
    let mut width = 0;
    for c in name
        .chars()
        .chain(std::iter::once(':'))
        .chain(value.chars())
    {
        let len = c.len_utf8();
        if width + len > 75 {
            out.push_str("\r\n ");
            width = 1;
        }
        out.push(c);
        width += len;
    }
    out.push_str("\r\n");
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    fn event(summary: &str, description: &str) -> Event {
        Event {
            uid: "1abc@earshot.test".into(),
            stamp: at("2026-11-22T12:00:00Z"),
            sequence: 7,
            start: at("2026-11-23T18:30:00Z"),
            end: None,
            summary: summary.into(),
            description: description.into(),
            url: "https://earshot.test/spaces/1abc".into(),
            location: "https://x.com/i/spaces/1abc".into(),
            cancelled: false,
        }
    }

    #[test]
    fn escapes_text() {
        assert_eq!(escape(r"a;b,c\d"), r"a\;b\,c\\d");
        assert_eq!(escape("line1\nline2\r\n"), r"line1\nline2\n");
    }

    #[test]
    fn lines_are_crlf_and_folded_at_75_octets() {
        // Two- three- and four-byte characters, so a fold falls beside each kind.
        for unit in ["Résumé ", "日本語のスペース", "🎙️ mic ", "é"] {
            let long = unit.repeat(40);
            let ics = calendar("Cal", event(&long, "d"));
            assert!(ics.ends_with("END:VCALENDAR\r\n"));
            assert!(!ics.replace("\r\n", "").contains(['\r', '\n']));
            for line in ics.split("\r\n") {
                assert!(line.len() <= 75, "{line:?} is {} octets", line.len());
            }
            let unfolded = ics.replace("\r\n ", "");
            assert!(unfolded.contains(&format!("SUMMARY:{}", escape(&long))));
        }
    }

    #[test]
    fn start_default_duration_sequence_and_alarm() {
        let ics = calendar("Cal", event("Title", "Desc"));
        assert!(ics.contains("DTSTART:20261123T183000Z\r\n"));
        assert!(ics.contains("DURATION:PT1H\r\n"));
        assert!(ics.contains("STATUS:CONFIRMED\r\n"));
        assert!(ics.contains("SEQUENCE:7\r\n"));
        assert!(ics.contains("BEGIN:VALARM\r\nACTION:DISPLAY\r\nDESCRIPTION:Title\r\nTRIGGER:-PT10M\r\nEND:VALARM\r\n"));
        let cancelled = calendar(
            "Cal",
            Event {
                cancelled: true,
                ..event("Title", "Desc")
            },
        );
        assert!(cancelled.contains("STATUS:CANCELLED\r\n"));
        assert!(!cancelled.contains("VALARM"));
    }

    #[test]
    fn sequence_follows_revisions_and_cancellation() {
        let first = sequence(Some(at("2026-11-22T12:00:00Z")), false);
        let moved = sequence(Some(at("2026-11-22T12:00:01Z")), false);
        assert!(moved > first);
        assert_eq!(sequence(Some(at("2026-11-22T12:00:00Z")), true), first + 1);
        assert!(sequence(Some(at("2026-11-22T12:05:00Z")), true) > moved);
        assert_eq!((sequence(None, false), sequence(None, true)), (0, 1));
        assert_eq!(sequence(Some(at("2019-01-01T00:00:00Z")), false), 0);
        assert!(sequence(Some(at("2999-01-01T00:00:00Z")), true) <= i32::MAX as u32);
    }
}
