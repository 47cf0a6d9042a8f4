//! `/leaderboard?period=24h|7d`: hosts ranked by listener-minutes, the area under
//! their Spaces' count history. Built from the listener history and its summaries of
//! each Space (title, hosts) and the live list the home page loads anyway: no
//! upstream call of its own.

use std::collections::HashSet;

use askama::Template;
use axum::extract::State;
use serde::Deserialize;

use crate::model::SpaceId;
use crate::ranking::{HostStanding, Period, rank_hosts};
use crate::web::encoding::AcceptEncoding;
use crate::web::error::{AppError, AppResult};
use crate::web::extract::{SiteQuery, blank_as_none};
use crate::web::layout::{Nav, PageMeta};
use crate::web::links;
use crate::web::page_cache::{PageKey, Render, RenderedPage};
use crate::web::state::AppState;
use crate::web::views::count;

/// Hosts shown at most, and Spaces per host.
const HOSTS: usize = 50;
const SPACES_PER_HOST: usize = 5;

/// What the leaderboard says on X v2, where ended Spaces leave no history.
pub const LIVE_ONLY_NOTE: &str = "The X API forgets a Space once it ends, and earshot forgets its history with it: this leaderboard covers only Spaces that are still live.";

#[derive(Debug, Default, Deserialize)]
pub struct LeaderboardParams {
    #[serde(default, deserialize_with = "blank_as_none")]
    period: Option<String>,
}

/// The period a query asks for, or a 400 that names the parameter.
pub fn parse_period(value: Option<&str>) -> Result<Period, AppError> {
    match value {
        None => Ok(Period::default()),
        Some(v) => v.parse().map_err(|()| {
            let shown: String = v.chars().take(40).collect();
            AppError::BadRequest(format!(
                "“{shown}” is not a valid value for period: use 24h or 7d."
            ))
        }),
    }
}

/// The page a query names from its text alone (`period=24h`, `period=7d` or none),
/// for the edge; anything else is left to the handler.
pub fn page_key(query: Option<&str>) -> Option<PageKey> {
    let period = match query {
        None | Some("") => Period::default(),
        Some(q) => q.strip_prefix("period=")?.parse().ok()?,
    };
    Some(PageKey::Leaderboard(period))
}

pub struct StandingView {
    pub rank: usize,
    pub name: String,
    pub username: Option<String>,
    pub url: Option<String>,
    pub minutes: String,
    pub spaces: Vec<HostedView>,
    pub more_spaces: usize,
}

pub struct HostedView {
    pub url: String,
    pub title: String,
    pub minutes: String,
    pub peak: Option<String>,
    pub live: bool,
}

fn minutes_text(minutes: f64) -> String {
    let whole = minutes.round().max(0.0) as u64;
    format!("{} listener-minutes", count(whole))
}

impl StandingView {
    fn new(rank: usize, standing: &HostStanding, live: &HashSet<&SpaceId>) -> Self {
        let host = &standing.host;
        Self {
            rank,
            name: host.name.clone(),
            username: host.username.clone(),
            url: host.id.as_ref().map(links::user),
            minutes: minutes_text(standing.listener_minutes),
            spaces: standing
                .spaces
                .iter()
                .take(SPACES_PER_HOST)
                .map(|s| HostedView {
                    url: links::space(&s.id),
                    title: s.title.clone(),
                    minutes: minutes_text(s.listener_minutes),
                    peak: s.peak.map(|p| {
                        format!(
                            "peak {} at {} UTC",
                            count(p.participants),
                            p.at.format("%b %-d, %H:%M")
                        )
                    }),
                    live: live.contains(&s.id),
                })
                .collect(),
            more_spaces: standing.spaces.len().saturating_sub(SPACES_PER_HOST),
        }
    }
}

pub struct PeriodLink {
    pub label: &'static str,
    pub url: String,
    pub current: bool,
}

#[derive(Template)]
#[template(path = "leaderboard.html")]
pub struct LeaderboardPage {
    meta: PageMeta,
    period_words: &'static str,
    periods: Vec<PeriodLink>,
    standings: Vec<StandingView>,
    live_only: Option<&'static str>,
}

pub async fn leaderboard(
    State(state): State<AppState>,
    SiteQuery(params): SiteQuery<LeaderboardParams>,
    AcceptEncoding(encoding): AcceptEncoding,
) -> AppResult<RenderedPage> {
    let period = parse_period(params.period.as_deref())?;
    state
        .page(PageKey::Leaderboard(period), encoding, |render| {
            Box::pin(render_leaderboard(&state, period, render))
        })
        .await
}

async fn render_leaderboard(
    state: &AppState,
    period: Period,
    render: Render<'_>,
) -> AppResult<RenderedPage> {
    let now = render.now();
    let (live, totals) = tokio::join!(
        state.catalog.live(None),
        state.catalog.samples().totals(period.since(now)),
    );
    let live = live?;
    let live_ids: HashSet<&SpaceId> = live
        .value
        .spaces
        .iter()
        .filter(|s| s.is_live())
        .map(|s| &s.id)
        .collect();
    // X v2 keeps no history past a Space's end, and its ended Spaces are not to be
    // ranked as if it did: what is still live only.
    let live_only = !state.catalog.has_live_directory();
    let totals: Vec<_> = if live_only {
        totals
            .into_iter()
            .filter(|t| live_ids.contains(&t.id))
            .collect()
    } else {
        totals
    };
    let standings: Vec<StandingView> = rank_hosts(&totals)
        .iter()
        .take(HOSTS)
        .enumerate()
        .map(|(i, s)| StandingView::new(i + 1, s, &live_ids))
        .collect();
    let mut inputs = render.inputs();
    inputs.record(&live);
    let status = inputs.status();
    let canonical = state.site.absolute(&links::leaderboard(period));
    render.finish(inputs, || LeaderboardPage {
        meta: PageMeta::new(format!("Host leaderboard, {} · earshot", period.as_str()))
            .nav(Nav::Leaderboard)
            .canonical(canonical)
            .description(
                "X Spaces hosts ranked by listener-minutes: how many listened, for how long.",
            )
            .cache(status),
        period_words: period.words(),
        periods: [Period::Day, Period::Week]
            .into_iter()
            .map(|p| PeriodLink {
                label: match p {
                    Period::Day => "24 hours",
                    Period::Week => "7 days",
                },
                url: links::leaderboard(p),
                current: p == period,
            })
            .collect(),
        standings,
        live_only: live_only.then_some(LIVE_ONLY_NOTE),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bad_period_names_the_parameter() {
        assert_eq!(parse_period(None).unwrap(), Period::Day);
        assert_eq!(parse_period(Some("7d")).unwrap(), Period::Week);
        match parse_period(Some("1y")) {
            Err(AppError::BadRequest(why)) => assert!(why.contains("period"), "{why}"),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn the_edge_knows_only_the_plain_queries() {
        assert_eq!(page_key(None), Some(PageKey::Leaderboard(Period::Day)));
        assert_eq!(
            page_key(Some("period=7d")),
            Some(PageKey::Leaderboard(Period::Week))
        );
        assert_eq!(page_key(Some("period=1y")), None);
        assert_eq!(page_key(Some("period=7d&x=1")), None);
        assert_eq!(page_key(Some("x=1")), None);
    }
}
