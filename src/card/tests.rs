use super::compose::{FALLBACK_TITLE, title_text};
use super::layout::{ELLIPSIS, ellipsize, fit, wrap};
use super::text::{Face, clean, fonts};
use super::*;

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
fn decode(bytes: &[u8]) -> (u32, u32, Vec<u8>) {
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
        "日本語のスペース",
        "مرحبا بالعالم",
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

    let fonts = fonts().expect("fonts");
    let t = title_text(fonts, &title);
    let block = fit(&fonts.bold, &t, &[60.0, 42.0], 1.14, 1056.0, 300.0, 3);
    assert_eq!(block.lines.len(), 3);
    assert!(block.lines[2].ends_with(ELLIPSIS));

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
    let f = fonts().expect("fonts");
    assert_eq!(clean(f, "  Hello\n\n\tworld  ", 100), "Hello world");
    assert_eq!(clean(f, "🎧 Friday 🎶 vibes", 100), "Friday vibes");
    assert_eq!(clean(f, "a\u{0}b\u{7}c", 100), "a b c");
    assert_eq!(clean(f, "Hello🎉World", 100), "Hello World");
    assert_eq!(clean(f, "zero\u{200b}width", 100), "zerowidth");
    assert_eq!(
        clean(f, "Café — “naïve” Ünïcödé", 100),
        "Café — “naïve” Ünïcödé"
    );
    assert_eq!(clean(f, "abcdef", 3), "abc");
    assert_eq!(clean(f, "🎉🎉", 100), "");
    // Emoji do not use up the budget: the words after them survive.
    assert_eq!(clean(f, &("🎉".repeat(50) + "Hello"), 5), "Hello");
}

#[test]
fn wrapping_respects_width_and_line_count() {
    let f = fonts().expect("fonts");
    let face = Face::new(&f.bold, 64.0);
    let text = "The quick brown fox jumps over the lazy dog and keeps running far away";
    let (lines, cut) = wrap(face, text, 600.0, 3);
    assert!(cut);
    assert_eq!(lines.len(), 3);
    assert!(lines.iter().all(|l| face.width(l) <= 600.0), "{lines:?}");
    assert!(lines[2].ends_with(ELLIPSIS));

    let (lines, cut) = wrap(face, "Short", 600.0, 3);
    assert_eq!((lines, cut), (vec!["Short".to_string()], false));

    let (lines, _) = wrap(face, &"m".repeat(100), 300.0, 3);
    assert_eq!(lines.len(), 3);
    assert!(lines.iter().all(|l| face.width(l) <= 300.0), "{lines:?}");
}

#[test]
fn ellipsize_fits() {
    let f = fonts().expect("fonts");
    let face = Face::new(&f.regular, 28.0);
    assert_eq!(ellipsize(face, "fits", 500.0), "fits");
    let long = ellipsize(face, "a rather long name that does not fit at all", 200.0);
    assert!(
        long.ends_with(ELLIPSIS) && face.width(&long) <= 200.0,
        "{long}"
    );
    assert_eq!(ellipsize(face, "anything", 0.0), ELLIPSIS.to_string());
}

#[test]
fn fit_shrinks_long_titles() {
    let f = fonts().expect("fonts");
    let sizes = [76.0, 64.0, 54.0, 42.0];
    let short = fit(&f.bold, "Short", &sizes, 1.14, 1056.0, 266.0, 3);
    assert_eq!((short.size, short.lines.len()), (76.0, 1));
    let long = fit(
        &f.bold,
        &"longer words here ".repeat(8),
        &sizes,
        1.14,
        1056.0,
        266.0,
        3,
    );
    assert!(long.size < 76.0);
    assert!(long.lines.len() <= 3);
    assert!(long.size + long.line_height * (long.lines.len() - 1) as f32 <= 266.0);
}

#[test]
fn kerning_is_applied() {
    let f = fonts().expect("fonts");
    let face = Face::new(&f.bold, 100.0);
    let apart = face.width("A") + face.width("V");
    assert!(face.width("AV") < apart - 1.0, "no kerning for AV");
    assert!(face.width("To") < face.width("T") + face.width("o") - 1.0);
}
