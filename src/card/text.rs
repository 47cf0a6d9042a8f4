//! Text clean-up, shaping and measuring.
//!
//! Text is shaped by cosmic-text (HarfRust underneath): Arabic joins, Devanagari
//! forms its conjuncts, mixed directions are ordered by the bidi algorithm, and
//! every character is drawn from whichever loaded font has it (see `fonts`).
//! Characters that no loaded font has (emoji, scripts without a font on this
//! machine) are dropped by [`clean`] before anything is measured or drawn, so
//! no "tofu" boxes are ever drawn.

use cosmic_text::{Attrs, Buffer, Family, LayoutGlyph, Metrics, Shaping, Weight, Wrap};

use super::fonts::{Engine, PRIMARY_FAMILY};

/// The two weights a card uses.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) enum Boldness {
    Regular,
    Bold,
}

/// A font at a size. `size` is the em size in pixels (like CSS `font-size`).
#[derive(Clone, Copy, Debug)]
pub(crate) struct Face {
    pub boldness: Boldness,
    pub size: f32,
    /// Extra space after every glyph, in pixels (letter-spacing).
    pub tracking: f32,
}

impl Face {
    pub fn new(boldness: Boldness, size: f32) -> Self {
        Face {
            boldness,
            size,
            tracking: 0.0,
        }
    }

    pub fn regular(size: f32) -> Self {
        Self::new(Boldness::Regular, size)
    }

    pub fn bold(size: f32) -> Self {
        Self::new(Boldness::Bold, size)
    }

    pub fn tracked(mut self, tracking: f32) -> Self {
        self.tracking = tracking;
        self
    }

    fn attrs(&self) -> Attrs<'static> {
        let attrs = Attrs::new()
            .family(Family::Name(PRIMARY_FAMILY))
            .weight(match self.boldness {
                Boldness::Regular => Weight::NORMAL,
                Boldness::Bold => Weight::BOLD,
            });
        if self.tracking == 0.0 {
            attrs
        } else {
            attrs.letter_spacing(self.tracking / self.size)
        }
    }

    fn metrics(&self) -> Metrics {
        Metrics::relative(self.size, 1.2)
    }
}

/// Which way a paragraph runs. A line cut out of a paragraph is shaped in the
/// paragraph's direction, not the one its own first letter would give it.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) enum Direction {
    /// From the text's first strong character, as the bidi algorithm does.
    Auto,
    Rtl,
}

/// One shaped line: glyphs in visual order, placed from x = 0 at the left
/// edge of the ink box, y relative to the baseline.
pub(crate) struct Line {
    pub glyphs: Vec<LayoutGlyph>,
    pub width: f32,
}

/// Right-to-left mark: a zero-width strong character that makes the bidi
/// algorithm take the paragraph as right to left.
const RLM: char = '\u{200F}';

impl Engine {
    /// `text` shaped into lines of at most `max_width` (no limit for `None`).
    pub(crate) fn shape(&mut self, face: Face, text: &str, max_width: Option<f32>) -> Buffer {
        let mut buffer = Buffer::new_empty(face.metrics());
        buffer.set_wrap(if max_width.is_some() {
            Wrap::WordOrGlyph
        } else {
            Wrap::None
        });
        buffer.set_size(max_width, None);
        buffer.set_text(text, &face.attrs(), Shaping::Advanced, None);
        buffer.shape_until_scroll(&mut self.system, false);
        buffer
    }

    /// `text` shaped as one line.
    pub(crate) fn line(&mut self, face: Face, text: &str, direction: Direction) -> Line {
        let marked;
        let text = match direction {
            Direction::Auto => text,
            Direction::Rtl => {
                marked = format!("{RLM}{text}");
                &marked
            }
        };
        let buffer = self.shape(face, text, None);
        let Some(run) = buffer.layout_runs().next() else {
            return Line {
                glyphs: Vec::new(),
                width: 0.0,
            };
        };
        let left = run.glyphs.iter().map(|g| g.x).fold(f32::INFINITY, f32::min);
        let left = if left.is_finite() { left } else { 0.0 };
        let glyphs: Vec<LayoutGlyph> = run
            .glyphs
            .iter()
            .map(|g| LayoutGlyph {
                x: g.x - left,
                ..g.clone()
            })
            .collect();
        // The ink box: from the leftmost pen position to the furthest advance.
        // Letter-spacing after the last glyph is not part of it.
        let width = glyphs.iter().map(|g| g.x + g.w).fold(0.0, f32::max)
            - if glyphs.is_empty() {
                0.0
            } else {
                face.tracking
            };
        Line {
            glyphs,
            width: width.max(0.0),
        }
    }

    /// Advance width of `text` in pixels.
    pub(crate) fn width(&mut self, face: Face, text: &str) -> f32 {
        self.line(face, text, Direction::Auto).width
    }

    /// Height of capital letters above the baseline, in pixels.
    pub(crate) fn cap_height(&self, face: Face) -> f32 {
        face.size * self.cap_height_em
    }

    /// Makes untrusted text safe to lay out: keeps at most `max_chars`
    /// characters (looking at no more than 16 times that many, so huge inputs
    /// cost nothing), turns control characters and any whitespace into single
    /// spaces, drops characters no loaded font can draw (and the format
    /// characters that go with emoji), and trims. Zero-width (non-)joiners are
    /// kept between two drawn characters: Devanagari and Persian spell with them.
    pub(crate) fn clean(&mut self, text: &str, max_chars: usize) -> String {
        let mut out = String::with_capacity(text.len().min(max_chars.saturating_mul(4)));
        let mut pending_space = false;
        let mut pending_joiner: Option<char> = None;
        let mut kept = 0;
        for c in text.chars().take(max_chars.saturating_mul(16)) {
            if kept >= max_chars {
                break;
            }
            if c.is_whitespace() || c.is_control() {
                pending_space = true;
                pending_joiner = None;
                continue;
            }
            if is_joiner(c) {
                if !pending_space && !out.is_empty() {
                    pending_joiner = Some(c);
                }
                continue;
            }
            if is_invisible(c) {
                continue;
            }
            if !self.covers(c) {
                // "Hello🎉World" reads better as "Hello World" than "HelloWorld".
                pending_space = true;
                pending_joiner = None;
                continue;
            }
            if pending_space && !out.is_empty() {
                out.push(' ');
            } else if let Some(joiner) = pending_joiner {
                out.push(joiner);
            }
            pending_space = false;
            pending_joiner = None;
            out.push(c);
            kept += 1;
        }
        out
    }
}

/// Zero-width non-joiner and joiner.
fn is_joiner(c: char) -> bool {
    matches!(c, '\u{200C}' | '\u{200D}')
}

/// Format characters that would draw nothing useful on their own. Explicit
/// bidi controls go too: untrusted text must not reorder the card.
fn is_invisible(c: char) -> bool {
    matches!(c,
        '\u{00AD}'                // soft hyphen
        | '\u{200B}'..='\u{200F}' // zero-width space/joiners, LRM/RLM
        | '\u{202A}'..='\u{202E}' // bidi embeddings
        | '\u{2060}'..='\u{2064}'
        | '\u{2066}'..='\u{2069}'
        | '\u{FE00}'..='\u{FE0F}' // variation selectors
        | '\u{FEFF}'
        | '\u{E0000}'..='\u{E007F}' // tags (flag sequences)
        | '\u{E0100}'..='\u{E01EF}' // ideographic variation selectors
    )
}

/// True when `text` has at least one letter or digit: a title of only
/// punctuation left over from dropped emoji is not worth showing.
pub(crate) fn has_substance(text: &str) -> bool {
    text.chars().any(char::is_alphanumeric)
}
