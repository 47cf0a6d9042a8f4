//! RSS 2.0, written by the `rss` crate, which escapes every text. RSS has no
//! "updated" per item: `pubDate` carries the Space's latest change of state, which is
//! what readers compare; its author goes in `dc:creator`, since RSS's own `author`
//! must be an e-mail address. Readers take `description` as HTML (the crate wraps it
//! in CDATA, unescaped): it gets the summary as escaped HTML, never upstream markup.

use rss::extension::dublincore::DublinCoreExtension;
use rss::{Category, Channel, Guid, Item};

use super::{Feed, FeedEntry, RenderError, escape_html};

pub fn render(feed: &Feed) -> Result<String, RenderError> {
    let channel = Channel {
        title: feed.title.clone(),
        link: feed.page_url.clone(),
        description: escape_html(&feed.description),
        language: Some("en".to_owned()),
        last_build_date: Some(feed.updated().to_rfc2822()),
        generator: Some("earshot".to_owned()),
        items: feed.entries.iter().map(item).collect(),
        ..Channel::default()
    };
    let bytes = channel
        .write_to(Vec::with_capacity(512 + feed.entries.len() * 800))
        .map_err(|e| RenderError("RSS", e.to_string()))?;
    String::from_utf8(bytes).map_err(|e| RenderError("RSS", e.to_string()))
}

fn item(e: &FeedEntry) -> Item {
    Item {
        title: Some(e.title.clone()),
        link: Some(e.url.clone()),
        description: Some(escape_html(&e.summary)),
        guid: Some(Guid {
            value: e.id.clone(),
            permalink: true,
        }),
        pub_date: Some(e.updated.to_rfc2822()),
        categories: e
            .categories
            .iter()
            .map(|c| Category {
                name: c.clone(),
                domain: None,
            })
            .collect(),
        dublin_core_ext: e.author.as_ref().map(|a| DublinCoreExtension {
            creators: vec![a.name.clone()],
            ..DublinCoreExtension::default()
        }),
        ..Item::default()
    }
}
