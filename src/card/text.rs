//! Embedded fonts, text clean-up and measuring.
//!
//! Fonts are parsed once per process. Text is never shaped: glyphs are
//! placed one after the other by their advance width. Characters that the
//! font has no glyph for (emoji, CJK, Arabic, …) are dropped by [`clean`]
//! before anything is measured or drawn, so no "tofu" boxes are ever drawn.

use std::sync::LazyLock;

use ab_glyph::{Font, FontRef, GlyphId, PxScale, ScaleFont};

use super::kern::Kerning;

static REGULAR_TTF: &[u8] = include_bytes!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/assets/fonts/NotoSans-Regular.ttf"
));
static BOLD_TTF: &[u8] = include_bytes!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/assets/fonts/NotoSans-Bold.ttf"
));

/// One embedded font: outlines and metrics, plus its GPOS kerning.
pub(crate) struct Typeface {
    pub font: FontRef<'static>,
    kern: Kerning,
    units_per_em: f32,
}

impl Typeface {
    fn parse(data: &'static [u8]) -> Option<Self> {
        let font = FontRef::try_from_slice(data).ok()?;
        let units_per_em = font.units_per_em()?;
        Some(Typeface {
            font,
            kern: Kerning::new(data)?,
            units_per_em,
        })
    }

    pub fn has_glyph(&self, c: char) -> bool {
        self.font.glyph_id(c).0 != 0
    }
}

/// The two embedded weights, parsed once.
pub(crate) struct Fonts {
    pub regular: Typeface,
    pub bold: Typeface,
}

static FONTS: LazyLock<Option<Fonts>> = LazyLock::new(|| {
    Some(Fonts {
        regular: Typeface::parse(REGULAR_TTF)?,
        bold: Typeface::parse(BOLD_TTF)?,
    })
});

/// The parsed fonts; `None` only if the embedded files are broken.
pub(crate) fn fonts() -> Option<&'static Fonts> {
    FONTS.as_ref()
}

/// A font at a size. `size` is the em size in pixels (like CSS `font-size`).
#[derive(Clone, Copy)]
pub(crate) struct Face {
    pub typeface: &'static Typeface,
    pub size: f32,
    /// Extra space after every glyph, in pixels (letter-spacing).
    pub tracking: f32,
}

impl Face {
    pub fn new(typeface: &'static Typeface, size: f32) -> Self {
        Face {
            typeface,
            size,
            tracking: 0.0,
        }
    }

    pub fn tracked(mut self, tracking: f32) -> Self {
        self.tracking = tracking;
        self
    }

    /// ab_glyph's scale is the font's ascent-to-descent height, not its em.
    pub fn font(&self) -> &'static FontRef<'static> {
        &self.typeface.font
    }

    pub fn px_scale(&self) -> PxScale {
        let t = self.typeface;
        PxScale::from(self.size * t.font.height_unscaled() / t.units_per_em)
    }

    /// Height of capital letters above the baseline, in pixels.
    pub fn cap_height(&self) -> f32 {
        let scaled = self.font().as_scaled(self.px_scale());
        let glyph = scaled.scaled_glyph('H');
        match scaled.outline_glyph(glyph) {
            Some(g) => -g.px_bounds().min.y,
            None => self.size * 0.714,
        }
    }

    /// Advance width of `text` in pixels.
    pub fn width(&self, text: &str) -> f32 {
        self.layout(text).1
    }

    /// Glyphs of `text` with their pen x offsets, and the total advance.
    /// Characters without a glyph are skipped. Used for both measuring
    /// and drawing so the two always agree.
    pub fn layout(&self, text: &str) -> (Vec<(GlyphId, f32)>, f32) {
        let scaled = self.font().as_scaled(self.px_scale());
        let kern_scale = self.size / self.typeface.units_per_em;
        let mut glyphs = Vec::with_capacity(text.len());
        let mut x = 0.0f32;
        let mut prev: Option<GlyphId> = None;
        for c in text.chars() {
            let id = self.font().glyph_id(c);
            if id.0 == 0 {
                continue;
            }
            if let Some(p) = prev {
                x += f32::from(self.typeface.kern.pair(p, id)) * kern_scale + self.tracking;
            }
            glyphs.push((id, x));
            x += scaled.h_advance(id);
            prev = Some(id);
        }
        (glyphs, x)
    }
}

/// True when both weights can draw `c`.
pub(crate) fn drawable(fonts: &Fonts, c: char) -> bool {
    fonts.regular.has_glyph(c) && fonts.bold.has_glyph(c)
}

/// Makes untrusted text safe to lay out: keeps at most `max_chars`
/// characters (looking at no more than 16 times that many, so huge inputs
/// cost nothing), turns control characters and any whitespace into single
/// spaces, drops characters the fonts cannot draw (and the zero-width
/// joiners / variation selectors that go with emoji), and trims.
pub(crate) fn clean(fonts: &Fonts, text: &str, max_chars: usize) -> String {
    let mut out = String::with_capacity(text.len().min(max_chars.saturating_mul(4)));
    let mut pending_space = false;
    let mut kept = 0;
    for c in text.chars().take(max_chars.saturating_mul(16)) {
        if kept >= max_chars {
            break;
        }
        if c.is_whitespace() || c.is_control() {
            pending_space = true;
            continue;
        }
        if is_invisible(c) {
            continue;
        }
        if !drawable(fonts, c) {
            // "Hello🎉World" reads better as "Hello World" than "HelloWorld".
            pending_space = true;
            continue;
        }
        if pending_space && !out.is_empty() {
            out.push(' ');
        }
        pending_space = false;
        out.push(c);
        kept += 1;
    }
    out
}

/// Format characters that would draw nothing useful on their own.
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
    )
}

/// True when `text` has at least one letter or digit: a title of only
/// punctuation left over from dropped emoji is not worth showing.
pub(crate) fn has_substance(text: &str) -> bool {
    text.chars().any(char::is_alphanumeric)
}
