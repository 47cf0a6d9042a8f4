//! Lists of Spaces: the sorting, filtering and day grouping shared by the list pages
//! (`/`, `/live`, `/upcoming`, `/topics/{slug}`), and the parsing of their parameters.
//!
//! The upstream is asked only for broad lists (all live, all scheduled, per topic);
//! visitors' filters are applied here, so varying them costs no upstream calls.

use chrono::{DateTime, Utc};
use serde::Deserialize;

use crate::cache::CacheStatus;
use crate::model::{Space, SpaceState, TopicSlug};
use crate::upstream::wire::parse_time;
use crate::web::error::{AppError, AppResult};
use crate::web::extract::{blank_as_none, parse_flag, parse_param};
use crate::web::links;
use crate::web::state::AppState;
use crate::web::views::{SpaceView, count, lang_tag, language_name};

#[derive(Clone, Debug)]
pub struct TopicLink {
    pub slug: &'static str,
    pub name: &'static str,
    pub url: String,
}

impl TopicLink {
    pub fn new(t: TopicSlug) -> Self {
        Self {
            slug: t.slug(),
            name: t.name(),
            url: links::topic(t),
        }
    }

    /// Every topic, in the order the pages list them.
    pub fn all() -> Vec<Self> {
        TopicSlug::ALL.iter().map(|t| Self::new(*t)).collect()
    }
}

/// Live Spaces, most listeners first.
pub fn live_sorted(spaces: &[Space]) -> Vec<&Space> {
    let mut live: Vec<&Space> = spaces.iter().filter(|s| s.is_live()).collect();
    live.sort_by(|a, b| {
        b.participant_count
            .unwrap_or(0)
            .cmp(&a.participant_count.unwrap_or(0))
            .then_with(|| a.id.cmp(&b.id))
    });
    live
}

/// Scheduled Spaces in `[from, to)`, soonest first. Spaces whose start passed more
/// than a few minutes ago without going live are left out: they are late, not upcoming.
pub fn upcoming_sorted(
    spaces: &[Space],
    now: DateTime<Utc>,
    from: Option<DateTime<Utc>>,
    to: Option<DateTime<Utc>>,
) -> Vec<&Space> {
    let earliest = from.unwrap_or(now - chrono::Duration::minutes(10));
    let mut out: Vec<&Space> = spaces
        .iter()
        .filter(|s| s.state == SpaceState::Scheduled)
        .filter(|s| {
            s.scheduled_start
                .is_some_and(|t| t >= earliest && to.is_none_or(|to| t < to))
        })
        .collect();
    out.sort_by_key(|s| (s.scheduled_start, s.id.clone()));
    out
}

/// The topic a `/topics/{slug}` path names, or a 404.
pub fn topic_in_path(slug: &str) -> AppResult<TopicSlug> {
    TopicSlug::ALL
        .into_iter()
        .find(|t| t.slug() == slug)
        .ok_or(AppError::NotFound("topic"))
}

/// Whether a Space from a topic's list belongs on that topic's page: one the
/// upstream gave no topics for is kept (the list was asked for by topic).
pub fn on_topic(space: &Space, topic: TopicSlug) -> bool {
    space.topics.is_empty() || space.has_topic(topic)
}

/// The `topic` parameter: a slug we know, or a 400 that lists the ones we do.
pub fn topic_param(value: Option<&str>) -> AppResult<Option<TopicSlug>> {
    value
        .map(|v| {
            TopicSlug::lookup(v).ok_or_else(|| {
                AppError::BadRequest(format!(
                    "“{}” is not a topic we know. Try one of: {}.",
                    v.chars().take(40).collect::<String>(),
                    TopicSlug::ALL.map(|t| t.slug()).join(", ")
                ))
            })
        })
        .transpose()
}

#[derive(Debug, Default, Deserialize)]
pub struct LiveParams {
    #[serde(default, deserialize_with = "blank_as_none")]
    topic: Option<String>,
    #[serde(default, deserialize_with = "blank_as_none")]
    min_participants: Option<String>,
    #[serde(default, deserialize_with = "blank_as_none")]
    verified: Option<String>,
    #[serde(default, deserialize_with = "blank_as_none")]
    lang: Option<String>,
    /// Only for the list partial: how many cards (the home page shows a dozen).
    #[serde(default, deserialize_with = "blank_as_none")]
    limit: Option<String>,
}

/// The filters of `/live`, validated; applied locally to the cached live list.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct LiveFilter {
    pub topic: Option<TopicSlug>,
    pub min_participants: Option<u64>,
    pub verified: bool,
    pub lang: Option<String>,
    pub limit: Option<usize>,
}

impl LiveFilter {
    pub fn parse(params: &LiveParams) -> AppResult<Self> {
        let lang = params.lang.as_deref().map(str::to_ascii_lowercase);
        if lang.as_deref().is_some_and(|l| {
            l.len() > 8 || !l.bytes().all(|b| b.is_ascii_alphabetic() || b == b'-')
        }) {
            return Err(AppError::BadRequest(
                "lang must be a language code such as en or pt-BR.".into(),
            ));
        }
        let limit: Option<usize> = parse_param("limit", params.limit.as_deref())?;
        Ok(Self {
            topic: topic_param(params.topic.as_deref())?,
            min_participants: parse_param("min_participants", params.min_participants.as_deref())?,
            verified: parse_flag("verified", params.verified.as_deref())?,
            lang,
            limit: limit.map(|l| l.clamp(1, 100)),
        })
    }

    /// The query string that reproduces these filters (for the polling URL).
    pub fn query(&self) -> String {
        let mut pairs = url::form_urlencoded::Serializer::new(String::new());
        if let Some(t) = self.topic {
            pairs.append_pair("topic", t.slug());
        }
        if let Some(m) = self.min_participants {
            pairs.append_pair("min_participants", &m.to_string());
        }
        if self.verified {
            pairs.append_pair("verified", "true");
        }
        if let Some(l) = &self.lang {
            pairs.append_pair("lang", l);
        }
        if let Some(l) = self.limit {
            pairs.append_pair("limit", &l.to_string());
        }
        pairs.finish()
    }

    pub fn apply<'a>(&self, spaces: &'a [Space]) -> Vec<&'a Space> {
        live_sorted(spaces)
            .into_iter()
            .filter(|s| {
                self.min_participants
                    .is_none_or(|m| s.participant_count.unwrap_or(0) >= m)
            })
            .filter(|s| !self.verified || s.creator_verified())
            .filter(|s| {
                self.lang.as_deref().is_none_or(|l| {
                    s.lang
                        .as_deref()
                        .is_some_and(|sl| sl.eq_ignore_ascii_case(l))
                })
            })
            .take(self.limit.unwrap_or(usize::MAX))
            .collect()
    }
}

/// A refreshing list of live Spaces: one poll refreshes every card in it.
pub struct LiveList {
    pub spaces: Vec<SpaceView>,
    pub summary: Option<String>,
    pub poll_url: String,
    pub every_secs: u64,
}

impl LiveList {
    pub fn build(state: &AppState, filter: &LiveFilter, spaces: &[Space], summary: bool) -> Self {
        let now = state.now();
        let shown: Vec<SpaceView> = filter
            .apply(spaces)
            .into_iter()
            .map(|s| SpaceView::new(s, now))
            .collect();
        let query = filter.query();
        Self {
            summary: summary.then(|| {
                let n = shown.len() as u64;
                format!(
                    "{} live {}, most listeners first.",
                    count(n),
                    if n == 1 { "Space" } else { "Spaces" }
                )
            }),
            spaces: shown,
            poll_url: if query.is_empty() {
                "/live/list".to_owned()
            } else {
                format!("/live/list?{query}")
            },
            every_secs: state.live_every_secs(),
        }
    }

    pub async fn load(
        state: &AppState,
        filter: &LiveFilter,
        summary: bool,
    ) -> AppResult<(Self, CacheStatus)> {
        let list = state.catalog.live(filter.topic).await?;
        let spaces = state
            .catalog
            .fresher(&list.value.spaces, list.fetched_at)
            .await;
        Ok((Self::build(state, filter, &spaces, summary), list.status))
    }
}

/// The languages of `spaces`, as (code, name) for a filter's options, by name.
pub fn languages(spaces: &[Space]) -> Vec<(String, String)> {
    let mut codes: Vec<String> = spaces
        .iter()
        .filter_map(|s| s.lang.as_deref().and_then(lang_tag))
        .collect();
    codes.sort();
    codes.dedup();
    let mut named: Vec<(String, String)> = codes
        .into_iter()
        .map(|c| {
            let name = language_name(&c);
            (c, name)
        })
        .collect();
    named.sort_by(|a, b| a.1.cmp(&b.1));
    named
}

/// A day's heading and its Spaces.
pub struct DayGroup {
    pub heading: String,
    pub spaces: Vec<SpaceView>,
}

/// A `from`/`to` parameter: a date or an RFC 3339 time; the message goes beside
/// its field.
pub fn time_param(name: &str, value: Option<&str>) -> Result<Option<DateTime<Utc>>, String> {
    value
        .map(|v| {
            parse_time(v).ok_or_else(|| {
                format!(
                    "{name} must be a date like 2026-11-22 or a time like 2026-11-22T18:00:00Z."
                )
            })
        })
        .transpose()
}

/// Groups Spaces, already sorted by start, under a heading per day.
pub fn group_by_day(spaces: &[&Space], now: DateTime<Utc>) -> Vec<DayGroup> {
    let mut days: Vec<DayGroup> = Vec::new();
    for space in spaces {
        let heading = match space.scheduled_start {
            Some(t) if t.date_naive() == now.date_naive() => "Today".to_owned(),
            Some(t) if Some(t.date_naive()) == now.date_naive().succ_opt() => "Tomorrow".to_owned(),
            Some(t) => t.format("%A %-d %B").to_string(),
            None => "Unscheduled".to_owned(),
        };
        match days.last_mut() {
            Some(day) if day.heading == heading => day.spaces.push(SpaceView::new(space, now)),
            _ => days.push(DayGroup {
                heading,
                spaces: vec![SpaceView::new(space, now)],
            }),
        }
    }
    days
}
