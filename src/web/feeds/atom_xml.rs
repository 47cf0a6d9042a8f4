//! Atom 1.0 (RFC 4287), written by `atom_syndication`, which escapes every text.

use atom_syndication::{Category, Entry, Link, Person, Text};

use super::{Feed, FeedEntry, FeedFormat, RenderError};

pub fn render(feed: &Feed) -> Result<String, RenderError> {
    let atom = atom_syndication::Feed {
        title: Text::plain(feed.title.clone()),
        id: feed.links.url(FeedFormat::Atom).to_owned(),
        updated: feed.updated().fixed_offset(),
        subtitle: Some(Text::plain(feed.description.clone())),
        links: vec![
            link(&feed.page_url, "alternate", "text/html"),
            link(
                feed.links.url(FeedFormat::Atom),
                "self",
                "application/atom+xml",
            ),
        ],
        // Atom asks for an author on every entry, or on the feed for those without.
        authors: vec![Person {
            name: "earshot".to_owned(),
            ..Person::default()
        }],
        entries: feed.entries.iter().map(entry).collect(),
        ..atom_syndication::Feed::default()
    };
    let bytes = atom
        .write_to(Vec::with_capacity(512 + feed.entries.len() * 900))
        .map_err(|e| RenderError("Atom", e.to_string()))?;
    String::from_utf8(bytes).map_err(|e| RenderError("Atom", e.to_string()))
}

fn link(href: &str, rel: &str, mime_type: &str) -> Link {
    Link {
        href: href.to_owned(),
        rel: rel.to_owned(),
        mime_type: Some(mime_type.to_owned()),
        ..Link::default()
    }
}

fn entry(e: &FeedEntry) -> Entry {
    Entry {
        title: Text::plain(e.title.clone()),
        id: e.id.clone(),
        updated: e.updated.fixed_offset(),
        published: e.published.map(|t| t.fixed_offset()),
        authors: e
            .author
            .iter()
            .map(|a| Person {
                name: a.name.clone(),
                uri: a.url.clone(),
                ..Person::default()
            })
            .collect(),
        categories: e
            .categories
            .iter()
            .map(|c| Category {
                term: c.clone(),
                ..Category::default()
            })
            .collect(),
        links: vec![link(&e.url, "alternate", "text/html")],
        summary: Some(Text::plain(e.summary.clone())),
        ..Entry::default()
    }
}
