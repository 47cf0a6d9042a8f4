//! iCalendar (RFC 5545) events for Spaces: escaping, line folding, CRLF.

use chrono::{DateTime, Utc};

/// One event, already in domain terms.
pub struct Event<'a> {
    pub uid: &'a str,
    pub stamp: DateTime<Utc>,
    pub start: DateTime<Utc>,
    pub end: Option<DateTime<Utc>>,
    pub summary: &'a str,
    pub description: &'a str,
    pub url: &'a str,
    pub location: &'a str,
    pub cancelled: bool,
}

/// A complete VCALENDAR with one VEVENT.
pub fn calendar(event: &Event<'_>) -> String {
    let mut out = String::with_capacity(1024);
    let mut line = |name: &str, value: &str| fold_into(&mut out, &format!("{name}:{value}"));
    line("BEGIN", "VCALENDAR");
    line("VERSION", "2.0");
    line("PRODID", "-//earshot//X Spaces//EN");
    line("CALSCALE", "GREGORIAN");
    line("METHOD", "PUBLISH");
    line("BEGIN", "VEVENT");
    line("UID", &escape(event.uid));
    line("DTSTAMP", &utc(event.stamp));
    line("DTSTART", &utc(event.start));
    match event.end {
        Some(end) if end > event.start => line("DTEND", &utc(end)),
        // Spaces have no planned length; an hour is what calendars show sensibly.
        _ => line("DURATION", "PT1H"),
    }
    line("SUMMARY", &escape(event.summary));
    line("DESCRIPTION", &escape(event.description));
    // URL is a URI value: not TEXT, so not escaped.
    line("URL", event.url);
    line("LOCATION", &escape(event.location));
    line(
        "STATUS",
        if event.cancelled {
            "CANCELLED"
        } else {
            "CONFIRMED"
        },
    );
    line("END", "VEVENT");
    line("END", "VCALENDAR");
    out
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
fn fold_into(out: &mut String, line: &str) {
    let mut width = 0;
    for c in line.chars() {
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

    fn event<'a>(summary: &'a str, description: &'a str) -> Event<'a> {
        Event {
            uid: "1abc@earshot.test",
            stamp: at("2026-11-22T12:00:00Z"),
            start: at("2026-11-23T18:30:00Z"),
            end: None,
            summary,
            description,
            url: "https://earshot.test/spaces/1abc",
            location: "https://x.com/i/spaces/1abc",
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
        let long = "Résumé ".repeat(40);
        let ics = calendar(&event(&long, "d"));
        assert!(ics.ends_with("END:VCALENDAR\r\n"));
        for line in ics.split("\r\n") {
            assert!(line.len() <= 75, "{line:?} is {} octets", line.len());
            assert!(!line.contains('\n'));
        }
        let unfolded = ics.replace("\r\n ", "");
        assert!(unfolded.contains(&format!("SUMMARY:{}", escape(&long))));
    }

    #[test]
    fn start_and_default_duration() {
        let ics = calendar(&event("Title", "Desc"));
        assert!(ics.contains("DTSTART:20261123T183000Z\r\n"));
        assert!(ics.contains("DURATION:PT1H\r\n"));
        assert!(ics.contains("STATUS:CONFIRMED\r\n"));
    }
}
