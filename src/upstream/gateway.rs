//! The gateway API client (`X-API-KEY`), also used for the embedded demo upstream.

use std::sync::Arc;
use std::time::Duration;

use futures::future::BoxFuture;
use reqwest::header::HeaderName;
use url::Url;

use super::http;
use super::{
    LIST_LIMIT, PARTICIPANT_LIMIT, SpacesUpstream, UpstreamData, UpstreamError, UpstreamRequest,
    wire,
};
use crate::config::ApiKey;
use crate::shared::budget::{Family, RateBudget};

pub struct GatewayClient {
    http: reqwest::Client,
    base: Url,
    /// Each endpoint has its own budget.
    budget: Arc<dyn RateBudget>,
}

impl GatewayClient {
    pub fn new(
        base: Url,
        key: &ApiKey,
        timeout: Duration,
        budget: Arc<dyn RateBudget>,
    ) -> Result<Self, UpstreamError> {
        let http = http::client(HeaderName::from_static("x-api-key"), key.expose(), timeout)?;
        Ok(Self { http, base, budget })
    }

    /// The URL for a request: ids as encoded path segments, parameters as a query.
    pub fn url_for(&self, request: &UpstreamRequest) -> Url {
        let mut url = self.base.clone();
        let limit = LIST_LIMIT.to_string();
        {
            let Ok(mut path) = url.path_segments_mut() else {
                return url;
            };
            path.pop_if_empty();
            match request {
                UpstreamRequest::Space(id) => {
                    path.extend(["space", id.as_str()]);
                }
                UpstreamRequest::Search { .. } => {
                    path.extend(["spaces", "search"]);
                }
                UpstreamRequest::Live { .. } => {
                    path.extend(["spaces", "live"]);
                }
                UpstreamRequest::Scheduled { .. } => {
                    path.extend(["spaces", "scheduled"]);
                }
                UpstreamRequest::Participants(id) => {
                    path.extend(["space", id.as_str(), "participants"]);
                }
                UpstreamRequest::Recording(id) => {
                    path.extend(["space", id.as_str(), "recording"]);
                }
                UpstreamRequest::Tweets(id) => {
                    path.extend(["space", id.as_str(), "tweets"]);
                }
                UpstreamRequest::UserSpaces(id) => {
                    path.extend(["user", id.as_str(), "spaces"]);
                }
            }
        }
        let mut pairs: Vec<(&str, String)> = Vec::new();
        match request {
            UpstreamRequest::Search { q, state } => {
                // The search matches hosts' handles as written, without the "@".
                pairs.push(("q", q.strip_prefix('@').unwrap_or(q).to_owned()));
                pairs.push(("state", state.as_str().to_owned()));
                pairs.push(("limit", limit));
            }
            UpstreamRequest::Live { topic } | UpstreamRequest::Scheduled { topic } => {
                if let Some(topic) = topic {
                    pairs.push(("topic", topic.topic_id().to_owned()));
                }
                pairs.push(("limit", limit));
            }
            UpstreamRequest::Participants(_) => {
                pairs.push(("limit", PARTICIPANT_LIMIT.to_string()));
            }
            UpstreamRequest::Tweets(_) | UpstreamRequest::UserSpaces(_) => {
                pairs.push(("limit", limit));
            }
            UpstreamRequest::Space(_) | UpstreamRequest::Recording(_) => {}
        }
        if !pairs.is_empty() {
            url.query_pairs_mut().extend_pairs(pairs);
        }
        url
    }

    async fn call(&self, request: &UpstreamRequest) -> Result<UpstreamData, UpstreamError> {
        // Each endpoint has its own budget; a spent one is not called until its reset.
        let body = match http::get_budgeted(
            &self.http,
            &*self.budget,
            family(request),
            self.url_for(request),
        )
        .await
        {
            Err(UpstreamError::Status(404)) => return Ok(UpstreamData::NotFound),
            other => other?,
        };
        let data = match request {
            UpstreamRequest::Space(_) => UpstreamData::Space(Arc::new(wire::parse_space(&body)?)),
            UpstreamRequest::Search { .. }
            | UpstreamRequest::Live { .. }
            | UpstreamRequest::Scheduled { .. } => {
                UpstreamData::Spaces(Arc::new(wire::parse_space_list(&body)?))
            }
            UpstreamRequest::Participants(_) => {
                UpstreamData::Participants(Arc::new(wire::parse_participants(&body)?))
            }
            UpstreamRequest::Recording(_) => {
                UpstreamData::Recording(Arc::new(wire::parse_recording(&body)?))
            }
            UpstreamRequest::Tweets(_) => {
                UpstreamData::Tweets(Arc::new(wire::parse_tweets(&body)?))
            }
            UpstreamRequest::UserSpaces(_) => {
                UpstreamData::UserSpaces(Arc::new(wire::parse_user_spaces(&body)?))
            }
        };
        Ok(data)
    }
}

/// The budget a request draws on: its endpoint's, named as in metrics.
fn family(request: &UpstreamRequest) -> Family {
    match request {
        UpstreamRequest::Space(_) => Family::Space,
        UpstreamRequest::Search { .. } => Family::Search,
        UpstreamRequest::Live { .. } => Family::Live,
        UpstreamRequest::Scheduled { .. } => Family::Scheduled,
        UpstreamRequest::Participants(_) => Family::Participants,
        UpstreamRequest::Recording(_) => Family::Recording,
        UpstreamRequest::Tweets(_) => Family::Tweets,
        UpstreamRequest::UserSpaces(_) => Family::UserSpaces,
    }
}

impl SpacesUpstream for GatewayClient {
    fn fetch<'a>(
        &'a self,
        request: &'a UpstreamRequest,
    ) -> BoxFuture<'a, Result<UpstreamData, UpstreamError>> {
        Box::pin(self.call(request))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::Clock;
    use crate::model::{SpaceId, TopicSlug, UserId};
    use crate::shared::budget::InProcessBudget;
    use crate::upstream::ListState;

    fn client(base: &str) -> GatewayClient {
        GatewayClient::new(
            Url::parse(base).unwrap(),
            &ApiKey::new("k"),
            Duration::from_secs(1),
            Arc::new(InProcessBudget::new(Clock::system())),
        )
        .unwrap()
    }

    #[test]
    fn each_endpoint_is_its_own_family_named_as_in_metrics() {
        let id: SpaceId = "1abc".parse().unwrap();
        let user: UserId = "42".parse().unwrap();
        let requests = [
            UpstreamRequest::Space(id.clone()),
            UpstreamRequest::search("rust", ListState::Live).unwrap(),
            UpstreamRequest::Live { topic: None },
            UpstreamRequest::Scheduled { topic: None },
            UpstreamRequest::Participants(id.clone()),
            UpstreamRequest::Recording(id.clone()),
            UpstreamRequest::Tweets(id),
            UpstreamRequest::UserSpaces(user),
        ];
        for request in requests {
            assert_eq!(family(&request).as_str(), request.endpoint());
        }
    }

    #[test]
    fn urls_encode_segments_and_queries() {
        let c = client("http://gw.test/v1/");
        let id: SpaceId = "1abc".parse().unwrap();
        assert_eq!(
            c.url_for(&UpstreamRequest::Space(id.clone())).as_str(),
            "http://gw.test/v1/space/1abc"
        );
        assert_eq!(
            c.url_for(&UpstreamRequest::Participants(id)).as_str(),
            "http://gw.test/v1/space/1abc/participants?limit=1000"
        );
        let search = UpstreamRequest::search("ai & you/?#", ListState::Scheduled).unwrap();
        assert_eq!(
            c.url_for(&search).as_str(),
            "http://gw.test/v1/spaces/search?q=ai+%26+you%2F%3F%23&state=scheduled&limit=100"
        );
        let live = UpstreamRequest::Live {
            topic: Some(TopicSlug::Music),
        };
        assert_eq!(
            c.url_for(&live).as_str(),
            "http://gw.test/v1/spaces/live?topic=849075383444766721&limit=100"
        );
        let user: UserId = "42".parse().unwrap();
        assert_eq!(
            c.url_for(&UpstreamRequest::UserSpaces(user)).as_str(),
            "http://gw.test/v1/user/42/spaces?limit=100"
        );
    }
}
