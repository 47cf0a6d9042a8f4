//! Share card: the 1200×630 PNG shown by link previews (OpenGraph /
//! Twitter `summary_large_image`) for a Space page.
//!
//! Everything is drawn in-process. Text is shaped by cosmic-text, so titles
//! in any script the fonts cover come out joined, reordered and broken into
//! lines as they should. Noto Sans, Noto Sans Arabic and Noto Sans Devanagari
//! are embedded (SIL OFL 1.1, see `assets/fonts/OFL.txt`); Noto Sans CJK is
//! loaded from the system when installed (see `fonts.rs`). No other system
//! font, and no network, is used. Rendering is deterministic: the same input
//! always gives the same bytes on a machine with the same fonts installed.

mod compose;
mod draw;
mod encode;
mod fonts;
mod layout;
mod text;

#[cfg(test)]
mod golden;
#[cfg(test)]
mod tests;

pub const WIDTH: u32 = 1200;
pub const HEIGHT: u32 = 630;

/// What is happening with the Space, which decides the badge and the
/// big number on the card.
#[derive(Clone, Debug, PartialEq)]
pub enum CardState {
    /// "LIVE" badge, "1,523 listening".
    Live { listeners: Option<u64> },
    /// "SCHEDULED" badge; `starts` is shown as given, e.g. "Sun 22 Nov, 18:00 UTC".
    Scheduled { starts: String },
    /// "ENDED" badge, attended count and whether a recording is available.
    Ended {
        attended: Option<u64>,
        recording: bool,
    },
    /// "CANCELLED" badge.
    Cancelled,
    /// Unknown state: shown plainly in a neutral badge.
    Other(String),
}

/// Everything the card shows. All strings are untrusted: they may be empty,
/// huge, or made of characters the embedded font cannot draw.
#[derive(Clone, Debug, PartialEq)]
pub struct CardInput {
    pub title: String,
    pub creator_name: Option<String>,
    /// Without the leading '@' (one is stripped if present anyway).
    pub creator_handle: Option<String>,
    pub state: CardState,
    /// E.g. "Technology".
    pub topic: Option<String>,
    /// E.g. "earshot" or the host name; shown as the brand.
    pub site: String,
}

#[derive(Debug, thiserror::Error)]
pub enum CardError {
    #[error("could not draw the card")]
    Draw,
    #[error("could not encode the card")]
    Encode,
}

/// Renders the card as PNG bytes, WIDTH×HEIGHT, 8-bit RGB.
pub fn render(input: &CardInput) -> Result<Vec<u8>, CardError> {
    let pixmap = compose::compose(input).ok_or(CardError::Draw)?;
    encode::png(&pixmap).ok_or(CardError::Encode)
}
