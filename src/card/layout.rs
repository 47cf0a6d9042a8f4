//! Line breaking, ellipsis and font-size fitting. Pure measuring, no pixels.

use super::fonts::Engine;
use super::text::{Direction, Face};

pub(crate) const ELLIPSIS: char = '…';

/// Shortens `text` to fit in `max_width`, ending it with "…" when cut.
/// Prefers cutting at a word boundary when that keeps most of the line.
/// Cuts fall only between shaping clusters, so a conjunct, a letter and its
/// marks, or a ligature is never split.
pub(crate) fn ellipsize(e: &mut Engine, face: Face, text: &str, max_width: f32) -> String {
    let line = e.line(face, text, Direction::Auto);
    if line.width <= max_width {
        return text.to_string();
    }
    let mut cuts: Vec<usize> = line.glyphs.iter().map(|g| g.start).collect();
    cuts.push(0);
    cuts.sort_unstable();
    cuts.dedup();
    // Longest prefix that fits with the ellipsis (binary search on the cuts).
    let (mut lo, mut hi) = (0usize, cuts.len() - 1);
    while lo < hi {
        let mid = (lo + hi).div_ceil(2);
        let candidate = format!("{}{ELLIPSIS}", &text[..cuts[mid]]);
        if e.width(face, &candidate) <= max_width {
            lo = mid;
        } else {
            hi = mid - 1;
        }
    }
    let mut cut = cuts[lo];
    // Back up to the last space if that loses less than a third of the line.
    let kept = text[..cut].chars().count();
    if let Some(space) = text[..cut].rfind(' ')
        && text[..space].chars().count() * 3 >= kept * 2
    {
        cut = space;
    }
    let mut out = text[..cut]
        .trim_end_matches(|c: char| c.is_whitespace() || ",;:-–—".contains(c))
        .to_string();
    out.push(ELLIPSIS);
    out
}

/// Text wrapped into lines.
#[derive(Debug, PartialEq)]
pub(crate) struct Wrapped {
    pub lines: Vec<String>,
    /// Whether the text had to be cut (the last line then ends with "…").
    pub cut: bool,
    /// Whether the paragraph runs right to left: each line is then shaped,
    /// and placed, as part of a right-to-left paragraph.
    pub rtl: bool,
}

/// Word wrap into at most `max_lines` lines of `max_width`, by the Unicode
/// line breaking rules (so between ideographs too). Words wider than a line
/// are broken between clusters. When the text does not fit, the last line
/// takes all the rest and is ellipsized.
pub(crate) fn wrap(
    e: &mut Engine,
    face: Face,
    text: &str,
    max_width: f32,
    max_lines: usize,
) -> Wrapped {
    let buffer = e.shape(face, text, Some(max_width));
    let mut rtl = false;
    // Byte ranges of the lines, in reading order.
    let mut starts: Vec<usize> = Vec::new();
    for run in buffer.layout_runs() {
        rtl = run.rtl;
        if let Some(start) = run.glyphs.iter().map(|g| g.start).min() {
            starts.push(start);
        }
    }
    let max_lines = max_lines.max(1);
    let cut = starts.len() > max_lines;
    starts.truncate(max_lines);
    let mut lines: Vec<String> = Vec::with_capacity(starts.len());
    for (i, &start) in starts.iter().enumerate() {
        let end = starts.get(i + 1).copied().unwrap_or(text.len());
        let line = text[start..end].trim();
        if !line.is_empty() {
            lines.push(line.to_string());
        }
    }
    if cut && let Some(last) = lines.last_mut() {
        *last = ellipsize(e, face, last, max_width);
    }
    Wrapped { lines, cut, rtl }
}

/// A block of wrapped text at a chosen size.
pub(crate) struct Block {
    pub size: f32,
    pub line_height: f32,
    pub text: Wrapped,
}

/// Where a block of text must fit.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Area {
    pub max_width: f32,
    pub max_height: f32,
    pub max_lines: usize,
}

/// Picks the largest size from `sizes` (largest first) at which `text`
/// fits in `max_lines` lines of `max_width` and in `max_height`; if none
/// does, uses the smallest size and ellipsizes.
pub(crate) fn fit(
    e: &mut Engine,
    face: Face,
    text: &str,
    sizes: &[f32],
    line_factor: f32,
    area: Area,
) -> Block {
    let Area {
        max_width,
        max_height,
        max_lines,
    } = area;
    let mut last = Block {
        size: 0.0,
        line_height: 0.0,
        text: Wrapped {
            lines: Vec::new(),
            cut: false,
            rtl: false,
        },
    };
    for &size in sizes {
        let face = Face { size, ..face };
        let line_height = size * line_factor;
        let lines_allowed = max_lines
            .min(((max_height - size) / line_height).floor() as usize + 1)
            .max(1);
        let wrapped = wrap(e, face, text, max_width, lines_allowed);
        let done = !wrapped.cut;
        last = Block {
            size,
            line_height,
            text: wrapped,
        };
        if done {
            break;
        }
    }
    last
}
