//! Word lists and generators: topics, languages, titles, the user pool and
//! synthetic listeners. Everything is a pure function of the seed.

use super::rng::Dice;
use std::collections::HashSet;

pub struct Topic {
    pub id: &'static str,
    pub name: &'static str,
    pub description: &'static str,
}

pub const TOPICS: [Topic; 7] = [
    Topic {
        id: "848920371311001600",
        name: "Technology",
        description: "All things tech",
    },
    Topic {
        id: "849075377108226048",
        name: "Gaming",
        description: "Video games, esports and the people who play them",
    },
    Topic {
        id: "849075383444766721",
        name: "Music",
        description: "Artists, albums, live sessions and music talk",
    },
    Topic {
        id: "849075379953328129",
        name: "Sports",
        description: "Matches, transfers, analysis and fan talk",
    },
    Topic {
        id: "849075415688937472",
        name: "News",
        description: "Breaking news and current affairs",
    },
    Topic {
        id: "849075381344018432",
        name: "Business",
        description: "Markets, startups, careers and the economy",
    },
    Topic {
        id: "849075385153028096",
        name: "Entertainment",
        description: "Film, TV, celebrities and pop culture",
    },
];

/// Find a topic by id or (case-insensitive) name.
pub fn topic_by_id_or_name(s: &str) -> Option<usize> {
    let s = s.trim();
    TOPICS
        .iter()
        .position(|t| t.id == s || t.name.eq_ignore_ascii_case(s))
}

/// Languages with their weights (per 100).
const LANGS: [(&str, u32); 8] = [
    ("en", 62),
    ("es", 10),
    ("pt", 8),
    ("ja", 7),
    ("fr", 4),
    ("de", 4),
    ("hi", 3),
    ("ar", 2),
];

pub fn pick_lang(dice: &Dice, tag: u64) -> &'static str {
    let mut r = (dice.bits(tag) % 100) as u32;
    for (lang, w) in LANGS {
        if r < w {
            return lang;
        }
        r -= w;
    }
    "en"
}

struct TitleSet {
    templates: &'static [&'static str],
    a: &'static [&'static str],
    b: &'static [&'static str],
}

const TITLES: [TitleSet; 7] = [
    TitleSet {
        templates: &[
            "{a} in production: lessons from a year of {b}",
            "Tech Talk: The Future of {b}",
            "Weekly Tech Roundup #{n}",
            "AMA: scaling {b} to a million users",
            "Is {a} worth learning in {y}?",
            "Building & shipping with {a}",
            "<div> soup & accessibility: HTML office hours",
            "\"It works on my machine\": {a} debugging stories",
        ],
        a: &[
            "Rust",
            "Go",
            "TypeScript",
            "Kotlin",
            "Elixir",
            "Zig",
            "Python",
            "Swift",
        ],
        b: &[
            "async",
            "microservices",
            "WebAssembly",
            "edge computing",
            "observability",
            "Kubernetes",
            "on-device AI",
            "open-source LLMs",
        ],
    },
    TitleSet {
        templates: &[
            "{a} patch notes breakdown",
            "Speedrunning {a}: routes & tips",
            "Indie dev showcase: {n} games you missed",
            "Ranked grind with friends, come chill 🎮",
            "{a} esports finals watch party",
            "Retro corner: \"{b}\" still holds up",
        ],
        a: &[
            "Elden Ring",
            "Zelda: Tears of the Kingdom",
            "Hades II",
            "Baldur's Gate 3",
            "Valorant",
            "League of Legends",
            "Minecraft",
            "Street Fighter 6",
        ],
        b: &[
            "Chrono Trigger",
            "Half-Life",
            "Super Metroid",
            "Final Fantasy VII",
            "Pokémon Red",
        ],
    },
    TitleSet {
        templates: &[
            "Listening party: {a}'s new album",
            "Lo-fi & chill beats to work to 🎧",
            "Producers' corner: mixing {b} at home",
            "{b} Fridays: share your favourites",
            "Open mic night 🎤 sign-ups in the replies",
            "Behind the record: why {a} matters",
        ],
        a: &[
            "Taylor Swift",
            "Bad Bunny",
            "Beyoncé",
            "Kendrick Lamar",
            "Dua Lipa",
            "Rosalía",
            "BTS",
            "Billie Eilish",
        ],
        b: &[
            "lo-fi",
            "jazz",
            "K-pop",
            "afrobeats",
            "drum & bass",
            "indie rock",
            "reggaeton",
            "synthwave",
        ],
    },
    TitleSet {
        templates: &[
            "Matchday live: {a} v {c} reaction",
            "Transfer window rumours & rumblings",
            "{b} power rankings, week {n}",
            "Fantasy {b}: draft help & hot takes",
            "Post-game: \"{a}\" fans vent",
            "Marathon training Q&A 🏃",
        ],
        a: &[
            "Arsenal",
            "Spurs",
            "Real Madrid",
            "Barcelona",
            "Liverpool",
            "Chelsea",
            "Bayern",
            "Dortmund",
            "Flamengo",
            "Palmeiras",
            "Inter Miami",
            "Boca Juniors",
        ],
        b: &[
            "Premier League",
            "La Liga",
            "NBA",
            "NFL",
            "Serie A",
            "Bundesliga",
            "F1",
        ],
    },
    TitleSet {
        templates: &[
            "Morning briefing: the stories that matter today",
            "Breaking News Discussion",
            "Election night live: results & analysis",
            "Fact-checking the week's viral claims",
            "What's next for {a} in {b}?",
            "Press freedom & the future of local news",
        ],
        a: &[
            "the economy",
            "AI regulation",
            "the election",
            "climate policy",
            "housing",
            "public health",
        ],
        b: &[
            "Europe",
            "Latin America",
            "Asia",
            "the Middle East",
            "Africa",
            "the US",
        ],
    },
    TitleSet {
        templates: &[
            "Founders' hour: raising a seed round in {y}",
            "Markets open: what's moving {b}?",
            "Remote work, five years on",
            "Pricing your {a} product: a teardown",
            "From side project to $1M ARR in {a}",
            "Bootstrapped & profitable: AMA",
        ],
        a: &[
            "SaaS",
            "fintech",
            "e-commerce",
            "climate tech",
            "creator economy",
            "B2B marketplace",
        ],
        b: &["$NVDA", "$AAPL", "$TSLA", "$BTC", "$MSFT", "$AMZN"],
    },
    TitleSet {
        templates: &[
            "{a} finale watch-along (spoilers!)",
            "Oscars predictions: who takes Best Picture?",
            "Anime night: {b} episode {n} 🍿",
            "Box office weekend recap",
            "Stand-up open mic 😂",
            "Reality TV tea ☕ & hot takes",
        ],
        a: &[
            "The Bear",
            "Severance",
            "Shōgun",
            "The Last of Us",
            "Succession",
            "Stranger Things",
        ],
        b: &["One Piece", "Frieren", "Jujutsu Kaisen", "Spy × Family"],
    },
];

/// Localised topic names, in `TOPICS` order.
const LOCAL_TOPICS: [(&str, [&str; 7]); 7] = [
    (
        "es",
        [
            "tecnología",
            "videojuegos",
            "música",
            "deportes",
            "noticias",
            "negocios",
            "entretenimiento",
        ],
    ),
    (
        "pt",
        [
            "tecnologia",
            "games",
            "música",
            "esportes",
            "notícias",
            "negócios",
            "entretenimento",
        ],
    ),
    (
        "ja",
        [
            "テクノロジー",
            "ゲーム",
            "音楽",
            "スポーツ",
            "ニュース",
            "ビジネス",
            "エンタメ",
        ],
    ),
    (
        "fr",
        [
            "tech",
            "jeux vidéo",
            "musique",
            "sport",
            "actualités",
            "business",
            "divertissement",
        ],
    ),
    (
        "de",
        [
            "Technik",
            "Gaming",
            "Musik",
            "Sport",
            "Nachrichten",
            "Wirtschaft",
            "Unterhaltung",
        ],
    ),
    (
        "hi",
        [
            "टेक्नोलॉजी",
            "गेमिंग",
            "संगीत",
            "खेल",
            "समाचार",
            "बिज़नेस",
            "मनोरंजन",
        ],
    ),
    (
        "ar",
        [
            "التقنية",
            "الألعاب",
            "الموسيقى",
            "الرياضة",
            "الأخبار",
            "الأعمال",
            "الترفيه",
        ],
    ),
];

const LOCAL_TEMPLATES: [(&str, &[&str]); 7] = [
    (
        "es",
        &[
            "Charla en vivo: {t} y más",
            "¿Qué está pasando en {t}? Hablemos",
            "Noche de {t} con amigos 🎉",
            "Preguntas y respuestas sobre {t}",
        ],
    ),
    (
        "pt",
        &[
            "Papo ao vivo sobre {t}",
            "Resenha de {t}: chega mais!",
            "Perguntas e respostas: {t} hoje",
        ],
    ),
    (
        "ja",
        &[
            "{t}について語ろう 🎙️",
            "今夜の{t}トーク",
            "初心者歓迎！{t}雑談",
        ],
    ),
    (
        "fr",
        &[
            "Débat en direct : {t} et société",
            "Café {t} ☕ on en parle",
            "Les actus {t} de la semaine",
        ],
    ),
    (
        "de",
        &[
            "Live-Talk: {t} im Überblick",
            "Feierabendrunde: {t} 🍺",
            "Fragen & Antworten: {t}",
        ],
    ),
    ("hi", &["{t} पर लाइव चर्चा", "आज की {t} बातें 🎙️"]),
    ("ar", &["نقاش مباشر حول {t}", "مساحة {t} الليلة 🎙️"]),
];

/// A title for a Space about `topic` in `lang`, from the dice.
pub fn title(dice: &Dice, topic: usize, lang: &str) -> String {
    let topic = topic % TOPICS.len();
    if let Some((_, templates)) = LOCAL_TEMPLATES.iter().find(|(l, _)| *l == lang) {
        let local = LOCAL_TOPICS
            .iter()
            .find(|(l, _)| *l == lang)
            .map_or(TOPICS[topic].name, |(_, names)| names[topic]);
        let t = templates[dice.index(11, templates.len())];
        return t.replace("{t}", local);
    }
    let set = &TITLES[topic];
    let t = set.templates[dice.index(11, set.templates.len())];
    let a_idx = dice.index(12, set.a.len());
    // {c}: a second, different pick from the same list.
    let c_idx = (a_idx + 1 + dice.index(13, set.a.len().saturating_sub(1).max(1))) % set.a.len();
    let filled = t
        .replace("{a}", set.a[a_idx])
        .replace("{c}", set.a[c_idx])
        .replace("{b}", set.b[dice.index(14, set.b.len())])
        .replace("{n}", &dice.range(15, 2, 48).to_string())
        .replace("{y}", &dice.range(16, 2025, 2026).to_string());
    capitalise(&filled)
}

/// Upper-case the first letter ("jazz Fridays" → "Jazz Fridays").
fn capitalise(s: &str) -> String {
    let mut chars = s.chars();
    match chars.next() {
        Some(c) => c.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

// ---------------------------------------------------------------- users

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct User {
    pub id: String,
    pub username: String,
    pub name: String,
    pub verified: bool,
    /// Index into `TOPICS` of the topic this user mostly hosts.
    pub topic: usize,
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

/// Names in their own scripts, with an ASCII first and last name for handles.
const NATIVES: [(&str, &str, &str); 7] = [
    ("佐藤 花子", "hanako", "sato"),
    ("山田 太郎", "taro", "yamada"),
    ("鈴木 一郎", "ichiro", "suzuki"),
    ("ليلى حسن", "layla", "hassan"),
    ("प्रिया शर्मा", "priya", "sharma"),
    ("김민준", "minjun", "kim"),
    ("Ольга Иванова", "olga", "ivanova"),
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
    for k in 0..POOL_SIZE {
        let d = Dice::new(seed, &[0x05E2, k as u64]);
        let topic = k % TOPICS.len();
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
                let (native, f, l) = NATIVES[d.index(7, NATIVES.len())];
                (native.to_string(), format!("{f}_{l}"))
            }
            7 => (format!("Dr. {first} {last}"), format!("dr{la}")),
            8 => (format!("{first} & friends"), format!("{fa}andfriends")),
            _ => (
                format!("{first} {}.", &la[..1].to_uppercase()),
                format!("{fa}{digits}"),
            ),
        };
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

#[cfg(test)]
mod tests;
