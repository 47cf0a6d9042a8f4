//! The edge of the site: admission, pages answered ahead of the router, and one log
//! line (see `request_log` for refusals) and one metrics update per request.
//!
//! Pages answered ahead of the router: a page rendered this second from data still
//! fresh is the whole answer to the next request for it, so that request skips
//! routing, extractors and the handler. On the busiest pages (a crowd on one Space)
//! almost every request is such a reuse, and these steps were a tenth of its time.
//! Only requests whose page is known from the route alone are answered so; anything
//! else, and every request whose page is not ready, goes through the router to its
//! handler, which answers it the same way (`App::page`).

use std::convert::Infallible;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Instant;

use axum::Router;
use axum::extract::Request;
use axum::http::{Method, header};
use axum::response::{IntoResponse, Response};
use futures::future::BoxFuture;

use crate::web::Route;
use crate::web::cache_policy::Conditional;
use crate::web::client::Clients;
use crate::web::encoding::Encoding;
use crate::web::protect::Guard;
use crate::web::request_log::{self, RequestLine, RequestLog};
use crate::web::respond::X_CACHE;
use crate::web::state::{App, AppState};

/// The site as one service: the edge, then the router. Written out rather than as
/// axum's `from_fn` middleware, which boxes and clones its way through every request,
/// and so the edge can answer reused pages without the router.
#[derive(Clone)]
pub struct Site {
    pub edge: Arc<Edge>,
    pub router: Router,
}

impl tower::Service<Request> for Site {
    type Response = Response;
    type Error = Infallible;
    type Future = BoxFuture<'static, Result<Response, Infallible>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: Request) -> Self::Future {
        let edge = self.edge.clone();
        let router = self.router.clone();
        Box::pin(async move { Ok(edge.answer(request, router).await) })
    }
}

/// What the edge needs, shared behind one `Arc`.
pub struct Edge {
    pub state: AppState,
    pub routes: Routes,
    pub clients: Clients,
    pub guard: Guard,
    pub log: RequestLog,
}

/// Which route of the table a request path is, so the edge knows its name for logs
/// and metrics, whether it may be framed, and its page for reuse. The edge runs
/// outside the router (so it also sees the answers given before routing: 413, 414,
/// 429, 503), where axum's `MatchedPath` is not yet known; carrying it out through a
/// layer on every route cost more than matching again.
pub struct Routes {
    matcher: matchit::Router<&'static Route>,
}

impl Routes {
    pub fn new(table: &'static [Route]) -> Self {
        let mut matcher = matchit::Router::new();
        for route in table {
            // The router itself rejects a bad or duplicate pattern at start-up.
            let _ = matcher.insert(route.pattern, route);
        }
        Self { matcher }
    }

    /// The route `path` matches, if any, and its `{id}` if it has one.
    pub fn at<'p>(&self, path: &'p str) -> Option<(&'static Route, Option<&'p str>)> {
        let found = self.matcher.at(path).ok()?;
        Some((*found.value, found.params.get("id")))
    }
}

impl Edge {
    /// Admits the request through the guard, answers it (a reused page at once, else
    /// through the router), gives the answer its caching and security headers, then
    /// logs and counts it, refusals included.
    async fn answer(&self, request: Request, router: Router) -> Response {
        // Read once for the limit, the upstream share and the log. With no trusted
        // proxies, that is the peer the connection recorded: no header is read.
        let client = self.clients.address(&request);
        // The clock and the method only for the log line, when it is written: with
        // it off they were a per cent of a cached page's time.
        let logged = tracing::enabled!(target: request_log::TARGET, tracing::Level::INFO)
            .then(|| (Instant::now(), request.method().clone()));
        let matched = self.routes.at(request.uri().path());
        let route = matched.map_or("unmatched", |(route, _)| route.pattern);
        let framable = matched.is_some_and(|(route, _)| route.framable);
        let state = &self.state;
        state.metrics.request_started();
        let conditional = Conditional::of(&request);
        let response = match self.guard.admit(&request, client) {
            Ok(slot) => {
                let reused = matched
                    .and_then(|(route, id)| reuse_ahead(state, route, id, &request, &conditional));
                let response = match reused {
                    Some(finished) => finished,
                    None => {
                        // Boxed: inline, the router's future would make every
                        // request's future, reuses included, that much bigger to move.
                        let routed = Box::pin(tower::ServiceExt::oneshot(router, request));
                        // Upstream calls made for it are charged to its client.
                        let charged = client.map(crate::client::ClientKey::of);
                        let routed = crate::web::layout::showing_simulated(state.simulated, routed);
                        let Ok(response) = crate::client::acting_for(charged, routed).await;
                        crate::web::finish(conditional, framable, response)
                    }
                };
                drop(slot);
                response
            }
            // Inside another site's frame a refusal is the widget's card, not our page.
            Err(refusal) if framable => {
                let card = crate::web::embed::error_card(&state.site, refusal, None);
                crate::web::finish(conditional, framable, card)
            }
            Err(refusal) => crate::web::finish(conditional, framable, refusal.into_response()),
        };
        let status = response.status().as_u16();
        state.metrics.request_finished(route, status);
        if let Some((started, method)) = logged {
            let cache = response
                .headers()
                .get(X_CACHE)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("-");
            let line = RequestLine {
                client,
                method: &method,
                route,
                status,
                latency_us: started.elapsed().as_micros() as u64,
                cache,
            };
            self.log.write(&line, || state.now().timestamp());
        }
        response
    }
}

/// The whole answer to `request`, when it is a GET (a HEAD goes through the router,
/// which drops the body) for a page known from its route alone ([`Route::page_key`])
/// that can be reused now (see [`crate::web::page_cache::RenderCache::reuse`]): the page
/// in the encoding the client accepts, with the headers the edge gives pages, or a
/// 304. `route` is the table's entry for the path, `id` the path's `{id}`.
fn reuse_ahead(
    app: &App,
    route: &Route,
    id: Option<&str>,
    request: &Request,
    conditional: &Conditional,
) -> Option<Response> {
    if request.method() != Method::GET {
        return None;
    }
    let key = route.page_key(id, request.uri().query())?;
    let encoding = Encoding::preferred(request.headers().get(header::ACCEPT_ENCODING));
    let page = app
        .pages
        .reuse(&key, app.now(), app.catalog.epoch(), encoding)?;
    Some(page.finished(conditional, route.framable))
}
