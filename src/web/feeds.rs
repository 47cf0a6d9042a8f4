//! `{list}/feed.atom`, `{list}/feed.rss` and `{list}/feed.json`: every list page as a
//! feed, for feed readers and the bots people feed with them.
//!
//! A feed is its page's list in another form: the handlers here take the page's own
//! query, ask the page's own lookups (so a feed read after its page costs no upstream
//! call) and select with the page's own logic (`browse`, `search`, `users`). What is
//! here is what feeds alone need: one entry per Space ([`FeedEntry`]), written by the
//! format's own crate (`atom_xml`, `rss_xml`) or serde types (`json_feed`), and
//! answered with an ETag like a page ([`FeedAnswer`]).

pub mod answer;
mod atom_xml;
pub mod handlers;
mod json_feed;
mod rss_xml;

use chrono::{DateTime, Utc};

use crate::model::{Space, SpaceState};
use crate::web::links::{self, SiteUrl};
use crate::web::views::{absolute, count, plural};

pub use answer::FeedAnswer;

/// The three formats every list is offered in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FeedFormat {
    Atom,
    Rss,
    Json,
}

impl FeedFormat {
    pub const ALL: [Self; 3] = [Self::Atom, Self::Rss, Self::Json];

    /// The feed's file name after its list's path.
    pub fn file(self) -> &'static str {
        match self {
            Self::Atom => "feed.atom",
            Self::Rss => "feed.rss",
            Self::Json => "feed.json",
        }
    }

    /// The media type, as autodiscovery links name it.
    pub fn media_type(self) -> &'static str {
        match self {
            Self::Atom => "application/atom+xml",
            Self::Rss => "application/rss+xml",
            Self::Json => "application/feed+json",
        }
    }

    /// The answer's `Content-Type`: XML says its charset; JSON is UTF-8 by definition
    /// (RFC 8259) and has no charset parameter.
    pub fn content_type(self) -> &'static str {
        match self {
            Self::Atom => "application/atom+xml; charset=utf-8",
            Self::Rss => "application/rss+xml; charset=utf-8",
            Self::Json => "application/feed+json",
        }
    }

    /// What people call it, for link texts and titles.
    pub fn name(self) -> &'static str {
        match self {
            Self::Atom => "Atom",
            Self::Rss => "RSS",
            Self::Json => "JSON Feed",
        }
    }

    /// The feed in this format.
    pub fn render(self, feed: &Feed) -> Result<String, RenderError> {
        match self {
            Self::Atom => atom_xml::render(feed),
            Self::Rss => rss_xml::render(feed),
            Self::Json => json_feed::render(feed),
        }
    }
}

/// A format's writer failed (it writes to memory, so this is a bug, not input).
#[derive(Debug, thiserror::Error)]
#[error("{0} feed failed to render: {1}")]
pub struct RenderError(&'static str, String);

/// A format as a type, so one generic handler per list serves all three routes.
pub trait Format {
    const FORMAT: FeedFormat;
}

pub struct Atom;
pub struct Rss;
pub struct Json;

impl Format for Atom {
    const FORMAT: FeedFormat = FeedFormat::Atom;
}
impl Format for Rss {
    const FORMAT: FeedFormat = FeedFormat::Rss;
}
impl Format for Json {
    const FORMAT: FeedFormat = FeedFormat::Json;
}

/// One list as a feed, in no format yet.
#[derive(Clone, Debug)]
pub struct Feed {
    pub title: String,
    pub description: String,
    /// The list page this is the feed of, absolute.
    pub page_url: String,
    /// This list's feeds, absolute: each format names itself (`rel="self"`).
    pub links: FeedLinks,
    pub entries: Vec<FeedEntry>,
}

impl Feed {
    /// When the list last changed: its latest entry's change. An empty list has
    /// nothing that changed, so it says the epoch rather than "now", which would make
    /// every request a new feed (and a new ETag).
    pub fn updated(&self) -> DateTime<Utc> {
        self.entries
            .iter()
            .map(|e| e.updated)
            .max()
            .unwrap_or(DateTime::UNIX_EPOCH)
    }
}

/// One Space in a feed.
#[derive(Clone, Debug, PartialEq)]
pub struct FeedEntry {
    /// Stable for the Space whatever its state: its canonical page on this site.
    pub id: String,
    pub title: String,
    /// earshot's page for the Space, absolute.
    pub url: String,
    pub author: Option<FeedAuthor>,
    /// State, time and count, in words (absolute times only: a relative "in 5 min"
    /// would change the feed every minute).
    pub summary: String,
    /// The Space's topics, by name.
    pub categories: Vec<String>,
    /// The Space's latest change of state (see [`state_changed_at`]).
    pub updated: DateTime<Utc>,
    /// When the Space was created, where known.
    pub published: Option<DateTime<Utc>>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct FeedAuthor {
    pub name: String,
    /// Our page for them, absolute, when we know their id.
    pub url: Option<String>,
}

impl FeedEntry {
    pub fn new(space: &Space, site: &SiteUrl) -> Self {
        let url = site.space(&space.id);
        Self {
            id: url.clone(),
            title: text(space.title()),
            url,
            author: space.creator.as_ref().map(|c| FeedAuthor {
                name: text(c.display_name()),
                url: c.id.as_ref().map(|id| site.user(id)),
            }),
            summary: text(&summary(space)),
            categories: space.topics.iter().map(|t| text(&t.name)).collect(),
            updated: state_changed_at(space),
            published: space.created_at,
        }
    }
}

/// When the Space last changed state, which is what a feed entry's `updated` says so
/// that readers notice a host going live, ending or cancelling.
///
/// The model's `updated_at` is not that: upstreams move it with every change of data
/// (the demo, like the gateway, on every count refresh while live), which would mark
/// an entry updated on every refresh. So each state names the moment it began:
/// scheduled at `created_at`, live at `started_at`, ended at `ended_at`. A cancelled
/// Space has no moment of its own in the model; its data stops changing when it is
/// cancelled, so its `updated_at` is that moment. Where the state's own moment is
/// missing, the latest transition the model does know stands in; a Space with no
/// times at all says the epoch, stable rather than "now".
pub fn state_changed_at(space: &Space) -> DateTime<Utc> {
    let own = match space.state {
        SpaceState::Scheduled => space.created_at,
        SpaceState::Live => space.started_at,
        SpaceState::Ended => space.ended_at,
        SpaceState::Cancelled | SpaceState::Unknown(_) => space.updated_at,
    };
    own.or_else(|| {
        [space.created_at, space.started_at, space.ended_at]
            .into_iter()
            .flatten()
            .max()
    })
    .or(space.scheduled_start)
    .unwrap_or(DateTime::UNIX_EPOCH)
}

/// "Live since Sun 22 Nov 2026, 12:00 UTC. 523 listening."
fn summary(space: &Space) -> String {
    let at = |t: Option<DateTime<Utc>>| t.map(absolute);
    let mut out = match &space.state {
        SpaceState::Live => match at(space.started_at) {
            Some(t) => format!("Live since {t}."),
            None => "Live now.".to_owned(),
        },
        SpaceState::Scheduled => match at(space.scheduled_start) {
            Some(t) => format!("Scheduled for {t}."),
            None => "Scheduled.".to_owned(),
        },
        SpaceState::Ended => match at(space.ended_at) {
            Some(t) => format!("Ended {t}."),
            None => "Ended.".to_owned(),
        },
        SpaceState::Cancelled => match at(space.scheduled_start) {
            Some(t) => format!("Cancelled; it was scheduled for {t}."),
            None => "Cancelled.".to_owned(),
        },
        SpaceState::Unknown(_) => format!("{}.", space.state.label()),
    };
    let counted = match space.state {
        SpaceState::Live => space
            .participant_count
            .map(|n| format!("{} listening.", count(n))),
        SpaceState::Ended => space
            .participant_count
            .map(|n| format!("{} attended.", count(n))),
        SpaceState::Scheduled => space
            .reminder_count
            .map(|n| format!("{}.", plural(n, "reminder set", "reminders set"))),
        _ => None,
    };
    if let Some(counted) = counted {
        out.push(' ');
        out.push_str(&counted);
    }
    if let Some(host) = &space.creator {
        out.push_str(&format!(" Hosted by {}.", host.display_name()));
    }
    out
}

/// Upstream text made fit for any format: without the control characters XML 1.0
/// cannot carry at all (escaping cannot save them), so a hostile title still makes
/// a well-formed feed. Markup characters are left for each writer to escape.
pub fn text(s: &str) -> String {
    s.chars()
        .filter(|&c| {
            matches!(c, '\t' | '\n' | '\r')
                || !(c.is_control() || matches!(c, '\u{FFFE}' | '\u{FFFF}'))
        })
        .collect()
}

/// Text as HTML: for the one place a format carries HTML (JSON Feed's
/// `content_html`), every markup character escaped.
pub fn escape_html(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + s.len() / 8);
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// A list's feed links: for `<link rel="alternate">` in its page's head, for the
/// visible links on it, and for each feed's link to itself.
#[derive(Clone, Debug)]
pub struct FeedLinks {
    /// What the list is, for link titles ("Live Spaces").
    pub title: String,
    pub feeds: Vec<FeedLink>,
}

#[derive(Clone, Debug)]
pub struct FeedLink {
    pub format: FeedFormat,
    pub name: &'static str,
    pub media_type: &'static str,
    /// Absolute, on `--public-url`.
    pub url: String,
}

impl FeedLinks {
    /// The feeds of the list at `list` (a path from `links`) with the page's query.
    pub fn new(site: &SiteUrl, title: impl Into<String>, list: &str, query: &str) -> Self {
        Self {
            title: title.into(),
            feeds: FeedFormat::ALL
                .into_iter()
                .map(|format| FeedLink {
                    format,
                    name: format.name(),
                    media_type: format.media_type(),
                    url: site.absolute(&links::feed(list, format.file(), query)),
                })
                .collect(),
        }
    }

    /// This list's feed in `format`.
    pub fn url(&self, format: FeedFormat) -> &str {
        self.feeds
            .iter()
            .find(|f| f.format == format)
            .map(|f| f.url.as_str())
            .unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{SpaceId, Topic, User};

    fn at(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    pub(super) fn space(state: SpaceState) -> Space {
        Space {
            id: "1abc".parse::<SpaceId>().unwrap(),
            state,
            title: Some("<script>alert(1)</script> & \u{0}\u{1b}friends".into()),
            creator: Some(User {
                id: Some("42".parse().unwrap()),
                name: Some("Host <b>".into()),
                ..User::default()
            }),
            host_ids: vec![],
            speaker_ids: vec![],
            participant_count: Some(1523),
            reminder_count: Some(7),
            total_replay_watched: None,
            topics: vec![Topic {
                name: "Tech & <Science>".into(),
                slug: None,
            }],
            lang: None,
            is_ticketed: false,
            recording_available: None,
            created_at: Some(at("2026-11-22T10:00:00Z")),
            scheduled_start: Some(at("2026-11-22T12:00:00Z")),
            started_at: Some(at("2026-11-22T12:03:00Z")),
            ended_at: Some(at("2026-11-22T13:30:00Z")),
            updated_at: Some(at("2026-11-22T13:31:07Z")),
            users: vec![],
        }
    }

    #[test]
    fn updated_is_the_latest_change_of_state_not_of_data() {
        let mut s = space(SpaceState::Scheduled);
        assert_eq!(state_changed_at(&s), at("2026-11-22T10:00:00Z"));
        s.state = SpaceState::Live;
        assert_eq!(state_changed_at(&s), at("2026-11-22T12:03:00Z"));
        s.state = SpaceState::Ended;
        assert_eq!(state_changed_at(&s), at("2026-11-22T13:30:00Z"));
        s.state = SpaceState::Cancelled;
        assert_eq!(state_changed_at(&s), at("2026-11-22T13:31:07Z"));
        // A live Space without its start: the latest transition known stands in.
        s.state = SpaceState::Live;
        s.started_at = None;
        assert_eq!(state_changed_at(&s), at("2026-11-22T13:30:00Z"));
        let bare = Space {
            created_at: None,
            started_at: None,
            ended_at: None,
            updated_at: None,
            scheduled_start: None,
            ..s
        };
        assert_eq!(state_changed_at(&bare), DateTime::UNIX_EPOCH);
    }

    #[test]
    fn entries_say_state_time_and_count_and_keep_their_id() {
        let site = SiteUrl::new("https://earshot.example/".parse().unwrap());
        let live = FeedEntry::new(&space(SpaceState::Live), &site);
        assert_eq!(live.id, "https://earshot.example/spaces/1abc");
        assert_eq!(live.url, live.id);
        assert_eq!(
            live.summary,
            "Live since Sun 22 Nov 2026, 12:03 UTC. 1,523 listening. Hosted by Host <b>."
        );
        assert_eq!(live.title, "<script>alert(1)</script> & friends");
        assert_eq!(
            live.author,
            Some(FeedAuthor {
                name: "Host <b>".into(),
                url: Some("https://earshot.example/users/42".into())
            })
        );
        assert_eq!(live.categories, ["Tech & <Science>"]);
        let scheduled = FeedEntry::new(&space(SpaceState::Scheduled), &site);
        assert_eq!(scheduled.id, live.id);
        assert!(
            scheduled
                .summary
                .starts_with("Scheduled for Sun 22 Nov 2026, 12:00 UTC. 7 reminders set."),
            "{}",
            scheduled.summary
        );
        let ended = FeedEntry::new(&space(SpaceState::Ended), &site);
        assert!(ended.summary.contains("1,523 attended."));
    }

    #[test]
    fn html_is_escaped_wholly() {
        assert_eq!(
            escape_html("<a href=\"x\">'&'</a>"),
            "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;"
        );
    }
}
