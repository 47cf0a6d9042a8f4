//! The design: what goes where on the card, in which colours.
//!
//! ```text
//!  ┌──────────────────────────────────────────────────────────────┐
//!  │ (● LIVE) (Technology)                              [≋] site │  top row
//!  │                                                              │
//!  │ Big bold title, wrapped over up to three lines,              │  title
//!  │ shrunk for long titles and ellipsized…                       │
//!  │ ──────────────────────────────────────────────────────────── │
//!  │ (A) Hosted by                                   LISTENING NOW│  footer
//!  │     Name @handle                                        1,523│
//!  └──────────────────────────────────────────────────────────────┘
//! ```

use std::sync::LazyLock;

use tiny_skia::Pixmap;

use crate::format::thousands;

use super::draw::{self, Rgba};
use super::fonts::{self, Engine};
use super::layout::{self, Area, Block};
use super::text::{self, Direction, Face};
use super::{CardInput, CardState, HEIGHT, WIDTH};

const W: f32 = WIDTH as f32;
const MARGIN: f32 = 72.0;
const RIGHT: f32 = W - MARGIN;
const CONTENT_W: f32 = W - 2.0 * MARGIN;

const TOP_Y: f32 = 72.0;
const PILL_H: f32 = 44.0;
const RULE_Y: f32 = 462.0;
const TITLE_TOP: f32 = TOP_Y + PILL_H + 40.0;
const TITLE_BOTTOM: f32 = RULE_Y - 40.0;
const FOOT_BASELINE: f32 = HEIGHT as f32 - MARGIN;

const TITLE_SIZES: [f32; 8] = [76.0, 70.0, 64.0, 58.0, 54.0, 50.0, 46.0, 42.0];
const TITLE_LINE: f32 = 1.14;
const TITLE_MAX_LINES: usize = 3;
/// Untrusted strings are cut to this many characters before layout; far
/// more than fits on the card, so nothing visible is lost.
const MAX_CHARS: usize = 400;

pub(crate) const FALLBACK_TITLE: &str = "An X Space";
const FALLBACK_SITE: &str = "earshot";

// Palette. Text colours are checked against the lightest part of the
// background (the glow) for WCAG AA contrast.
const BG_TOP: Rgba = Rgba::hex(0x1a1238);
const BG_BOTTOM: Rgba = Rgba::hex(0x0e0a20);
const ACCENT: Rgba = Rgba::hex(0x5b3cc4);
const LIVE: Rgba = Rgba::hex(0xc8102e);
const SCHEDULED: Rgba = Rgba::hex(0x0b5cad);
const NEUTRAL: Rgba = Rgba::hex(0x5d5873);
const WHITE: Rgba = Rgba::hex(0xffffff);
const SOFT: Rgba = Rgba::hex(0xe2ddf7);
const MUTED: Rgba = Rgba::hex(0xaba3d2);

pub(crate) fn compose(input: &CardInput) -> Option<Pixmap> {
    compose_with(&mut fonts::shared(), input)
}

/// [`compose`] with a given engine (tests use one without system fonts).
pub(crate) fn compose_with(e: &mut Engine, input: &CardInput) -> Option<Pixmap> {
    e.trim();
    // The background is the same on every card: draw it once, copy it.
    let mut pm = BACKGROUND.as_ref()?.clone();

    let brand_left = brand(&mut pm, e, &input.site)?;
    top_row(&mut pm, e, input, brand_left - 32.0)?;
    title(&mut pm, e, &input.title);
    draw::rounded_rect(
        &mut pm,
        MARGIN,
        RULE_Y,
        CONTENT_W,
        2.0,
        1.0,
        WHITE.alpha(28),
    )?;
    let stat_left = stat(&mut pm, e, &input.state);
    host(&mut pm, e, input, stat_left - 48.0)?;
    Some(pm)
}

static BACKGROUND: LazyLock<Option<Pixmap>> = LazyLock::new(|| {
    let mut pm = Pixmap::new(WIDTH, HEIGHT)?;
    background(&mut pm)?;
    Some(pm)
});

fn background(pm: &mut Pixmap) -> Option<()> {
    draw::linear_background(pm, BG_TOP, BG_BOTTOM)?;
    draw::glow(pm, W - 80.0, -40.0, 760.0, ACCENT.alpha(120))?;
    draw::glow(pm, -120.0, HEIGHT as f32 + 80.0, 560.0, ACCENT.alpha(48))?;
    // Faint sound rings spreading from the top-right corner.
    for (i, r) in [260.0, 380.0, 500.0, 620.0].into_iter().enumerate() {
        draw::ring(pm, W + 40.0, -60.0, r, 2.0, WHITE.alpha(22 - 4 * i as u8))?;
    }
    Some(())
}

/// Logo mark and site name in the top-right corner; returns its left edge.
fn brand(pm: &mut Pixmap, e: &mut Engine, site: &str) -> Option<f32> {
    let mut name = e.clean(site, 80);
    if !text::has_substance(&name) {
        name = FALLBACK_SITE.to_string();
    }
    let face = Face::bold(28.0);
    let name = layout::ellipsize(e, face, &name, 360.0);
    let name_w = e.width(face, &name);
    let mark = PILL_H;
    let left = RIGHT - name_w - 14.0 - mark;

    // Mark: accent tile with five sound bars.
    draw::rounded_rect(pm, left, TOP_Y, mark, mark, 12.0, ACCENT)?;
    let bars = [0.30, 0.55, 0.80, 0.55, 0.30];
    let (bar_w, gap) = (4.0, 3.5);
    let total = bars.len() as f32 * bar_w + (bars.len() - 1) as f32 * gap;
    let mut x = left + (mark - total) / 2.0;
    for h in bars {
        let bh = mark * h;
        draw::rounded_rect(pm, x, TOP_Y + (mark - bh) / 2.0, bar_w, bh, 2.0, WHITE)?;
        x += bar_w + gap;
    }
    let baseline = TOP_Y + (PILL_H + e.cap_height(face)) / 2.0;
    draw::text(pm, e, face, RIGHT - name_w, baseline, &name, WHITE);
    Some(left)
}

/// State badge, recording pill and topic pill, left to right.
fn top_row(pm: &mut Pixmap, e: &mut Engine, input: &CardInput, max_right: f32) -> Option<()> {
    let (label, fill, dot) = match &input.state {
        CardState::Live { .. } => ("LIVE".to_string(), LIVE, true),
        CardState::Scheduled { .. } => ("SCHEDULED".to_string(), SCHEDULED, false),
        CardState::Ended { .. } => ("ENDED".to_string(), NEUTRAL, false),
        CardState::Cancelled => ("CANCELLED".to_string(), NEUTRAL, false),
        CardState::Other(s) => {
            let s = e.clean(s, 60).to_uppercase();
            let s = if text::has_substance(&s) {
                s
            } else {
                "SPACE".to_string()
            };
            (s, NEUTRAL, false)
        }
    };
    let badge_face = Face::bold(19.0).tracked(1.6);
    let label = layout::ellipsize(e, badge_face, &label, 300.0);
    let pad = 20.0;
    let dot_w = if dot { 12.0 + 10.0 } else { 0.0 };
    let badge_w = pad + dot_w + e.width(badge_face, &label) + pad;
    draw::rounded_rect(pm, MARGIN, TOP_Y, badge_w, PILL_H, PILL_H / 2.0, fill)?;
    let baseline = TOP_Y + (PILL_H + e.cap_height(badge_face)) / 2.0;
    if dot {
        draw::circle(pm, MARGIN + pad + 6.0, TOP_Y + PILL_H / 2.0, 6.0, WHITE)?;
    }
    draw::text(
        pm,
        e,
        badge_face,
        MARGIN + pad + dot_w,
        baseline,
        &label,
        WHITE,
    );
    let mut x = MARGIN + badge_w + 12.0;

    let pill_face = Face::regular(20.0);
    let pill_baseline = TOP_Y + (PILL_H + e.cap_height(pill_face)) / 2.0;

    if let CardState::Ended {
        recording: true, ..
    } = input.state
    {
        let label = "Recording available";
        let w = pad + 14.0 + 10.0 + e.width(pill_face, label) + pad;
        if x + w <= max_right {
            draw::rounded_rect_outline(
                pm,
                (x, TOP_Y, w, PILL_H),
                PILL_H / 2.0,
                2.0,
                WHITE.alpha(80),
            )?;
            let (tx, cy) = (x + pad, TOP_Y + PILL_H / 2.0);
            draw::polygon(pm, &[(tx, cy - 7.5), (tx + 13.0, cy), (tx, cy + 7.5)], SOFT)?;
            draw::text(pm, e, pill_face, tx + 24.0, pill_baseline, label, SOFT);
            x += w + 12.0;
        }
    }

    if let Some(topic) = &input.topic {
        let topic = e.clean(topic, 80);
        let room = max_right - x - 2.0 * pad;
        if text::has_substance(&topic) && room > 80.0 {
            let topic = layout::ellipsize(e, pill_face, &topic, room.min(360.0));
            let w = pad + e.width(pill_face, &topic) + pad;
            draw::rounded_rect(pm, x, TOP_Y, w, PILL_H, PILL_H / 2.0, WHITE.alpha(26))?;
            draw::text(pm, e, pill_face, x + pad, pill_baseline, &topic, SOFT);
        }
    }
    Some(())
}

/// The cleaned title, or the fallback when nothing drawable is left.
pub(crate) fn title_text(e: &mut Engine, title: &str) -> String {
    let t = e.clean(title, MAX_CHARS);
    if text::has_substance(&t) {
        t
    } else {
        FALLBACK_TITLE.to_string()
    }
}

/// The title block: wrapped, shrunk to fit, and aligned to its start: left
/// for left-to-right titles, right for right-to-left ones.
fn title(pm: &mut Pixmap, e: &mut Engine, raw: &str) {
    let t = title_text(e, raw);
    let Block {
        size,
        line_height,
        text: wrapped,
    } = layout::fit(
        e,
        Face::bold(TITLE_SIZES[0]),
        &t,
        &TITLE_SIZES,
        TITLE_LINE,
        Area {
            max_width: CONTENT_W,
            max_height: TITLE_BOTTOM - TITLE_TOP,
            max_lines: TITLE_MAX_LINES,
        },
    );
    let face = Face::bold(size);
    let cap = e.cap_height(face);
    // Centre the ink (cap top of the first line to baseline of the last)
    // in the title area, nudged up a little for optical balance.
    let ink = cap + line_height * (wrapped.lines.len().max(1) - 1) as f32;
    let top = TITLE_TOP + ((TITLE_BOTTOM - TITLE_TOP - ink) / 2.0 - 6.0).max(0.0);
    let mut baseline = top + cap;
    let direction = if wrapped.rtl {
        Direction::Rtl
    } else {
        Direction::Auto
    };
    for text in &wrapped.lines {
        let line = e.line(face, text, direction);
        let x = if wrapped.rtl {
            RIGHT - line.width
        } else {
            MARGIN
        };
        draw::line(pm, e, &line, x, baseline, WHITE);
        baseline += line_height;
    }
}

/// The key number, right-aligned in the footer. Returns its left edge
/// (RIGHT when there is nothing to show).
fn stat(pm: &mut Pixmap, e: &mut Engine, state: &CardState) -> f32 {
    let (label, value) = match state {
        CardState::Live { listeners: Some(n) } => ("LISTENING NOW", thousands(*n)),
        CardState::Live { listeners: None } => ("HAPPENING NOW", "Tune in".to_string()),
        CardState::Scheduled { starts } => {
            let s = e.clean(starts, 80);
            let s = if text::has_substance(&s) {
                s
            } else {
                "Soon".to_string()
            };
            ("STARTS", s)
        }
        CardState::Ended {
            attended: Some(n), ..
        } => ("ATTENDED", thousands(*n)),
        CardState::Ended {
            attended: None,
            recording: true,
        } => ("RECORDING", "Available".to_string()),
        _ => return RIGHT,
    };
    let label_face = Face::regular(18.0).tracked(2.0);
    // Shrink long values (start times) to fit half the card.
    let max_w = CONTENT_W / 2.0;
    let mut value_face = Face::bold(52.0);
    for size in [52.0, 46.0, 40.0, 36.0, 32.0] {
        value_face = Face::bold(size);
        if e.width(value_face, &value) <= max_w {
            break;
        }
    }
    let value = layout::ellipsize(e, value_face, &value, max_w);
    let value_w = e.width(value_face, &value);
    let label_w = e.width(label_face, label);
    draw::text(
        pm,
        e,
        value_face,
        RIGHT - value_w,
        FOOT_BASELINE,
        &value,
        WHITE,
    );
    let label_baseline = FOOT_BASELINE - e.cap_height(value_face) - 16.0;
    draw::text(
        pm,
        e,
        label_face,
        RIGHT - label_w,
        label_baseline,
        label,
        MUTED,
    );
    RIGHT - value_w.max(label_w)
}

/// Avatar initial, "Hosted by" and "Name @handle" in the footer's left.
fn host(pm: &mut Pixmap, e: &mut Engine, input: &CardInput, max_right: f32) -> Option<()> {
    let name = input
        .creator_name
        .as_deref()
        .map(|n| e.clean(n, 120))
        .filter(|n| text::has_substance(n));
    let handle = input
        .creator_handle
        .as_deref()
        .map(|h| e.clean(h.trim_start_matches('@'), 60).replace(' ', ""))
        .filter(|h| text::has_substance(h))
        .map(|h| format!("@{h}"));
    if name.is_none() && handle.is_none() {
        return Some(());
    }

    let initial = name
        .iter()
        .chain(handle.iter())
        .flat_map(|s| s.chars())
        .find(|c| c.is_alphanumeric())
        .and_then(|c| c.to_uppercase().next())
        .filter(|c| e.covers(*c));
    let r = 31.0;
    let cy = FOOT_BASELINE - 28.0;
    let mut x = MARGIN;
    if let Some(c) = initial {
        draw::circle(pm, MARGIN + r, cy, r, ACCENT)?;
        let face = Face::bold(28.0);
        let s = c.to_string();
        let w = e.width(face, &s);
        let cap = e.cap_height(face);
        draw::text(pm, e, face, MARGIN + r - w / 2.0, cy + cap / 2.0, &s, WHITE);
        x += 2.0 * r + 20.0;
    }
    let room = (max_right - x).max(0.0);

    let small = Face::regular(20.0);
    draw::text(pm, e, small, x, FOOT_BASELINE - 36.0, "Hosted by", MUTED);

    let name_face = Face::bold(28.0);
    let handle_face = Face::regular(26.0);
    match (name, handle) {
        (Some(name), handle) => {
            let name = layout::ellipsize(e, name_face, &name, room);
            let w = draw::text(pm, e, name_face, x, FOOT_BASELINE, &name, WHITE);
            if let Some(h) = handle {
                let left = room - w - 12.0;
                if left > e.width(handle_face, "@abc…") {
                    let h = layout::ellipsize(e, handle_face, &h, left);
                    draw::text(pm, e, handle_face, x + w + 12.0, FOOT_BASELINE, &h, MUTED);
                }
            }
        }
        (None, Some(h)) => {
            let h = layout::ellipsize(e, name_face, &h, room);
            draw::text(pm, e, name_face, x, FOOT_BASELINE, &h, WHITE);
        }
        (None, None) => {}
    }
    Some(())
}
