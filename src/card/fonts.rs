//! The fonts a card is drawn with, and the one shared text engine.
//!
//! Noto Sans (Latin, Greek, Cyrillic), Noto Sans Arabic and Noto Sans
//! Devanagari are embedded: they are small, and a card then looks the same on
//! every machine. Noto Sans CJK is ~20 MB a weight, so it is loaded from the
//! system (Debian's `fonts-noto-cjk`, which the Dockerfile and `.ci/run`
//! install). No other system font is ever looked at, so the fallback order,
//! and therefore the card, depends only on the input and on whether that one
//! package is there. Where it is not, CJK characters are left out of the text
//! (see [`Engine::covers`]), never drawn as boxes.

use std::path::Path;
use std::sync::{Arc, LazyLock, Mutex, MutexGuard};

use cosmic_text::{FontSystem, SwashCache, fontdb};

static EMBEDDED: [&[u8]; 6] = [
    include_bytes!(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/assets/fonts/NotoSans-Regular.ttf"
    )),
    include_bytes!(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/assets/fonts/NotoSans-Bold.ttf"
    )),
    include_bytes!(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/assets/fonts/NotoSansArabic-Regular.ttf"
    )),
    include_bytes!(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/assets/fonts/NotoSansArabic-Bold.ttf"
    )),
    include_bytes!(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/assets/fonts/NotoSansDevanagari-Regular.ttf"
    )),
    include_bytes!(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/assets/fonts/NotoSansDevanagari-Bold.ttf"
    )),
];

/// The family every run asks for first; the others are reached by fallback.
pub(crate) const PRIMARY_FAMILY: &str = "Noto Sans";

/// Where distributions put Noto Sans CJK: Debian and Ubuntu, Arch, Fedora.
pub(crate) const CJK_DIRS: [&str; 3] = [
    "/usr/share/fonts/opentype/noto",
    "/usr/share/fonts/noto-cjk",
    "/usr/share/fonts/google-noto-cjk",
];
const CJK_FILES: [&str; 2] = ["NotoSansCJK-Regular.ttc", "NotoSansCJK-Bold.ttc"];
/// The faces kept from the collections. The fallback list of cosmic-text picks
/// by locale for Han (see [`LOCALE`]) and Korean for Hangul.
const CJK_FAMILIES: [&str; 2] = ["Noto Sans CJK JP", "Noto Sans CJK KR"];
/// Only decides which CJK face draws Han characters: Japanese forms, as most
/// CJK titles on X Spaces are Japanese. Fixed, never the server's locale.
const LOCALE: &str = "ja";

/// Noto Sans's capital height (714 units of 1000), should its table not say.
const NOTO_SANS_CAP_HEIGHT: f32 = 0.714;

/// Rasterised glyphs kept between cards; beyond this the cache starts over,
/// so that a stream of distinct CJK titles cannot grow it without end.
const GLYPH_IMAGES_KEPT: usize = 4096;

/// Fonts, shaping caches and the glyph rasteriser. Shaping needs `&mut`, so
/// there is one behind a mutex ([`shared`]) rather than one per thread: the
/// database is built once (parsing and memory-mapping fonts), and cards are
/// rendered rarely and cached by the route.
pub(crate) struct Engine {
    pub(crate) system: FontSystem,
    pub(crate) raster: SwashCache,
    #[cfg_attr(not(test), allow(dead_code))] // tests skip without it
    cjk: bool,
    /// Height of capitals over the em, from Noto Sans: what text is centred by.
    pub(crate) cap_height_em: f32,
    /// Faces checked by [`Engine::covers`]: one per family.
    coverage: Vec<fontdb::ID>,
}

impl Engine {
    /// Embedded fonts plus Noto Sans CJK from the first of `cjk_dirs` that has it.
    pub(crate) fn new(cjk_dirs: &[&str]) -> Self {
        let mut db = fontdb::Database::new();
        for data in EMBEDDED {
            db.load_font_source(fontdb::Source::Binary(Arc::new(data)));
        }
        let cjk = cjk_dirs.iter().any(|dir| {
            let loaded = load_cjk(&mut db, Path::new(dir));
            if !loaded {
                forget_files(&mut db);
            }
            loaded
        });
        if !cjk {
            tracing::warn!(
                "share cards: Noto Sans CJK not found in {cjk_dirs:?}; CJK characters are left out of cards (Debian: fonts-noto-cjk)"
            );
        }
        let mut coverage: Vec<fontdb::ID> = Vec::new();
        let mut seen: Vec<&str> = Vec::new();
        for face in db.faces() {
            if let Some((family, _)) = face.families.first()
                && !seen.contains(&family.as_str())
            {
                seen.push(family);
                coverage.push(face.id);
            }
        }
        let mut system = FontSystem::new_with_locale_and_db(LOCALE.to_owned(), db);
        let cap_height_em = coverage
            .first()
            .and_then(|&id| system.get_font(id, fontdb::Weight::NORMAL))
            .and_then(|font| {
                let metrics = font.metrics();
                Some(metrics.cap_height? / f32::from(metrics.units_per_em))
            })
            .unwrap_or(NOTO_SANS_CAP_HEIGHT);
        Engine {
            system,
            raster: SwashCache::new(),
            cjk,
            cap_height_em,
            coverage,
        }
    }

    /// True when a system CJK font was found.
    #[cfg(test)]
    pub(crate) fn has_cjk(&self) -> bool {
        self.cjk
    }

    /// True when some loaded font has a glyph for `c`.
    pub(crate) fn covers(&mut self, c: char) -> bool {
        let Self {
            system, coverage, ..
        } = self;
        coverage.iter().any(|&id| {
            system
                .get_font(id, fontdb::Weight::NORMAL)
                .is_some_and(|font| font.as_swash().charmap().map(c) != 0)
        })
    }

    /// Bounds the glyph image cache (called once per card).
    pub(crate) fn trim(&mut self) {
        if self.raster.image_cache.len() > GLYPH_IMAGES_KEPT {
            self.raster.image_cache.clear();
        }
    }
}

/// Loads both weights from `dir`, keeping only [`CJK_FAMILIES`]; false when
/// either file is missing or unreadable.
fn load_cjk(db: &mut fontdb::Database, dir: &Path) -> bool {
    let paths = CJK_FILES.map(|file| dir.join(file));
    if !paths.iter().all(|p| p.is_file()) {
        return false;
    }
    for path in &paths {
        if db.load_font_file(path).is_err() {
            return false;
        }
    }
    let unwanted: Vec<fontdb::ID> = db
        .faces()
        .filter(|face| matches!(face.source, fontdb::Source::File(_)))
        .filter(|face| {
            !face
                .families
                .iter()
                .any(|(name, _)| CJK_FAMILIES.contains(&name.as_str()))
        })
        .map(|face| face.id)
        .collect();
    for id in unwanted {
        db.remove_face(id);
    }
    let kept: Vec<fontdb::ID> = db
        .faces()
        .filter(|face| matches!(face.source, fontdb::Source::File(_)))
        .map(|face| face.id)
        .collect();
    for id in kept {
        // SAFETY: the mapping stays valid as long as the file's inode lives.
        // Package managers replace font files by renaming a new file over the
        // old one (dpkg does), which leaves this mapping on the old inode; only
        // writing into the installed file in place could change bytes under it.
        // Mapping rather than reading keeps 40 MB of fonts out of the heap: only
        // the glyphs drawn are paged in.
        if unsafe { db.make_shared_face_data(id) }.is_none() {
            return false;
        }
    }
    true
}

/// Drops whatever a failed [`load_cjk`] left half loaded.
fn forget_files(db: &mut fontdb::Database) {
    let loaded: Vec<fontdb::ID> = db
        .faces()
        .filter(|face| !matches!(face.source, fontdb::Source::Binary(_)))
        .map(|face| face.id)
        .collect();
    for id in loaded {
        db.remove_face(id);
    }
}

static SHARED: LazyLock<Mutex<Engine>> = LazyLock::new(|| Mutex::new(Engine::new(&CJK_DIRS)));

/// The process's engine. A panic while it was held leaves nothing half
/// done that matters (caches at worst), so a poisoned lock is taken over.
pub(crate) fn shared() -> MutexGuard<'static, Engine> {
    SHARED
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}
