//! The server against a fake upstream service of this file's own (a hyper
//! server on 127.0.0.1:0): record forwarding and response fidelity (spec
//! section 12, check 8), `x-recording-remove`, matcher cases (check 6) and
//! the recording file format (check 10).

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use bytes::Bytes;
use http::{HeaderMap, Request, Response, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::{TokioExecutor, TokioIo};
use test_proxy::encoding::{base64_decode, gunzip, gzip};
use test_proxy::{Config, Recording, SessionCounts, TestProxy};

/// The fake service: what each path answers.
async fn service(
    request: Request<Incoming>,
    count: Arc<AtomicU64>,
) -> Result<Response<Full<Bytes>>, Infallible> {
    count.fetch_add(1, Ordering::SeqCst);
    let path = request.uri().path().to_owned();
    let method = request.method().clone();
    let body = request
        .into_body()
        .collect()
        .await
        .map(|b| b.to_bytes())
        .unwrap_or_default();
    let response = Response::builder();
    let response = match path.as_str() {
        "/status/404" => response
            .status(404)
            .body(Full::new(Bytes::from_static(b"not here"))),
        "/status/409" => response
            .status(409)
            .header("x-ms-error-code", "Conflict")
            .body(Full::new(Bytes::new())),
        "/multi" => response
            .header("set-cookie", "a=1")
            .header("set-cookie", "b=2")
            .header("x-ms-request-id", "r1")
            .header("retry-after", "30")
            .body(Full::new(Bytes::from_static(b"multi"))),
        "/binary" => response
            .header("content-type", "application/octet-stream")
            .body(Full::new(Bytes::from((0..=255u8).collect::<Vec<_>>()))),
        "/gzip" => response
            .header("content-encoding", "gzip")
            .header("content-type", "text/plain")
            .body(Full::new(Bytes::from(gzip(b"hello gzip")))),
        "/redirect" => response
            .status(302)
            .header("location", "/binary")
            .body(Full::new(Bytes::new())),
        "/echo" => response
            .header("content-type", "application/json")
            .body(Full::new(Bytes::from(format!(
                "{{\"method\":\"{method}\",\"length\":{}}}",
                body.len()
            )))),
        _ => response.body(Full::new(Bytes::from_static(b"ok"))),
    };
    Ok(response.unwrap())
}

struct Fixture {
    proxy: TestProxy,
    proxy_address: SocketAddr,
    upstream: String,
    upstream_requests: Arc<AtomicU64>,
    client: Client<HttpConnector, Full<Bytes>>,
    _storage: tempdir::Dir,
}

mod tempdir {
    /// A directory removed when dropped.
    pub struct Dir(pub std::path::PathBuf);
    impl Dir {
        pub fn new() -> Dir {
            let path = std::env::temp_dir().join(format!(
                "test-proxy-{}-{}",
                std::process::id(),
                rand_suffix()
            ));
            std::fs::create_dir_all(&path).unwrap();
            Dir(path)
        }
    }
    fn rand_suffix() -> u64 {
        use std::sync::atomic::{AtomicU64, Ordering};
        static NEXT: AtomicU64 = AtomicU64::new(0);
        NEXT.fetch_add(1, Ordering::SeqCst)
    }
    impl Drop for Dir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }
}

impl Fixture {
    async fn new() -> Fixture {
        Fixture::with(false, false).await
    }

    /// `https_upstream`: the fake service speaks TLS with a fresh
    /// self-signed certificate; `insecure_upstream`: the proxy's
    /// `--insecure`.
    async fn with(https_upstream: bool, insecure_upstream: bool) -> Fixture {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let scheme = if https_upstream { "https" } else { "http" };
        let upstream = format!("{scheme}://{}", listener.local_addr().unwrap());
        let acceptor = https_upstream.then(|| {
            let certificate = test_proxy::CertificateAndKey::self_signed().unwrap();
            tokio_rustls::TlsAcceptor::from(certificate.server_config().unwrap())
        });
        let upstream_requests = Arc::new(AtomicU64::new(0));
        let count = upstream_requests.clone();
        tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    return;
                };
                let count = count.clone();
                let acceptor = acceptor.clone();
                tokio::spawn(async move {
                    let service = service_fn(move |request| service(request, count.clone()));
                    match acceptor {
                        None => {
                            let _ = http1::Builder::new()
                                .serve_connection(TokioIo::new(stream), service)
                                .await;
                        }
                        Some(acceptor) => {
                            let Ok(stream) = acceptor.accept(stream).await else {
                                return;
                            };
                            let _ = http1::Builder::new()
                                .serve_connection(TokioIo::new(stream), service)
                                .await;
                        }
                    }
                });
            }
        });
        let storage = tempdir::Dir::new();
        let mut config = Config::loopback(0);
        config.storage_location = storage.0.clone();
        config.threads = 2;
        config.insecure_upstream = insecure_upstream;
        let proxy = TestProxy::start(config).unwrap();
        let proxy_address = proxy.addresses()[0];
        Fixture {
            proxy,
            proxy_address,
            upstream,
            upstream_requests,
            client: Client::builder(TokioExecutor::new()).build(HttpConnector::new()),
            _storage: storage,
        }
    }

    async fn send(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: &'static [u8],
    ) -> (StatusCode, HeaderMap, Bytes) {
        let mut request = Request::builder()
            .method(method)
            .uri(format!("http://{}{path}", self.proxy_address));
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let response = self
            .client
            .request(request.body(Full::new(Bytes::from_static(body))).unwrap())
            .await
            .unwrap();
        let (parts, body) = response.into_parts();
        (
            parts.status,
            parts.headers,
            body.collect().await.unwrap().to_bytes(),
        )
    }

    async fn control(
        &self,
        path: &str,
        headers: &[(&str, &str)],
        body: &'static [u8],
    ) -> (StatusCode, HeaderMap, Bytes) {
        self.send("POST", path, headers, body).await
    }

    async fn start_recording(&self) -> String {
        let (status, headers, _) = self.control("/Record/Start", &[], b"").await;
        assert_eq!(status, 200);
        headers["x-recording-id"].to_str().unwrap().to_owned()
    }

    async fn proxied(
        &self,
        mode: &str,
        id: &str,
        method: &str,
        path: &str,
        extra: &[(&str, &str)],
        body: &'static [u8],
    ) -> (StatusCode, HeaderMap, Bytes) {
        let mut headers = vec![
            ("x-recording-upstream-base-uri", self.upstream.as_str()),
            ("x-recording-id", id),
            ("x-recording-mode", mode),
            ("x-recording-remove", "false"),
        ];
        headers.extend_from_slice(extra);
        self.send(method, path, &headers, body).await
    }

    /// Records `requests`, stops, starts playback; returns the playback id.
    async fn record(
        &self,
        requests: &[(&str, &str)],
    ) -> (String, Vec<(StatusCode, HeaderMap, Bytes)>) {
        let id = self.start_recording().await;
        let mut recorded = Vec::new();
        for (method, path) in requests {
            recorded.push(self.proxied("record", &id, method, path, &[], b"").await);
        }
        assert_eq!(
            self.control("/Record/Stop", &[("x-recording-id", &id)], b"")
                .await
                .0,
            200
        );
        let (status, headers, body) = self
            .control("/Playback/Start", &[("x-recording-id", &id)], b"")
            .await;
        assert_eq!((status, &body[..]), (StatusCode::OK, &b"{}"[..]));
        (
            headers["x-recording-id"].to_str().unwrap().to_owned(),
            recorded,
        )
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn recorded_responses_play_back_faithfully() {
    let fixture = Fixture::new().await;
    let requests = [
        ("GET", "/status/404"),
        ("GET", "/status/409"),
        ("GET", "/multi"),
        ("GET", "/binary"),
        ("GET", "/gzip"),
        ("HEAD", "/binary"),
        ("GET", "/redirect"),
    ];
    let (playback, recorded) = fixture.record(&requests).await;
    let upstream = fixture.upstream_requests.load(Ordering::SeqCst);
    assert_eq!(upstream, 8, "the redirect was followed upstream");
    // Record mode answers with the service's responses.
    assert_eq!(recorded[0].0, 404);
    assert_eq!(recorded[6].0, 200, "redirect followed");
    assert_eq!(recorded[6].2.len(), 256);
    for round in 0..2 {
        for ((method, path), (status, headers, body)) in requests.iter().zip(&recorded) {
            let (played_status, played_headers, played_body) = fixture
                .proxied("playback", &playback, method, path, &[], b"")
                .await;
            assert_eq!(played_status, *status, "{path} round {round}");
            assert_eq!(&played_body, body, "{path}");
            for name in [
                "content-type",
                "content-encoding",
                "x-ms-error-code",
                "x-ms-request-id",
            ] {
                assert_eq!(played_headers.get(name), headers.get(name), "{path} {name}");
            }
        }
    }
    let (_, multi, _) = fixture
        .proxied("playback", &playback, "GET", "/multi", &[], b"")
        .await;
    assert_eq!(
        multi.get_all("set-cookie").iter().collect::<Vec<_>>(),
        ["a=1", "b=2"]
    );
    assert_eq!(multi["retry-after"], "0", "the default transform");
    let (_, gzip_headers, gzipped) = fixture
        .proxied("playback", &playback, "GET", "/gzip", &[], b"")
        .await;
    assert_eq!(gzip_headers["content-encoding"], "gzip");
    assert_eq!(gunzip(&gzipped).unwrap(), b"hello gzip", "re-compressed");
    assert_eq!(
        fixture.upstream_requests.load(Ordering::SeqCst),
        upstream,
        "playback never reaches the service"
    );
    // A request nothing matches: the mismatch contract.
    let (status, headers, body) = fixture
        .proxied("playback", &playback, "GET", "/other", &[], b"")
        .await;
    assert_eq!(status, 404);
    assert_eq!(headers["x-request-mismatch"], "true");
    let message = String::from_utf8(
        base64_decode(headers["x-request-mismatch-error"].to_str().unwrap()).unwrap(),
    )
    .unwrap();
    assert!(
        message.starts_with(&format!(
            "Unable to find a record for the request GET {}/other",
            fixture.upstream
        )),
        "{message}"
    );
    assert!(!message.contains("Remaining Entries"), "{message}");
    let json: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(json["Status"], "NotFound");
    assert!(
        json["Message"]
            .as_str()
            .unwrap()
            .contains("Remaining Entries:")
    );
    let stop = fixture
        .control(
            "/Playback/Stop",
            &[
                ("x-recording-id", &playback),
                ("x-purge-inmemory-recording", "True"),
            ],
            b"",
        )
        .await;
    assert_eq!(stop.0, 200);
    assert_eq!(fixture.proxy.sessions(), SessionCounts::default());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn authorization_is_sanitized_and_remove_consumes_in_order() {
    let fixture = Fixture::new().await;
    let id = fixture.start_recording().await;
    for path in ["/a", "/a"] {
        let (status, ..) = fixture
            .proxied(
                "record",
                &id,
                "GET",
                path,
                &[
                    ("authorization", "Bearer one"),
                    ("x-ms-client-request-id", "one"),
                ],
                b"",
            )
            .await;
        assert_eq!(status, 200);
    }
    fixture
        .control("/Record/Stop", &[("x-recording-id", &id)], b"")
        .await;
    let (_, headers, _) = fixture
        .control("/Playback/Start", &[("x-recording-id", &id)], b"")
        .await;
    let playback = headers["x-recording-id"].to_str().unwrap().to_owned();
    // Another token matches (the sanitizer); with remove true the two
    // entries are consumed, then nothing is left.
    let remove = [
        ("authorization", "Bearer two"),
        ("x-recording-remove", "true"),
        ("x-ms-client-request-id", "two"),
    ];
    let headers = |extra: &[(&'static str, &'static str)]| -> Vec<(&'static str, &'static str)> {
        extra.to_vec()
    };
    for expected in [200, 200, 404] {
        let mut request = Request::builder()
            .method("GET")
            .uri(format!("http://{}/a", fixture.proxy_address));
        for (name, value) in headers(&remove) {
            request = request.header(name, value);
        }
        request = request
            .header("x-recording-upstream-base-uri", fixture.upstream.as_str())
            .header("x-recording-id", playback.as_str())
            .header("x-recording-mode", "playback");
        let response = fixture
            .client
            .request(request.body(Full::new(Bytes::new())).unwrap())
            .await
            .unwrap();
        assert_eq!(response.status(), expected);
        if expected == 200 {
            assert_eq!(
                response.headers()["x-ms-client-request-id"],
                "two",
                "the default transform"
            );
        }
    }
    // Without the header on one side: a difference.
    let (status, ..) = fixture
        .proxied("playback", &playback, "GET", "/a", &[], b"")
        .await;
    assert_eq!(status, 404, "entries consumed");
    fixture
        .control("/Playback/Stop", &[("x-recording-id", &playback)], b"")
        .await;
    assert_eq!(
        fixture.proxy.sessions().in_memory,
        1,
        "no purge asked: the recording stays"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn set_matcher_per_session_and_errors() {
    let fixture = Fixture::new().await;
    let id = fixture.start_recording().await;
    fixture
        .proxied(
            "record",
            &id,
            "PUT",
            "/echo",
            &[("content-type", "application/json")],
            br#"{"a":1,"b":2}"#,
        )
        .await;
    fixture
        .control("/Record/Stop", &[("x-recording-id", &id)], b"")
        .await;
    let (_, headers, _) = fixture
        .control("/Playback/Start", &[("x-recording-id", &id)], b"")
        .await;
    let playback = headers["x-recording-id"].to_str().unwrap().to_owned();
    let json = [("content-type", "application/json")];
    // Key order does not matter in JSON bodies; values do.
    assert_eq!(
        fixture
            .proxied(
                "playback",
                &playback,
                "PUT",
                "/echo",
                &json,
                br#"{"b":2,"a":1}"#
            )
            .await
            .0,
        200
    );
    assert_eq!(
        fixture
            .proxied(
                "playback",
                &playback,
                "PUT",
                "/echo",
                &json,
                br#"{"a":1,"b":3}"#
            )
            .await
            .0,
        404
    );
    let (status, _, body) = fixture
        .control(
            "/Admin/SetMatcher",
            &[
                ("x-abstraction-identifier", "BodilessMatcher"),
                ("x-recording-id", &playback),
            ],
            b"",
        )
        .await;
    assert_eq!(status, 200, "{body:?}");
    assert_eq!(
        fixture
            .proxied(
                "playback",
                &playback,
                "PUT",
                "/echo",
                &json,
                br#"{"a":1,"b":3}"#
            )
            .await
            .0,
        200
    );
    let (status, headers, _) = fixture
        .control(
            "/Admin/SetMatcher",
            &[("x-abstraction-identifier", "NoSuchMatcher")],
            b"",
        )
        .await;
    assert_eq!(status, 400);
    let message = String::from_utf8(
        base64_decode(headers["x-request-known-exception-error"].to_str().unwrap()).unwrap(),
    )
    .unwrap();
    assert!(message.contains("not not recognized"), "{message}");
    let (status, ..) = fixture
        .control(
            "/Admin/SetMatcher",
            &[("x-abstraction-identifier", "CustomDefaultMatcher")],
            br#"{"compareBodies": 1}"#,
        )
        .await;
    assert_eq!(status, 400);
    let (status, ..) = fixture
        .control(
            "/Admin/SetMatcher",
            &[
                ("x-abstraction-identifier", "HeaderlessMatcher"),
                ("x-recording-id", "nope"),
            ],
            b"",
        )
        .await;
    assert_eq!(status, 400);
    let (status, ..) = fixture.control("/Record/Start", &[], b"not json").await;
    assert_eq!(status, 400);
    // Record mode errors: unknown session, no upstream.
    assert_eq!(
        fixture
            .proxied("record", "nope", "GET", "/", &[], b"")
            .await
            .0,
        400
    );
    let (status, headers, _) = fixture
        .send(
            "GET",
            "/",
            &[("x-recording-mode", "record"), ("x-recording-id", &id)],
            b"",
        )
        .await;
    assert_eq!(status, 400);
    assert_eq!(headers["x-request-known-exception"], "true");
}

/// The golden recording of spec section 8: read and written back byte for
/// byte (header sorting, body encodings, `null` and `[]`).
const GOLDEN: &str = include_str!("golden.json");

#[test]
fn golden_recording_round_trips() {
    let recording = Recording::from_json(GOLDEN.as_bytes()).unwrap();
    assert_eq!(recording.entries.len(), 2);
    assert_eq!(
        recording.entries[0].response_body.as_deref(),
        Some(&b"hello"[..])
    );
    assert_eq!(
        recording.entries[0].request_body.as_deref(),
        Some(&br#"{"name":"value"}"#[..])
    );
    assert_eq!(recording.entries[1].request_body, None);
    assert_eq!(recording.to_json(), GOLDEN);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn file_recordings_write_the_format_and_play_back() {
    let fixture = Fixture::new().await;
    let (status, headers, _) = fixture
        .control(
            "/Record/Start",
            &[("content-type", "application/json")],
            br#"{"x-recording-file": "sub/recording"}"#,
        )
        .await;
    assert_eq!(status, 200);
    let id = headers["x-recording-id"].to_str().unwrap().to_owned();
    fixture
        .proxied(
            "record",
            &id,
            "GET",
            "/binary?x=1",
            &[("accept", "*/*")],
            b"",
        )
        .await;
    fixture
        .proxied(
            "record",
            &id,
            "PUT",
            "/echo",
            &[("content-type", "application/json")],
            br#"{"k":"v"}"#,
        )
        .await;
    fixture
        .control(
            "/Record/Stop",
            &[
                ("x-recording-id", &id),
                ("content-type", "application/json"),
            ],
            br#"{"Seed": "abc="}"#,
        )
        .await;
    let path = fixture._storage.0.join("sub/recording.json");
    let text = std::fs::read_to_string(&path).unwrap();
    let json: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert!(text.ends_with("}\n"), "trailing newline");
    assert!(
        text.find("\"RequestUri\"").unwrap() < text.find("\"RequestMethod\"").unwrap(),
        "property order"
    );
    let entries = json["Entries"].as_array().unwrap();
    assert_eq!(
        entries[0]["RequestUri"],
        format!("{}/binary?x=1", fixture.upstream)
    );
    assert_eq!(entries[0]["RequestBody"], serde_json::Value::Null);
    assert_eq!(entries[0]["StatusCode"], 200);
    assert_eq!(
        entries[0]["ResponseBody"]
            .as_str()
            .map(|b| base64_decode(b).unwrap().len()),
        Some(256),
        "binary: base64"
    );
    assert_eq!(
        entries[1]["RequestBody"],
        serde_json::json!({"k": "v"}),
        "JSON object body"
    );
    assert_eq!(
        entries[1]["ResponseBody"],
        serde_json::json!({"method": "PUT", "length": 9})
    );
    assert_eq!(json["Variables"], serde_json::json!({"Seed": "abc="}));
    // Played back from the file.
    let (status, headers, body) = fixture
        .control(
            "/Playback/Start",
            &[("content-type", "application/json")],
            br#"{"x-recording-file": "sub/recording"}"#,
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(
        serde_json::from_slice::<serde_json::Value>(&body).unwrap(),
        serde_json::json!({"Seed": "abc="})
    );
    assert!(headers.contains_key("x-base64-recording-file-location"));
    let playback = headers["x-recording-id"].to_str().unwrap().to_owned();
    let upstream = fixture.upstream_requests.load(Ordering::SeqCst);
    let (status, _, body) = fixture
        .proxied(
            "playback",
            &playback,
            "GET",
            "/binary?x=1",
            &[("accept", "*/*")],
            b"",
        )
        .await;
    assert_eq!((status, body.len()), (StatusCode::OK, 256));
    let (status, ..) = fixture
        .proxied(
            "playback",
            &playback,
            "PUT",
            "/echo",
            &[("content-type", "application/json")],
            br#"{ "k" : "v" }"#,
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(fixture.upstream_requests.load(Ordering::SeqCst), upstream);
    // A file that is not there: the mismatch error.
    let (status, headers, _) = fixture
        .control(
            "/Playback/Start",
            &[],
            br#"{"x-recording-file": "missing"}"#,
        )
        .await;
    assert_eq!(status, 404);
    assert_eq!(headers["x-request-mismatch"], "true");
}

/// Check 9, the upstream side: record mode forwards to an `https://`
/// service; its self-signed certificate fails the check (the recording
/// gets the error, naming the certificate) unless the proxy runs with
/// `--insecure`, and then the response is recorded and plays back.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn https_upstreams_are_checked_unless_insecure() {
    let strict = Fixture::with(true, false).await;
    assert!(strict.upstream.starts_with("https://"));
    let id = strict.start_recording().await;
    let (status, headers, _) = strict
        .proxied("record", &id, "GET", "/multi", &[], b"")
        .await;
    assert_eq!(status, 500);
    let reason = headers["x-request-exception-error"].to_str().unwrap();
    let reason = String::from_utf8(base64_decode(reason).unwrap()).unwrap();
    assert!(reason.contains("certificate"), "{reason}");
    assert_eq!(strict.upstream_requests.load(Ordering::SeqCst), 0);
    strict.proxy.stop();

    let insecure = Fixture::with(true, true).await;
    let (playback, recorded) = insecure.record(&[("GET", "/multi")]).await;
    assert_eq!(recorded[0].0, 200);
    assert_eq!(&recorded[0].2[..], b"multi");
    let (status, _, body) = insecure
        .proxied("playback", &playback, "GET", "/multi", &[], b"")
        .await;
    assert_eq!((status, &body[..]), (StatusCode::OK, &b"multi"[..]));
    assert_eq!(insecure.upstream_requests.load(Ordering::SeqCst), 1);
    insecure.proxy.stop();
}
