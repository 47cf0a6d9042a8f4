//! `/sitemap.xml`: the pages worth a search engine's visit: the front pages, the
//! topic pages, and the Space pages of what is live and scheduled now.
//!
//! Its Spaces come from the two lists the home page shows (all live, all
//! scheduled), so it costs at most those two upstream calls per list lifetime, and
//! none while the home page's answers are cached.

use std::collections::HashSet;

use axum::extract::State;
use axum::response::Response;

use crate::catalog::page_status;
use crate::model::{SpaceId, TopicSlug};
use crate::web::error::AppResult;
use crate::web::links::{self, SiteUrl};
use crate::web::lists::{live_sorted, upcoming_sorted};
use crate::web::respond::tagged;
use crate::web::state::AppState;

/// The sitemap protocol's limits: URLs in one file, characters in one `loc`.
pub const MAX_URLS: usize = 50_000;
pub const MAX_LOC: usize = 2_048;

pub async fn sitemap(State(state): State<AppState>) -> AppResult<Response> {
    let (live, scheduled) = tokio::join!(state.catalog.live(None), state.catalog.scheduled(None));
    let (live, scheduled) = (live?, scheduled?);
    let now = state.now();
    let spaces = live_sorted(&live.value.spaces)
        .into_iter()
        .chain(upcoming_sorted(&scheduled.value.spaces, now, None, None))
        .map(|s| &s.id);
    let body = xml(&state.site, spaces);
    let status = page_status([live.status, scheduled.status]);
    Ok(tagged("application/xml; charset=utf-8", body, status))
}

fn xml<'a>(site: &SiteUrl, spaces: impl Iterator<Item = &'a SpaceId>) -> String {
    let pages = [links::HOME, links::LIVE, links::UPCOMING]
        .into_iter()
        .map(|p| site.absolute(p))
        .chain(TopicSlug::ALL.map(|t| site.absolute(&links::topic(t))));
    let mut seen = HashSet::new();
    let spaces = spaces
        .filter(move |id| seen.insert(*id))
        .map(|id| site.space(id));
    let mut out = String::from(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n\
         <urlset xmlns=\"http://www.sitemaps.org/schemas/sitemap/0.9\">\n",
    );
    // A `--public-url` long enough to push a `loc` past the limit leaves that URL
    // out rather than the file invalid.
    for url in pages
        .chain(spaces)
        .filter(|u| u.chars().count() <= MAX_LOC)
        .take(MAX_URLS)
    {
        out.push_str("<url><loc>");
        escape_into(&mut out, &url);
        out.push_str("</loc></url>\n");
    }
    out.push_str("</urlset>\n");
    out
}

/// The five XML entities the sitemap protocol asks URLs to escape.
fn escape_into(out: &mut String, text: &str) {
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c => out.push(c),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn site(base: &str) -> SiteUrl {
        SiteUrl::new(url::Url::parse(base).unwrap())
    }

    fn locs(xml: &str) -> Vec<&str> {
        xml.split("<loc>")
            .skip(1)
            .filter_map(|s| s.split("</loc>").next())
            .collect()
    }

    #[test]
    fn at_most_50_000_urls_each_escaped_and_short_enough() {
        let ids: Vec<SpaceId> = (0..60_000)
            .map(|n| format!("s{n}").parse().unwrap())
            .collect();
        let text = xml(
            &site("https://e.example/a?b&c/"),
            ids.iter().chain(ids.iter()),
        );
        let found = locs(&text);
        assert_eq!(found.len(), MAX_URLS);
        assert!(
            found
                .iter()
                .all(|l| l.starts_with("https://e.example/a?b&amp;c/"))
        );
        let long = format!("https://e.example/{}/", "x".repeat(MAX_LOC));
        let text = xml(&site(&long), ids.iter());
        assert!(locs(&text).is_empty());
    }

    #[test]
    fn each_space_once() {
        let ids: Vec<SpaceId> = ["1a", "1b", "1a"]
            .iter()
            .map(|s| s.parse().unwrap())
            .collect();
        let text = xml(&site("https://e.example/"), ids.iter());
        let spaces: Vec<_> = locs(&text)
            .into_iter()
            .filter(|l| l.contains("/spaces/"))
            .collect();
        assert_eq!(
            spaces,
            ["https://e.example/spaces/1a", "https://e.example/spaces/1b"]
        );
    }
}
