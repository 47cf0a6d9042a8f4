//! Line breaking, ellipsis and font-size fitting. Pure measuring, no pixels.

use super::text::{Face, Typeface};

pub(crate) const ELLIPSIS: char = '…';

/// Shortens `text` to fit in `max_width`, ending it with "…" when cut.
/// Prefers cutting at a word boundary when that keeps most of the line.
pub(crate) fn ellipsize(face: Face, text: &str, max_width: f32) -> String {
    if face.width(text) <= max_width {
        return text.to_string();
    }
    let chars: Vec<char> = text.chars().collect();
    // Largest prefix that fits with the ellipsis (binary search on length).
    let (mut lo, mut hi) = (0usize, chars.len());
    while lo < hi {
        let mid = (lo + hi).div_ceil(2);
        let candidate: String = chars[..mid].iter().chain([&ELLIPSIS]).collect();
        if face.width(&candidate) <= max_width {
            lo = mid;
        } else {
            hi = mid - 1;
        }
    }
    let mut cut = lo;
    // Back up to the last space if that loses less than a third of the line.
    if let Some(space) = chars[..cut].iter().rposition(|c| *c == ' ')
        && space * 3 >= cut * 2
    {
        cut = space;
    }
    let mut out: String = chars[..cut].iter().collect();
    let trimmed = out
        .trim_end_matches(|c: char| c.is_whitespace() || ",;:-–—".contains(c))
        .len();
    out.truncate(trimmed);
    out.push(ELLIPSIS);
    out
}

/// Greedy word wrap into at most `max_lines` lines of `max_width`.
/// Words wider than a line are broken between characters (this is also
/// what happens to scripts written without spaces). Returns the lines and
/// whether the text had to be cut (the last line then ends with "…").
pub(crate) fn wrap(
    face: Face,
    text: &str,
    max_width: f32,
    max_lines: usize,
) -> (Vec<String>, bool) {
    let mut lines: Vec<String> = Vec::new();
    let mut current = String::new();
    let words: Vec<&str> = text.split(' ').filter(|w| !w.is_empty()).collect();
    let mut overflow = false;

    'words: for (i, word) in words.iter().enumerate() {
        let candidate = if current.is_empty() {
            (*word).to_string()
        } else {
            format!("{current} {word}")
        };
        if face.width(&candidate) <= max_width {
            current = candidate;
            continue;
        }
        if !current.is_empty() {
            lines.push(std::mem::take(&mut current));
            if lines.len() == max_lines {
                overflow = true;
                // Keep what follows so the last line can be ellipsized.
                let rest = words[i..].join(" ");
                if let Some(last) = lines.last_mut() {
                    *last = ellipsize(face, &format!("{last} {rest}"), max_width);
                }
                break 'words;
            }
        }
        // Put `word` on the fresh line, splitting it if it is too long.
        let mut piece = String::new();
        for (at, c) in word.char_indices() {
            piece.push(c);
            if face.width(&piece) > max_width && piece.chars().count() > 1 {
                piece.pop();
                lines.push(std::mem::take(&mut piece));
                piece.push(c);
                if lines.len() == max_lines {
                    overflow = true;
                    let rest = words[i + 1..].join(" ");
                    if let Some(last) = lines.last_mut() {
                        let joined = format!("{last}{} {rest}", &word[at..]);
                        *last = ellipsize(face, &joined, max_width);
                    }
                    break 'words;
                }
            }
        }
        current = piece;
    }
    if !overflow && !current.is_empty() {
        if lines.len() == max_lines {
            overflow = true;
            if let Some(last) = lines.last_mut() {
                *last = ellipsize(face, &format!("{last} {current}"), max_width);
            }
        } else {
            lines.push(current);
        }
    }
    (lines, overflow)
}

/// A block of wrapped text at a chosen size.
pub(crate) struct Block {
    pub size: f32,
    pub line_height: f32,
    pub lines: Vec<String>,
}

/// Picks the largest size from `sizes` (largest first) at which `text`
/// fits in `max_lines` lines of `max_width` and in `max_height`; if none
/// does, uses the smallest size and ellipsizes.
pub(crate) fn fit(
    font: &'static Typeface,
    text: &str,
    sizes: &[f32],
    line_factor: f32,
    max_width: f32,
    max_height: f32,
    max_lines: usize,
) -> Block {
    let mut last = Block {
        size: 0.0,
        line_height: 0.0,
        lines: Vec::new(),
    };
    for &size in sizes {
        let face = Face::new(font, size);
        let line_height = size * line_factor;
        let lines_allowed = max_lines
            .min(((max_height - size) / line_height).floor() as usize + 1)
            .max(1);
        let (lines, overflow) = wrap(face, text, max_width, lines_allowed);
        let done = !overflow;
        last = Block {
            size,
            line_height,
            lines,
        };
        if done {
            break;
        }
    }
    last
}
