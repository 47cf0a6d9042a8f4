//! Word lists and generators: topics, languages, titles, the user pool and
//! synthetic listeners. Everything is a pure function of the seed.

use super::rng::Dice;
use std::collections::HashSet;

mod titles;
mod users;

use titles::{LOCAL_TEMPLATES, LOCAL_TOPICS, TITLES};
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

/// A second topic that a title about `topic` also fits.
pub fn related_topic(topic: usize) -> usize {
    // Technology, Gaming, Music, Sports, News, Business, Entertainment.
    const RELATED: [usize; 7] = [5, 6, 6, 4, 5, 0, 2];
    RELATED[topic % RELATED.len()]
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
