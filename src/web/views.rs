//! What templates show: domain types turned into ready-to-print text.
//!
//! Formatting happens here, once, so templates stay free of logic and every page
//! words times and counts the same way.

use chrono::{DateTime, Utc};

use crate::model::{Space, SpaceState, Topic, User};
use crate::web::links;

/// The languages the upstreams give Spaces in, by their names in English; filters
/// and pages show names, not codes.
const LANGUAGE_NAMES: [(&str, &str); 24] = [
    ("ar", "Arabic"),
    ("bn", "Bengali"),
    ("de", "German"),
    ("en", "English"),
    ("es", "Spanish"),
    ("fa", "Persian"),
    ("fr", "French"),
    ("he", "Hebrew"),
    ("hi", "Hindi"),
    ("id", "Indonesian"),
    ("it", "Italian"),
    ("ja", "Japanese"),
    ("ko", "Korean"),
    ("ms", "Malay"),
    ("nl", "Dutch"),
    ("pl", "Polish"),
    ("pt", "Portuguese"),
    ("ru", "Russian"),
    ("sw", "Swahili"),
    ("th", "Thai"),
    ("tl", "Tagalog"),
    ("tr", "Turkish"),
    ("ur", "Urdu"),
    ("zh", "Chinese"),
];

/// A language's name in English ("ja" → "Japanese", "pt-BR" → "Portuguese
/// (pt-BR)"); a code we don't know is shown as it is.
pub fn language_name(code: &str) -> String {
    let (base, region) = match code.split_once('-') {
        Some((base, region)) => (base, Some(region)),
        None => (code, None),
    };
    match LANGUAGE_NAMES
        .iter()
        .find(|(c, _)| c.eq_ignore_ascii_case(base))
    {
        Some((_, name)) if region.is_some() => format!("{name} ({code})"),
        Some((_, name)) => (*name).to_owned(),
        None => code.to_owned(),
    }
}

/// An upstream language code fit for a `lang` attribute (a BCP 47 tag's letters,
/// digits and hyphens), or nothing.
pub fn lang_tag(code: &str) -> Option<String> {
    let code = code.trim();
    (!code.is_empty()
        && code.len() <= 35
        && code.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-'))
    .then(|| code.to_owned())
}

/// A moment, for `<time datetime=…>`: machine form, absolute text and relative text.
#[derive(Clone, Debug)]
pub struct TimeView {
    pub iso: String,
    pub absolute: String,
    pub relative: String,
}

impl TimeView {
    pub fn new(t: DateTime<Utc>, now: DateTime<Utc>) -> Self {
        Self {
            iso: crate::format::iso_seconds(t),
            absolute: absolute(t),
            relative: relative(t, now),
        }
    }
}

pub fn absolute(t: DateTime<Utc>) -> String {
    crate::format::absolute_utc(t)
}

/// "in 5 min", "2 h ago", "in 3 days", "just now".
pub fn relative(t: DateTime<Utc>, now: DateTime<Utc>) -> String {
    let secs = (t - now).num_seconds();
    let span = span(secs.unsigned_abs());
    if secs.unsigned_abs() < 45 {
        "just now".to_owned()
    } else if secs > 0 {
        format!("in {span}")
    } else {
        format!("{span} ago")
    }
}

/// A duration in words: "40 s", "95 min", "3 h", "2 days".
pub fn span(secs: u64) -> String {
    match secs {
        0..=59 => format!("{secs} s"),
        60..=5_999 => format!("{} min", secs / 60),
        6_000..=172_799 => {
            let hours = secs / 3600;
            let minutes = (secs % 3600) / 60;
            if hours < 10 && minutes > 0 {
                format!("{hours} h {minutes} min")
            } else {
                format!("{hours} h")
            }
        }
        _ => format!("{} days", secs / 86_400),
    }
}

/// 1523 → "1,523": what the pages call a count.
pub use crate::format::thousands as count;

/// "1 listener", "1,523 listeners".
pub fn plural(n: u64, one: &str, many: &str) -> String {
    format!("{} {}", count(n), if n == 1 { one } else { many })
}

#[derive(Clone, Debug)]
pub struct PersonView {
    pub name: String,
    pub username: Option<String>,
    /// Our page for them, when we know their id.
    pub url: Option<String>,
    pub initials: String,
    pub image: Option<String>,
    pub verified: bool,
}

impl PersonView {
    pub fn new(user: &User) -> Self {
        Self {
            name: user.display_name().to_owned(),
            username: user.username.clone(),
            url: user.id.as_ref().map(links::user),
            initials: user.initials(),
            image: user.profile_image_url.clone(),
            verified: user.verified,
        }
    }
}

/// A post about a Space.
#[derive(Clone, Debug)]
pub struct TweetView {
    pub author: PersonView,
    pub text: String,
    pub time: Option<TimeView>,
    /// The post on X, when both its id and its author's handle are known.
    pub url: Option<String>,
}

impl TweetView {
    pub fn new(tweet: &crate::model::Tweet, now: DateTime<Utc>) -> Self {
        let author = PersonView::new(&tweet.author);
        let url = match (&tweet.id, &author.username) {
            (Some(id), Some(user)) => Some(format!("https://x.com/{user}/status/{id}")),
            _ => None,
        };
        Self {
            author,
            text: tweet.text.clone(),
            time: tweet.created_at.map(|t| TimeView::new(t, now)),
            url,
        }
    }
}

#[derive(Clone, Debug)]
pub struct TopicView {
    pub name: String,
    pub url: Option<String>,
}

impl TopicView {
    pub fn new(topic: &Topic) -> Self {
        Self {
            name: topic.name.clone(),
            url: topic.slug.map(links::topic),
        }
    }
}

/// A Space as a card or a page header shows it.
#[derive(Clone, Debug)]
pub struct SpaceView {
    pub url: String,
    pub title: String,
    pub state: &'static str,
    pub state_label: String,
    pub is_live: bool,
    pub creator: Option<PersonView>,
    /// "1,523 listening" for live Spaces, "1,523 attended" for ended ones.
    pub count_text: Option<String>,
    pub reminders_text: Option<String>,
    pub topics: Vec<TopicView>,
    /// The Space's language as a `lang` attribute value, for its title (WCAG 3.1.2).
    pub lang: Option<String>,
    /// That language's name: "Japanese".
    pub lang_name: Option<String>,
    pub ticketed: bool,
    /// The time that matters in this state, with words for it.
    pub when: Option<TimeView>,
    pub when_text: String,
    /// How long an ended Space ran: "1 h 20 min".
    pub duration_text: Option<String>,
}

impl SpaceView {
    pub fn new(space: &Space, now: DateTime<Utc>) -> Self {
        let state = &space.state;
        let (when, when_text) = match state {
            SpaceState::Live => match space.started_at {
                Some(t) => (
                    Some(TimeView::new(t, now)),
                    format!(
                        "live for {}",
                        span((now - t).num_seconds().max(0).unsigned_abs())
                    ),
                ),
                None => (None, "live now".to_owned()),
            },
            SpaceState::Scheduled => match space.scheduled_start {
                Some(t) if t > now => (
                    Some(TimeView::new(t, now)),
                    format!("starts {}", relative(t, now)),
                ),
                Some(t) => (Some(TimeView::new(t, now)), "starting now".to_owned()),
                None => (None, "scheduled".to_owned()),
            },
            SpaceState::Ended => match space.ended_at {
                Some(t) => (
                    Some(TimeView::new(t, now)),
                    format!("ended {}", relative(t, now)),
                ),
                None => (None, "ended".to_owned()),
            },
            // The badge says "Cancelled"; its planned start is past news, not a date to keep.
            SpaceState::Cancelled => (None, "will not take place".to_owned()),
            SpaceState::Unknown(_) => (None, String::new()),
        };
        let count_text = space.participant_count.and_then(|n| match state {
            SpaceState::Live => Some(format!("{} listening", count(n))),
            SpaceState::Ended => Some(format!("{} attended", count(n))),
            _ => None,
        });
        let reminders_text = match state {
            SpaceState::Scheduled => space
                .reminder_count
                .map(|n| plural(n, "reminder set", "reminders set")),
            _ => None,
        };
        let state_label = match state {
            SpaceState::Unknown(s) if !s.is_empty() => format!("State: {s}"),
            other => other.label().to_owned(),
        };
        Self {
            url: links::space(&space.id),
            title: space.title().to_owned(),
            state: state.css(),
            state_label,
            is_live: state.is_live(),
            creator: space.creator.as_ref().map(PersonView::new),
            count_text,
            reminders_text,
            topics: space.topics.iter().map(TopicView::new).collect(),
            lang: space.lang.as_deref().and_then(lang_tag),
            lang_name: space
                .lang
                .as_deref()
                .and_then(lang_tag)
                .map(|l| language_name(&l)),
            ticketed: space.is_ticketed,
            when,
            when_text,
            duration_text: match (state, space.started_at, space.ended_at) {
                (SpaceState::Ended, Some(start), Some(end)) if end > start => {
                    Some(span((end - start).num_seconds().unsigned_abs()))
                }
                _ => None,
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn languages_show_by_name() {
        assert_eq!(language_name("ja"), "Japanese");
        assert_eq!(language_name("hi"), "Hindi");
        assert_eq!(language_name("pt-BR"), "Portuguese (pt-BR)");
        assert_eq!(language_name("xx"), "xx");
        assert_eq!(lang_tag("en\" onload=x"), None);
    }

    #[test]
    fn plurals_agree_with_their_count() {
        assert_eq!(plural(1, "listener", "listeners"), "1 listener");
        assert_eq!(plural(1523, "listener", "listeners"), "1,523 listeners");
    }

    #[test]
    fn relative_times_read_naturally() {
        let now = at("2026-01-01T12:00:00Z");
        assert_eq!(relative(at("2026-01-01T12:00:10Z"), now), "just now");
        assert_eq!(relative(at("2026-01-01T12:05:00Z"), now), "in 5 min");
        assert_eq!(relative(at("2026-01-01T10:00:00Z"), now), "2 h ago");
        assert_eq!(relative(at("2026-01-01T14:30:00Z"), now), "in 2 h 30 min");
        assert_eq!(relative(at("2026-01-04T12:00:00Z"), now), "in 3 days");
        assert_eq!(span(95 * 60), "95 min");
    }
}
