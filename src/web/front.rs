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

use crate::web::cache_policy::Conditional;
use crate::web::encoding::Encoding;
use crate::web::rendered::PageKey;
use crate::web::state::App;

/// The whole answer to `request`, when it is a GET (a HEAD goes through the router,
/// which drops the body) for a page known from its route alone ([`page_key`]) that
/// can be reused now (see [`crate::web::rendered::RenderCache::reuse`]): the page in
/// the encoding the client accepts, with the headers the edge gives pages, or a 304.
/// `route` is the matched pattern, `id` its `{id}`.
pub fn reused(
    app: &App,
    route: &str,
    id: Option<&str>,
    request: &Request,
    conditional: &Conditional,
    framable: bool,
) -> Option<Response> {
    if request.method() != Method::GET {
        return None;
    }
    let key = page_key(route, id, request.uri().query())?;
    let encoding = Encoding::preferred(request.headers().get(header::ACCEPT_ENCODING));
    let page = app
        .pages
        .reuse(&key, app.now(), app.catalog.epoch(), encoding)?;
    Some(page.finished(conditional, framable))
}

/// The page a request asks for, when its route alone says which: the Space page and
/// home (whose handlers read no query), and the widget without options. `id` is the
/// route's `{id}` as written in the path.
///
/// An id that does not parse as written (percent-encoded, too long) is left to the
/// router, whose extractor decodes it and answers what it should.
fn page_key(route: &str, id: Option<&str>, query: Option<&str>) -> Option<PageKey> {
    match route {
        "/" => Some(PageKey::Home),
        "/spaces/{id}" => Some(PageKey::Space(id?.parse().ok()?)),
        "/embed/spaces/{id}" if query.is_none() => Some(PageKey::Embed {
            id: id?.parse().ok()?,
            theme: None,
        }),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_pages_known_from_their_route_are_answered_ahead() {
        let space = |id: &str| Some(PageKey::Space(id.parse().unwrap()));
        assert_eq!(page_key("/", None, Some("q=1")), Some(PageKey::Home));
        assert_eq!(page_key("/spaces/{id}", Some("1abc"), None), space("1abc"));
        assert_eq!(
            page_key("/spaces/{id}", Some("1abc"), Some("s=20")),
            space("1abc")
        );
        assert_eq!(page_key("/spaces/{id}", Some("1%61bc"), None), None);
        assert_eq!(page_key("/spaces/{id}", Some(&"a".repeat(33)), None), None);
        assert!(page_key("/embed/spaces/{id}", Some("1abc"), None).is_some());
        assert_eq!(
            page_key("/embed/spaces/{id}", Some("1abc"), Some("theme=dark")),
            None
        );
        assert_eq!(page_key("/spaces/{id}/live", Some("1abc"), None), None);
        assert_eq!(page_key("/live", None, None), None);
    }
}
