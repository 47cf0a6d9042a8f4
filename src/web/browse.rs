//! `/live`, `/upcoming` and `/topics/{slug}`: the list pages. What they list, and how
//! it is sorted and filtered, is in `lists`.

use std::sync::Arc;

use askama::Template;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use serde::Deserialize;

use crate::catalog::{Fetched, page_status};
use crate::model::{Space, SpaceList, TopicSlug};
use crate::web::error::{AppError, AppResult};
use crate::web::extract::{SitePath, SiteQuery, blank_as_none};
use crate::web::feeds::FeedLinks;
use crate::web::layout::{Nav, PageMeta};
use crate::web::links;
use crate::web::lists::{
    DayGroup, LiveFilter, LiveList, LiveParams, TopicLink, group_by_day, live_sorted, time_param,
    topic_param, upcoming_sorted,
};
use crate::web::respond::{Fragment, Page, render_fragment};
use crate::web::state::AppState;
use crate::web::views::SpaceView;

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

/// `/live`'s filters and the live list they apply to: for the page and its feeds.
pub async fn live_selection(
    state: &AppState,
    params: &LiveParams,
) -> AppResult<(LiveFilter, Fetched<Arc<SpaceList>>)> {
    let mut filter = LiveFilter::parse(params)?;
    // The page lists every match: `limit` is the home page's partial's.
    filter.limit = None;
    let found = state.catalog.live(filter.topic).await?;
    Ok((filter, found))
}

pub async fn live(
    State(state): State<AppState>,
    SiteQuery(params): SiteQuery<LiveParams>,
) -> AppResult<Page<LivePage>> {
    let (filter, found) = live_selection(&state, &params).await?;
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
                .feeds(FeedLinks::new(
                    &state.site,
                    "Live Spaces",
                    links::LIVE,
                    &filter.query(),
                ))
                .cache(found.status),
            list: LiveList::build(&state, &filter, &found.value.spaces, true),
            topics: TopicLink::all(),
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

/// `/upcoming`'s filters, validated.
pub struct UpcomingFilter {
    pub topic: Option<TopicSlug>,
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
    /// The query as it reproduces these filters (dates as the visitor wrote them).
    pub query: String,
}

impl UpcomingFilter {
    pub fn parse(params: &UpcomingParams) -> AppResult<Self> {
        let topic = topic_param(params.topic.as_deref())?;
        let from = time_param("from", params.from.as_deref())?;
        let to = time_param("to", params.to.as_deref())?;
        if let (Some(f), Some(t)) = (from, to)
            && t <= f
        {
            return Err(AppError::BadRequest("to must be after from.".into()));
        }
        let mut query = url::form_urlencoded::Serializer::new(String::new());
        if let Some(t) = topic {
            query.append_pair("topic", t.slug());
        }
        for (name, value) in [("from", &params.from), ("to", &params.to)] {
            if let Some(v) = value {
                query.append_pair(name, v);
            }
        }
        Ok(Self {
            topic,
            from,
            to,
            query: query.finish(),
        })
    }

    /// The scheduled Spaces these filters let through, soonest first.
    pub fn apply<'a>(&self, spaces: &'a [Space], now: DateTime<Utc>) -> Vec<&'a Space> {
        upcoming_sorted(spaces, now, self.from, self.to)
    }
}

/// `/upcoming`'s filters and the scheduled list they apply to: for the page and its
/// feeds.
pub async fn upcoming_selection(
    state: &AppState,
    params: &UpcomingParams,
) -> AppResult<(UpcomingFilter, Fetched<Arc<SpaceList>>)> {
    let filter = UpcomingFilter::parse(params)?;
    let list = state.catalog.scheduled(filter.topic).await?;
    Ok((filter, list))
}

pub async fn upcoming(
    State(state): State<AppState>,
    SiteQuery(params): SiteQuery<UpcomingParams>,
) -> AppResult<Page<UpcomingPage>> {
    let (filter, list) = upcoming_selection(&state, &params).await?;
    let topic = filter.topic;
    let now = state.now();
    let spaces = filter.apply(&list.value.spaces, now);
    Ok(Page {
        template: UpcomingPage {
            meta: PageMeta::new("Upcoming Spaces · earshot")
                .nav(Nav::Upcoming)
                .pieced(!state.catalog.has_live_directory())
                .canonical(state.site.absolute(links::UPCOMING))
                .description("Scheduled X Spaces, soonest first.")
                .feeds(FeedLinks::new(
                    &state.site,
                    "Upcoming Spaces",
                    links::UPCOMING,
                    &filter.query,
                ))
                .cache(list.status),
            total: spaces.len(),
            days: group_by_day(&spaces, now),
            topics: TopicLink::all(),
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

/// A topic's live and scheduled lists: for its page and its feeds.
pub struct TopicLists {
    pub topic: TopicSlug,
    live: Arc<SpaceList>,
    scheduled: Arc<SpaceList>,
    pub status: crate::cache::CacheStatus,
}

impl TopicLists {
    /// The topic named in the path (a 404 for one we don't know), and its lists.
    pub async fn load(state: &AppState, slug: &str) -> AppResult<Self> {
        let topic = TopicSlug::ALL
            .into_iter()
            .find(|t| t.slug() == slug)
            .ok_or(AppError::NotFound("topic"))?;
        let (live, scheduled) = tokio::join!(
            state.catalog.live(Some(topic)),
            state.catalog.scheduled(Some(topic))
        );
        let (live, scheduled) = (live?, scheduled?);
        Ok(Self {
            topic,
            status: page_status([live.status, scheduled.status]),
            live: live.value,
            scheduled: scheduled.value,
        })
    }

    /// Live now, most listeners first.
    pub fn live(&self) -> Vec<&Space> {
        let topic = self.topic;
        live_sorted(&self.live.spaces)
            .into_iter()
            .filter(|s| s.topics.is_empty() || s.has_topic(topic))
            .collect()
    }

    /// Scheduled, soonest first.
    pub fn soon(&self, now: DateTime<Utc>) -> Vec<&Space> {
        let topic = self.topic;
        upcoming_sorted(&self.scheduled.spaces, now, None, None)
            .into_iter()
            .filter(|s| s.topics.is_empty() || s.has_topic(topic))
            .collect()
    }
}

pub async fn topic(
    State(state): State<AppState>,
    SitePath(slug): SitePath<String>,
) -> AppResult<Page<TopicPage>> {
    let lists = TopicLists::load(&state, &slug).await?;
    let topic = lists.topic;
    let now = state.now();
    let status = lists.status;
    Ok(Page {
        template: TopicPage {
            meta: PageMeta::new(format!("{} Spaces · earshot", topic.name()))
                .pieced(!state.catalog.has_live_directory())
                .canonical(state.site.absolute(&links::topic(topic)))
                .description(format!(
                    "Live and upcoming X Spaces about {}.",
                    topic.name()
                ))
                .feeds(FeedLinks::new(
                    &state.site,
                    format!("{} Spaces", topic.name()),
                    &links::topic(topic),
                    "",
                ))
                .cache(status),
            name: topic.name(),
            slug: topic.slug(),
            live: lists
                .live()
                .into_iter()
                .map(|s| SpaceView::new(s, now))
                .collect(),
            soon: lists
                .soon(now)
                .into_iter()
                .map(|s| SpaceView::new(s, now))
                .collect(),
            topics: TopicLink::all(),
        },
        cache: status,
    })
}
