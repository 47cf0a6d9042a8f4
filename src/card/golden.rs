//! Golden images: one card per script, compared with a checked-in PNG in
//! `tests/fixtures/cards/`. Rendering is deterministic, so the tolerance only
//! absorbs rounding that could differ between CPUs (SIMD paths); one glyph
//! more, less or moved changes thousands of pixels by far more.
//!
//! After a deliberate change to the card, look at the new images and rewrite
//! them with `EARSHOT_BLESS_CARDS=1 cargo test --lib card::golden`.

use std::path::PathBuf;

use super::tests::{cjk_font_installed, decode};
use super::*;

/// A pixel counts as changed when a channel moved by more than this.
const CHANNEL_TOLERANCE: u8 = 24;
/// At most this many changed pixels (0.03% of the card).
const CHANGED_PIXELS_ALLOWED: usize = 200;

fn card(title: &str, name: &str, topic: &str) -> CardInput {
    CardInput {
        title: title.to_owned(),
        creator_name: Some(name.to_owned()),
        creator_handle: Some("host".to_owned()),
        state: CardState::Live {
            listeners: Some(1523),
        },
        topic: Some(topic.to_owned()),
        site: "earshot".to_owned(),
    }
}

fn golden(name: &str, input: &CardInput) {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/cards")
        .join(format!("{name}.png"));
    let actual = render(input).expect("render");
    if std::env::var("EARSHOT_BLESS_CARDS").as_deref() == Ok("1") {
        std::fs::create_dir_all(path.parent().expect("parent")).expect("fixture dir");
        std::fs::write(&path, &actual).expect("write golden");
        eprintln!("wrote {}", path.display());
        return;
    }
    let expected = std::fs::read(&path).unwrap_or_else(|e| {
        panic!(
            "{}: {e} (make it with EARSHOT_BLESS_CARDS=1)",
            path.display()
        )
    });
    let (ew, eh, expected) = decode(&expected);
    let (aw, ah, actual) = decode(&actual);
    assert_eq!((aw, ah), (ew, eh), "{name}: size");
    let changed = expected
        .chunks_exact(3)
        .zip(actual.chunks_exact(3))
        .filter(|(e, a)| {
            e.iter()
                .zip(a.iter())
                .any(|(e, a)| e.abs_diff(*a) > CHANNEL_TOLERANCE)
        })
        .count();
    assert!(
        changed <= CHANGED_PIXELS_ALLOWED,
        "{name}: {changed} pixels differ from {}",
        path.display()
    );
}

#[test]
fn latin() {
    golden(
        "latin",
        &card(
            "Shipping fast web services: Rust at the edge, AV & “Typography”",
            "Ada Lovelace",
            "Technology",
        ),
    );
}

#[test]
fn cyrillic() {
    golden(
        "cyrillic",
        &card(
            "Разговор о Rust и веб-сервисах: что нового в этом году",
            "Анна Петрова",
            "Технологии",
        ),
    );
}

#[test]
fn greek() {
    golden(
        "greek",
        &card(
            "Συζήτηση για την τεχνολογία και το μέλλον του διαδικτύου",
            "Νίκος Παπαδόπουλος",
            "Τεχνολογία",
        ),
    );
}

#[test]
fn devanagari() {
    golden(
        "devanagari",
        &card(
            "हिंदी में तकनीकी चर्चा: क्षेत्रीय भाषाओं का भविष्य",
            "प्रिया शर्मा",
            "प्रौद्योगिकी",
        ),
    );
}

#[test]
fn arabic() {
    golden(
        "arabic",
        &card(
            "مرحبا بالعالم: حديث عن التقنية ومستقبل الويب في 2026",
            "ليلى حسن",
            "تقنية",
        ),
    );
}

#[test]
fn cjk() {
    if !cjk_font_installed("card::golden::cjk") {
        return;
    }
    golden(
        "cjk",
        &card(
            "日本語のスペース：今週のテック雑談とRustの話をしましょう",
            "山田太郎",
            "テクノロジー",
        ),
    );
}

#[test]
fn long_title_ellipsized() {
    golden(
        "long_title",
        &card(
            &"A very long title that goes on and on about nothing much ".repeat(4),
            "Ada Lovelace",
            "Technology",
        ),
    );
}
