//! `/live`, `/upcoming` and `/topics/{slug}`: the list pages. What they list, and how
//! it is sorted and filtered, is in `lists`.

use askama::Template;
use axum::extract::State;
use axum::http::{StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use crate::catalog::page_status;
use crate::model::TopicSlug;
use crate::web::cache_policy::{CachePolicy, with_policy};
use crate::web::error::{AppError, AppResult};
use crate::web::extract::{SitePath, SiteQuery, blank_as_none};
use crate::web::layout::{Nav, PageMeta};
use crate::web::links;
use crate::web::lists::{
    DayGroup, LiveFilter, LiveList, LiveParams, TopicLink, group_by_day, languages, live_sorted,
    time_param, topic_param, upcoming_sorted,
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
    /// The languages live now: (code, name).
    langs: Vec<(String, String)>,
    lang: Option<String>,
    /// Any filter set: offer to clear them.
    filtered: bool,
}

pub async fn live(
    State(state): State<AppState>,
    SiteQuery(params): SiteQuery<LiveParams>,
) -> AppResult<Page<LivePage>> {
    let mut filter = LiveFilter::parse(&params)?;
    filter.limit = None;
    let found = state.catalog.live(filter.topic).await?;
    let spaces = state
        .catalog
        .fresher(&found.value.spaces, found.fetched_at)
        .await;
    let langs = languages(&spaces);
    let filtered = filter != LiveFilter::default();
    Ok(Page {
        template: LivePage {
            meta: PageMeta::new("Live Spaces · earshot")
                .nav(Nav::Live)
                .pieced(!state.catalog.has_live_directory())
                .canonical(state.site.absolute(links::LIVE))
                .description("X Spaces live right now, by number of listeners.")
                .cache(found.status),
            list: LiveList::build(&state, &filter, &spaces, true),
            filtered,
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
    /// What is wrong with `from` or `to`, shown beside the field.
    from_error: Option<String>,
    to_error: Option<String>,
    filtered: bool,
}

pub async fn upcoming(
    State(state): State<AppState>,
    SiteQuery(params): SiteQuery<UpcomingParams>,
) -> AppResult<Response> {
    let topic = topic_param(params.topic.as_deref())?;
    // A mistake in the dates keeps the form, with what was typed and the message
    // beside its field, and asks nobody for anything.
    let from = time_param("From", params.from.as_deref());
    let mut to = time_param("Until", params.to.as_deref());
    if let (Ok(Some(f)), Ok(Some(t))) = (&from, &to)
        && t <= f
    {
        to = Err("Until must be after From.".to_owned());
    }
    let filtered = topic.is_some() || params.from.is_some() || params.to.is_some();
    let (from, to) = match (from, to) {
        (Ok(from), Ok(to)) => (from, to),
        (from, to) => {
            let page = UpcomingPage {
                meta: PageMeta::new("Upcoming Spaces · earshot").nav(Nav::Upcoming),
                days: Vec::new(),
                total: 0,
                topics: TopicLink::all(),
                topic: topic.map(TopicSlug::slug),
                from: params.from.unwrap_or_default(),
                to: params.to.unwrap_or_default(),
                from_error: from.err(),
                to_error: to.err(),
                filtered,
            };
            let page = Page {
                template: page,
                cache: crate::cache::CacheStatus::Hit,
            };
            return Ok((StatusCode::BAD_REQUEST, page).into_response());
        }
    };
    let list = state.catalog.scheduled(topic).await?;
    let now = state.now();
    let fresh = state
        .catalog
        .fresher(&list.value.spaces, list.fetched_at)
        .await;
    let spaces = upcoming_sorted(&fresh, now, from, to);
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
            from_error: None,
            to_error: None,
            filtered,
        },
        cache: list.status,
    }
    .into_response())
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
    uri: Uri,
) -> AppResult<Response> {
    let Some(topic) = TopicSlug::ALL.into_iter().find(|t| t.slug() == slug) else {
        // `/topics/Technology`: the same topic under its one address.
        let topic = TopicSlug::ALL
            .into_iter()
            .find(|t| t.slug().eq_ignore_ascii_case(&slug))
            .ok_or(AppError::NotFound("topic"))?;
        let mut to = links::topic(topic);
        if let Some(query) = uri.query() {
            to.push('?');
            to.push_str(query);
        }
        let moved = (StatusCode::MOVED_PERMANENTLY, [(header::LOCATION, to)]);
        return Ok(with_policy(CachePolicy::Public(86_400), moved).into_response());
    };
    let (live, scheduled) = tokio::join!(
        state.catalog.live(Some(topic)),
        state.catalog.scheduled(Some(topic))
    );
    let (live, scheduled) = (live?, scheduled?);
    let (live_spaces, scheduled_spaces) = tokio::join!(
        state.catalog.fresher(&live.value.spaces, live.fetched_at),
        state
            .catalog
            .fresher(&scheduled.value.spaces, scheduled.fetched_at)
    );
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
            live: live_sorted(&live_spaces)
                .into_iter()
                .filter(|s| s.topics.is_empty() || s.has_topic(topic))
                .map(|s| SpaceView::new(s, now))
                .collect(),
            soon: upcoming_sorted(&scheduled_spaces, now, None, None)
                .into_iter()
                .filter(|s| s.topics.is_empty() || s.has_topic(topic))
                .map(|s| SpaceView::new(s, now))
                .collect(),
            topics: TopicLink::all(),
        },
        cache: status,
    }
    .into_response())
}
