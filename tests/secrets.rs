//! A canary key, every route (error paths included), both upstream dialects, logs
//! captured at TRACE: the key appears in no response and no log line.

mod common;

use std::io::Write;
use std::sync::{Arc, Mutex};

use common::*;
use earshot::clock::Clock;
use earshot::config::{ApiKey, UpstreamConfig};
use tracing_subscriber::fmt::MakeWriter;

#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> MakeWriter<'a> for Captured {
    type Writer = Captured;
    fn make_writer(&'a self) -> Self::Writer {
        self.clone()
    }
}

const ROUTES: &[&str] = &[
    "/",
    "/live",
    "/live/list",
    "/upcoming",
    "/search?q=ai&state=all",
    "/search?q=https%3A%2F%2Fx.com%2Fi%2Fspaces%2F1abc",
    "/topics/music",
    "/spaces/1ok",
    "/spaces/1ok/live",
    "/spaces/1ok/participants",
    "/spaces/1ok/calendar.ics",
    "/spaces/1ok/card.png",
    "/spaces/1five",
    "/spaces/1slow",
    "/spaces/1limited",
    "/spaces/1denied",
    "/spaces/bad!",
    "/i/spaces/1ok",
    "/users/42",
    "/embed/spaces/1ok",
    "/embed/spaces/1five/live",
    "/oembed?url=http%3A%2F%2F127.0.0.1%2Fspaces%2F1ok",
    "/static/embed.js",
    "/healthz",
    "/readyz",
    "/metrics",
    "/nope",
];

fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack
        .windows(needle.len())
        .any(|w| w == needle.as_bytes())
}

async fn drive(app: &TestApp) {
    for path in ROUTES {
        let response = app.get(path).await;
        for (name, value) in response.headers() {
            assert!(!contains(value.as_bytes(), KEY), "{path}: header {name}");
        }
        let body = response.bytes().await.unwrap();
        assert!(!contains(&body, KEY), "{path}: body");
    }
    let response = app
        .http
        .post(app.url("/spaces/1ok"))
        .body(KEY)
        .send()
        .await
        .unwrap();
    assert!(!contains(&response.bytes().await.unwrap(), KEY));
}

#[tokio::test]
async fn the_canary_key_is_in_no_response_and_no_log_line() {
    let logs = Captured::default();
    let subscriber = tracing_subscriber::fmt()
        .with_writer(logs.clone())
        .with_max_level(tracing::Level::TRACE)
        .json()
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    let fixture = Fixture::start().await;
    let ok = br#"{"id":"1ok","state":"live","title":"ok","participant_count":3}"#;
    fixture.reply("/space/1ok", Reply::Json(ok.to_vec()));
    fixture.reply(
        "/2/spaces/1ok",
        Reply::Json(format!(r#"{{"data":{}}}"#, String::from_utf8_lossy(ok)).into_bytes()),
    );
    // Upstreams that echo the key back, fail, hang, limit and refuse.
    let echo = format!(r#"{{"error":"bad key {KEY}"}}"#).into_bytes();
    for prefix in ["/space", "/2/spaces"] {
        fixture.reply(&format!("{prefix}/1five"), Reply::Status(500, echo.clone()));
        fixture.reply(&format!("{prefix}/1slow"), Reply::Hang);
        fixture.reply(&format!("{prefix}/1limited"), Reply::RateLimited(vec![]));
        fixture.reply(
            &format!("{prefix}/1denied"),
            Reply::Status(401, echo.clone()),
        );
    }
    fixture.reply("/spaces/live", Reply::Status(500, echo.clone()));

    // The gateway dialect.
    let app = TestApp::against(&fixture).await;
    drive(&app).await;
    // The X v2 dialect.
    let mut config = config_for(&fixture.url);
    config.upstream = UpstreamConfig::X {
        url: fixture.url.clone(),
        key: ApiKey::new(KEY),
    };
    assert!(!format!("{config:?}").contains(KEY));
    let x = TestApp::start(config, Clock::fixed(t0())).await;
    drive(&x).await;

    // The key did reach the upstream, in the right header for each dialect.
    assert_eq!(
        fixture.last_header("/space/1ok", "x-api-key").as_deref(),
        Some(KEY)
    );
    assert_eq!(
        fixture.last_header("/2/spaces/1ok", "authorization"),
        Some(format!("Bearer {KEY}"))
    );
    let logged = logs.0.lock().unwrap().clone();
    assert!(
        logged.len() > 1000,
        "logs were captured ({} bytes)",
        logged.len()
    );
    assert!(contains(&logged, "\"route\""), "request lines are logged");
    assert!(!contains(&logged, KEY), "the key is in the logs");
}
