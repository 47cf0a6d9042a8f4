//! Number and time formatting shared by the pages and the share card.
//!
//! The times are written by hand rather than with chrono's `format`: that parses
//! its pattern on every call, and a polled live partial writes several times per
//! answer (5 % of its CPU under load, BENCHMARKS.md §1). Each writer gives the same
//! text as the pattern it names, which the tests check.

use std::fmt::Write;

use chrono::{DateTime, Datelike, Timelike, Utc};

const WEEKDAYS: [&str; 7] = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];
const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// 1234567 → "1,234,567".
pub fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// `%Y-%m-%dT%H:%M:%SZ`: "2026-11-30T18:05:09Z".
pub fn iso_seconds(t: DateTime<Utc>) -> String {
    if !(0..=9999).contains(&t.year()) {
        // chrono's own form for years of more or fewer than four digits.
        return t.format("%Y-%m-%dT%H:%M:%SZ").to_string();
    }
    let mut out = String::with_capacity(20);
    let _ = write!(
        out,
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
        t.year(),
        t.month(),
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    );
    out
}

/// `%a %-d %b %Y, %H:%M UTC`: "Mon 30 Nov 2026, 18:05 UTC".
pub fn absolute_utc(t: DateTime<Utc>) -> String {
    if !(0..=9999).contains(&t.year()) {
        return t.format("%a %-d %b %Y, %H:%M UTC").to_string();
    }
    let mut out = String::with_capacity(26);
    let _ = write!(
        out,
        "{} {} {} {:04}, {:02}:{:02} UTC",
        WEEKDAYS[t.weekday().num_days_from_monday() as usize],
        t.day(),
        MONTHS[t.month0() as usize],
        t.year(),
        t.hour(),
        t.minute()
    );
    out
}

/// `%H:%M`: "18:05".
pub fn clock(t: DateTime<Utc>) -> String {
    let mut out = String::with_capacity(5);
    let _ = write!(out, "{:02}:{:02}", t.hour(), t.minute());
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_read_as_chrono_writes_them() {
        // Every weekday and month, each hour and minute boundary, leap days, and years
        // beyond four digits, where chrono's own form is kept.
        let mut t = DateTime::parse_from_rfc3339("1999-12-31T23:59:59Z")
            .unwrap()
            .with_timezone(&Utc);
        let step = chrono::Duration::seconds(86_400 * 3 + 3_671);
        for _ in 0..3_000 {
            assert_eq!(iso_seconds(t), t.format("%Y-%m-%dT%H:%M:%SZ").to_string());
            assert_eq!(
                absolute_utc(t),
                t.format("%a %-d %b %Y, %H:%M UTC").to_string()
            );
            assert_eq!(clock(t), t.format("%H:%M").to_string());
            t += step;
        }
        for far in [DateTime::<Utc>::MIN_UTC, DateTime::<Utc>::MAX_UTC] {
            assert_eq!(
                iso_seconds(far),
                far.format("%Y-%m-%dT%H:%M:%SZ").to_string()
            );
            assert_eq!(
                absolute_utc(far),
                far.format("%a %-d %b %Y, %H:%M UTC").to_string()
            );
            assert_eq!(clock(far), far.format("%H:%M").to_string());
        }
    }

    #[test]
    fn groups_thousands() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1000), "1,000");
        assert_eq!(thousands(1523), "1,523");
        assert_eq!(thousands(1_234_567), "1,234,567");
        assert_eq!(thousands(u64::MAX), "18,446,744,073,709,551,615");
    }
}
