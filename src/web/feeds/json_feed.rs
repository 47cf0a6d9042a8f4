//! JSON Feed 1.1 (jsonfeed.org/version/1.1), with serde types of our own: the format
//! is a few fields, and serde_json escapes the strings. `content_html` is the one
//! HTML in any of the formats, built from escaped text only.

use serde::Serialize;

use super::{Feed, FeedEntry, FeedFormat, RenderError, escape_html};

const VERSION: &str = "https://jsonfeed.org/version/1.1";

#[derive(Serialize)]
struct JsonFeed<'a> {
    version: &'static str,
    title: &'a str,
    home_page_url: &'a str,
    feed_url: &'a str,
    description: &'a str,
    language: &'static str,
    items: Vec<JsonItem<'a>>,
}

#[derive(Serialize)]
struct JsonItem<'a> {
    id: &'a str,
    url: &'a str,
    title: &'a str,
    content_html: String,
    content_text: &'a str,
    summary: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    date_published: Option<String>,
    date_modified: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    authors: Vec<JsonAuthor<'a>>,
    #[serde(skip_serializing_if = "<[String]>::is_empty")]
    tags: &'a [String],
}

#[derive(Serialize)]
struct JsonAuthor<'a> {
    name: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    url: Option<&'a str>,
}

pub fn render(feed: &Feed) -> Result<String, RenderError> {
    let json = JsonFeed {
        version: VERSION,
        title: &feed.title,
        home_page_url: &feed.page_url,
        feed_url: feed.links.url(FeedFormat::Json),
        description: &feed.description,
        language: "en",
        items: feed.entries.iter().map(item).collect(),
    };
    let text = serde_json::to_string(&json).map_err(|e| RenderError("JSON", e.to_string()))?;
    Ok(script_safe(&text))
}

/// JSON with `<`, `>` and `&` written as `\u` escapes: the same JSON to any parser,
/// but no raw `<script>` or `</script>` for whoever puts it in a page. Outside
/// strings JSON has none of these characters, so every one replaced is in a string.
fn script_safe(json: &str) -> String {
    let mut out = String::with_capacity(json.len() + json.len() / 16);
    for c in json.chars() {
        match c {
            '<' => out.push_str("\\u003c"),
            '>' => out.push_str("\\u003e"),
            '&' => out.push_str("\\u0026"),
            c => out.push(c),
        }
    }
    out
}

fn rfc3339(t: chrono::DateTime<chrono::Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

fn item(e: &FeedEntry) -> JsonItem<'_> {
    JsonItem {
        id: &e.id,
        url: &e.url,
        title: &e.title,
        content_html: format!("<p>{}</p>", escape_html(&e.summary)),
        content_text: &e.summary,
        summary: &e.summary,
        date_published: e.published.map(rfc3339),
        date_modified: rfc3339(e.updated),
        authors: e
            .author
            .iter()
            .map(|a| JsonAuthor {
                name: &a.name,
                url: a.url.as_deref(),
            })
            .collect(),
        tags: &e.categories,
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn markup_characters_are_escaped_yet_read_back_the_same() {
        let json = serde_json::json!({"t": "</script><b>&"}).to_string();
        let safe = super::script_safe(&json);
        assert!(!safe.contains('<') && !safe.contains('&'), "{safe}");
        let back: serde_json::Value = serde_json::from_str(&safe).unwrap();
        assert_eq!(back["t"], "</script><b>&");
    }
}
