//! A Space that does not exist costs one upstream call, not one per section of its
//! page: anyone can type `/spaces/{random id}`, and each such URL must not be worth
//! several calls of the upstream's budget.

mod common;

use common::*;

#[tokio::test]
async fn a_made_up_id_costs_one_upstream_call_per_page() {
    let demo = DemoApp::start(42).await;
    let app = &demo.app;
    let calls = || demo.demo.stats().total;
    for (n, path) in [
        "/spaces/1madeUpSpace0",
        "/spaces/1madeUpSpace1/participants",
        "/embed/spaces/1madeUpSpace2",
    ]
    .into_iter()
    .enumerate()
    {
        let before = calls();
        let (status, _, _) = app.fetch(path).await;
        assert_eq!(status, 404, "{path}");
        assert_eq!(calls() - before, 1, "{path}: one call, for the Space ({n})");
    }
}

#[tokio::test]
async fn a_real_space_still_gets_its_sections() {
    let fixture = Fixture::start().await;
    fixture.reply(
        "/space/1real",
        Reply::Json(br#"{"id":"1real","state":"ended","title":"Real"}"#.to_vec()),
    );
    let app = TestApp::against(&fixture).await;
    assert_eq!(app.fetch("/spaces/1real").await.0, 200);
    for section in ["participants", "tweets", "recording"] {
        assert_eq!(
            fixture.calls(&format!("/space/1real/{section}")),
            1,
            "{section}"
        );
    }
    assert_eq!(app.fetch("/spaces/1nope").await.0, 404);
    assert_eq!(fixture.calls("/space/1nope"), 1);
    assert_eq!(fixture.total_calls(), 5);
}
