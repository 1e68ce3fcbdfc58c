//! The test proxy end to end (spec `test-proxy-protocol.md`, section 12):
//! `systemperf HttpGetTest --url SERVICE -x PROXY` against systemperf's
//! embedded loopback server (the "service", which counts requests) and
//! our `test-proxy` server, both started here on 127.0.0.1 port 0 and
//! stopped before each test returns.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};

use systemperf::EmbeddedServer;
use test_proxy::{Config, SessionCounts, TestProxy};

use crate::common::*;

fn proxy() -> TestProxy {
    TestProxy::start(Config::loopback(0)).expect("the test proxy starts")
}

/// `url` as PerfAutomation passes it: a .NET `Uri` string, with a trailing `/`.
fn dotnet_uri(proxy: &TestProxy) -> String {
    format!("{}/", proxy.urls()[0])
}

fn service() -> EmbeddedServer {
    EmbeddedServer::start(16).expect("the embedded server starts")
}

fn http_get(service: &EmbeddedServer) -> Run {
    systemperf("HttpGetTest")
        .option("--url", service.url())
        .duration(0.5)
        .warmup(0.2)
        .processes(1)
}

/// The control calls of one kind in `log` (`record/start`, ...).
fn calls<'a>(log: &'a [String], kind: &str) -> Vec<&'a String> {
    log.iter().filter(|line| line.starts_with(kind)).collect()
}

/// A raw HTTP/1.1 call to `address`; returns the status, the head and the body.
fn call(
    address: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> (u16, String, String) {
    let mut stream = TcpStream::connect(address).unwrap();
    let mut request = format!(
        "{method} {path} HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (name, value) in headers {
        request.push_str(&format!("{name}: {value}\r\n"));
    }
    request.push_str("\r\n");
    request.push_str(body);
    stream.write_all(request.as_bytes()).unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    let (head, body) = response.split_once("\r\n\r\n").unwrap_or((&response, ""));
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|code| code.parse().ok())
        .unwrap_or(0);
    (status, head.to_ascii_lowercase(), body.to_owned())
}

/// Check 1 and 4: record one GET per instance, play it back for the whole
/// run; the service sees exactly 2 requests per instance (the direct one
/// and the recorded one), the proxy the calls of spec section 10 in order,
/// and afterwards it holds no session.
#[test]
fn records_once_per_instance_then_plays_back() {
    for sync in [false, true] {
        let (service, proxy) = (service(), proxy());
        let output = http_get(&service)
            .parallel(2)
            .sync(sync)
            .option("-x", dotnet_uri(&proxy))
            .ok();
        let totals = service.stop();
        assert_eq!(
            totals.requests,
            4,
            "2 per instance, none in playback\n{}",
            output.dump()
        );
        let log = proxy.control_log();
        assert_eq!(calls(&log, "record/start").len(), 2, "{log:?}");
        assert_eq!(calls(&log, "record/stop").len(), 2, "{log:?}");
        assert_eq!(calls(&log, "playback/start").len(), 2, "{log:?}");
        let stops = calls(&log, "playback/stop");
        assert_eq!(stops.len(), 2, "{log:?}");
        assert!(stops.iter().all(|line| line.ends_with(" purge")), "{log:?}");
        // Per recording, in order: start, stop, playback of it, its stop.
        for start in calls(&log, "record/start") {
            let id = start.strip_prefix("record/start ").unwrap();
            let at = |line: &str| log.iter().position(|entry| entry == line).unwrap();
            let playback = log
                .iter()
                .find(|line| line.starts_with(&format!("playback/start {id} -> ")))
                .unwrap();
            let playback_id = playback.rsplit(' ').next().unwrap();
            assert!(at(start) < at(&format!("record/stop {id}")), "{log:?}");
            assert!(at(&format!("record/stop {id}")) < at(playback), "{log:?}");
            assert!(
                at(playback) < at(&format!("playback/stop {playback_id} purge")),
                "{log:?}"
            );
        }
        assert_eq!(proxy.recorded_requests(), 2);
        let tests = output.results("Tests");
        let warmup = output.results("Warmup");
        assert!(tests.operations_per_second > 0.0, "{}", output.dump());
        assert_eq!(
            proxy.played_back_requests(),
            tests.total + warmup.total,
            "every timed operation was played back"
        );
        assert_eq!(
            proxy.sessions(),
            SessionCounts::default(),
            "nothing left in the proxy"
        );
        assert_eq!(proxy.mismatches(), 0);
        proxy.stop();
    }
}

/// The azure_core pipeline through the route's per-retry policy: its
/// per-request client request id and user agent are ignored by the
/// default matcher, so playback matches.
#[cfg(feature = "azure-core")]
#[test]
fn azure_core_pipeline_records_and_plays_back_through_the_policy() {
    let (service, proxy) = (service(), proxy());
    let output = systemperf("AzureCoreGetTest")
        .option("--url", service.url())
        .duration(0.5)
        .warmup(0.2)
        .processes(1)
        .parallel(2)
        .option("-x", dotnet_uri(&proxy))
        .ok();
    assert_eq!(service.stop().requests, 4, "{}", output.dump());
    assert_eq!(proxy.mismatches(), 0);
    assert!(proxy.played_back_requests() > 0);
    assert_eq!(proxy.sessions(), SessionCounts::default());
    proxy.stop();
}

/// Check 4: the in-memory recording was purged: a second `/Playback/Start`
/// with its id is refused.
#[test]
fn the_recording_is_purged() {
    let (service, proxy) = (service(), proxy());
    http_get(&service).option("-x", dotnet_uri(&proxy)).ok();
    service.stop();
    let log = proxy.control_log();
    let id = calls(&log, "record/start")[0]
        .strip_prefix("record/start ")
        .unwrap()
        .to_owned();
    let (status, head, body) = call(
        proxy.addresses()[0],
        "POST",
        "/Playback/Start",
        &[("x-recording-id", &id)],
        "",
    );
    assert_eq!(status, 400, "{head}{body}");
    assert!(head.contains("x-request-known-exception: true"), "{head}");
    assert!(
        body.contains("There is no in-memory session with id"),
        "{body}"
    );
    proxy.stop();
}

/// Check 3 and PerfAutomation's argument shapes: `--test-proxies "A/;B/"`
/// appended after `--sync` spreads 4 instances 2 and 2; `--test-proxy A/`
/// alone sends all to A; both together are one list (A, B).
#[test]
fn round_robin_over_proxies_in_perf_automation_shapes() {
    let service = service();
    let (a, b) = (proxy(), proxy());
    let results = TempPath::new("proxy-results");
    let both = format!("{};{}", dotnet_uri(&a), dotnet_uri(&b));
    systemperf("HttpGetTest")
        .results(&results)
        .option("--url", service.url())
        .duration(0.3)
        .warmup(0.1)
        .parallel(4)
        .processes(1)
        .arg("--sync")
        .option("--test-proxies", &both)
        .ok();
    assert!(results.json()["operations_per_second"].as_f64().unwrap() > 0.0);
    assert_eq!(calls(&a.control_log(), "record/start").len(), 2);
    assert_eq!(calls(&b.control_log(), "record/start").len(), 2);

    let single = proxy();
    http_get(&service)
        .parallel(2)
        .arg("--sync")
        .option("--test-proxy", dotnet_uri(&single))
        .ok();
    assert_eq!(calls(&single.control_log(), "record/start").len(), 2);

    let (c, d) = (proxy(), proxy());
    http_get(&service)
        .parallel(2)
        .option("--test-proxies", dotnet_uri(&c))
        .option("--test-proxy", dotnet_uri(&d))
        .ok();
    assert_eq!(calls(&c.control_log(), "record/start").len(), 1);
    assert_eq!(calls(&d.control_log(), "record/start").len(), 1);
    // The same proxy in both forms counts once.
    let e = proxy();
    http_get(&service)
        .parallel(2)
        .option("-x", dotnet_uri(&e))
        .option("--test-proxy", e.urls()[0].clone())
        .ok();
    assert_eq!(calls(&e.control_log(), "record/start").len(), 2);
    assert_eq!(service.stop().requests, 2 * (4 + 2 + 2 + 2));
    for proxy in [a, b, single, c, d, e] {
        assert_eq!(proxy.sessions(), SessionCounts::default());
        proxy.stop();
    }
}

/// Worker processes go through post setup and pre cleanup too.
#[test]
fn worker_processes_record_and_play_back() {
    let (service, proxy) = (service(), proxy());
    let output = systemperf("HttpGetTest")
        .option("--url", service.url())
        .duration(0.5)
        .warmup(0.2)
        .parallel(2)
        .processes(2)
        .option("-x", dotnet_uri(&proxy))
        .ok();
    assert_eq!(service.stop().requests, 4, "{}", output.dump());
    assert_eq!(calls(&proxy.control_log(), "playback/stop").len(), 2);
    assert_eq!(proxy.sessions(), SessionCounts::default());
    proxy.stop();
}

/// Check 5: a request that differs every time (a random query parameter)
/// is a mismatch in playback: the run fails in the warm-up with the
/// proxy's reason, and pre cleanup still stops the playback. With a
/// matcher that ignores the parameter, it passes.
#[test]
fn mismatch_fails_the_run_until_a_matcher_ignores_the_difference() {
    let (service, proxy) = (service(), proxy());
    let output = http_get(&service)
        .option("-x", dotnet_uri(&proxy))
        .arg("--random-query")
        .fails();
    output.assert_failure_reported();
    assert!(output.stderr.contains("404"), "{}", output.dump());
    assert!(
        output
            .stderr
            .contains("Unable to find a record for the request GET"),
        "{}",
        output.dump()
    );
    // The query shows (only secret parameters' values are masked), so the
    // message says what differed.
    assert!(output.stderr.contains("?nonce="), "{}", output.dump());
    assert!(output.stderr.contains("doesn't match"), "{}", output.dump());
    assert!(proxy.mismatches() >= 1);
    assert_eq!(
        proxy.sessions(),
        SessionCounts::default(),
        "pre cleanup ran after the failure"
    );

    let (status, head, body) = call(
        proxy.addresses()[0],
        "POST",
        "/Admin/SetMatcher",
        &[
            ("x-abstraction-identifier", "CustomDefaultMatcher"),
            ("Content-Type", "application/json"),
        ],
        r#"{"ignoredQueryParameters": "nonce"}"#,
    );
    assert_eq!(status, 200, "{head}{body}");
    let mismatches = proxy.mismatches();
    http_get(&service)
        .option("-x", dotnet_uri(&proxy))
        .arg("--random-query")
        .ok();
    assert_eq!(proxy.mismatches(), mismatches);
    assert_eq!(service.stop().requests, 2 + 2);
    proxy.stop();
}

/// A malformed proxy URL is a usage error naming it, before any setup.
#[test]
fn malformed_proxy_urls_are_usage_errors() {
    for bad in [
        "127.0.0.1:5000",
        "http://127.0.0.1:abc/",
        "ftp://127.0.0.1:5000",
        "http://127.0.0.1:5000/record",
    ] {
        for option in ["-x", "--test-proxies", "--test-proxy"] {
            let results = TempPath::stale("proxy-usage");
            let output = systemperf("HttpGetTest")
                .results(&results)
                .option(option, bad)
                .outcome(Outcome::Usage);
            assert!(
                output.stderr.contains(bad),
                "names {bad}\n{}",
                output.dump()
            );
            assert!(
                !output.stdout.contains("=== Setup ==="),
                "{}",
                output.dump()
            );
        }
    }
    // One bad URL of a list.
    let output = systemperf("HttpGetTest")
        .option("-x", "http://127.0.0.1:5000/;http://:1/")
        .outcome(Outcome::Usage);
    assert!(output.stderr.contains("http://:1/"), "{}", output.dump());
    // An event test has no operation to record.
    let output = systemperf("SampleEventTest")
        .option("-x", "http://127.0.0.1:5000")
        .outcome(Outcome::Usage);
    assert!(output.stderr.contains("event test"), "{}", output.dump());
}

/// A proxy that is not there: the run fails in post setup with a message
/// naming the proxy and the call, and cleans up.
#[test]
fn an_unreachable_proxy_fails_the_run_naming_it() {
    let service = service();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let url = format!("http://127.0.0.1:{port}");
    let output = http_get(&service).option("-x", format!("{url}/")).fails();
    output.assert_failure_reported();
    assert!(
        output.stderr.contains(&format!("POST {url}/record/start")),
        "{}",
        output.dump()
    );
    assert!(output.stderr.contains("post-setup"), "{}", output.dump());
    assert_eq!(service.stop().requests, 1, "only the direct operation");
}

/// Check 7: the proxy's error contract, as clients see it.
#[test]
fn control_errors_follow_the_contract() {
    let proxy = proxy();
    let address = proxy.addresses()[0];
    let (status, head, _) = call(address, "POST", "/playback/stop", &[], "");
    assert_eq!(status, 400);
    assert!(head.contains("x-request-known-exception: true"), "{head}");
    assert!(head.contains("x-request-known-exception-error:"), "{head}");
    let (status, _, body) = call(
        address,
        "POST",
        "/Record/Start",
        &[("Content-Type", "application/json")],
        "{}",
    );
    assert_eq!(status, 400);
    assert!(
        body.contains("the key 'x-recording-file' must be provided"),
        "{body}"
    );
    let (status, _, body) = call(
        address,
        "POST",
        "/playback/stop",
        &[("x-recording-id", "nope")],
        "",
    );
    assert_eq!(
        (
            status,
            body.contains("There is no active playback session under recording id nope.")
        ),
        (400, true),
        "{body}"
    );
    assert_eq!(
        call(
            address,
            "POST",
            "/record/stop",
            &[("x-recording-id", "nope")],
            ""
        )
        .0,
        200
    );
    assert_eq!(call(address, "GET", "/Admin/IsAlive", &[], "").0, 200);
    assert_eq!(call(address, "GET", "/nowhere", &[], "").0, 404);
    assert_eq!(call(address, "GET", "/record/start", &[], "").0, 405);
    let (status, head, _) = call(
        address,
        "GET",
        "/c/b",
        &[("x-recording-mode", "playback"), ("x-recording-id", "nope")],
        "",
    );
    assert_eq!(status, 400, "{head}");
    proxy.stop();
}

/// Check 9, the proxy's side: an `https://` listener with the self-signed
/// certificate generated at start-up. Without `--insecure` the first
/// control call fails the certificate check (exit 1, naming the proxy and
/// the remedy); with it the control calls and the test's own client
/// (HttpGetTest, TLS through the framework's configuration) record and
/// play back.
#[test]
fn an_https_proxy_is_trusted_only_with_insecure() {
    let mut config = Config::loopback(0);
    config.urls[0].https = true;
    let proxy = TestProxy::start(config).expect("the https test proxy starts");
    let url = proxy.urls()[0].clone();
    assert!(url.starts_with("https://127.0.0.1:"), "{url}");
    assert!(proxy.certificate_der().is_some());
    let service = service();

    let refused = http_get(&service).option("-x", format!("{url}/")).fails();
    refused.assert_failure_reported();
    assert!(
        refused.stderr.contains(&format!("POST {url}/record/start"))
            && refused.stderr.contains("certificate")
            && refused.stderr.contains("--insecure"),
        "{}",
        refused.dump()
    );
    assert_eq!(
        proxy.control_log(),
        Vec::<String>::new(),
        "no call got through"
    );

    let output = http_get(&service)
        .option("-x", format!("{url}/"))
        .arg("--insecure")
        .ok();
    assert_eq!(
        service.stop().requests,
        1 + 2,
        "the refused run's direct operation, then 2 of this one\n{}",
        output.dump()
    );
    assert_eq!(proxy.recorded_requests(), 1);
    assert!(output.results("Tests").operations_per_second > 0.0);
    assert_eq!(
        proxy.played_back_requests(),
        output.results("Tests").total + output.results("Warmup").total
    );
    assert_eq!(proxy.sessions(), SessionCounts::default());
    proxy.stop();
}
