//! Pair kerning from the font's OpenType GPOS `kern` feature.
//!
//! ab_glyph only reads the legacy `kern` table, which Noto Sans does not
//! have; without kerning, large bold titles show gaps in pairs like "To",
//! "AV" or "y.". This reads the pair-adjustment lookups directly.

use ab_glyph::GlyphId;
use ttf_parser::gpos::{PairAdjustment, PositioningSubtable};
use ttf_parser::opentype_layout::LayoutTable;
use ttf_parser::{Face, Tag};

pub(crate) struct Kerning {
    face: Face<'static>,
    /// Indices of the lookups used by the `kern` feature.
    lookups: Vec<u16>,
}

impl Kerning {
    pub fn new(data: &'static [u8]) -> Option<Self> {
        let face = Face::parse(data, 0).ok()?;
        let mut lookups = Vec::new();
        if let Some(gpos) = face.tables().gpos {
            let kern = Tag::from_bytes(b"kern");
            for feature in gpos.features {
                if feature.tag == kern {
                    lookups.extend(feature.lookup_indices);
                }
            }
        }
        lookups.sort_unstable();
        lookups.dedup();
        Some(Kerning { face, lookups })
    }

    /// Horizontal adjustment between `left` and `right`, in font units.
    pub fn pair(&self, left: GlyphId, right: GlyphId) -> i16 {
        let Some(gpos) = self.face.tables().gpos else {
            return 0;
        };
        let (l, r) = (ttf_parser::GlyphId(left.0), ttf_parser::GlyphId(right.0));
        for &index in &self.lookups {
            if let Some(adjust) = lookup_pair(&gpos, index, l, r) {
                return adjust;
            }
        }
        0
    }
}

fn lookup_pair(
    gpos: &LayoutTable<'_>,
    index: u16,
    l: ttf_parser::GlyphId,
    r: ttf_parser::GlyphId,
) -> Option<i16> {
    let lookup = gpos.lookups.get(index)?;
    for sub in lookup.subtables.into_iter::<PositioningSubtable>() {
        let PositioningSubtable::Pair(pair) = sub else {
            continue;
        };
        let Some(cov) = pair.coverage().get(l) else {
            continue;
        };
        let record = match pair {
            PairAdjustment::Format1 { sets, .. } => sets.get(cov).and_then(|set| set.get(r)),
            PairAdjustment::Format2 {
                classes, matrix, ..
            } => matrix.get((classes.0.get(l), classes.1.get(r))),
        };
        if let Some((first, _)) = record {
            return Some(first.x_advance);
        }
    }
    None
}
