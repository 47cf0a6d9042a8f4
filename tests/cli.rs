//! The binary itself: bad configuration exits non-zero with one clear line.

use std::process::Command;

fn earshot(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_earshot"))
        .args(args)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .output()
        .expect("runs");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn assert_one_line_failure(args: &[&str], expect: &str) {
    let (code, stdout, stderr) = earshot(args);
    assert_ne!(code, 0, "{args:?} must fail");
    assert!(stdout.is_empty(), "{args:?}: {stdout}");
    assert_eq!(
        stderr.lines().count(),
        1,
        "{args:?}: one line, got {stderr:?}"
    );
    assert!(
        stderr.contains(expect),
        "{args:?}: {stderr:?} should mention {expect:?}"
    );
}

#[test]
fn bad_configuration_is_one_clear_line() {
    assert_one_line_failure(
        &["--upstream", "gateway", "--upstream-url", "http://h"],
        "needs an API key",
    );
    assert_one_line_failure(
        &["--upstream", "gateway", "--api-key", "k"],
        "needs a base URL",
    );
    assert_one_line_failure(
        &[
            "--upstream",
            "gateway",
            "--api-key",
            "k",
            "--upstream-url",
            "not a url",
        ],
        "not a usable URL",
    );
    assert_one_line_failure(&["--upstream", "x"], "needs an API key");
    assert_one_line_failure(&["--cache-ttl", "0"], "--cache-ttl");
    assert_one_line_failure(&["--live-ttl", "soon"], "--live-ttl");
    assert_one_line_failure(&["--upstream", "ftp"], "--upstream");
    assert_one_line_failure(&["--bind", "localhost"], "--bind");
    assert_one_line_failure(&["--public-url", "javascript:alert(1)"], "--public-url");
    assert_one_line_failure(&["--trusted-proxies", "10.0.0.0/33"], "--trusted-proxies");
    assert_one_line_failure(&["--trusted-proxies", "proxy.lan"], "\"proxy.lan\"");
    assert_one_line_failure(&["--history-retention", "7w"], "--history-retention");
    assert_one_line_failure(&["--history-retention", "0m"], "--history-retention");
}

#[test]
fn a_bad_history_retention_exits_2_from_the_flag_and_the_environment() {
    let (code, _, stderr) = earshot(&["--history-retention", "a week"]);
    assert_eq!(code, 2, "{stderr}");
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    let out = Command::new(env!("CARGO_BIN_EXE_earshot"))
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("EARSHOT_HISTORY_RETENTION", "36x")
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.contains("36x"), "{stderr}");
}

#[test]
fn bad_trusted_proxies_exit_2_from_the_flag_and_the_environment() {
    let (code, _, stderr) = earshot(&["--trusted-proxies", "127.0.0.1/32,nginx"]);
    assert_eq!(code, 2, "{stderr}");
    assert_eq!(
        stderr.trim_end(),
        "earshot: --trusted-proxies takes comma-separated CIDRs: \"nginx\" is not an address or a CIDR: the address is neither IPv4 nor IPv6"
    );
    let out = Command::new(env!("CARGO_BIN_EXE_earshot"))
        .env_clear()
        .env("EARSHOT_TRUSTED_PROXIES", "::1/200")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.contains("at most 128"), "{stderr}");
}

#[test]
fn a_bad_redis_url_exits_2_in_one_line_without_its_password() {
    for (url, expect) in [
        ("http://127.0.0.1:6379", "scheme must be redis or rediss"),
        ("redis://:canary-pw-41@/0", "--redis-url"),
        ("redis://:canary-pw-41@127.0.0.1:6379/db", "database number"),
        ("not a url with :canary-pw-41@ in it", "--redis-url"),
    ] {
        let (code, stdout, stderr) = earshot(&["--redis-url", url]);
        assert_eq!(code, 2, "{url}: {stderr}");
        assert!(stdout.is_empty(), "{url}: {stdout}");
        assert_eq!(stderr.lines().count(), 1, "{url}: {stderr:?}");
        assert!(stderr.contains(expect), "{url}: {stderr:?}");
        assert!(!stderr.contains("canary-pw-41"), "{url}: {stderr:?}");
    }
    let (code, _, stderr) = earshot(&["--redis-url", "redis://127.0.0.1:1", "--redis-prefix", ""]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("--redis-prefix"), "{stderr}");
}

#[test]
fn a_port_in_use_is_one_clear_line() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap().to_string();
    assert_one_line_failure(&["--bind", &addr], "already in use");
}

#[test]
fn the_key_is_not_echoed_in_errors() {
    let (_, _, stderr) = earshot(&["--upstream", "gateway", "--api-key", "sekrit-canary-99"]);
    assert!(!stderr.contains("sekrit-canary-99"), "{stderr}");
}

#[test]
fn help_lists_every_documented_flag() {
    let (code, stdout, _) = earshot(&["--help"]);
    assert_eq!(code, 0);
    for flag in [
        "--bind",
        "--upstream",
        "--upstream-url",
        "--api-key",
        "--public-url",
        "--cache-ttl",
        "--live-ttl",
        "EARSHOT_BIND",
        "EARSHOT_API_KEY",
        "demo-upstream",
        "--shutdown-grace",
        "EARSHOT_SHUTDOWN_GRACE",
        "--metrics-bind",
        "EARSHOT_METRICS_BIND",
        "--redis-url",
        "EARSHOT_REDIS_URL",
        "--redis-prefix",
        "EARSHOT_REDIS_PREFIX",
        "healthcheck",
        "--trusted-proxies",
        "EARSHOT_TRUSTED_PROXIES",
        "--history-retention",
        "EARSHOT_HISTORY_RETENTION",
    ] {
        assert!(stdout.contains(flag), "--help lacks {flag}");
    }
}

#[test]
fn an_unspecified_bind_without_a_public_url_exits_2() {
    for bind in ["0.0.0.0:0", "[::]:0"] {
        let (code, stdout, stderr) = earshot(&["--bind", bind]);
        assert_eq!(code, 2, "{bind}: {stderr}");
        assert!(stdout.is_empty(), "{bind}: {stdout}");
        assert_eq!(stderr.lines().count(), 1, "{bind}: {stderr:?}");
        assert!(
            stderr.contains("--public-url") && stderr.contains("cannot be guessed"),
            "{bind}: {stderr:?}"
        );
    }
    let out = Command::new(env!("CARGO_BIN_EXE_earshot"))
        .env_clear()
        .env("EARSHOT_BIND", "0.0.0.0:0")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "from the environment too");
}

/// A one-shot HTTP server answering `status`; returns its address and the request
/// line it received.
fn answer_once(status: &'static str) -> (String, std::thread::JoinHandle<String>) {
    use std::io::{BufRead, BufReader, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    let served = std::thread::spawn(move || {
        let (stream, _) = listener.accept().unwrap();
        let mut reader = BufReader::new(stream);
        let mut request_line = String::new();
        reader.read_line(&mut request_line).unwrap();
        let mut line = String::new();
        while reader.read_line(&mut line).unwrap() > 2 {
            line.clear();
        }
        let body = "ready\n";
        write!(
            reader.get_mut(),
            "HTTP/1.1 {status}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        )
        .unwrap();
        request_line.trim_end().to_owned()
    });
    (addr, served)
}

#[test]
fn healthcheck_exits_0_when_ready_and_1_otherwise() {
    let (addr, served) = answer_once("200 OK");
    let (code, _, stderr) = earshot(&["healthcheck", "--bind", &addr]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(served.join().unwrap(), "GET /readyz HTTP/1.1");

    let (addr, served) = answer_once("503 Service Unavailable");
    let (code, _, _) = earshot(&["healthcheck", "--url", &format!("http://{addr}/readyz")]);
    assert_eq!(code, 1);
    served.join().unwrap();

    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = closed.local_addr().unwrap().to_string();
    drop(closed);
    let (code, _, _) = earshot(&["healthcheck", "--bind", &addr]);
    assert_eq!(code, 1, "nothing listening");
}

/// One request on a fresh connection; the whole answer.
fn get(addr: &str, path: &str) -> std::io::Result<String> {
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(addr)?;
    stream.set_read_timeout(Some(std::time::Duration::from_secs(5)))?;
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n"
    )?;
    let mut answer = String::new();
    stream.read_to_string(&mut answer)?;
    Ok(answer)
}

#[cfg(unix)]
#[test]
fn sigterm_goes_unready_then_exits_despite_a_silent_connection() {
    use std::io::{BufRead, BufReader};
    use std::time::{Duration, Instant};
    let mut child = Command::new(env!("CARGO_BIN_EXE_earshot"))
        .args(["--bind", "127.0.0.1:0", "--shutdown-grace", "2"])
        .env_clear()
        .env("EARSHOT_LOG", "off")
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut started = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut started)
        .unwrap();
    let addr = started
        .trim()
        .trim_start_matches("earshot is running: open http://")
        .trim_end_matches('/')
        .to_owned();
    assert!(get(&addr, "/readyz").unwrap().starts_with("HTTP/1.1 200"));
    let _loris = std::net::TcpStream::connect(&addr).unwrap();
    let signalled = Instant::now();
    // SAFETY: kill only sends a signal to the child this test started.
    assert_eq!(unsafe { libc::kill(child.id() as i32, libc::SIGTERM) }, 0);
    let unready = loop {
        let answer = get(&addr, "/readyz").expect("still listening during the grace");
        if answer.starts_with("HTTP/1.1 503") {
            break answer;
        }
        assert!(
            signalled.elapsed() < Duration::from_secs(2),
            "never unready"
        );
    };
    assert!(unready.contains("shutting down"), "{unready}");
    let (exited, waited) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = exited.send(child.wait());
    });
    let status = waited
        .recv_timeout(Duration::from_secs(10))
        .expect("exits within the grace and the drain")
        .unwrap();
    assert!(status.success(), "{status:?}");
    assert!(
        signalled.elapsed() >= Duration::from_secs(2),
        "left before the grace"
    );
}
