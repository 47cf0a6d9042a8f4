//! `/live`, `/upcoming` and `/topics/{slug}`: the list pages. What they list, and how
//! it is sorted and filtered, is in `lists`.

use askama::Template;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use crate::catalog::page_status;
use crate::model::TopicSlug;
use crate::web::calendar::Subscribe;
use crate::web::error::{AppError, AppResult};
use crate::web::extract::{SitePath, SiteQuery, blank_as_none};
use crate::web::layout::{Nav, PageMeta};
use crate::web::links;
use crate::web::lists::{
    DayGroup, LiveFilter, LiveList, LiveParams, TopicLink, group_by_day, live_sorted, on_topic,
    time_param, topic_in_path, topic_param, upcoming_sorted,
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
    subscribe: Subscribe,
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
            topics: TopicLink::all(),
            topic: topic.map(TopicSlug::slug),
            from: params.from.unwrap_or_default(),
            to: params.to.unwrap_or_default(),
            subscribe: Subscribe::new(&state.site, &links::upcoming_calendar(topic)),
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
    subscribe: Subscribe,
}

pub async fn topic(
    State(state): State<AppState>,
    SitePath(slug): SitePath<String>,
) -> AppResult<Page<TopicPage>> {
    let topic = topic_in_path(&slug)?;
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
                .filter(|s| on_topic(s, topic))
                .map(|s| SpaceView::new(s, now))
                .collect(),
            soon: upcoming_sorted(&scheduled.value.spaces, now, None, None)
                .into_iter()
                .filter(|s| on_topic(s, topic))
                .map(|s| SpaceView::new(s, now))
                .collect(),
            topics: TopicLink::all(),
            subscribe: Subscribe::new(&state.site, &links::topic_calendar(topic)),
        },
        cache: status,
    })
}
