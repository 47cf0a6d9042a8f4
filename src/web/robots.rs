//! `/robots.txt`: where the sitemap is, and what crawlers should leave alone. The
//! paths come from the route table, which knows what each route is: fragments that
//! pages poll and the framable widget are no pages of their own, and the routes
//! marked for previews only (share cards, oEmbed) are for the bots that draw a shared
//! link, not for search engines.

use axum::extract::State;
use axum::response::Response;

use crate::cache::CacheStatus;
use crate::web::links::{self, SiteUrl};
use crate::web::respond::tagged;
use crate::web::state::AppState;
use crate::web::{Kind, ROUTES, Route};

/// The bots that fetch a shared link to draw its preview. Twitterbot, for one, obeys
/// robots.txt: keeping it off the share cards would leave every shared Space without
/// its picture.
const PREVIEW_BOTS: [&str; 5] = [
    "Twitterbot",
    "facebookexternalhit",
    "LinkedInBot",
    "Slackbot",
    "Discordbot",
];

pub async fn robots(State(state): State<AppState>) -> Response {
    tagged(
        "text/plain; charset=utf-8",
        text(&state.site, ROUTES),
        CacheStatus::Hit,
    )
}

/// Not a page: polled fragments and the framable widget.
fn not_a_page(route: &Route) -> bool {
    matches!(route.kind, Kind::Fragment) || route.framable
}

fn text(site: &SiteUrl, routes: &[Route]) -> String {
    let for_search = disallowed(routes.iter().filter(|r| not_a_page(r) || r.previews_only));
    let for_previews = disallowed(routes.iter().filter(|r| not_a_page(r)));
    let mut out = String::from("User-agent: *\n");
    for path in &for_search {
        out.push_str(&format!("Disallow: {path}\n"));
    }
    out.push('\n');
    for bot in PREVIEW_BOTS {
        out.push_str(&format!("User-agent: {bot}\n"));
    }
    for path in &for_previews {
        out.push_str(&format!("Disallow: {path}\n"));
    }
    out.push_str(&format!("\nSitemap: {}\n", site.absolute(links::SITEMAP)));
    out
}

/// The robots.txt paths for routes: each `{…}` segment a `*` wildcard, a trailing
/// one dropped (rules match by prefix), and a path another covers left out.
fn disallowed<'a>(routes: impl Iterator<Item = &'a Route>) -> Vec<String> {
    let mut paths: Vec<String> = routes
        .map(|route| {
            let wild: Vec<&str> = route
                .pattern
                .split('/')
                .map(|s| if s.starts_with('{') { "*" } else { s })
                .collect();
            wild.join("/").trim_end_matches('*').to_owned()
        })
        .collect();
    paths.sort();
    let mut kept: Vec<String> = Vec::new();
    for path in paths {
        let covered = kept
            .iter()
            .any(|k| !k.contains('*') && path.starts_with(k.as_str()));
        if !covered {
            kept.push(path);
        }
    }
    kept
}

#[cfg(test)]
mod tests {
    use super::*;

    fn group<'a>(text: &'a str, agent: &str) -> Vec<&'a str> {
        let start = text
            .find(&format!("User-agent: {agent}\n"))
            .unwrap_or_else(|| panic!("no group for {agent}"));
        text[start..]
            .lines()
            .skip_while(|l| l.starts_with("User-agent:"))
            .take_while(|l| !l.is_empty())
            .filter_map(|l| l.strip_prefix("Disallow: "))
            .collect()
    }

    #[test]
    fn crawlers_keep_off_partials_embeds_oembed_and_cards() {
        let site = SiteUrl::new(url::Url::parse("https://earshot.example/").unwrap());
        let text = text(&site, ROUTES);
        assert!(text.ends_with("Sitemap: https://earshot.example/sitemap.xml\n"));
        assert_eq!(
            group(&text, "*"),
            [
                "/embed/spaces/",
                "/live/list",
                "/oembed",
                "/spaces/*/card.png",
                "/spaces/*/live"
            ]
        );
        // The bots that draw previews may fetch the cards and oEmbed.
        for bot in PREVIEW_BOTS {
            assert_eq!(
                group(&text, bot),
                ["/embed/spaces/", "/live/list", "/spaces/*/live"]
            );
        }
    }
}
