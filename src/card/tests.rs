use super::compose::{FALLBACK_TITLE, compose_with, title_text};
use super::fonts::{CJK_DIRS, Engine};
use super::layout::{Area, ELLIPSIS, ellipsize, fit, wrap};
use super::text::{Direction, Face};
use super::*;

/// The fonts as the server has them (with the system CJK font when installed).
fn engine() -> Engine {
    Engine::new(&CJK_DIRS)
}

/// A machine without the CJK font.
fn engine_without_cjk() -> Engine {
    Engine::new(&[])
}

/// True when the system CJK font is there; otherwise says the test skips, or
/// fails it under `EARSHOT_REQUIRE_FONTS=1` (as CI sets it).
pub(super) fn cjk_font_installed(test: &str) -> bool {
    if engine().has_cjk() {
        return true;
    }
    let why = "Noto Sans CJK is not installed (Debian: apt-get install fonts-noto-cjk)";
    if std::env::var("EARSHOT_REQUIRE_FONTS").as_deref() == Ok("1") {
        panic!("{test}: {why}, and EARSHOT_REQUIRE_FONTS=1 requires it");
    }
    eprintln!("SKIPPED {test}: {why}");
    false
}

fn input(title: &str, state: CardState) -> CardInput {
    CardInput {
        title: title.to_string(),
        creator_name: Some("Ada Lovelace".to_string()),
        creator_handle: Some("ada_l".to_string()),
        state,
        topic: Some("Technology".to_string()),
        site: "earshot".to_string(),
    }
}

fn live() -> CardState {
    CardState::Live {
        listeners: Some(1523),
    }
}

/// Decodes a PNG into (width, height, RGB bytes).
pub(super) fn decode(bytes: &[u8]) -> (u32, u32, Vec<u8>) {
    let decoder = png::Decoder::new(std::io::Cursor::new(bytes));
    let mut reader = decoder.read_info().expect("png header");
    let mut buf = vec![0; reader.output_buffer_size().expect("buffer size")];
    let info = reader.next_frame(&mut buf).expect("png frame");
    assert_eq!(info.bit_depth, png::BitDepth::Eight);
    let rgb = match info.color_type {
        png::ColorType::Rgb => buf[..info.buffer_size()].to_vec(),
        png::ColorType::Rgba => buf[..info.buffer_size()]
            .chunks_exact(4)
            .flat_map(|p| [p[0], p[1], p[2]])
            .collect(),
        other => panic!("unexpected colour type {other:?}"),
    };
    (info.width, info.height, rgb)
}

fn pixel(rgb: &[u8], x: u32, y: u32) -> [u8; 3] {
    let i = ((y * WIDTH + x) * 3) as usize;
    [rgb[i], rgb[i + 1], rgb[i + 2]]
}

/// Near-white pixels in the title area (between the top row and the rule).
fn title_ink(rgb: &[u8]) -> usize {
    (150..430)
        .flat_map(|y| (0..WIDTH).map(move |x| (x, y)))
        .filter(|&(x, y)| pixel(rgb, x, y).iter().all(|&c| c > 200))
        .count()
}

#[test]
fn has_the_right_size_and_format() {
    let png = render(&input("Hello", live())).expect("render");
    assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
    let (w, h, rgb) = decode(&png);
    assert_eq!((w, h), (WIDTH, HEIGHT));
    assert_eq!(rgb.len(), (WIDTH * HEIGHT * 3) as usize);
}

#[test]
fn title_is_drawn() {
    let (_, _, rgb) =
        decode(&render(&input("Hello world, this is a Space", live())).expect("render"));
    // Not one flat colour.
    let first = pixel(&rgb, 0, 0);
    let differing = rgb.chunks_exact(3).filter(|p| *p != first).count();
    assert!(differing > 10_000, "only {differing} pixels differ");
    // Plenty of white title ink, none of it in the margins.
    assert!(title_ink(&rgb) > 5_000, "title ink {}", title_ink(&rgb));
    for y in 0..HEIGHT {
        for x in (0..40).chain(WIDTH - 40..WIDTH) {
            assert!(
                pixel(&rgb, x, y).iter().any(|&c| c < 200),
                "ink in margin at {x},{y}"
            );
        }
    }
    // More title means more ink.
    let (_, _, short) = decode(&render(&input("Hi", live())).expect("render"));
    assert!(title_ink(&short) < title_ink(&rgb));
}

#[test]
fn states_give_different_images() {
    let states = [
        CardState::Live {
            listeners: Some(1523),
        },
        CardState::Live { listeners: None },
        CardState::Scheduled {
            starts: "Sun 22 Nov, 18:00 UTC".to_string(),
        },
        CardState::Ended {
            attended: Some(4000),
            recording: true,
        },
        CardState::Ended {
            attended: Some(4000),
            recording: false,
        },
        CardState::Ended {
            attended: None,
            recording: false,
        },
        CardState::Cancelled,
        CardState::Other("paused".to_string()),
    ];
    let images: Vec<Vec<u8>> = states
        .iter()
        .map(|s| render(&input("Same title", s.clone())).expect("render"))
        .collect();
    for i in 0..images.len() {
        for j in i + 1..images.len() {
            assert_ne!(images[i], images[j], "{:?} vs {:?}", states[i], states[j]);
        }
    }
}

#[test]
fn live_badge_is_red_and_scheduled_badge_is_blue() {
    // Inside the badge pill, right of the text start: the badge colour.
    let at = |state| {
        let (_, _, rgb) = decode(&render(&input("T", state)).expect("render"));
        pixel(&rgb, 76, 93)
    };
    assert_eq!(at(live()), [0xc8, 0x10, 0x2e]);
    assert_eq!(
        at(CardState::Scheduled {
            starts: "soon".to_string()
        }),
        [0x0b, 0x5c, 0xad]
    );
}

#[test]
fn is_deterministic() {
    let card = input("Deterministic 🎉 title", live());
    assert_eq!(
        render(&card).expect("render"),
        render(&card).expect("render")
    );
}

#[test]
fn hostile_titles_render_with_the_fallback() {
    let expected = render(&input(FALLBACK_TITLE, live())).expect("render");
    for title in [
        "",
        "   \t\n  ",
        "🎉🔥🎙️👀💯",
        "👨‍👩‍👧‍👦🏳️‍🌈🇬🇧",
        "\u{0}\u{1}\u{7}\u{1b}\u{7f}\u{9f}",
        "\u{200b}\u{200d}\u{feff}\u{202e}",
        "!!! ???",
    ] {
        let png = render(&input(title, live())).unwrap_or_else(|e| panic!("{title:?}: {e}"));
        assert!(
            png == expected,
            "{title:?} did not fall back to {FALLBACK_TITLE:?}"
        );
    }
}

#[test]
fn huge_title_renders_ellipsized() {
    let title = "word ".repeat(2_000) + &"x".repeat(10_000);
    let png = render(&input(&title, live())).expect("render");
    let (w, h, rgb) = decode(&png);
    assert_eq!((w, h), (WIDTH, HEIGHT));
    assert!(title_ink(&rgb) > 5_000);

    let mut e = engine();
    let t = title_text(&mut e, &title);
    let block = fit(
        &mut e,
        Face::bold(60.0),
        &t,
        &[60.0, 42.0],
        1.14,
        Area {
            max_width: 1056.0,
            max_height: 300.0,
            max_lines: 3,
        },
    );
    assert_eq!(block.text.lines.len(), 3);
    assert!(block.text.lines[2].ends_with(ELLIPSIS));

    // One giant word (no spaces) also fits, broken between characters.
    let png = render(&input(&"W".repeat(10_000), live())).expect("render");
    assert_eq!(decode(&png).0, WIDTH);
}

#[test]
fn hostile_fields_everywhere_do_not_panic() {
    let nasty = "\u{0}🎉\u{202e}<script>&\"'\u{fe0f}".repeat(500);
    let states = [
        CardState::Live {
            listeners: Some(u64::MAX),
        },
        CardState::Live { listeners: Some(0) },
        CardState::Scheduled {
            starts: nasty.clone(),
        },
        CardState::Scheduled {
            starts: String::new(),
        },
        CardState::Ended {
            attended: Some(u64::MAX),
            recording: true,
        },
        CardState::Ended {
            attended: None,
            recording: true,
        },
        CardState::Cancelled,
        CardState::Other(nasty.clone()),
        CardState::Other(String::new()),
    ];
    let card = |state: CardState, text: &str| CardInput {
        title: text.to_string(),
        creator_name: Some(text.to_string()),
        creator_handle: Some(format!("@{text}")),
        state,
        topic: Some(text.to_string()),
        site: text.to_string(),
    };
    let mut cards: Vec<CardInput> = states.into_iter().map(|s| card(s, &nasty)).collect();
    cards.push(card(live(), ""));
    cards.push(card(CardState::Cancelled, "🎉"));
    for c in cards {
        let png = render(&c).expect("render");
        assert_eq!(decode(&png).0, WIDTH);
    }
}

#[test]
fn clean_drops_what_cannot_be_drawn() {
    let mut e = engine();
    let mut clean = |text: &str, max| e.clean(text, max);
    assert_eq!(clean("  Hello\n\n\tworld  ", 100), "Hello world");
    assert_eq!(clean("🎧 Friday 🎶 vibes", 100), "Friday vibes");
    assert_eq!(clean("a\u{0}b\u{7}c", 100), "a b c");
    assert_eq!(clean("Hello🎉World", 100), "Hello World");
    assert_eq!(clean("zero\u{200b}width", 100), "zerowidth");
    assert_eq!(
        clean("Café — “naïve” Ünïcödé", 100),
        "Café — “naïve” Ünïcödé"
    );
    assert_eq!(clean("abcdef", 3), "abc");
    assert_eq!(clean("🎉🎉", 100), "");
    // Emoji do not use up the budget: the words after them survive.
    assert_eq!(clean(&("🎉".repeat(50) + "Hello"), 5), "Hello");
    // Every embedded script is kept, joiners inside words too, but not the
    // joiners of emoji sequences.
    assert_eq!(clean("مرحبا بالعالم", 100), "مرحبا بالعالم");
    assert_eq!(clean("क्\u{200D}ष नमस्ते", 100), "क्\u{200D}ष नमस्ते");
    assert_eq!(clean("Привет, Αθήνα", 100), "Привет, Αθήνα");
    assert_eq!(clean("a 👨\u{200D}👩 b", 100), "a b");
    // Explicit bidi overrides would let a title reorder itself: dropped.
    assert_eq!(clean("\u{202E}abc\u{202C}", 100), "abc");
}

#[test]
fn without_a_font_for_a_script_the_rest_of_the_title_is_kept() {
    let mut e = engine_without_cjk();
    assert!(!e.has_cjk());
    assert_eq!(e.clean("Rust 勉強会 #3", 100), "Rust #3");
    assert_eq!(title_text(&mut e, "日本語のスペース 2026"), "2026");
    // Nothing drawable left at all: only then the fallback.
    assert_eq!(title_text(&mut e, "日本語のスペース"), FALLBACK_TITLE);
    let mixed = input("Rust 勉強会 #3", live());
    let plain = input("Rust #3", live());
    let drawn = |card: &CardInput, e: &mut Engine| {
        encode::png(&compose_with(e, card).expect("compose")).expect("encode")
    };
    assert_eq!(drawn(&mixed, &mut e), drawn(&plain, &mut e));
}

#[test]
fn cjk_titles_are_kept_when_the_font_is_installed() {
    if !cjk_font_installed("cjk_titles_are_kept_when_the_font_is_installed") {
        return;
    }
    let mut e = engine();
    assert_eq!(e.clean("日本語のスペース", 100), "日本語のスペース");
    assert_eq!(e.clean("한국어 스페이스", 100), "한국어 스페이스");
    assert_eq!(title_text(&mut e, "Rust 勉強会 #3"), "Rust 勉強会 #3");
}

#[test]
fn titles_in_every_script_are_drawn_not_replaced() {
    let fallback = render(&input(FALLBACK_TITLE, live())).expect("render");
    let mut titles = vec![
        "Привет, мир",
        "Γειά σου κόσμε",
        "नमस्ते दुनिया",
        "مرحبا بالعالم",
    ];
    if cjk_font_installed("titles_in_every_script_are_drawn_not_replaced") {
        titles.extend(["日本語のスペース", "한국어 스페이스", "中文空间"]);
    }
    for title in titles {
        let png = render(&input(title, live())).expect("render");
        assert_ne!(png, fallback, "{title:?} fell back");
        let (_, _, rgb) = decode(&png);
        assert!(
            title_ink(&rgb) > 2_000,
            "{title:?}: ink {}",
            title_ink(&rgb)
        );
    }
}

/// Columns of title ink left and right of the card's middle.
fn title_ink_halves(rgb: &[u8]) -> (usize, usize) {
    let ink = |xs: std::ops::Range<u32>| {
        (150..430)
            .flat_map(|y| xs.clone().map(move |x| (x, y)))
            .filter(|&(x, y)| pixel(rgb, x, y).iter().all(|&c| c > 200))
            .count()
    };
    (ink(0..WIDTH / 2), ink(WIDTH / 2..WIDTH))
}

#[test]
fn right_to_left_titles_are_shaped_and_set_from_the_right() {
    let mut e = engine();
    let face = Face::bold(64.0);
    assert!(wrap(&mut e, face, "مرحبا", 600.0, 1).rtl);
    assert!(!wrap(&mut e, face, "Hello", 600.0, 1).rtl);
    let line = e.line(face, "مرحبا", Direction::Auto);
    // Read from the right: the first letter is the rightmost.
    let by_start = |g: &&cosmic_text::LayoutGlyph| g.start;
    let first = line.glyphs.iter().min_by_key(by_start).expect("glyphs");
    let last = line.glyphs.iter().max_by_key(by_start).expect("glyphs");
    assert!(
        first.x > last.x,
        "not right to left: {} then {}",
        first.x,
        last.x
    );
    // Joined: the same letter takes another form inside a word than alone.
    let alone = e.line(face, "ب", Direction::Auto).glyphs[0].glyph_id;
    let joined: Vec<u16> = e
        .line(face, "ببب", Direction::Auto)
        .glyphs
        .iter()
        .map(|g| g.glyph_id)
        .collect();
    assert!(joined.iter().all(|g| *g != alone), "not joined: {joined:?}");

    // A short Arabic title sits at the right, a Latin one at the left.
    let (_, _, rgb) = decode(&render(&input("مرحبا", live())).expect("render"));
    let (left, right) = title_ink_halves(&rgb);
    assert!(right > 500 && left == 0, "arabic ink {left} | {right}");
    let (_, _, rgb) = decode(&render(&input("Hello", live())).expect("render"));
    let (left, right) = title_ink_halves(&rgb);
    assert!(left > 500 && right == 0, "latin ink {left} | {right}");
}

#[test]
fn devanagari_forms_conjuncts() {
    let mut e = engine();
    // क + ् + ष is one conjunct glyph (क्ष), not three.
    let line = e.line(Face::bold(64.0), "क्ष", Direction::Auto);
    assert_eq!(line.glyphs.len(), 1, "{:?}", line.glyphs.len());
    assert!(line.glyphs[0].glyph_id != 0);
}

#[test]
fn long_titles_in_other_scripts_wrap_and_ellipsize() {
    let mut e = engine();
    let face = Face::bold(64.0);
    let mut cases = vec![
        "مرحبا بالعالم ".repeat(20),
        "नमस्ते दुनिया ".repeat(20),
        "Привет мир ".repeat(20),
    ];
    if cjk_font_installed("long_titles_in_other_scripts_wrap_and_ellipsize") {
        // No spaces: lines break between ideographs.
        cases.push("日本語のスペースで話しましょう".repeat(10));
    }
    for text in cases {
        let wrapped = wrap(&mut e, face, text.trim(), 600.0, 3);
        assert!(wrapped.cut, "{text}");
        assert_eq!(wrapped.lines.len(), 3, "{:?}", wrapped.lines);
        for line in &wrapped.lines {
            let direction = if wrapped.rtl {
                Direction::Rtl
            } else {
                Direction::Auto
            };
            let w = e.line(face, line, direction).width;
            assert!(w <= 600.0, "{line:?} is {w} wide");
        }
        assert!(wrapped.lines[2].ends_with(ELLIPSIS), "{:?}", wrapped.lines);
    }
}

#[test]
fn wrapping_respects_width_and_line_count() {
    let mut e = engine();
    let face = Face::bold(64.0);
    let text = "The quick brown fox jumps over the lazy dog and keeps running far away";
    let wrapped = wrap(&mut e, face, text, 600.0, 3);
    assert!(wrapped.cut);
    assert_eq!(wrapped.lines.len(), 3);
    assert!(
        wrapped.lines.iter().all(|l| e.width(face, l) <= 600.0),
        "{:?}",
        wrapped.lines
    );
    assert!(wrapped.lines[2].ends_with(ELLIPSIS));

    let wrapped = wrap(&mut e, face, "Short", 600.0, 3);
    assert_eq!(
        (wrapped.lines, wrapped.cut),
        (vec!["Short".to_string()], false)
    );

    let wrapped = wrap(&mut e, face, &"m".repeat(100), 300.0, 3);
    assert_eq!(wrapped.lines.len(), 3);
    assert!(
        wrapped.lines.iter().all(|l| e.width(face, l) <= 300.0),
        "{:?}",
        wrapped.lines
    );
}

#[test]
fn ellipsize_fits() {
    let mut e = engine();
    let face = Face::regular(28.0);
    assert_eq!(ellipsize(&mut e, face, "fits", 500.0), "fits");
    let long = ellipsize(
        &mut e,
        face,
        "a rather long name that does not fit at all",
        200.0,
    );
    assert!(
        long.ends_with(ELLIPSIS) && e.width(face, &long) <= 200.0,
        "{long}"
    );
    assert_eq!(
        ellipsize(&mut e, face, "anything", 0.0),
        ELLIPSIS.to_string()
    );
    // A cut never splits a conjunct from its parts.
    let cut = ellipsize(&mut e, face, "क्षक्षक्षक्षक्षक्ष", 60.0);
    assert!(cut.trim_end_matches(ELLIPSIS).ends_with("क्ष"), "{cut}");
}

#[test]
fn fit_shrinks_long_titles() {
    let mut e = engine();
    let sizes = [76.0, 64.0, 54.0, 42.0];
    let area = Area {
        max_width: 1056.0,
        max_height: 266.0,
        max_lines: 3,
    };
    let short = fit(&mut e, Face::bold(76.0), "Short", &sizes, 1.14, area);
    assert_eq!((short.size, short.text.lines.len()), (76.0, 1));
    let long = fit(
        &mut e,
        Face::bold(76.0),
        &"longer words here ".repeat(8),
        &sizes,
        1.14,
        area,
    );
    assert!(long.size < 76.0);
    assert!(long.text.lines.len() <= 3);
    assert!(long.size + long.line_height * (long.text.lines.len() - 1) as f32 <= 266.0);
}

#[test]
fn kerning_is_applied() {
    let mut e = engine();
    let face = Face::bold(100.0);
    let apart = e.width(face, "A") + e.width(face, "V");
    assert!(e.width(face, "AV") < apart - 1.0, "no kerning for AV");
    assert!(e.width(face, "To") < e.width(face, "T") + e.width(face, "o") - 1.0);
}

#[test]
fn tracking_adds_space_between_letters_only() {
    let mut e = engine();
    let plain = e.width(Face::bold(20.0), "LIVE");
    let tracked = e.width(Face::bold(20.0).tracked(2.0), "LIVE");
    assert!((tracked - plain - 6.0).abs() < 0.5, "{plain} → {tracked}");
}

/// One card render, timed roughly (run with `--nocapture` to see it).
#[test]
fn a_card_renders_quickly() {
    let card = input("日本語のスペース and a Latin title — مرحبا", live());
    render(&card).expect("warm up: fonts load once");
    let started = std::time::Instant::now();
    let runs = 5;
    for _ in 0..runs {
        render(&card).expect("render");
    }
    let each = started.elapsed() / runs;
    eprintln!("one card render: {each:?}");
    assert!(each < std::time::Duration::from_secs(1), "{each:?}");
}
