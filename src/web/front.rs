//! Pages answered ahead of the router: a page rendered this second from data still
//! fresh is the whole answer to the next request for it, so that request skips
//! routing, extractors and the handler. On the busiest pages (a crowd on one Space)
//! almost every request is such a reuse, and these steps were a tenth of its time.
//!
//! Only requests whose page is known from the route alone come here; anything else,
//! and every request whose page is not ready, goes through the router to its handler,
//! which answers it the same way (`App::page`).

use axum::extract::Request;
use axum::http::{Method, header};
use axum::response::Response;

use crate::web::Route;
use crate::web::cache_policy::Conditional;
use crate::web::encoding::Encoding;
use crate::web::state::App;

/// The whole answer to `request`, when it is a GET (a HEAD goes through the router,
/// which drops the body) for a page known from its route alone ([`Route::page_key`])
/// that can be reused now (see [`crate::web::rendered::RenderCache::reuse`]): the page
/// in the encoding the client accepts, with the headers the edge gives pages, or a
/// 304. `route` is the table's entry for the path, `id` the path's `{id}`.
pub fn reused(
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
