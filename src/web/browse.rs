//! `/live`, `/upcoming` and `/topics/{slug}`: lists of Spaces, filtered locally.
//!
//! The upstream is asked only for broad lists (all live, all scheduled, per topic);
//! visitors' filters are applied here, so varying them costs no upstream calls.

use askama::Template;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use serde::Deserialize;

use crate::cache::CacheStatus;
use crate::catalog::page_status;
use crate::model::{Space, TopicSlug};
use crate::upstream::wire::parse_time;
use crate::web::error::{AppError, AppResult};
use crate::web::extract::{SitePath, SiteQuery, blank_as_none, parse_flag, parse_param};
use crate::web::layout::{Nav, PageMeta};
use crate::web::links;
use crate::web::respond::{Fragment, Page, render_fragment};
use crate::web::state::AppState;
use crate::web::views::{SpaceView, count};

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
        .filter(|s| s.state == crate::model::SpaceState::Scheduled)
        .filter(|s| {
            s.scheduled_start
                .is_some_and(|t| t >= earliest && to.is_none_or(|to| t < to))
        })
        .collect();
    out.sort_by_key(|s| (s.scheduled_start, s.id.clone()));
    out
}

fn topic_param(value: Option<&str>) -> AppResult<Option<TopicSlug>> {
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
        Ok((
            Self::build(state, filter, &list.value.spaces, summary),
            list.status,
        ))
    }
}

#[derive(Template)]
#[template(path = "partials/live_list.html")]
pub struct LiveListPartial {
    list: LiveList,
}

/// `/live/list`: the live list alone, for htmx polling (ETag, 304).
pub async fn live_list(
    State(state): State<AppState>,
    SiteQuery(params): SiteQuery<LiveParams>,
) -> AppResult<Response> {
    let filter = LiveFilter::parse(&params)?;
    // The home page's list (a limit) has no summary line; /live's has one.
    let (list, status) = LiveList::load(&state, &filter, filter.limit.is_none()).await?;
    let html = render_fragment(&LiveListPartial { list })?;
    Ok(Fragment {
        html,
        finished: false,
        cache: status,
    }
    .into_response())
}

#[derive(Template)]
#[template(path = "live.html")]
pub struct LivePage {
    meta: PageMeta,
    list: LiveList,
    topics: Vec<TopicLink>,
    topic: Option<&'static str>,
    min_participants: String,
    verified: bool,
    langs: Vec<String>,
    lang: Option<String>,
}

pub async fn live(
    State(state): State<AppState>,
    SiteQuery(params): SiteQuery<LiveParams>,
) -> AppResult<Page<LivePage>> {
    let mut filter = LiveFilter::parse(&params)?;
    filter.limit = None;
    let found = state.catalog.live(filter.topic).await?;
    let mut langs: Vec<String> = found
        .value
        .spaces
        .iter()
        .filter_map(|s| s.lang.clone())
        .collect();
    langs.sort();
    langs.dedup();
    Ok(Page {
        template: LivePage {
            meta: PageMeta::new("Live Spaces · earshot")
                .nav(Nav::Live)
                .pieced(!state.catalog.has_live_directory())
                .canonical(state.site.absolute(links::LIVE))
                .description("X Spaces live right now, by number of listeners.")
                .cache(found.status),
            list: LiveList::build(&state, &filter, &found.value.spaces, true),
            topics: TopicSlug::ALL.iter().map(|t| TopicLink::new(*t)).collect(),
            topic: filter.topic.map(TopicSlug::slug),
            min_participants: filter
                .min_participants
                .map(|m| m.to_string())
                .unwrap_or_default(),
            verified: filter.verified,
            langs,
            lang: filter.lang,
        },
        cache: found.status,
    })
}

#[derive(Debug, Default, Deserialize)]
pub struct UpcomingParams {
    #[serde(default, deserialize_with = "blank_as_none")]
    from: Option<String>,
    #[serde(default, deserialize_with = "blank_as_none")]
    to: Option<String>,
    #[serde(default, deserialize_with = "blank_as_none")]
    topic: Option<String>,
}

/// A day's heading and its Spaces.
pub struct DayGroup {
    pub heading: String,
    pub spaces: Vec<SpaceView>,
}

#[derive(Template)]
#[template(path = "upcoming.html")]
pub struct UpcomingPage {
    meta: PageMeta,
    days: Vec<DayGroup>,
    total: usize,
    topics: Vec<TopicLink>,
    topic: Option<&'static str>,
    from: String,
    to: String,
}

fn time_param(name: &str, value: Option<&str>) -> AppResult<Option<DateTime<Utc>>> {
    value
        .map(|v| {
            parse_time(v).ok_or_else(|| {
                AppError::BadRequest(format!(
                    "{name} must be a date like 2026-11-22 or a time like 2026-11-22T18:00:00Z."
                ))
            })
        })
        .transpose()
}

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

pub async fn upcoming(
    State(state): State<AppState>,
    SiteQuery(params): SiteQuery<UpcomingParams>,
) -> AppResult<Page<UpcomingPage>> {
    let topic = topic_param(params.topic.as_deref())?;
    let from = time_param("from", params.from.as_deref())?;
    let to = time_param("to", params.to.as_deref())?;
    if let (Some(f), Some(t)) = (from, to)
        && t <= f
    {
        return Err(AppError::BadRequest("to must be after from.".into()));
    }
    let list = state.catalog.scheduled(topic).await?;
    let now = state.now();
    let spaces = upcoming_sorted(&list.value.spaces, now, from, to);
    Ok(Page {
        template: UpcomingPage {
            meta: PageMeta::new("Upcoming Spaces · earshot")
                .nav(Nav::Upcoming)
                .pieced(!state.catalog.has_live_directory())
                .canonical(state.site.absolute(links::UPCOMING))
                .description("Scheduled X Spaces, soonest first.")
                .cache(list.status),
            total: spaces.len(),
            days: group_by_day(&spaces, now),
            topics: TopicSlug::ALL.iter().map(|t| TopicLink::new(*t)).collect(),
            topic: topic.map(TopicSlug::slug),
            from: params.from.unwrap_or_default(),
            to: params.to.unwrap_or_default(),
        },
        cache: list.status,
    })
}

#[derive(Template)]
#[template(path = "topic.html")]
pub struct TopicPage {
    meta: PageMeta,
    name: &'static str,
    live: Vec<SpaceView>,
    soon: Vec<SpaceView>,
    slug: &'static str,
    topics: Vec<TopicLink>,
}

pub async fn topic(
    State(state): State<AppState>,
    SitePath(slug): SitePath<String>,
) -> AppResult<Page<TopicPage>> {
    let topic = TopicSlug::ALL
        .into_iter()
        .find(|t| t.slug() == slug)
        .ok_or(AppError::NotFound("topic"))?;
    let (live, scheduled) = tokio::join!(
        state.catalog.live(Some(topic)),
        state.catalog.scheduled(Some(topic))
    );
    let (live, scheduled) = (live?, scheduled?);
    let now = state.now();
    let status = page_status([live.status, scheduled.status]);
    Ok(Page {
        template: TopicPage {
            meta: PageMeta::new(format!("{} Spaces · earshot", topic.name()))
                .pieced(!state.catalog.has_live_directory())
                .canonical(state.site.absolute(&links::topic(topic)))
                .description(format!(
                    "Live and upcoming X Spaces about {}.",
                    topic.name()
                ))
                .cache(status),
            name: topic.name(),
            slug: topic.slug(),
            live: live_sorted(&live.value.spaces)
                .into_iter()
                .filter(|s| s.topics.is_empty() || s.has_topic(topic))
                .map(|s| SpaceView::new(s, now))
                .collect(),
            soon: upcoming_sorted(&scheduled.value.spaces, now, None, None)
                .into_iter()
                .filter(|s| s.topics.is_empty() || s.has_topic(topic))
                .map(|s| SpaceView::new(s, now))
                .collect(),
            topics: TopicSlug::ALL.iter().map(|t| TopicLink::new(*t)).collect(),
        },
        cache: status,
    })
}
