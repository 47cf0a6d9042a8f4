//! `/live`, `/upcoming` and `/topics/{slug}`: the list pages. What they list, and how
//! it is sorted and filtered, is in `lists`.

use std::sync::Arc;

use askama::Template;
use axum::extract::State;
use axum::http::{StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use serde::Deserialize;

use crate::catalog::{Fetched, page_status};
use crate::model::{Space, SpaceList, TopicSlug};
use crate::web::cache_policy::{CachePolicy, with_policy};
use crate::web::calendar::Subscribe;
use crate::web::error::AppResult;
use crate::web::extract::{SitePath, SiteQuery, blank_as_none};
use crate::web::feeds::FeedLinks;
use crate::web::layout::{Nav, PageMeta};
use crate::web::links;
use crate::web::lists::{
    DayGroup, LiveFilter, LiveList, LiveParams, TopicLink, group_by_day, languages, live_sorted,
    on_topic, time_param, topic_in_path, topic_param, upcoming_sorted,
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

/// `/live`'s filters and the live list they apply to, each Space as fresh as
/// earshot holds it: for the page and its feeds.
pub async fn live_selection(
    state: &AppState,
    params: &LiveParams,
) -> AppResult<(LiveFilter, Fetched<Arc<SpaceList>>)> {
    let mut filter = LiveFilter::parse(params)?;
    // The page lists every match: `limit` is the home page's partial's.
    filter.limit = None;
    let found = state.catalog.live(filter.topic).await?;
    Ok((filter, state.catalog.fresher_list(found).await))
}

pub async fn live(
    State(state): State<AppState>,
    SiteQuery(params): SiteQuery<LiveParams>,
) -> AppResult<Page<LivePage>> {
    let (filter, found) = live_selection(&state, &params).await?;
    let spaces = &found.value.spaces;
    let langs = languages(spaces);
    let filtered = filter != LiveFilter::default();
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
            list: LiveList::build(&state, &filter, spaces, true),
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
    subscribe: Subscribe,
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
    /// The filters, or what is wrong with the dates: (from's message, to's message),
    /// for the form to show beside its fields. A bad topic is a plain 400.
    pub fn parse(params: &UpcomingParams) -> AppResult<Result<Self, DateMistakes>> {
        let topic = topic_param(params.topic.as_deref())?;
        let from = time_param("From", params.from.as_deref());
        let mut to = time_param("Until", params.to.as_deref());
        if let (Ok(Some(f)), Ok(Some(t))) = (&from, &to)
            && t <= f
        {
            to = Err("Until must be after From.".to_owned());
        }
        let (from, to) = match (from, to) {
            (Ok(from), Ok(to)) => (from, to),
            (from, to) => {
                return Ok(Err(DateMistakes {
                    topic,
                    from: from.err(),
                    to: to.err(),
                }));
            }
        };
        let mut query = url::form_urlencoded::Serializer::new(String::new());
        if let Some(t) = topic {
            query.append_pair("topic", t.slug());
        }
        for (name, value) in [("from", &params.from), ("to", &params.to)] {
            if let Some(v) = value {
                query.append_pair(name, v);
            }
        }
        Ok(Ok(Self {
            topic,
            from,
            to,
            query: query.finish(),
        }))
    }

    /// The scheduled Spaces these filters let through, soonest first.
    pub fn apply<'a>(&self, spaces: &'a [Space], now: DateTime<Utc>) -> Vec<&'a Space> {
        upcoming_sorted(spaces, now, self.from, self.to)
    }
}

/// What is wrong with `/upcoming`'s dates, each beside its field.
pub struct DateMistakes {
    topic: Option<TopicSlug>,
    from: Option<String>,
    to: Option<String>,
}

impl DateMistakes {
    /// The messages together, for answers without a form (feeds, calendars).
    pub fn message(&self) -> String {
        [self.from.as_deref(), self.to.as_deref()]
            .into_iter()
            .flatten()
            .collect::<Vec<_>>()
            .join(" ")
    }
}

/// `/upcoming`'s filters and the scheduled list they apply to, each Space as fresh
/// as earshot holds it: for the page and its feeds. Mistaken dates ask nobody for
/// anything.
pub async fn upcoming_selection(
    state: &AppState,
    params: &UpcomingParams,
) -> AppResult<Result<(UpcomingFilter, Fetched<Arc<SpaceList>>), DateMistakes>> {
    let filter = match UpcomingFilter::parse(params)? {
        Ok(filter) => filter,
        Err(mistakes) => return Ok(Err(mistakes)),
    };
    let list = state.catalog.scheduled(filter.topic).await?;
    Ok(Ok((filter, state.catalog.fresher_list(list).await)))
}

pub async fn upcoming(
    State(state): State<AppState>,
    SiteQuery(params): SiteQuery<UpcomingParams>,
) -> AppResult<Response> {
    let filtered = params.topic.is_some() || params.from.is_some() || params.to.is_some();
    // A mistake in the dates keeps the form, with what was typed and the message
    // beside its field.
    let (filter, list) = match upcoming_selection(&state, &params).await? {
        Ok(selected) => selected,
        Err(mistakes) => {
            let page = UpcomingPage {
                meta: PageMeta::new("Upcoming Spaces · earshot").nav(Nav::Upcoming),
                days: Vec::new(),
                total: 0,
                topics: TopicLink::all(),
                topic: mistakes.topic.map(TopicSlug::slug),
                from: params.from.unwrap_or_default(),
                to: params.to.unwrap_or_default(),
                from_error: mistakes.from,
                to_error: mistakes.to,
                filtered,
                subscribe: Subscribe::new(&state.site, &links::upcoming_calendar(mistakes.topic)),
            };
            let page = Page {
                template: page,
                cache: crate::cache::CacheStatus::Hit,
            };
            return Ok((StatusCode::BAD_REQUEST, page).into_response());
        }
    };
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
            from_error: None,
            to_error: None,
            filtered,
            subscribe: Subscribe::new(&state.site, &links::upcoming_calendar(topic)),
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
    subscribe: Subscribe,
}

/// A topic's live and scheduled lists: for its page and its feeds.
pub struct TopicLists {
    pub topic: TopicSlug,
    live: Arc<SpaceList>,
    scheduled: Arc<SpaceList>,
    pub status: crate::cache::CacheStatus,
}

impl TopicLists {
    /// The topic named in the path, and its lists (each Space as fresh as earshot
    /// holds it); a 404 for a topic we don't know, and for one written in other case
    /// (its page redirects: [`topic_redirect`]).
    pub async fn load(state: &AppState, slug: &str) -> AppResult<Self> {
        let topic = topic_in_path(slug)?;
        let (live, scheduled) = tokio::join!(
            state.catalog.live(Some(topic)),
            state.catalog.scheduled(Some(topic))
        );
        let (live, scheduled) = (live?, scheduled?);
        let (live, scheduled) = tokio::join!(
            state.catalog.fresher_list(live),
            state.catalog.fresher_list(scheduled)
        );
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
            .filter(|s| on_topic(s, topic))
            .collect()
    }

    /// Scheduled, soonest first.
    pub fn soon(&self, now: DateTime<Utc>) -> Vec<&Space> {
        let topic = self.topic;
        upcoming_sorted(&self.scheduled.spaces, now, None, None)
            .into_iter()
            .filter(|s| on_topic(s, topic))
            .collect()
    }
}

/// `/topics/Technology`: the same topic under its one address, with the query kept.
/// `None` for a slug as written, or for no topic at all.
pub fn topic_redirect(slug: &str, uri: &Uri) -> Option<Response> {
    if TopicSlug::ALL.into_iter().any(|t| t.slug() == slug) {
        return None;
    }
    let topic = TopicSlug::ALL
        .into_iter()
        .find(|t| t.slug().eq_ignore_ascii_case(slug))?;
    let mut to = links::topic(topic);
    if let Some(query) = uri.query() {
        to.push('?');
        to.push_str(query);
    }
    let moved = (StatusCode::MOVED_PERMANENTLY, [(header::LOCATION, to)]);
    Some(with_policy(CachePolicy::Public(86_400), moved).into_response())
}

pub async fn topic(
    State(state): State<AppState>,
    SitePath(slug): SitePath<String>,
    uri: Uri,
) -> AppResult<Response> {
    if let Some(moved) = topic_redirect(&slug, &uri) {
        return Ok(moved);
    }
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
            subscribe: Subscribe::new(&state.site, &links::topic_calendar(topic)),
        },
        cache: status,
    }
    .into_response())
}
