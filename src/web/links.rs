//! Every address earshot hands out, built in one place: paths for links between its
//! own pages, and absolute URLs (from `--public-url`, never from the request) for what
//! leaves the site: canonical links, share tags, oEmbed, calendars, embed snippets.
//!
//! The route table (`web/mod.rs`) holds the patterns these paths must match; the
//! tests below pin every builder, and one fails if a path is formatted by hand
//! anywhere else in `web/`.

use url::Url;

use crate::model::{Role, SpaceId, TopicSlug, UserId};
use crate::web::assets::URLS;

pub const HOME: &str = "/";
pub const LIVE: &str = "/live";
pub const UPCOMING: &str = "/upcoming";
pub const SEARCH: &str = "/search";
pub const SITEMAP: &str = "/sitemap.xml";
pub const TRENDING: &str = "/trending";

/// The host leaderboard over `period`; the default period needs no query.
pub fn leaderboard(period: crate::ranking::Period) -> String {
    if period == crate::ranking::Period::default() {
        "/leaderboard".to_owned()
    } else {
        format!("/leaderboard?period={}", period.as_str())
    }
}

/// The Space page: canonical, shareable.
pub fn space(id: &SpaceId) -> String {
    format!("/spaces/{id}")
}

/// The Space page's live-status block, polled by htmx.
pub fn space_live(id: &SpaceId) -> String {
    format!("/spaces/{id}/live")
}

/// Everyone in a Space, or one role of them, one page of the list.
pub fn participants(id: &SpaceId, role: Option<Role>, page: usize) -> String {
    let mut url = format!("/spaces/{id}/participants");
    let mut sep = '?';
    if let Some(role) = role {
        url.push_str(&format!("{sep}role={}", role.as_str()));
        sep = '&';
    }
    if page > 1 {
        url.push_str(&format!("{sep}page={page}"));
    }
    url
}

pub fn calendar(id: &SpaceId) -> String {
    format!("/spaces/{id}/calendar.ics")
}

/// The subscribable calendar of `/upcoming`, of one topic's or of all.
pub fn upcoming_calendar(topic: Option<TopicSlug>) -> String {
    match topic {
        Some(t) => format!("/upcoming/calendar.ics?topic={}", t.slug()),
        None => "/upcoming/calendar.ics".to_owned(),
    }
}

/// The subscribable calendar of a topic's page.
pub fn topic_calendar(slug: TopicSlug) -> String {
    format!("/topics/{}/calendar.ics", slug.slug())
}

/// The subscribable calendar of a user's Spaces.
pub fn user_calendar(id: &UserId) -> String {
    format!("/users/{id}/calendar.ics")
}

/// "Add to Google Calendar": Google's event template, filled in. Times in UTC as
/// Google reads them (`…Z`); the text fields are form-encoded.
pub fn google_calendar(
    title: &str,
    start: chrono::DateTime<chrono::Utc>,
    end: chrono::DateTime<chrono::Utc>,
    details: &str,
    location: &str,
) -> String {
    const FORMAT: &str = "%Y%m%dT%H%M%SZ";
    let encode = |s: &str| url::form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
    // The dates as Google documents them, `start/end`: digits, T, Z and a slash,
    // which a query may hold as it is.
    format!(
        "https://calendar.google.com/calendar/render?action=TEMPLATE&text={}&dates={}/{}&details={}&location={}",
        encode(title),
        start.format(FORMAT),
        end.format(FORMAT),
        encode(details),
        encode(location),
    )
}

/// The Space's participant-count history, as JSON.
pub fn history(id: &SpaceId) -> String {
    format!("/spaces/{id}/history.json")
}

/// The share image.
pub fn card(id: &SpaceId) -> String {
    format!("/spaces/{id}/card.png")
}

pub fn user(id: &UserId) -> String {
    format!("/users/{id}")
}

pub fn topic(slug: TopicSlug) -> String {
    format!("/topics/{}", slug.slug())
}

/// A list page's feed: `file` (`feed.atom`, …) after the list's path, with the
/// page's query, so the feed lists what the page does.
pub fn feed(list: &str, file: &str, query: &str) -> String {
    let list = list.trim_end_matches('/');
    if query.is_empty() {
        format!("{list}/{file}")
    } else {
        format!("{list}/{file}?{query}")
    }
}

/// The widget other sites frame.
pub fn embed(id: &SpaceId) -> String {
    format!("/embed/spaces/{id}")
}

/// The widget's status block, polled by htmx inside the frame.
pub fn embed_live(id: &SpaceId) -> String {
    format!("/embed/spaces/{id}/live")
}

/// The Space on X itself, where people join it.
pub fn join_on_x(id: &SpaceId) -> String {
    format!("https://x.com/i/spaces/{id}")
}

/// A user's profile on X, when the handle is one X could have issued (letters,
/// digits, underscores; at most 15): anything else from the upstream makes no link.
pub fn x_profile(username: &str) -> Option<String> {
    let valid = (1..=15).contains(&username.len())
        && username
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_');
    valid.then(|| format!("https://x.com/{username}"))
}

/// The site's public address (`--public-url`): every absolute URL is built on it.
#[derive(Clone, Debug)]
pub struct SiteUrl {
    url: Url,
    /// `url` without its trailing slash, for paths to follow.
    base: String,
}

impl SiteUrl {
    pub fn new(public_url: Url) -> Self {
        let base = public_url.as_str().trim_end_matches('/').to_owned();
        Self {
            url: public_url,
            base,
        }
    }

    /// The host name, e.g. to make ids unique to this site.
    pub fn host(&self) -> Option<&str> {
        self.url.host_str()
    }

    /// This site's absolute URL for a path from this module.
    pub fn absolute(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub fn space(&self, id: &SpaceId) -> String {
        self.absolute(&space(id))
    }

    pub fn card(&self, id: &SpaceId) -> String {
        self.absolute(&card(id))
    }

    pub fn user(&self, id: &UserId) -> String {
        self.absolute(&user(id))
    }

    pub fn embed(&self, id: &SpaceId) -> String {
        self.absolute(&embed(id))
    }

    /// The `webcal://` address of one of this site's calendars: calendar
    /// applications open it as a subscription rather than a download.
    pub fn webcal(&self, path: &str) -> String {
        let (_, rest) = self.base.split_once("://").unwrap_or(("", &self.base));
        format!("webcal://{rest}{path}")
    }

    /// The script host pages load beside the widget's iframe.
    pub fn embed_script(&self) -> String {
        self.absolute(URLS.embed_js)
    }

    /// The oEmbed answer for a Space page, as the page advertises it.
    pub fn oembed(&self, id: &SpaceId) -> String {
        let mut query = url::form_urlencoded::Serializer::new(String::new());
        query
            .append_pair("url", &self.space(id))
            .append_pair("format", "json");
        self.absolute(&format!("/oembed?{}", query.finish()))
    }

    /// The Space id if `url` is a Space page on this site (same host and port, under
    /// the public path).
    pub fn space_id_in(&self, url: &str) -> Option<SpaceId> {
        let url = Url::parse(url.trim()).ok()?;
        let ours = &self.url;
        if !matches!(url.scheme(), "http" | "https")
            || !url.host_str()?.eq_ignore_ascii_case(ours.host_str()?)
            || url.port_or_known_default() != ours.port_or_known_default()
        {
            return None;
        }
        let prefix = ours.path().trim_end_matches('/');
        let path = url.path().strip_prefix(prefix)?;
        let mut segments = path.trim_matches('/').split('/');
        match (segments.next(), segments.next(), segments.next()) {
            (Some("spaces"), Some(id), None) => id.parse().ok(),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn space_id() -> SpaceId {
        "1abc".parse().unwrap()
    }

    fn user_id() -> UserId {
        "42".parse().unwrap()
    }

    fn site(base: &str) -> SiteUrl {
        SiteUrl::new(Url::parse(base).unwrap())
    }

    #[test]
    fn space_paths() {
        let id = space_id();
        assert_eq!(space(&id), "/spaces/1abc");
        assert_eq!(space_live(&id), "/spaces/1abc/live");
        assert_eq!(calendar(&id), "/spaces/1abc/calendar.ics");
        assert_eq!(history(&id), "/spaces/1abc/history.json");
        assert_eq!(card(&id), "/spaces/1abc/card.png");
        assert_eq!(embed(&id), "/embed/spaces/1abc");
        assert_eq!(embed_live(&id), "/embed/spaces/1abc/live");
        assert_eq!(join_on_x(&id), "https://x.com/i/spaces/1abc");
    }

    #[test]
    fn participant_paths_carry_role_then_page() {
        let id = space_id();
        assert_eq!(participants(&id, None, 1), "/spaces/1abc/participants");
        assert_eq!(
            participants(&id, Some(Role::Listener), 1),
            "/spaces/1abc/participants?role=listener"
        );
        assert_eq!(
            participants(&id, None, 3),
            "/spaces/1abc/participants?page=3"
        );
        assert_eq!(
            participants(&id, Some(Role::Host), 2),
            "/spaces/1abc/participants?role=host&page=2"
        );
    }

    #[test]
    fn user_and_topic_paths() {
        assert_eq!(user(&user_id()), "/users/42");
        assert_eq!(topic(TopicSlug::Gaming), "/topics/gaming");
        assert_eq!((HOME, LIVE, UPCOMING), ("/", "/live", "/upcoming"));
        assert_eq!(SEARCH, "/search");
    }

    #[test]
    fn feed_paths_follow_their_list() {
        assert_eq!(feed(LIVE, "feed.atom", ""), "/live/feed.atom");
        assert_eq!(
            feed(&topic(TopicSlug::Music), "feed.json", ""),
            "/topics/music/feed.json"
        );
        assert_eq!(
            feed(&user(&user_id()), "feed.rss", "role=host"),
            "/users/42/feed.rss?role=host"
        );
    }

    #[test]
    fn absolute_urls_build_on_the_public_url() {
        let site = site("https://earshot.example/");
        let id = space_id();
        assert_eq!(site.absolute(HOME), "https://earshot.example/");
        assert_eq!(site.space(&id), "https://earshot.example/spaces/1abc");
        assert_eq!(
            site.card(&id),
            "https://earshot.example/spaces/1abc/card.png"
        );
        assert_eq!(site.user(&user_id()), "https://earshot.example/users/42");
        assert_eq!(site.embed(&id), "https://earshot.example/embed/spaces/1abc");
        assert_eq!(
            site.embed_script(),
            "https://earshot.example/static/embed.js"
        );
        assert_eq!(
            site.oembed(&id),
            "https://earshot.example/oembed?url=https%3A%2F%2Fearshot.example%2Fspaces%2F1abc&format=json"
        );
        assert_eq!(site.host(), Some("earshot.example"));
    }

    #[test]
    fn calendar_paths_and_their_webcal_addresses() {
        assert_eq!(upcoming_calendar(None), "/upcoming/calendar.ics");
        assert_eq!(
            upcoming_calendar(Some(TopicSlug::Music)),
            "/upcoming/calendar.ics?topic=music"
        );
        assert_eq!(topic_calendar(TopicSlug::News), "/topics/news/calendar.ics");
        assert_eq!(user_calendar(&user_id()), "/users/42/calendar.ics");
        let site = site("https://example.org:8443/earshot/");
        assert_eq!(
            site.webcal(&user_calendar(&user_id())),
            "webcal://example.org:8443/earshot/users/42/calendar.ics"
        );
        assert_eq!(
            self::site("http://localhost:3000").webcal("/upcoming/calendar.ics"),
            "webcal://localhost:3000/upcoming/calendar.ics"
        );
    }

    #[test]
    fn google_calendar_links_encode_their_text() {
        let at = |s: &str| {
            chrono::DateTime::parse_from_rfc3339(s)
                .unwrap()
                .with_timezone(&chrono::Utc)
        };
        let link = google_calendar(
            "Rock & roll? 100% / 日本",
            at("2026-11-22T14:30:00Z"),
            at("2026-11-22T15:30:00Z"),
            "Line 1\nhttps://x.com/i/spaces/1a?x=1&y=2",
            "https://x.com/i/spaces/1a",
        );
        assert_eq!(
            link,
            "https://calendar.google.com/calendar/render?action=TEMPLATE\
             &text=Rock+%26+roll%3F+100%25+%2F+%E6%97%A5%E6%9C%AC\
             &dates=20261122T143000Z/20261122T153000Z\
             &details=Line+1%0Ahttps%3A%2F%2Fx.com%2Fi%2Fspaces%2F1a%3Fx%3D1%26y%3D2\
             &location=https%3A%2F%2Fx.com%2Fi%2Fspaces%2F1a"
        );
    }

    #[test]
    fn x_profiles_only_for_handles_x_could_issue() {
        assert_eq!(
            x_profile("tech_host").as_deref(),
            Some("https://x.com/tech_host")
        );
        for bad in ["", "a/b", "a b", "\"><script>", &"a".repeat(16), "é"] {
            assert_eq!(x_profile(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn absolute_urls_keep_a_public_path() {
        let site = site("https://example.org/earshot/");
        assert_eq!(
            site.space(&space_id()),
            "https://example.org/earshot/spaces/1abc"
        );
    }

    #[test]
    fn space_pages_are_recognised_on_this_site_only() {
        let site = site("https://example.org/earshot/");
        let found = |u: &str| site.space_id_in(u).map(|id| id.to_string());
        assert_eq!(
            found("https://example.org/earshot/spaces/1abc"),
            Some("1abc".into())
        );
        assert_eq!(
            found("https://EXAMPLE.org/earshot/spaces/1abc/"),
            Some("1abc".into())
        );
        assert_eq!(found("https://example.org/spaces/1abc"), None);
        assert_eq!(found("https://example.org:8443/earshot/spaces/1abc"), None);
        assert_eq!(found("https://other.example/earshot/spaces/1abc"), None);
        assert_eq!(found("https://example.org/earshot/spaces/1abc/live"), None);
        assert_eq!(found("ftp://example.org/earshot/spaces/1abc"), None);
    }

    /// Paths are built here and nowhere else in `web/`: a hand-formatted one drifts
    /// from the routes unnoticed.
    #[test]
    fn no_other_web_file_formats_site_paths() {
        fn rust_files(dir: &std::path::Path, out: &mut Vec<std::path::PathBuf>) {
            for entry in std::fs::read_dir(dir).unwrap() {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    rust_files(&path, out);
                } else if path.extension().is_some_and(|e| e == "rs") {
                    out.push(path);
                }
            }
        }
        let web = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/web");
        let mut files = Vec::new();
        rust_files(&web, &mut files);
        assert!(files.len() > 10, "found only {files:?}");
        let needles: Vec<String> = ["spaces", "users", "embed"]
            .iter()
            .map(|p| format!("format!(\"/{p}/"))
            .collect();
        for file in files.iter().filter(|f| !f.ends_with("links.rs")) {
            let text = std::fs::read_to_string(file).unwrap();
            for needle in &needles {
                assert!(
                    !text.contains(needle.as_str()),
                    "{} formats a path by hand ({needle}…): use web::links",
                    file.display()
                );
            }
        }
    }
}
