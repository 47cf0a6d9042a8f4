//! The Space page's schema.org `Event`, as JSON-LD for search engines.
//!
//! It goes out in a `<script type="application/ld+json">` data block: browsers never
//! run one, so the CSP's `script-src` does not apply to it and stays as strict as it
//! is. Its text is ours to escape (askama's HTML escaping would break the JSON): see
//! [`script_safe`].

use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::{Map, Value, json};

use crate::model::{Space, SpaceState};
use crate::web::links::{self, SiteUrl};

/// The JSON-LD for a Space, ready to sit inside a script element; `None` for a Space
/// with no time at all, which no search engine takes as an event.
pub fn event(site: &SiteUrl, space: &Space, description: &str) -> Option<String> {
    let start = space.started_at.or(space.scheduled_start)?;
    let id = &space.id;
    let mut event = Map::new();
    event.insert("@context".into(), json!("https://schema.org"));
    event.insert("@type".into(), json!("Event"));
    event.insert("name".into(), json!(space.title()));
    event.insert("description".into(), json!(description));
    event.insert("url".into(), json!(site.space(id)));
    event.insert("image".into(), json!(site.card(id)));
    event.insert("startDate".into(), json!(iso(start)));
    if let Some(end) = space.ended_at.filter(|end| *end >= start) {
        event.insert("endDate".into(), json!(iso(end)));
    }
    event.insert("eventStatus".into(), json!(status(&space.state)));
    event.insert(
        "eventAttendanceMode".into(),
        json!("https://schema.org/OnlineEventAttendanceMode"),
    );
    // The demo's ids are made up: its Spaces take place on earshot's own pages.
    let place = if crate::web::layout::simulated() {
        site.space(id)
    } else {
        links::join_on_x(id)
    };
    event.insert(
        "location".into(),
        json!({ "@type": "VirtualLocation", "url": place }),
    );
    if let Some(host) = &space.creator {
        let mut person = Map::new();
        person.insert("@type".into(), json!("Person"));
        person.insert("name".into(), json!(host.display_name()));
        let url = host
            .username
            .as_deref()
            .and_then(links::x_profile)
            .or_else(|| host.id.as_ref().map(|id| site.user(id)));
        if let Some(url) = url {
            person.insert("url".into(), json!(url));
        }
        event.insert("organizer".into(), Value::Object(person));
    }
    if let Some(lang) = &space.lang {
        event.insert("inLanguage".into(), json!(lang));
    }
    serde_json::to_string(&Value::Object(event))
        .ok()
        .map(|json| script_safe(&json))
}

/// schema.org's statuses are for events that may or may not take place as planned.
/// A Space is online from the start, so never `EventMovedOnline` (that says an
/// in-person event moved online); one that is live or has ended took place as
/// scheduled, which schema.org (and Google's guidance for past events) says with
/// `EventScheduled`; only a cancelled one differs.
fn status(state: &SpaceState) -> &'static str {
    match state {
        SpaceState::Cancelled => "https://schema.org/EventCancelled",
        SpaceState::Scheduled | SpaceState::Live | SpaceState::Ended | SpaceState::Unknown(_) => {
            "https://schema.org/EventScheduled"
        }
    }
}

fn iso(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// JSON that cannot end its script element or open another: `<`, `>` and `&` (so
/// neither `</script>` nor `<!--` appears), and U+2028/U+2029 (line breaks to older
/// JavaScript parsers) as `\u` escapes. All of them can only occur inside JSON
/// strings, where the escape means the same character.
fn script_safe(json: &str) -> String {
    let mut out = String::with_capacity(json.len());
    for c in json.chars() {
        match c {
            '<' => out.push_str("\\u003c"),
            '>' => out.push_str("\\u003e"),
            '&' => out.push_str("\\u0026"),
            '\u{2028}' => out.push_str("\\u2028"),
            '\u{2029}' => out.push_str("\\u2029"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nothing_breaks_out_of_the_script_element() {
        let hostile = "</script><script>alert(1)</script> & <!-- \u{2028}\u{2029}";
        let json = serde_json::to_string(&json!({ "name": hostile })).unwrap();
        let safe = script_safe(&json);
        for bad in ['<', '>', '&', '\u{2028}', '\u{2029}'] {
            assert!(!safe.contains(bad), "{bad:?} in {safe}");
        }
        let back: Value = serde_json::from_str(&safe).unwrap();
        assert_eq!(back["name"], hostile);
    }

    #[test]
    fn only_a_cancelled_space_is_not_as_scheduled() {
        assert_eq!(
            status(&SpaceState::Cancelled),
            "https://schema.org/EventCancelled"
        );
        for state in [SpaceState::Scheduled, SpaceState::Live, SpaceState::Ended] {
            assert_eq!(status(&state), "https://schema.org/EventScheduled");
        }
    }
}
