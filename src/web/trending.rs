//! `/trending` and the home page's "Rising": live Spaces ranked by how many listeners
//! they gained over the last ten minutes. Built from the live list the home page
//! loads anyway and the listener history: no upstream call of its own.

use askama::Template;
use axum::extract::State;

use crate::catalog::Catalog;
use crate::model::Space;
use crate::ranking::{Growth, TRENDING_WINDOW_MINUTES, rank_growth, trending_since};
use crate::web::encoding::AcceptEncoding;
use crate::web::error::AppResult;
use crate::web::layout::{Nav, PageMeta};
use crate::web::links;
use crate::web::page_cache::{PageKey, Render, RenderedPage};
use crate::web::state::AppState;
use crate::web::views::{PersonView, count};

/// How many the trending page ranks at most.
const ON_TRENDING: usize = 50;

/// One ranked Space, as the trending page and the home page show it.
pub struct RisingView {
    pub rank: usize,
    pub url: String,
    pub title: String,
    pub creator: Option<PersonView>,
    /// "1,523 listening".
    pub now_text: String,
    /// "+120", "−40" or "±0".
    pub gain: String,
    /// "+12 %", or "from none" when the room was empty.
    pub percent: String,
    pub rising: bool,
    /// "in 9 min 45 s": the span the growth was measured over.
    pub over: String,
}

impl RisingView {
    fn new(rank: usize, space: &Space, growth: &Growth) -> Self {
        let gain = growth.absolute();
        let gain_text = match gain {
            0 => "±0".to_owned(),
            g if g > 0 => format!("+{}", count(g.unsigned_abs())),
            g => format!("−{}", count(g.unsigned_abs())),
        };
        let percent = match growth.percent() {
            Some(p) if p >= 0.5 => format!("+{p:.0} %"),
            Some(p) if p <= -0.5 => format!("−{:.0} %", p.abs()),
            Some(_) => "±0 %".to_owned(),
            None => "from none".to_owned(),
        };
        let secs = (growth.until - growth.since).num_seconds().max(0);
        let over = match (secs / 60, secs % 60) {
            (0, s) => format!("{s} s"),
            (m, 0) => format!("{m} min"),
            (m, s) => format!("{m} min {s} s"),
        };
        Self {
            rank,
            url: links::space(&space.id),
            title: space.title().to_owned(),
            creator: space.creator.as_ref().map(PersonView::new),
            now_text: format!("{} listening", count(growth.to)),
            gain: gain_text,
            percent,
            rising: gain > 0,
            over,
        }
    }
}

/// The live Spaces of `spaces` ranked by growth over the trending window, and how
/// many live ones were left out for want of samples.
pub async fn rank_live(
    catalog: &Catalog,
    spaces: &[Space],
    now: chrono::DateTime<chrono::Utc>,
) -> (Vec<RisingView>, usize) {
    let since = trending_since(now);
    let live: Vec<&Space> = spaces.iter().filter(|s| s.is_live()).collect();
    let samples = futures::future::join_all(
        live.iter()
            .map(|s| catalog.samples().samples_since(&s.id, since)),
    )
    .await;
    let ranked = rank_growth(
        live.iter()
            .zip(&samples)
            .map(|(space, samples)| (*space, Growth::of(samples))),
    );
    let unranked = live.len() - ranked.len();
    let views = ranked
        .iter()
        .enumerate()
        .map(|(i, (space, growth))| RisingView::new(i + 1, space, growth))
        .collect();
    (views, unranked)
}

#[derive(Template)]
#[template(path = "trending.html")]
pub struct TrendingPage {
    meta: PageMeta,
    ranked: Vec<RisingView>,
    unranked: usize,
    window: i64,
    every_secs: u64,
}

pub async fn trending(
    State(state): State<AppState>,
    AcceptEncoding(encoding): AcceptEncoding,
) -> AppResult<RenderedPage> {
    state
        .page(PageKey::Trending, encoding, |render| {
            Box::pin(render_trending(&state, render))
        })
        .await
}

async fn render_trending(state: &AppState, render: Render<'_>) -> AppResult<RenderedPage> {
    let now = render.now();
    let live = state.catalog.live(None).await?;
    let (mut ranked, unranked) = rank_live(&state.catalog, &live.value.spaces, now).await;
    ranked.truncate(ON_TRENDING);
    let mut inputs = render.inputs();
    inputs.record(&live);
    let status = inputs.status();
    render.finish(inputs, || TrendingPage {
        meta: PageMeta::new("Trending Spaces · earshot")
            .nav(Nav::Trending)
            .pieced(!state.catalog.has_live_directory())
            .canonical(state.site.absolute(links::TRENDING))
            .description("Live X Spaces gaining listeners fastest over the last ten minutes.")
            .cache(status),
        ranked,
        unranked,
        window: TRENDING_WINDOW_MINUTES,
        every_secs: state.live_every_secs(),
    })
}
