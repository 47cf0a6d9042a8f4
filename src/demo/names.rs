//! Word lists and generators: topics, languages, titles, the user pool and
//! synthetic listeners. Everything is a pure function of the seed.

use super::rng::Dice;
use std::collections::HashSet;

mod users;

pub use users::{POOL_SIZE, User, synthetic_listener, user_pool, users_for_topic};

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

#[cfg(test)]
mod tests;
