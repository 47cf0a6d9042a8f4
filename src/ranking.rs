//! The arithmetic of listener history: listener-minutes (the area under a count
//! history), growth over a recent window, and the rankings built on them (`/trending`
//! and the home page's "Rising"; `/leaderboard`). Pure: samples in, numbers out.

use std::collections::HashMap;

use chrono::{DateTime, Utc};

use crate::model::SpaceId;
use crate::shared::samples::{Sample, SpaceAbout, SpaceTotal};

/// The window trending growth is measured over.
pub const TRENDING_WINDOW_MINUTES: i64 = 10;
/// Fewer samples than this in the window say too little about a direction.
pub const MIN_SAMPLES_TO_RANK: usize = 3;

/// The area under a count history, in listener-minutes: between two consecutive
/// samples, the mean of their counts times the minutes between them (trapezoids).
/// Samples oldest first; one sample or none is no area.
pub fn listener_minutes(samples: impl IntoIterator<Item = Sample>) -> f64 {
    let mut total = 0.0;
    let mut previous: Option<Sample> = None;
    for sample in samples {
        if let Some(before) = previous {
            let minutes = (sample.at - before.at).num_milliseconds().max(0) as f64 / 60_000.0;
            total += (before.participants as f64 + sample.participants as f64) / 2.0 * minutes;
        }
        previous = Some(sample);
    }
    total
}

/// How a live Space's audience moved over the trending window.
#[derive(Clone, Debug, PartialEq)]
pub struct Growth {
    /// Listeners at the window's first sample and its last.
    pub from: u64,
    pub to: u64,
    /// When those were.
    pub since: DateTime<Utc>,
    pub until: DateTime<Utc>,
}

impl Growth {
    /// The growth shown by `samples` (oldest first, all within the window), or `None`
    /// with fewer than [`MIN_SAMPLES_TO_RANK`].
    pub fn of(samples: &[Sample]) -> Option<Self> {
        if samples.len() < MIN_SAMPLES_TO_RANK {
            return None;
        }
        let (first, last) = (samples.first()?, samples.last()?);
        Some(Self {
            from: first.participants,
            to: last.participants,
            since: first.at,
            until: last.at,
        })
    }

    /// Listeners gained (negative: lost).
    pub fn absolute(&self) -> i64 {
        let to = i64::try_from(self.to).unwrap_or(i64::MAX);
        let from = i64::try_from(self.from).unwrap_or(i64::MAX);
        to.saturating_sub(from)
    }

    /// The gain as a percentage of the audience at the window's start; `None` from an
    /// empty room, where any gain is infinite.
    pub fn percent(&self) -> Option<f64> {
        (self.from > 0).then(|| self.absolute() as f64 / self.from as f64 * 100.0)
    }
}

/// The oldest moment a trending window ending at `now` covers.
pub fn trending_since(now: DateTime<Utc>) -> DateTime<Utc> {
    now - chrono::Duration::minutes(TRENDING_WINDOW_MINUTES)
}

/// Ranks `(item, growth)` pairs: most listeners gained first, then the larger
/// percentage (an empty room that filled counts as the largest), then the larger
/// audience now. Pairs without a growth (too few samples) are left out.
pub fn rank_growth<T>(items: impl IntoIterator<Item = (T, Option<Growth>)>) -> Vec<(T, Growth)> {
    let mut ranked: Vec<(T, Growth)> = items
        .into_iter()
        .filter_map(|(item, growth)| Some((item, growth?)))
        .collect();
    ranked.sort_by(|(_, a), (_, b)| {
        let pct = |g: &Growth| g.percent().unwrap_or(if g.to > 0 { f64::MAX } else { 0.0 });
        b.absolute()
            .cmp(&a.absolute())
            .then(pct(b).total_cmp(&pct(a)))
            .then(b.to.cmp(&a.to))
    });
    ranked
}

/// The span the leaderboard adds up: `24h` or `7d`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Period {
    #[default]
    Day,
    Week,
}

impl Period {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Day => "24h",
            Self::Week => "7d",
        }
    }

    /// In words, for headings: "the last 24 hours".
    pub fn words(self) -> &'static str {
        match self {
            Self::Day => "the last 24 hours",
            Self::Week => "the last 7 days",
        }
    }

    /// The oldest moment the period covers when it ends at `now`.
    pub fn since(self, now: DateTime<Utc>) -> DateTime<Utc> {
        now - match self {
            Self::Day => chrono::Duration::hours(24),
            Self::Week => chrono::Duration::days(7),
        }
    }
}

impl std::str::FromStr for Period {
    type Err = ();
    fn from_str(s: &str) -> Result<Self, ()> {
        match s {
            "24h" => Ok(Self::Day),
            "7d" => Ok(Self::Week),
            _ => Err(()),
        }
    }
}

/// A host on the leaderboard: who, their listener-minutes over the period and the
/// Spaces those came from (most first).
#[derive(Clone, Debug)]
pub struct HostStanding {
    pub host: crate::shared::samples::HostRef,
    pub listener_minutes: f64,
    pub spaces: Vec<HostedSpace>,
}

/// One Space of a host on the leaderboard.
#[derive(Clone, Debug)]
pub struct HostedSpace {
    pub id: SpaceId,
    pub title: String,
    pub listener_minutes: f64,
    pub peak: Option<Sample>,
}

/// Ranks hosts by the listener-minutes of the Spaces they hosted: each host of a Space
/// is credited with all of its listener-minutes (co-hosts share an audience, they do
/// not split it). Spaces whose hosts are unknown count for no one. Most first; ties
/// by name, so the order is stable.
pub fn rank_hosts(totals: &[SpaceTotal]) -> Vec<HostStanding> {
    let mut by_host: HashMap<String, HostStanding> = HashMap::new();
    for total in totals {
        let Some(about) = &total.about else { continue };
        let hosted = HostedSpace {
            id: total.id.clone(),
            title: about.title.clone(),
            listener_minutes: total.listener_minutes,
            peak: total.peak,
        };
        for host in unique_hosts(about) {
            let standing = by_host.entry(host.key()).or_insert_with(|| HostStanding {
                host: host.clone(),
                listener_minutes: 0.0,
                spaces: Vec::new(),
            });
            standing.listener_minutes += total.listener_minutes;
            standing.spaces.push(hosted.clone());
        }
    }
    let mut ranked: Vec<HostStanding> = by_host.into_values().collect();
    for standing in &mut ranked {
        standing
            .spaces
            .sort_by(|a, b| b.listener_minutes.total_cmp(&a.listener_minutes));
    }
    ranked.sort_by(|a, b| {
        b.listener_minutes
            .total_cmp(&a.listener_minutes)
            .then_with(|| a.host.name.cmp(&b.host.name))
            .then_with(|| a.host.key().cmp(&b.host.key()))
    });
    ranked
}

/// A Space's hosts, each once.
fn unique_hosts(about: &SpaceAbout) -> impl Iterator<Item = &crate::shared::samples::HostRef> {
    let mut seen = std::collections::HashSet::new();
    about.hosts.iter().filter(move |h| seen.insert(h.key()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::shared::samples::HostRef;

    fn t0() -> DateTime<Utc> {
        "2026-11-22T12:00:00Z".parse().unwrap()
    }

    fn at(secs: i64, participants: u64) -> Sample {
        Sample {
            at: t0() + chrono::Duration::seconds(secs),
            participants,
        }
    }

    #[test]
    fn listener_minutes_are_trapezoids_between_samples() {
        assert_eq!(listener_minutes([]), 0.0);
        assert_eq!(listener_minutes([at(0, 100)]), 0.0);
        // 100 listeners for a minute, then a rise from 100 to 200 over two minutes
        // (mean 150 × 2), then a fall to none over 30 s (mean 100 × 0.5).
        let samples = [at(0, 100), at(60, 100), at(180, 200), at(210, 0)];
        assert_eq!(listener_minutes(samples), 100.0 + 300.0 + 50.0);
        // Fifteen-second samples of a steady 40: 40 listeners × 1 minute.
        let steady: Vec<_> = (0..5).map(|i| at(15 * i, 40)).collect();
        assert_eq!(listener_minutes(steady), 40.0);
    }

    #[test]
    fn growth_needs_three_samples_and_counts_absolute_and_percent() {
        assert_eq!(Growth::of(&[at(0, 10), at(15, 20)]), None);
        let g = Growth::of(&[at(0, 50), at(15, 60), at(30, 75)]).unwrap();
        assert_eq!((g.absolute(), g.percent()), (25, Some(50.0)));
        let falling = Growth::of(&[at(0, 80), at(15, 60), at(30, 40)]).unwrap();
        assert_eq!((falling.absolute(), falling.percent()), (-40, Some(-50.0)));
        let from_empty = Growth::of(&[at(0, 0), at(15, 3), at(30, 9)]).unwrap();
        assert_eq!((from_empty.absolute(), from_empty.percent()), (9, None));
    }

    #[test]
    fn trending_ranks_by_gain_then_percent_and_leaves_out_thin_histories() {
        let growth = |counts: &[u64]| {
            let samples: Vec<_> = counts
                .iter()
                .enumerate()
                .map(|(i, &n)| at(15 * i as i64, n))
                .collect();
            Growth::of(&samples)
        };
        let ranked = rank_growth([
            ("steady", growth(&[100, 100, 100])),
            ("small-big-pct", growth(&[10, 20, 40])),
            ("big", growth(&[1000, 1100, 1300])),
            ("thin", growth(&[1, 5000])),
            ("falling", growth(&[500, 300, 200])),
            ("same-gain-less-pct", growth(&[60, 70, 90])),
        ]);
        let order: Vec<_> = ranked.iter().map(|(name, _)| *name).collect();
        assert_eq!(
            order,
            [
                "big",
                "small-big-pct",
                "same-gain-less-pct",
                "steady",
                "falling"
            ]
        );
    }

    fn host(id: &str, name: &str) -> HostRef {
        HostRef {
            id: Some(id.parse().unwrap()),
            username: Some(id.to_owned()),
            name: name.to_owned(),
        }
    }

    fn total(id: &str, hosts: Vec<HostRef>, minutes: f64) -> SpaceTotal {
        SpaceTotal {
            id: id.parse().unwrap(),
            about: Some(std::sync::Arc::new(SpaceAbout {
                title: format!("Space {id}"),
                hosts,
            })),
            listener_minutes: minutes,
            peak: Some(at(0, 7)),
        }
    }

    #[test]
    fn hosts_rank_by_the_listener_minutes_of_all_their_spaces() {
        let (ada, bo, cy) = (host("1", "Ada"), host("2", "Bo"), host("3", "Cy"));
        let totals = [
            total("1a", vec![ada.clone()], 300.0),
            total("1b", vec![bo.clone(), cy.clone(), bo.clone()], 500.0),
            total("1c", vec![ada.clone()], 250.0),
            SpaceTotal {
                about: None,
                ..total("1d", vec![], 9999.0)
            },
        ];
        let ranked = rank_hosts(&totals);
        let names: Vec<_> = ranked
            .iter()
            .map(|h| (h.host.name.as_str(), h.listener_minutes))
            .collect();
        assert_eq!(names, [("Ada", 550.0), ("Bo", 500.0), ("Cy", 500.0)]);
        let ada_spaces: Vec<_> = ranked[0].spaces.iter().map(|s| s.id.as_str()).collect();
        assert_eq!(ada_spaces, ["1a", "1c"], "most listener-minutes first");
        assert_eq!(ranked[1].spaces.len(), 1, "a host listed twice counts once");
    }
}
