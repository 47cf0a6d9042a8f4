//! Strategies shared by the fuzz suites: arbitrary JSON, hostile strings, and
//! mutations of the reference payloads.
//!
//! Included with `#[path = "common/arbitrary.rs"] mod arbitrary;` so that the shared
//! harness in `common/mod.rs` stays untouched.
#![allow(dead_code)] // each test binary uses part of it

use proptest::prelude::*;
use proptest::sample::Index;
use proptest::test_runner::{Config, FileFailurePersistence};
use serde_json::{Map, Number, Value};

/// Case count: `PROPTEST_CASES` when set (for long runs), else the suite's default.
pub fn cases(default: u32) -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// A proptest configuration with `default` cases unless `PROPTEST_CASES` says otherwise.
/// Shrinking is bounded so that a failure deep in an HTTP round trip still reports
/// within a minute or so.
pub fn config(default: u32) -> Config {
    Config {
        cases: cases(default),
        max_shrink_iters: 2_000,
        max_shrink_time: 60_000,
        failure_persistence: Some(Box::new(FileFailurePersistence::WithSource(
            "proptest-regressions",
        ))),
        ..Config::default()
    }
}

/// Field names the parsers look for, so that arbitrary objects hit real code paths.
pub const KNOWN_KEYS: &[&str] = &[
    "id",
    "data",
    "includes",
    "users",
    "topics",
    "topic_ids",
    "errors",
    "meta",
    "state",
    "title",
    "creator",
    "creator_id",
    "host_ids",
    "speaker_ids",
    "participant_count",
    "reminder_count",
    "subscriber_count",
    "total_replay_watched",
    "lang",
    "is_ticketed",
    "recording_available",
    "recording",
    "duration_ms",
    "playback_url",
    "file_size_mb",
    "created_at",
    "scheduled_start",
    "started_at",
    "ended_at",
    "updated_at",
    "user_role",
    "username",
    "name",
    "profile_image_url",
    "verified",
    "hosts",
    "speakers",
    "listeners",
    "invited_at",
    "joined_at",
    "total_participants",
    "host_count",
    "speaker_count",
    "listener_count",
    "result_count",
    "total_live_spaces",
    "text",
    "author",
    "resource_id",
    "value",
    "type",
    "detail",
];

/// Strings chosen to break things: empty, blank, control characters, huge, numeric,
/// dates at the edges, ids, URLs of every scheme, markup, bidi and combining marks.
pub fn nasty_string() -> impl Strategy<Value = String> {
    let fixed = prop::sample::select(vec![
        "",
        " ",
        "\t\n\r",
        "\u{0}",
        "\u{0}\u{1}\u{7f}\u{9f}",
        "0",
        "-1",
        "1e400",
        "18446744073709551615",
        "18446744073709551616",
        "-9223372036854775808",
        "NaN",
        "inf",
        "-0.0",
        "1.5e19",
        "true",
        "false",
        "null",
        "live",
        "LIVE ",
        "scheduled",
        "ended",
        "cancelled",
        "running",
        "2026-11-22T12:00:00Z",
        "2026-11-22",
        "0000-01-01T00:00:00Z",
        "9999-12-31T23:59:59.999999999Z",
        "9999-12-31",
        "2026-02-30",
        "2026-11-22T12:00:00+23:59",
        "1zqKVXPQhvZJB",
        "1abc",
        "12345678901234567890",
        "123456789012345678901",
        "@",
        "@@user",
        "https://pbs.twimg.com/profile_images/1/a.jpg",
        "https://",
        "http://example.com/a.png",
        "javascript:alert(1)",
        "data:text/html,<script>alert(1)</script>",
        "https://x.com/i/spaces/1abc",
        "<script>alert(1)</script>",
        "\"><img src=x onerror=alert(1)>",
        "{{ title }}",
        "a\\;b,c",
        "\u{202e}desrever",
        "e\u{301}\u{301}\u{301}\u{301}",
        "\u{200b}\u{feff}",
        "🎙️🔥👩‍👩‍👧‍👦",
        "한국어 日本語 العربية",
        "848920371311001600",
        "Technology",
        "technology",
    ])
    .prop_map(str::to_owned);
    prop_oneof![
        4 => fixed,
        4 => any::<String>(),
        2 => "[a-zA-Z0-9 _@.:/-]{0,40}",
        1 => (any::<char>(), 0usize..20_000).prop_map(|(c, n)| c.to_string().repeat(n)),
        1 => (0usize..200_000).prop_map(|n| "x".repeat(n)),
    ]
}

fn json_number() -> impl Strategy<Value = Value> {
    prop_oneof![
        any::<u64>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        Just(Value::from(u64::MAX)),
        Just(Value::from(i64::MIN)),
        Just(Value::from(0)),
        any::<f64>().prop_filter_map("finite", |f| Number::from_f64(f).map(Value::Number)),
        prop::sample::select(vec![
            1e19,
            1.8446744073709552e19,
            1e308,
            -1e308,
            5e-324,
            -0.0
        ])
        .prop_map(|f| Value::Number(Number::from_f64(f).unwrap())),
    ]
}

pub fn json_leaf() -> impl Strategy<Value = Value> {
    prop_oneof![
        1 => Just(Value::Null),
        1 => any::<bool>().prop_map(Value::Bool),
        2 => json_number(),
        3 => nasty_string().prop_map(Value::String),
    ]
}

fn json_key() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => prop::sample::select(KNOWN_KEYS).prop_map(str::to_owned),
        1 => any::<String>(),
    ]
}

/// Any JSON value, a few levels deep, with keys the parsers know about.
pub fn json_value() -> impl Strategy<Value = Value> {
    json_leaf().prop_recursive(5, 96, 8, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..8).prop_map(Value::Array),
            prop::collection::vec((json_key(), inner), 0..10)
                .prop_map(|kv| Value::Object(kv.into_iter().collect::<Map<_, _>>())),
        ]
    })
}

/// One edit to a JSON document, applied at a node chosen by `at`.
#[derive(Clone, Debug)]
pub enum Mutation {
    /// The node becomes another value (often of another JSON type).
    Replace(Index, Value),
    /// The node is removed from its object or array.
    Delete(Index),
    /// An object gets a new field / an array a new item.
    Insert(Index, String, Value),
    /// The node becomes null.
    Null(Index),
    /// The node becomes a huge string.
    HugeString(Index, usize),
    /// The node becomes a huge number.
    HugeNumber(Index, bool),
    /// The node is wrapped in an array or object (nested junk).
    Wrap(Index, bool),
    /// The node becomes a deeply nested array (below serde_json's recursion limit).
    Deep(Index, usize),
    /// An array's items are duplicated many times.
    Repeat(Index, usize),
}

pub fn mutation() -> impl Strategy<Value = Mutation> {
    let idx = any::<Index>;
    prop_oneof![
        4 => (idx(), json_value()).prop_map(|(i, v)| Mutation::Replace(i, v)),
        3 => idx().prop_map(Mutation::Delete),
        2 => (idx(), json_key(), json_value()).prop_map(|(i, k, v)| Mutation::Insert(i, k, v)),
        2 => idx().prop_map(Mutation::Null),
        1 => (idx(), 0usize..300_000).prop_map(|(i, n)| Mutation::HugeString(i, n)),
        2 => (idx(), any::<bool>()).prop_map(|(i, neg)| Mutation::HugeNumber(i, neg)),
        1 => (idx(), any::<bool>()).prop_map(|(i, obj)| Mutation::Wrap(i, obj)),
        1 => (idx(), 1usize..100).prop_map(|(i, d)| Mutation::Deep(i, d)),
        1 => (idx(), 1usize..50).prop_map(|(i, n)| Mutation::Repeat(i, n)),
    ]
}

pub fn mutations() -> impl Strategy<Value = Vec<Mutation>> {
    prop::collection::vec(mutation(), 1..8)
}

/// Every node of a document as a path of object keys / array indexes.
#[derive(Clone, Debug)]
enum Step {
    Key(String),
    Item(usize),
}

fn paths(value: &Value) -> Vec<Vec<Step>> {
    fn walk(v: &Value, here: &mut Vec<Step>, out: &mut Vec<Vec<Step>>) {
        out.push(here.clone());
        match v {
            Value::Object(map) => {
                for (k, child) in map {
                    here.push(Step::Key(k.clone()));
                    walk(child, here, out);
                    here.pop();
                }
            }
            Value::Array(items) => {
                for (i, child) in items.iter().enumerate() {
                    here.push(Step::Item(i));
                    walk(child, here, out);
                    here.pop();
                }
            }
            _ => {}
        }
    }
    let mut out = Vec::new();
    walk(value, &mut Vec::new(), &mut out);
    out
}

fn node_mut<'a>(root: &'a mut Value, path: &[Step]) -> &'a mut Value {
    let mut node = root;
    for step in path {
        node = match (step, node) {
            (Step::Key(k), Value::Object(map)) => map.get_mut(k).unwrap(),
            (Step::Item(i), Value::Array(items)) => &mut items[*i],
            _ => unreachable!("paths come from the same document"),
        };
    }
    node
}

fn deep(depth: usize) -> Value {
    let mut v = Value::Null;
    for _ in 0..depth {
        v = Value::Array(vec![v]);
    }
    v
}

/// Applies the mutations in order, each at a node of the document as it is then.
pub fn mutate(mut doc: Value, edits: &[Mutation]) -> Value {
    for edit in edits {
        let all = paths(&doc);
        let pick = |i: &Index| all[i.index(all.len())].clone();
        match edit {
            Mutation::Replace(i, v) => *node_mut(&mut doc, &pick(i)) = v.clone(),
            Mutation::Null(i) => *node_mut(&mut doc, &pick(i)) = Value::Null,
            Mutation::HugeString(i, n) => {
                *node_mut(&mut doc, &pick(i)) = Value::String("é".repeat(*n))
            }
            Mutation::HugeNumber(i, neg) => {
                *node_mut(&mut doc, &pick(i)) = if *neg {
                    Value::from(i64::MIN)
                } else {
                    Value::from(u64::MAX)
                }
            }
            Mutation::Wrap(i, obj) => {
                let node = node_mut(&mut doc, &pick(i));
                let inner = node.take();
                *node = if *obj {
                    serde_json::json!({ "data": inner })
                } else {
                    Value::Array(vec![inner])
                };
            }
            Mutation::Deep(i, d) => *node_mut(&mut doc, &pick(i)) = deep(*d),
            Mutation::Repeat(i, n) => {
                if let Value::Array(items) = node_mut(&mut doc, &pick(i)) {
                    let copy = items.clone();
                    for _ in 0..*n {
                        items.extend(copy.iter().cloned());
                    }
                }
            }
            Mutation::Insert(i, k, v) => match node_mut(&mut doc, &pick(i)) {
                Value::Object(map) => {
                    map.insert(k.clone(), v.clone());
                }
                Value::Array(items) => items.push(v.clone()),
                other => *other = v.clone(),
            },
            Mutation::Delete(i) => {
                let path = pick(i);
                let Some((last, parent)) = path.split_last() else {
                    doc = Value::Null;
                    continue;
                };
                match (last, node_mut(&mut doc, parent)) {
                    (Step::Key(k), Value::Object(map)) => {
                        map.remove(k);
                    }
                    (Step::Item(n), Value::Array(items)) => {
                        items.remove(*n);
                    }
                    _ => unreachable!(),
                }
            }
        }
    }
    doc
}

/// Raw bytes that look a little like JSON: tokens glued together at random.
pub fn json_soup() -> impl Strategy<Value = Vec<u8>> {
    let token = prop::sample::select(vec![
        "{",
        "}",
        "[",
        "]",
        ":",
        ",",
        "\"",
        "\"id\"",
        "\"data\"",
        "\"1abc\"",
        "null",
        "true",
        "false",
        "0",
        "-",
        "1e999",
        "18446744073709551616",
        "\\u0000",
        "\\ud800",
        "\\",
        " ",
        "\n",
        "\u{feff}",
        "\u{0}",
        "\u{ffff}",
    ]);
    prop::collection::vec(token, 0..200).prop_map(|t| t.concat().into_bytes())
}

/// Bytes of a reference payload with a few bytes flipped, cut or spliced.
pub fn damaged(original: Vec<u8>) -> impl Strategy<Value = Vec<u8>> {
    let len = original.len();
    prop_oneof![
        // Truncated anywhere.
        (0..=len).prop_map({
            let o = original.clone();
            move |n| o[..n].to_vec()
        }),
        // A few bytes overwritten.
        prop::collection::vec((0..len.max(1), any::<u8>()), 1..8).prop_map({
            let o = original.clone();
            move |edits| {
                let mut b = o.clone();
                for (at, byte) in edits {
                    if at < b.len() {
                        b[at] = byte;
                    }
                }
                b
            }
        }),
        // Junk spliced in.
        (0..=len, prop::collection::vec(any::<u8>(), 0..64)).prop_map({
            let o = original;
            move |(at, junk)| {
                let mut b = o[..at].to_vec();
                b.extend(junk);
                b.extend(&o[at..]);
                b
            }
        }),
    ]
}

/// A reference payload by directory and name, e.g. `("gateway", "space.json")`.
pub fn fixture(dir: &str, name: &str) -> Vec<u8> {
    let path = format!("{}/tests/fixtures/{dir}/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

pub fn fixture_json(dir: &str, name: &str) -> Value {
    serde_json::from_slice(&fixture(dir, name)).expect("reference payload is JSON")
}

/// Text that must never be shown to a visitor: panic messages, source paths, the key.
pub fn leaks(body: &str, key: &str) -> Option<&'static str> {
    let markers: &[(&str, &'static str)] = &[
        ("panicked at", "panic message"),
        ("RUST_BACKTRACE", "backtrace hint"),
        ("called `Option::unwrap()`", "unwrap message"),
        ("called `Result::unwrap()`", "unwrap message"),
        ("src/", "source path"),
        (".rs:", "source location"),
        ("/.cargo/", "cargo path"),
        ("/rustc/", "rustc path"),
        ("/work/", "build path"),
        (key, "API key"),
    ];
    markers
        .iter()
        .find(|(m, _)| body.contains(m))
        .map(|(_, what)| *what)
}
