//! The user pool (hosts and speakers, with handles, names and the topic each mostly
//! hosts) and synthetic listeners. Pure functions of the seed.

use super::*;

// ---------------------------------------------------------------- users

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct User {
    pub id: String,
    pub username: String,
    pub name: String,
    pub verified: bool,
    /// Index into `TOPICS` of the topic this user mostly hosts.
    pub topic: usize,
    /// The language their Spaces are in.
    pub lang: &'static str,
}

pub const POOL_SIZE: usize = 150;

const FIRSTS: [(&str, &str); 32] = [
    ("Maria", "maria"),
    ("James", "james"),
    ("Aiko", "aiko"),
    ("José", "jose"),
    ("Zoë", "zoe"),
    ("Søren", "soren"),
    ("Chloé", "chloe"),
    ("Mateus", "mateus"),
    ("Priya", "priya"),
    ("Omar", "omar"),
    ("Lukas", "lukas"),
    ("Hana", "hana"),
    ("Diego", "diego"),
    ("Amara", "amara"),
    ("Wei", "wei"),
    ("Fatima", "fatima"),
    ("Noah", "noah"),
    ("Inès", "ines"),
    ("Ravi", "ravi"),
    ("Yuki", "yuki"),
    ("Sofia", "sofia"),
    ("Kwame", "kwame"),
    ("Léa", "lea"),
    ("Björn", "bjorn"),
    ("Ana", "ana"),
    ("Kenji", "kenji"),
    ("Olga", "olga"),
    ("Tomás", "tomas"),
    ("Mei", "mei"),
    ("Ahmed", "ahmed"),
    ("Grace", "grace"),
    ("Sam", "sam"),
];

const LASTS: [(&str, &str); 22] = [
    ("Silva", "silva"),
    ("Tanaka", "tanaka"),
    ("García", "garcia"),
    ("Müller", "muller"),
    ("Okafor", "okafor"),
    ("Nguyen", "nguyen"),
    ("Smith", "smith"),
    ("Dubois", "dubois"),
    ("Sharma", "sharma"),
    ("Kowalski", "kowalski"),
    ("O'Brien", "obrien"),
    ("Hassan", "hassan"),
    ("Rossi", "rossi"),
    ("Johansson", "johansson"),
    ("Kim", "kim"),
    ("Pereira", "pereira"),
    ("Yamamoto", "yamamoto"),
    ("Fernández", "fernandez"),
    ("Novak", "novak"),
    ("Mensah", "mensah"),
    ("Lefèvre", "lefevre"),
    ("Schmidt", "schmidt"),
];

/// Names in their own scripts, with an ASCII first and last name for handles, and
/// the language they host in (none: any).
const NATIVES: [(&str, &str, &str, Option<&str>); 7] = [
    ("佐藤 花子", "hanako", "sato", Some("ja")),
    ("山田 太郎", "taro", "yamada", Some("ja")),
    ("鈴木 一郎", "ichiro", "suzuki", Some("ja")),
    ("ليلى حسن", "layla", "hassan", Some("ar")),
    ("प्रिया शर्मा", "priya", "sharma", Some("hi")),
    ("김민준", "minjun", "kim", None),
    ("Ольга Иванова", "olga", "ivanova", None),
];

const BRANDS: [[&str; 4]; 7] = [
    [
        "Rustacean Radio",
        "Dev Talk Daily",
        "The Stack Pod",
        "Byte Club",
    ],
    [
        "Pixel Pod",
        "Respawn Radio",
        "GG & Chill",
        "Speedrun Corner",
    ],
    ["Vinyl Hour", "Beat Lab", "Lo-fi Lounge", "Open Mic Club"],
    [
        "Matchday Mic",
        "Full-Time Talk",
        "The Bench",
        "Hoops Nightly",
    ],
    ["Morning Brief", "World Desk", "Fact Check Live", "Newsroom"],
    ["Founders' Hour", "Market Open", "SaaS Talk", "The Ledger"],
    [
        "Couch Critics",
        "Popcorn & Pals",
        "Binge Club",
        "Red Carpet Radio",
    ],
];

const TOPIC_HANDLES: [&str; 7] = ["tech", "games", "music", "sports", "news", "biz", "tv"];

/// Keep `[a-z0-9_]`, at most 15 characters.
fn handle(raw: &str) -> String {
    raw.chars()
        .filter_map(|c| {
            let c = c.to_ascii_lowercase();
            (c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_').then_some(c)
        })
        .take(15)
        .collect()
}

/// A decimal id of exactly `len` digits (9..=19), no leading zero.
fn numeric_id(bits: u64, len: u32) -> String {
    let len = len.clamp(9, 19);
    // 10^19 still fits in a u64.
    let lo = 10u64.pow(len - 1);
    let span = 10u64.pow(len) - lo;
    (lo + bits % span).to_string()
}

/// The pool of users who create, host and speak in Spaces.
pub fn user_pool(seed: u64) -> Vec<User> {
    let mut users = Vec::with_capacity(POOL_SIZE);
    let mut ids = HashSet::new();
    let mut handles = HashSet::new();
    let mut names = HashSet::new();
    for k in 0..POOL_SIZE {
        let d = Dice::new(seed, &[0x05E2, k as u64]);
        let topic = k % TOPICS.len();
        // Each topic has a host in every language (its first few users), so a
        // Space in any language has a host who speaks it.
        let rank = k / TOPICS.len();
        let lang = match LANGS.get(rank) {
            Some((lang, _)) => *lang,
            None => pick_lang(&d, 14),
        };
        let (first, fa) = FIRSTS[d.index(1, FIRSTS.len())];
        let (last, la) = LASTS[d.index(2, LASTS.len())];
        let digits = d.range(3, 1, 99);
        let (name, base_handle) = match d.index(4, 10) {
            0..=2 => (
                format!("{first} {last}"),
                match d.index(5, 4) {
                    0 => format!("{fa}_{la}"),
                    1 => format!("{fa}{la}{digits}"),
                    2 => format!("{}{la}", &fa[..1]),
                    _ => format!("{fa}_{}", TOPIC_HANDLES[topic]),
                },
            ),
            3 => (format!("{first} {last} 🎙️"), format!("{fa}{la}")),
            4 => (
                format!("{first} | {}", TOPICS[topic].name),
                format!("{fa}_{}", TOPIC_HANDLES[topic]),
            ),
            5 => {
                let brand = BRANDS[topic][d.index(6, 4)];
                (brand.to_string(), handle(brand))
            }
            6 => {
                // A name in the script of the language they host in, if any.
                let fitting: Vec<_> = NATIVES
                    .iter()
                    .filter(|(.., l)| l.is_none_or(|l| l == lang))
                    .collect();
                let (native, f, l, _) = fitting[d.index(7, fitting.len())];
                (native.to_string(), format!("{f}_{l}"))
            }
            7 => (format!("Dr. {first} {last}"), format!("dr{la}")),
            8 => (format!("{first} & friends"), format!("{fa}andfriends")),
            _ => (
                format!("{first} {}.", &la[..1].to_uppercase()),
                format!("{fa}{digits}"),
            ),
        };
        // One display name, one person: a name already taken (a brand, a native
        // name) is someone else's, so this user gets a first and last name of their own.
        let brand = BRANDS[topic]
            .iter()
            .find(|b| !names.contains(**b))
            .filter(|_| BRANDS[topic].contains(&name.as_str()));
        let (name, base_handle) = if let Some(brand) = brand.filter(|_| names.contains(&name)) {
            // A show's name taken: the topic's next show.
            (brand.to_string(), handle(brand))
        } else if names.contains(&name) {
            let mut attempt = 0u64;
            loop {
                let (first, fa) = FIRSTS[d.index2(12, attempt, FIRSTS.len())];
                let (last, la) = LASTS[d.index2(13, attempt, LASTS.len())];
                let name = format!("{first} {last}");
                if !names.contains(&name) {
                    break (name, format!("{fa}_{la}"));
                }
                attempt += 1;
            }
        } else {
            (name, base_handle)
        };
        names.insert(name.clone());
        let mut username = handle(&base_handle);
        if username.is_empty() {
            username = format!("user{k}");
        }
        let mut attempt = 0u64;
        while handles.contains(&username) {
            attempt += 1;
            let suffix = format!("{}", 10 + d.bits2(8, attempt) % 990);
            let keep = 15usize.saturating_sub(suffix.len());
            let stem: String = handle(&base_handle).chars().take(keep).collect();
            username = format!("{stem}{suffix}");
        }
        handles.insert(username.clone());

        let mut attempt = 0u64;
        let id = loop {
            let len = 9 + d.index2(9, attempt, 11) as u32;
            let candidate = numeric_id(d.bits2(10, attempt), len);
            if ids.insert(candidate.clone()) {
                break candidate;
            }
            attempt += 1;
        };
        users.push(User {
            id,
            username,
            name,
            verified: d.chance(11, 0.25),
            topic,
            lang,
        });
    }
    users
}

/// Pool users whose main topic is `topic`, in a stable order.
pub fn users_for_topic(topic: usize) -> impl Iterator<Item = usize> {
    (0..POOL_SIZE).filter(move |k| k % TOPICS.len() == topic % TOPICS.len())
}

const ADJECTIVES: [&str; 12] = [
    "quiet", "lucky", "night", "sunny", "blue", "happy", "cosmic", "lazy", "brave", "tiny",
    "jazzy", "rapid",
];
const NOUNS: [&str; 12] = [
    "fox", "owl", "panda", "coder", "dj", "wolf", "cat", "tiger", "otter", "maple", "comet",
    "koala",
];

/// A synthetic listener (not in the pool): (id, username, name).
pub fn synthetic_listener(seed: u64, space_n: u64, j: u64) -> (String, String, String) {
    let d = Dice::new(seed, &[0x115E, space_n, j]);
    let id = numeric_id(d.bits(1), 19);
    let adj = ADJECTIVES[d.index(2, ADJECTIVES.len())];
    let noun = NOUNS[d.index(3, NOUNS.len())];
    let username = format!("{adj}{noun}{}", d.range(4, 1, 999));
    let name = match d.index(5, 6) {
        0 => {
            let (first, _) = FIRSTS[d.index(6, FIRSTS.len())];
            let (last, _) = LASTS[d.index(7, LASTS.len())];
            format!("{first} {last}")
        }
        1 => NATIVES[d.index(8, NATIVES.len())].0.to_string(),
        2 => format!("{adj}{noun}"),
        _ => {
            format!("{} {}", capitalise(adj), capitalise(noun))
        }
    };
    (id, username, name)
}
