//! The listener history drawn as a small inline SVG, on the server: no chart library
//! and no script. Pure: samples in, markup out.
//!
//! The line takes its colour from the text around it (`currentColor`), so it follows
//! the light and dark themes, and everything is an SVG attribute, not a `style`,
//! which the site's CSP would refuse.

use std::fmt::Write;

use chrono::{DateTime, Utc};

use crate::shared::samples::{Sample, peak};
use crate::web::views::{TimeView, count};

/// The drawing's size in CSS pixels (it scales down with its container).
pub const WIDTH: u32 = 240;
pub const HEIGHT: u32 = 48;
/// Room around the line, so its stroke and the peak's dot are not clipped.
const PAD: f64 = 3.0;

/// What the Space page shows of a history: the drawing, when there are two samples
/// or more, and the peak, when there is one.
pub struct SparklineView {
    /// Our own markup, numbers and times only: no upstream text goes into it.
    pub svg: Option<String>,
    pub peak: String,
    pub peak_time: TimeView,
    pub peak_clock: String,
}

impl SparklineView {
    pub fn new(samples: &[Sample], now: DateTime<Utc>) -> Option<Self> {
        let top = peak(samples)?;
        Some(Self {
            svg: svg(samples),
            peak: count(top.participants),
            peak_time: TimeView::new(top.at, now),
            peak_clock: clock(top.at),
        })
    }
}

/// "12:10", in UTC, as the site's absolute times are.
fn clock(at: DateTime<Utc>) -> String {
    crate::format::clock(at)
}

/// What the drawing says to those who cannot see it: first and last counts, the
/// peak, and their times.
pub fn label(samples: &[Sample]) -> Option<String> {
    let (first, last, top) = (samples.first()?, samples.last()?, peak(samples)?);
    Some(format!(
        "Listeners over time: {} at {} UTC, {} at {} UTC; peak {} at {} UTC",
        count(first.participants),
        clock(first.at),
        count(last.participants),
        clock(last.at),
        count(top.participants),
        clock(top.at),
    ))
}

/// The sparkline of `samples` (oldest first), or `None` with fewer than two: time
/// runs left to right, counts from zero at the bottom to the peak at the top, and a
/// dot marks the peak.
pub fn svg(samples: &[Sample]) -> Option<String> {
    svg_sized(samples, WIDTH, HEIGHT)
}

/// The same drawing at another size (the embed's is smaller), drawn at that size
/// rather than scaled, so the line keeps its width and the dot its shape.
pub fn svg_sized(samples: &[Sample], width: u32, height: u32) -> Option<String> {
    if samples.len() < 2 {
        return None;
    }
    let label = label(samples)?;
    let (first, last) = (samples.first()?.at, samples.last()?.at);
    let span = (last - first).num_milliseconds().max(1) as f64;
    let top = peak(samples)?;
    let highest = top.participants.max(1) as f64;
    let (w, h) = (f64::from(width), f64::from(height));
    let point = |s: &Sample| {
        let x = PAD + (s.at - first).num_milliseconds() as f64 / span * (w - 2.0 * PAD);
        let y = h - PAD - s.participants as f64 / highest * (h - 2.0 * PAD);
        (x, y)
    };
    let mut points = String::with_capacity(samples.len() * 12);
    for (i, s) in samples.iter().enumerate() {
        let (x, y) = point(s);
        let sep = if i == 0 { "" } else { " " };
        let _ = write!(points, "{sep}{},{}", Tenths(x), Tenths(y));
    }
    let (px, py) = point(&top);
    let (px, py) = (Tenths(px), Tenths(py));
    Some(format!(
        "<svg class=\"sparkline\" xmlns=\"http://www.w3.org/2000/svg\" role=\"img\" \
         aria-label=\"{label}\" viewBox=\"0 0 {width} {height}\" width=\"{width}\" \
         height=\"{height}\">\
         <polyline fill=\"none\" stroke=\"currentColor\" stroke-width=\"2\" \
         stroke-linejoin=\"round\" stroke-linecap=\"round\" points=\"{points}\"/>\
         <circle cx=\"{px}\" cy=\"{py}\" r=\"2.5\" fill=\"currentColor\"/></svg>"
    ))
}

/// A coordinate to one decimal, as `{:.1}` writes it, through integers: float
/// formatting was 40 % of building a Space page's view with a 240-sample line.
/// The drawing's coordinates are never negative. An exact tie (2.25) rounds up
/// here where `{:.1}` rounds to even: a twentieth of a pixel.
struct Tenths(f64);

impl std::fmt::Display for Tenths {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let tenths = (self.0 * 10.0).round().max(0.0) as u64;
        write!(f, "{}.{}", tenths / 10, tenths % 10)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t0() -> DateTime<Utc> {
        "2026-11-22T12:00:00Z".parse().unwrap()
    }

    fn samples(counts: &[u64]) -> Vec<Sample> {
        counts
            .iter()
            .enumerate()
            .map(|(i, &participants)| Sample {
                at: t0() + chrono::Duration::seconds(15 * i as i64),
                participants,
            })
            .collect()
    }

    #[test]
    fn coordinates_read_as_one_decimal_formatting_writes_them() {
        let mut v = 0.0_f64;
        while v < 700.0 {
            if (v * 10.0).fract() != 0.5 {
                assert_eq!(Tenths(v).to_string(), format!("{v:.1}"), "{v}");
            }
            v += 0.0137;
        }
    }

    #[test]
    fn the_drawing_matches_the_checked_in_file() {
        let history = samples(&[120, 340, 980, 1523, 1400, 900, 1100]);
        let drawn = svg(&history).unwrap();
        let expected = include_str!("../../tests/fixtures/sparkline.svg");
        assert_eq!(drawn, expected.trim_end());
    }

    #[test]
    fn the_label_gives_first_last_and_peak_with_their_times() {
        let mut history = samples(&[5, 9, 7]);
        history[2].at = "2026-11-22T13:05:00Z".parse().unwrap();
        assert_eq!(
            label(&history).unwrap(),
            "Listeners over time: 5 at 12:00 UTC, 7 at 13:05 UTC; peak 9 at 12:00 UTC"
        );
    }

    #[test]
    fn one_sample_has_a_peak_but_no_line_and_none_has_neither() {
        assert!(svg(&samples(&[4])).is_none());
        let view = SparklineView::new(&samples(&[4]), t0()).unwrap();
        assert_eq!(
            (view.peak.as_str(), view.peak_clock.as_str()),
            ("4", "12:00")
        );
        assert!(SparklineView::new(&[], t0()).is_none());
    }

    #[test]
    fn a_flat_or_empty_audience_stays_inside_the_box() {
        for counts in [[0, 0, 0], [7, 7, 7]] {
            let drawn = svg(&samples(&counts)).unwrap();
            assert!(!drawn.contains("NaN") && !drawn.contains("inf"), "{drawn}");
        }
        // Two samples at the same moment: no division by zero.
        let same = [samples(&[1])[0], samples(&[2])[0]];
        assert!(!svg(&same).unwrap().contains("NaN"));
    }

    #[test]
    fn colours_come_from_the_theme_and_nothing_needs_a_style_attribute() {
        let drawn = svg(&samples(&[1, 2, 3])).unwrap();
        assert!(drawn.contains("stroke=\"currentColor\""));
        assert!(!drawn.contains("style="));
        assert!(!drawn.contains('#'), "no fixed colour");
    }
}
