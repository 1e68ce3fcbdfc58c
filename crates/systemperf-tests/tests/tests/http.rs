//! The HTTP transport tests (`src/http/`): each runs
//! for one second against the embedded server and against a loopback
//! server of this file's own, and the operations it reports must equal the
//! requests the server counted.
//!
//! Why the counts must match exactly: with `-w 0` no warm-up request is
//! sent, setup sends none, every operation sends exactly one request, and
//! an operation in flight at the deadline completes and counts (the
//! framework's rule). The servers count a request when it arrives, and
//! neither ever closes a connection on a request it has read without
//! answering it, so no client has a reason to resend one. Were the
//! framework to drop the operations in flight at the deadline instead, the
//! server would count up to `parallel` more: that is the only difference
//! the design allows, and these tests would catch it.
//!
//! Everything here listens on and connects to 127.0.0.1 only, and every
//! server is stopped (threads joined) before its test returns.

use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

use crate::common::*;

/// The body size the servers answer GET with.
const SIZE: u64 = 16;
/// Instances per run: more than one, so that instances other than the
/// first (which runs global setup) find the embedded server too.
const PARALLEL: usize = 2;

/// Each transport test and the variants it has (AzureCoreGetTest with the
/// `azure-core` feature).
const VARIANTS: &[(&str, bool)] = &[
    ("HttpGetTest", false),
    // The async-only tests under --sync: through the sync bridge.
    ("HttpGetTest", true),
    #[cfg(feature = "azure-core")]
    ("AzureCoreGetTest", true),
    ("HttpPutTest", true),
    ("ReqwestGetTest", false),
    ("ReqwestGetTest", true),
    ("UreqGetTest", true),
    ("RawTcpGetTest", false),
    ("RawTcpGetTest", true),
    #[cfg(feature = "azure-core")]
    ("AzureCoreGetTest", false),
    ("HttpPutTest", false),
];

// ---------------------------------------------------------------------------
// Running systemperf
// ---------------------------------------------------------------------------

/// A finished run, and the JSON of its results file if it wrote one.
struct TransportRun {
    output: Output,
    results: Option<serde_json::Value>,
}

impl TransportRun {
    /// Runs `run` to completion with `--test-results`, whatever its exit
    /// code.
    fn new(run: Run) -> Self {
        let results_path = TempPath::new("http-results");
        let output = run.results(&results_path).run();
        let results = std::fs::read_to_string(results_path.path())
            .ok()
            .and_then(|text| serde_json::from_str(&text).ok());
        TransportRun { output, results }
    }

    fn dump(&self) -> String {
        self.output.dump()
    }

    #[track_caller]
    fn assert_success(&self) -> &serde_json::Value {
        self.output.assert_outcome(Outcome::Success);
        self.results.as_ref().expect("a results file")
    }

    /// `total_operations` of the results file.
    #[track_caller]
    fn total_operations(&self) -> u64 {
        let results = self.assert_success();
        assert_eq!(
            results["warmup_seconds"].as_f64(),
            Some(0.0),
            "{}",
            self.dump()
        );
        results["total_operations"]
            .as_u64()
            .unwrap_or_else(|| panic!("no total_operations\n{}", self.dump()))
    }

    /// The embedded servers' "served N requests (M request body bytes
    /// received)" lines, summed: (requests, bytes).
    fn embedded_served(&self) -> Vec<(u64, u64)> {
        self.output
            .stdout
            .lines()
            .filter_map(|line| {
                let rest = line.strip_prefix("embedded server served ")?;
                let (requests, rest) = rest.split_once(" requests (")?;
                let bytes = rest.strip_suffix(" request body bytes received)")?;
                Some((requests.parse().ok()?, bytes.parse().ok()?))
            })
            .collect()
    }
}

/// A one-second run of `test` without warm-up, `PARALLEL` instances in one
/// process, then `extra`.
fn short_run(test: &str, sync: bool, extra: &[&str]) -> TransportRun {
    TransportRun::new(
        systemperf(test)
            .duration(1)
            .warmup(0)
            .parallel(PARALLEL)
            .processes(1)
            .sync(sync)
            .args(extra),
    )
}

fn describe(test: &str, sync: bool) -> String {
    format!("{test} ({})", if sync { "sync" } else { "async" })
}

// ---------------------------------------------------------------------------
// A loopback server of the tests' own
// ---------------------------------------------------------------------------

/// A minimal HTTP/1.1 server on 127.0.0.1 (a thread per connection), a
/// different implementation from the embedded one: GET answers `SIZE`
/// bytes, PUT reads its `Content-Length` body and answers an empty 200.
/// Every response has status `status` (e.g. `200 OK`).
/// With `close_every = n` it answers every n-th request of a connection
/// with `Connection: close` and closes it, so clients must reconnect.
struct TestServer {
    url: String,
    requests: Arc<AtomicU64>,
    bytes_received: Arc<AtomicU64>,
    stopping: Arc<AtomicBool>,
    connections: Arc<Mutex<Vec<TcpStream>>>,
    acceptor: Option<JoinHandle<Vec<JoinHandle<()>>>>,
}

impl TestServer {
    fn start(close_every: Option<u64>, status: &'static str) -> TestServer {
        let listener = TcpListener::bind(("127.0.0.1", 0)).expect("bind 127.0.0.1:0");
        let address = listener.local_addr().expect("address");
        let requests = Arc::new(AtomicU64::new(0));
        let bytes_received = Arc::new(AtomicU64::new(0));
        let stopping = Arc::new(AtomicBool::new(false));
        let connections = Arc::new(Mutex::new(Vec::new()));
        let acceptor = {
            let (requests, bytes_received, stopping, connections) = (
                requests.clone(),
                bytes_received.clone(),
                stopping.clone(),
                connections.clone(),
            );
            std::thread::spawn(move || {
                let mut handlers = Vec::new();
                for stream in listener.incoming() {
                    if stopping.load(Ordering::SeqCst) {
                        break;
                    }
                    let Ok(stream) = stream else { continue };
                    let _ = stream.set_nodelay(true);
                    if let Ok(clone) = stream.try_clone() {
                        connections.lock().unwrap().push(clone);
                    }
                    let (requests, bytes_received) = (requests.clone(), bytes_received.clone());
                    handlers.push(std::thread::spawn(move || {
                        serve_connection(stream, close_every, status, &requests, &bytes_received)
                    }));
                }
                handlers
            })
        };
        TestServer {
            url: format!("http://{address}/"),
            requests,
            bytes_received,
            stopping,
            connections,
            acceptor: Some(acceptor),
        }
    }

    /// Stops accepting, closes every connection, joins every thread;
    /// returns (requests, request body bytes).
    fn stop(mut self) -> (u64, u64) {
        self.shut_down();
        (
            self.requests.load(Ordering::SeqCst),
            self.bytes_received.load(Ordering::SeqCst),
        )
    }

    fn shut_down(&mut self) {
        let Some(acceptor) = self.acceptor.take() else {
            return;
        };
        self.stopping.store(true, Ordering::SeqCst);
        // Wake the blocking accept.
        let address = self.url.trim_start_matches("http://").trim_end_matches('/');
        let _ = TcpStream::connect(address);
        let handlers = acceptor.join().expect("acceptor thread");
        for connection in self.connections.lock().unwrap().drain(..) {
            let _ = connection.shutdown(Shutdown::Both);
        }
        for handler in handlers {
            handler.join().expect("connection thread");
        }
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        self.shut_down();
    }
}

fn serve_connection(
    mut stream: TcpStream,
    close_every: Option<u64>,
    status: &str,
    requests: &AtomicU64,
    bytes_received: &AtomicU64,
) {
    let body = vec![b'x'; SIZE as usize];
    let mut buffer = vec![0u8; 64 * 1024];
    let mut filled = 0;
    let mut served_here = 0u64;
    loop {
        // Read a request head.
        let head_end = loop {
            if let Some(end) = buffer[..filled].windows(4).position(|w| w == b"\r\n\r\n") {
                break end + 4;
            }
            match stream.read(&mut buffer[filled..]) {
                Ok(0) | Err(_) => return,
                Ok(read) => filled += read,
            }
        };
        let head = String::from_utf8_lossy(&buffer[..head_end]).into_owned();
        requests.fetch_add(1, Ordering::SeqCst);
        served_here += 1;
        let content_length: u64 = head
            .lines()
            .find_map(|line| {
                let (name, value) = line.split_once(':')?;
                name.eq_ignore_ascii_case("content-length")
                    .then(|| value.trim().parse().ok())?
            })
            .unwrap_or(0);
        // Consume the request body (these clients never pipeline, so
        // nothing follows it).
        let in_buffer = (filled - head_end) as u64;
        if in_buffer >= content_length {
            let consumed = head_end + content_length as usize;
            buffer.copy_within(consumed..filled, 0);
            filled -= consumed;
        } else {
            let mut remaining = content_length - in_buffer;
            while remaining > 0 {
                let want = buffer.len().min(remaining as usize);
                match stream.read(&mut buffer[..want]) {
                    Ok(0) | Err(_) => return,
                    Ok(read) => remaining -= read as u64,
                }
            }
            filled = 0;
        }
        bytes_received.fetch_add(content_length, Ordering::SeqCst);
        let is_get = head.starts_with("GET ");
        let close = close_every.is_some_and(|every| served_here.is_multiple_of(every));
        let length = if is_get { body.len() } else { 0 };
        let mut response = format!(
            "HTTP/1.1 {status}\r\nContent-Length: {length}\r\n{}\r\n",
            if close { "Connection: close\r\n" } else { "" }
        )
        .into_bytes();
        if is_get {
            response.extend_from_slice(&body);
        }
        if stream.write_all(&response).is_err() {
            return;
        }
        if close {
            let _ = stream.shutdown(Shutdown::Both);
            return;
        }
    }
}

// ---------------------------------------------------------------------------
// The tests
// ---------------------------------------------------------------------------

#[test]
fn each_transport_against_the_embedded_server_counts_every_request() {
    for &(test, sync) in VARIANTS {
        let size = if test == "HttpPutTest" { "1000" } else { "16" };
        let run = short_run(test, sync, &["--size", size]);
        let total = run.total_operations();
        let served = run.embedded_served();
        assert_eq!(served.len(), 1, "one embedded server\n{}", run.dump());
        let (requests, bytes) = served[0];
        let name = describe(test, sync);
        assert!(total > 0, "{name} completed no operation\n{}", run.dump());
        assert_eq!(
            total,
            requests,
            "{name}: reported operations vs served requests\n{}",
            run.dump()
        );
        if test == "HttpPutTest" {
            assert_eq!(
                bytes,
                requests * 1000,
                "{name}: uploaded bytes\n{}",
                run.dump()
            );
        } else {
            assert_eq!(bytes, 0, "{name}: a GET has no body");
        }
    }
}

#[test]
fn each_transport_against_a_loopback_server_of_our_own_counts_every_request() {
    for &(test, sync) in VARIANTS {
        let server = TestServer::start(None, "200 OK");
        let url = server.url.clone();
        let run = short_run(test, sync, &["--url", &url, "--size", "100"]);
        let (requests, bytes) = server.stop();
        let total = run.total_operations();
        let name = describe(test, sync);
        assert!(total > 0, "{name} completed no operation\n{}", run.dump());
        assert_eq!(
            total,
            requests,
            "{name}: reported operations vs served requests\n{}",
            run.dump()
        );
        assert!(
            run.embedded_served().is_empty(),
            "{name}: with --url no embedded server starts"
        );
        let expected_bytes = if test == "HttpPutTest" {
            requests * 100
        } else {
            0
        };
        assert_eq!(bytes, expected_bytes, "{name}: request body bytes");
    }
}

#[test]
fn each_transport_reconnects_when_the_server_closes_connections() {
    for &(test, sync) in VARIANTS {
        let server = TestServer::start(Some(3), "200 OK");
        let url = server.url.clone();
        let run = short_run(test, sync, &["--url", &url]);
        let (requests, _) = server.stop();
        let name = describe(test, sync);
        let total = run.total_operations();
        assert!(
            total > 3,
            "{name} completed too few operations\n{}",
            run.dump()
        );
        assert_eq!(
            total,
            requests,
            "{name}: reported operations vs served requests\n{}",
            run.dump()
        );
    }
}

#[test]
fn each_process_has_its_own_embedded_server() {
    let run = TransportRun::new(
        systemperf("HttpGetTest")
            .duration(1)
            .warmup(0)
            .parallel(2)
            .processes(2),
    );
    let total = run.total_operations();
    let served = run.embedded_served();
    assert_eq!(
        served.len(),
        2,
        "one embedded server per process\n{}",
        run.dump()
    );
    assert_eq!(
        total,
        served.iter().map(|(requests, _)| requests).sum::<u64>(),
        "{}",
        run.dump()
    );
}

#[test]
fn a_missing_variant_is_a_usage_error() {
    // The async-only tests run under --sync through the sync bridge; only
    // a sync-only client has a variant missing.
    #[allow(
        clippy::single_element_loop,
        reason = "the list of tests that lack a variant"
    )]
    for (test, sync) in [("UreqGetTest", false)] {
        let run = short_run(test, sync, &[]);
        let name = describe(test, sync);
        assert_eq!(run.output.code, Some(2), "{name}\n{}", run.dump());
        let variant = if sync {
            "no sync variant"
        } else {
            "no async variant"
        };
        assert!(
            run.output.stderr.contains(variant),
            "{name}\n{}",
            run.dump()
        );
        assert!(
            run.embedded_served().is_empty(),
            "{name}: nothing started\n{}",
            run.dump()
        );
    }
}

#[test]
fn bad_urls_are_usage_errors() {
    for url in ["https://127.0.0.1:1/", "ftp://127.0.0.1/", "not a url"] {
        let run = TransportRun::new(
            systemperf("HttpGetTest")
                .duration(1)
                .warmup(0)
                .option("--url", url),
        );
        assert_eq!(run.output.code, Some(2), "{url}\n{}", run.dump());
        assert!(run.output.stderr.contains("--url"), "{url}\n{}", run.dump());
    }
}

#[test]
fn an_error_status_fails_the_run() {
    // Every transport must fail (exit 1) on a 404 and name the status, not
    // count the operation.
    let server = TestServer::start(None, "404 Not Found");
    let url = format!("{}missing", server.url);
    for &(test, sync) in VARIANTS {
        let run = short_run(test, sync, &["--url", &url]);
        let name = describe(test, sync);
        assert_eq!(run.output.code, Some(1), "{name}\n{}", run.dump());
        assert!(
            run.output.stderr.contains("404"),
            "{name} names the status\n{}",
            run.dump()
        );
    }
    server.stop();
}
