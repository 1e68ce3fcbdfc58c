//! What the server does with each request (spec sections 3-6): routing by
//! `x-recording-mode`, the control endpoints, record forwarding and
//! playback.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::Ordering;

use bytes::Bytes;
use http::{HeaderMap, HeaderValue, Method, Request, Response, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;

use crate::codec::{base64_encode, gunzip};
use crate::error::ProxyError;
use crate::matcher::{Incoming as PlaybackRequest, lower};
use crate::recording::{Entry, Headers, Recording, first_header};
use crate::store::{InMemory, Store, Stored};

/// The upstream client of record mode.
pub(crate) type Upstream = Client<HttpsConnector<HttpConnector>, Full<Bytes>>;

/// Redirects followed in record mode before giving up.
const MAX_REDIRECTS: usize = 10;
/// How long record mode waits for the service (the real proxy's 600 s).
const UPSTREAM_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(600);
/// The largest request or response body the server reads.
const MAX_BODY: usize = 1 << 30;

/// Everything a request needs.
#[derive(Debug)]
pub(crate) struct Shared {
    pub(crate) store: Store,
    pub(crate) upstream: Upstream,
}

type Reply = Response<Full<Bytes>>;
type Outcome = Result<Reply, ProxyError>;

/// Answers one request; never fails (errors become their responses).
pub(crate) async fn handle(
    shared: Arc<Shared>,
    request: Request<Incoming>,
) -> Result<Reply, std::convert::Infallible> {
    let mode = {
        let mut modes = request.headers().get_all("x-recording-mode").iter();
        match (modes.next(), modes.next()) {
            (Some(mode), None) => mode.to_str().ok().map(str::to_ascii_lowercase),
            _ => None,
        }
    };
    let outcome = match mode.as_deref() {
        Some("record") => record(&shared, request).await,
        Some("playback") => playback(&shared, request).await,
        _ => control(&shared, request).await,
    };
    Ok(outcome.unwrap_or_else(ProxyError::into_response))
}

fn empty(status: StatusCode) -> Reply {
    let mut response = Response::new(Full::new(Bytes::new()));
    *response.status_mut() = status;
    response
}

fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get(name)
        .and_then(|value| value.to_str().ok())
        .map(str::trim)
        .filter(|value| !value.is_empty())
}

fn recording_id(headers: &HeaderMap) -> Result<String, ProxyError> {
    header(headers, "x-recording-id")
        .map(str::to_owned)
        .ok_or_else(|| {
            ProxyError::bad_request("Expected header x-recording-id is not populated in request.")
        })
}

/// A boolean header as .NET parses it (`True`, `false`, ...).
fn parse_bool(value: &str) -> Option<bool> {
    match value.trim().to_ascii_lowercase().as_str() {
        "true" => Some(true),
        "false" => Some(false),
        _ => None,
    }
}

async fn read_body(body: Incoming) -> Result<Bytes, ProxyError> {
    let limited = http_body_util::Limited::new(body, MAX_BODY);
    limited
        .collect()
        .await
        .map(|collected| collected.to_bytes())
        .map_err(|error| ProxyError::bad_request(format!("cannot read the request body: {error}")))
}

fn json_body(body: &Bytes) -> Result<Option<serde_json::Value>, ProxyError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(None);
    }
    serde_json::from_slice(body)
        .map(Some)
        .map_err(|error| ProxyError::bad_request(format!("The body is not valid JSON: {error}")))
}

/// `x-recording-file` of a control call's JSON body (key case-insensitive).
fn recording_file(body: Option<&serde_json::Value>) -> Result<Option<String>, ProxyError> {
    let Some(serde_json::Value::Object(members)) = body else {
        return Ok(None);
    };
    match members
        .iter()
        .find(|(key, _)| key.eq_ignore_ascii_case("x-recording-file"))
    {
        None => Ok(None),
        Some((_, serde_json::Value::String(path))) if path.trim().is_empty() => Ok(None),
        Some((_, serde_json::Value::String(path))) => Ok(Some(path.clone())),
        Some(_) => Err(ProxyError::bad_request(
            "The value of 'x-recording-file' must be a string.",
        )),
    }
}

fn resolve(store: &Store, path: &str) -> PathBuf {
    let mut path = PathBuf::from(path);
    if path.is_relative() {
        path = store.context_directory.join(path);
    }
    if path.extension().is_none_or(|extension| extension != "json") {
        let mut text = path.into_os_string();
        text.push(".json");
        path = PathBuf::from(text);
    }
    path
}

async fn control(shared: &Shared, request: Request<Incoming>) -> Outcome {
    let path = request
        .uri()
        .path()
        .trim_end_matches('/')
        .to_ascii_lowercase();
    let known_post = [
        "/record/start",
        "/record/stop",
        "/playback/start",
        "/playback/stop",
        "/admin/setmatcher",
        "/admin/reset",
        "/admin/addsanitizer",
        "/admin/addsanitizers",
        "/admin/removesanitizers",
        "/admin/addtransform",
        "/admin/setrecordingoptions",
    ];
    let known_get = [
        "/admin/isalive",
        "/admin/getsanitizers",
        "/info/available",
        "/info/active",
    ];
    let method = request.method().clone();
    if known_get.contains(&path.as_str()) {
        if method != Method::GET && method != Method::HEAD {
            return Ok(empty(StatusCode::METHOD_NOT_ALLOWED));
        }
        return match path.as_str() {
            "/admin/isalive" => Ok(empty(StatusCode::OK)),
            _ => Err(unsupported(&path)),
        };
    }
    if !known_post.contains(&path.as_str()) {
        return Ok(empty(StatusCode::NOT_FOUND));
    }
    if method != Method::POST {
        return Ok(empty(StatusCode::METHOD_NOT_ALLOWED));
    }
    let (parts, body) = request.into_parts();
    let headers = parts.headers;
    let body = read_body(body).await?;
    let store = &shared.store;
    match path.as_str() {
        "/record/start" => {
            let json = json_body(&body)?;
            let file = recording_file(json.as_ref())?;
            if json.is_some() && file.is_none() {
                return Err(ProxyError::bad_request(
                    "If providing a body to /Record/Start, the key 'x-recording-file' must be provided. If attempting to start an in-memory recording, provide NO body.",
                ));
            }
            let id = store.start_recording(file.map(|file| resolve(store, &file)));
            store.log(format!("record/start {id}"));
            let mut response = empty(StatusCode::OK);
            response.headers_mut().insert(
                "x-recording-id",
                HeaderValue::from_str(&id).expect("a GUID is a header value"),
            );
            Ok(response)
        }
        "/record/stop" => {
            let id = recording_id(&headers)?;
            let skip = match header(&headers, "x-recording-skip") {
                None => false,
                Some("request-response") => true,
                Some(_) => {
                    return Err(ProxyError::bad_request(
                        "When stopping a recording and providing a \"x-recording-skip\" value, only value \"request-response\" is accepted.",
                    ));
                }
            };
            let variables = match json_body(&body)? {
                Some(serde_json::Value::Object(members)) => members
                    .into_iter()
                    .map(|(key, value)| {
                        let value = match value {
                            serde_json::Value::String(text) => text,
                            other => other.to_string(),
                        };
                        (key, value)
                    })
                    .collect(),
                _ => Vec::new(),
            };
            store.log(format!("record/stop {id}"));
            let Some(session) = store.stop_recording(&id) else {
                return Ok(empty(StatusCode::OK));
            };
            if skip {
                return Ok(empty(StatusCode::OK));
            }
            let entries =
                std::mem::take(&mut *session.entries.lock().unwrap_or_else(|p| p.into_inner()));
            match &session.path {
                None => store.keep_in_memory(
                    id,
                    InMemory {
                        entries: entries
                            .into_iter()
                            .map(|entry| Arc::new(Stored::new(entry)))
                            .collect(),
                        variables,
                    },
                ),
                Some(path) => {
                    let recording = Recording { entries, variables };
                    if let Some(parent) = path.parent() {
                        std::fs::create_dir_all(parent).map_err(|error| {
                            ProxyError::Unexpected(format!(
                                "cannot create {}: {error}",
                                parent.display()
                            ))
                        })?;
                    }
                    std::fs::write(path, recording.to_json()).map_err(|error| {
                        ProxyError::Unexpected(format!("cannot write {}: {error}", path.display()))
                    })?;
                }
            }
            Ok(empty(StatusCode::OK))
        }
        "/playback/start" => {
            let json = json_body(&body)?;
            let file = recording_file(json.as_ref())?;
            let mut response = empty(StatusCode::OK);
            let (entries, variables, source) = match file {
                Some(file) => {
                    let path = resolve(store, &file);
                    let location = base64_encode(path.display().to_string().as_bytes());
                    response.headers_mut().insert(
                        "x-base64-recording-file-location",
                        HeaderValue::from_str(&location).expect("base64 is a header value"),
                    );
                    let text = std::fs::read(&path).map_err(|_| {
                        ProxyError::Mismatch(format!(
                            "Recording file path {} does not exist.",
                            path.display()
                        ))
                    })?;
                    let recording = Recording::from_json(&text).map_err(|error| {
                        ProxyError::bad_request(format!(
                            "The recording file {} is not valid: {error}",
                            path.display()
                        ))
                    })?;
                    let entries = recording
                        .entries
                        .into_iter()
                        .map(|entry| Arc::new(Stored::new(entry)))
                        .collect();
                    (entries, recording.variables, None)
                }
                None => {
                    let Some(id) = header(&headers, "x-recording-id") else {
                        return Err(ProxyError::bad_request(
                            "At least one of either JSON body key 'x-recording-file' or header 'x-recording-id' must be populated when starting playback.",
                        ));
                    };
                    let recording = store.in_memory(id).ok_or_else(|| {
                        ProxyError::bad_request(format!("There is no in-memory session with id {id} available for playback retrieval."))
                    })?;
                    (
                        recording.entries.clone(),
                        recording.variables.clone(),
                        Some(id.to_owned()),
                    )
                }
            };
            let new_id = store.start_playback(entries, source.clone());
            store.log(format!(
                "playback/start {} -> {new_id}",
                source.as_deref().unwrap_or("file")
            ));
            let variables: serde_json::Map<String, serde_json::Value> = variables
                .into_iter()
                .map(|(key, value)| (key, serde_json::Value::String(value)))
                .collect();
            *response.body_mut() = Full::new(Bytes::from(
                serde_json::Value::Object(variables).to_string(),
            ));
            let response_headers = response.headers_mut();
            response_headers.insert(
                "x-recording-id",
                HeaderValue::from_str(&new_id).expect("a GUID is a header value"),
            );
            response_headers.insert(
                http::header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            );
            Ok(response)
        }
        "/playback/stop" => {
            let id = recording_id(&headers)?;
            let purge = header(&headers, "x-purge-inmemory-recording")
                .and_then(parse_bool)
                .unwrap_or(false);
            let session = store.stop_playback(&id).ok_or_else(|| {
                ProxyError::bad_request(format!(
                    "There is no active playback session under recording id {id}."
                ))
            })?;
            let purged = purge
                && session
                    .source
                    .as_deref()
                    .is_some_and(|source| store.purge(source));
            store.log(format!(
                "playback/stop {id}{}",
                if purged { " purge" } else { "" }
            ));
            Ok(empty(StatusCode::OK))
        }
        "/admin/setmatcher" => {
            let name = header(&headers, "x-abstraction-identifier").ok_or_else(|| {
                ProxyError::bad_request(
                    "Expected header x-abstraction-identifier is not populated in request.",
                )
            })?;
            let matcher = crate::matcher::Matcher::named(name, json_body(&body)?.as_ref())
                .map_err(ProxyError::bad_request)?;
            match header(&headers, "x-recording-id") {
                Some(id) => {
                    let session = store.playback(id).ok_or_else(|| {
                        ProxyError::bad_request(format!("{id} is not an active playback session. Check the value returned by /playback/start."))
                    })?;
                    session.set_matcher(Some(matcher));
                }
                None => store.set_global_matcher(Some(matcher)),
            }
            Ok(empty(StatusCode::OK))
        }
        "/admin/reset" => {
            match header(&headers, "x-recording-id") {
                Some(id) => {
                    let session = store.playback(id).ok_or_else(|| {
                        ProxyError::bad_request(format!("{id} is not an active playback session."))
                    })?;
                    session.set_matcher(None);
                }
                None => {
                    let counts = store.counts();
                    if counts.recording + counts.in_memory + counts.playback > 0 {
                        return Err(ProxyError::bad_request(format!(
                            "Unable to reset while sessions are active ({} recording, {} in memory, {} playback).",
                            counts.recording, counts.in_memory, counts.playback
                        )));
                    }
                    store.set_global_matcher(None);
                }
            }
            Ok(empty(StatusCode::OK))
        }
        other => Err(unsupported(other)),
    }
}

fn unsupported(path: &str) -> ProxyError {
    ProxyError::bad_request(format!(
        "{path} is not supported by this server (a compatible subset of the Azure SDK test proxy: record, playback, /Admin/IsAlive, /Admin/SetMatcher, /Admin/Reset)."
    ))
}

/// The request's upstream URI: the base header (its trailing `/` trimmed)
/// plus the request target exactly as received.
fn upstream_uri(headers: &HeaderMap, target: &str) -> Result<String, ProxyError> {
    let base = header(headers, "x-recording-upstream-base-uri").unwrap_or_default();
    let base = base.trim_end_matches('/');
    let valid = base
        .split_once("://")
        .is_some_and(|(scheme, host)| !scheme.is_empty() && !host.is_empty());
    if !valid {
        return Err(ProxyError::bad_request(format!(
            "The value present in header 'x-recording-upstream-base-uri' is not a valid hostname: {base}."
        )));
    }
    Ok(format!("{base}{target}"))
}

/// The headers an entry stores: all but `Host` and `x-recording-*`, several
/// lines of one name kept together.
fn entry_headers(headers: &HeaderMap) -> Headers {
    let mut out: Headers = Vec::new();
    for (name, value) in headers {
        let name = name.as_str();
        if name == "host" || name.starts_with("x-recording-") {
            continue;
        }
        let value = String::from_utf8_lossy(value.as_bytes()).into_owned();
        match out.iter_mut().find(|(existing, _)| existing == name) {
            Some((_, values)) => values.push(value),
            None => out.push((name.to_owned(), vec![value])),
        }
    }
    out
}

/// The default sanitizer `AZSDK0000`: `Authorization` becomes `Sanitized`.
fn sanitize(headers: &mut Headers) {
    for (name, values) in headers.iter_mut() {
        if name.eq_ignore_ascii_case("authorization") {
            *values = vec!["Sanitized".to_owned()];
        }
    }
}

fn stored_body(body: &Bytes, headers: &Headers) -> Option<Bytes> {
    if body.is_empty() {
        return None;
    }
    let gzipped = first_header(headers, "content-encoding")
        .is_some_and(|encoding| encoding.trim().eq_ignore_ascii_case("gzip"));
    if gzipped && let Ok(plain) = gunzip(body) {
        return Some(Bytes::from(plain));
    }
    Some(body.clone())
}

fn target(request_uri: &http::Uri) -> String {
    request_uri
        .path_and_query()
        .map_or_else(|| "/".to_owned(), |target| target.as_str().to_owned())
}

async fn record(shared: &Shared, request: Request<Incoming>) -> Outcome {
    let (parts, body) = request.into_parts();
    let id = recording_id(&parts.headers)?;
    let store = &shared.store;
    let session = store.recording(&id).ok_or_else(|| {
        ProxyError::bad_request(format!(
            "There is no active recording session under id {id}."
        ))
    })?;
    let uri = upstream_uri(&parts.headers, &target(&parts.uri))?;
    let skip = {
        let mut values = parts.headers.get_all("x-recording-skip").iter();
        match (values.next(), values.next()) {
            (None, _) => None,
            (Some(value), None)
                if matches!(value.to_str(), Ok("request-response" | "request-body")) =>
            {
                value.to_str().ok()
            }
            _ => {
                return Err(ProxyError::bad_request(
                    "x-recording-skip must be one value, \"request-response\" or \"request-body\".",
                ));
            }
        }
    };
    let had_body = parts.headers.contains_key(http::header::CONTENT_LENGTH)
        || parts.headers.contains_key(http::header::TRANSFER_ENCODING);
    let body = read_body(body).await?;
    let mut request_headers = entry_headers(&parts.headers);
    let request_body = if skip == Some("request-body") {
        None
    } else {
        stored_body(&body, &request_headers)
    };

    // Forward, following redirects.
    let host_override =
        header(&parts.headers, "x-recording-upstream-host-header").map(str::to_owned);
    let mut method = parts.method.clone();
    let mut target_uri = uri.clone();
    let mut forward_body = had_body.then(|| body.clone());
    let mut hops = 0;
    let response = loop {
        let parsed: http::Uri = target_uri.parse().map_err(|error| {
            ProxyError::bad_request(format!(
                "The upstream URI {target_uri} is not valid: {error}"
            ))
        })?;
        let scheme = match parsed.scheme_str() {
            Some(scheme @ ("http" | "https")) => scheme.to_owned(),
            _ => {
                return Err(ProxyError::bad_request(format!(
                    "cannot forward to {target_uri}: the upstream is an http:// or https:// URL"
                )));
            }
        };
        let mut upstream = Request::builder()
            .method(method.clone())
            .uri(parsed.clone());
        for (name, value) in &parts.headers {
            let name_text = name.as_str();
            if matches!(
                name_text,
                "host" | "proxy-connection" | "connection" | "content-length" | "transfer-encoding"
            ) || name_text.starts_with("x-recording")
            {
                continue;
            }
            upstream = upstream.header(name, value);
        }
        let host = host_override.clone().or_else(|| {
            parsed
                .authority()
                .map(|authority| authority.as_str().to_owned())
        });
        if let Some(host) = host {
            upstream = upstream.header(http::header::HOST, host);
        }
        let upstream = upstream
            .body(Full::new(forward_body.clone().unwrap_or_default()))
            .map_err(|error| {
                ProxyError::Unexpected(format!("cannot build the upstream request: {error}"))
            })?;
        let response = tokio::time::timeout(UPSTREAM_TIMEOUT, shared.upstream.request(upstream))
            .await
            .map_err(|_| {
                ProxyError::Unexpected(format!(
                    "upstream request {method} {target_uri} got no answer in {} s",
                    UPSTREAM_TIMEOUT.as_secs()
                ))
            })?
            .map_err(|error| {
                ProxyError::Unexpected(format!(
                    "upstream request {method} {target_uri} failed: {}",
                    error_chain(&error)
                ))
            })?;
        let status = response.status();
        let location = response
            .headers()
            .get(http::header::LOCATION)
            .and_then(|value| value.to_str().ok())
            .map(str::to_owned);
        match location {
            Some(location)
                if status.is_redirection()
                    && status != StatusCode::NOT_MODIFIED
                    && hops < MAX_REDIRECTS =>
            {
                hops += 1;
                target_uri = if location.contains("://") {
                    location
                } else {
                    let authority = parsed
                        .authority()
                        .map_or("", |authority| authority.as_str());
                    format!(
                        "{scheme}://{authority}{}",
                        if location.starts_with('/') {
                            location
                        } else {
                            format!("/{location}")
                        }
                    )
                };
                let becomes_get = status == StatusCode::SEE_OTHER
                    || (matches!(status.as_u16(), 301 | 302) && method == Method::POST);
                if becomes_get && method != Method::HEAD {
                    method = Method::GET;
                    forward_body = None;
                }
            }
            _ => break response,
        }
    };
    let (response_parts, response_body) = response.into_parts();
    let wire_body = if parts.method == Method::HEAD {
        Bytes::new()
    } else {
        http_body_util::Limited::new(response_body, MAX_BODY)
            .collect()
            .await
            .map_err(|error| {
                ProxyError::Unexpected(format!("cannot read the upstream response: {error}"))
            })?
            .to_bytes()
    };
    let mut response_headers = entry_headers(&response_parts.headers);
    sanitize(&mut request_headers);
    sanitize(&mut response_headers);
    let entry = Entry {
        request_uri: absolute(&uri),
        request_method: parts.method.as_str().to_owned(),
        request_headers,
        request_body,
        status_code: response_parts.status.as_u16(),
        response_body: stored_body(&wire_body, &response_headers),
        response_headers,
    };
    if skip != Some("request-response") {
        session
            .entries
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(entry);
    }
    store.counters.recorded.fetch_add(1, Ordering::Relaxed);
    let mut reply = Response::new(Full::new(wire_body));
    *reply.status_mut() = response_parts.status;
    for (name, value) in &response_parts.headers {
        if matches!(
            name.as_str(),
            "transfer-encoding" | "connection" | "keep-alive"
        ) {
            continue;
        }
        reply.headers_mut().append(name, value.clone());
    }
    Ok(reply)
}

/// The absolute form of `uri`: scheme and host lower-cased, default port
/// dropped, path and query as given.
fn absolute(uri: &str) -> String {
    let Some((scheme, rest)) = uri.split_once("://") else {
        return uri.to_owned();
    };
    let scheme = scheme.to_ascii_lowercase();
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let mut authority = rest[..end].to_ascii_lowercase();
    for (default_scheme, port) in [("http", ":80"), ("https", ":443")] {
        if scheme == default_scheme && authority.ends_with(port) {
            authority.truncate(authority.len() - port.len());
        }
    }
    let tail = &rest[end..];
    let tail = if tail.is_empty() || tail.starts_with('?') {
        format!("/{tail}")
    } else {
        tail.to_owned()
    };
    format!("{scheme}://{authority}{tail}")
}

async fn playback(shared: &Shared, request: Request<Incoming>) -> Outcome {
    let (parts, body) = request.into_parts();
    let id = recording_id(&parts.headers)?;
    let store = &shared.store;
    let session = store.playback(&id).ok_or_else(|| {
        ProxyError::bad_request(format!(
            "There is no active playback session under recording id {id}."
        ))
    })?;
    let remove = match header(&parts.headers, "x-recording-remove") {
        None => true,
        Some(value) => parse_bool(value).ok_or_else(|| {
            ProxyError::Unexpected(format!(
                "String '{value}' was not recognized as a valid Boolean."
            ))
        })?,
    };
    let uri = upstream_uri(&parts.headers, &target(&parts.uri))?;
    let body = read_body(body).await?;
    let mut headers = lower(&entry_headers(&parts.headers));
    sanitize(&mut headers);
    let body = stored_body(&body, &headers);
    let incoming = PlaybackRequest {
        uri,
        method: parts.method.as_str().to_owned(),
        headers,
        body,
    };
    let matcher = store.matcher_for(&session);
    let found = if remove {
        let mut entries = session.entries.write().unwrap_or_else(|p| p.into_inner());
        matcher
            .find(&incoming, entries.as_slice())
            .map(|index| entries.remove(index))
    } else {
        let entries = session.entries.read().unwrap_or_else(|p| p.into_inner());
        matcher
            .find(&incoming, entries.as_slice())
            .map(|index| entries[index].clone())
    };
    let stored = found.map_err(|message| {
        store.counters.mismatches.fetch_add(1, Ordering::Relaxed);
        ProxyError::Mismatch(message)
    })?;
    store.counters.played_back.fetch_add(1, Ordering::Relaxed);
    let replay = &stored.replay;
    let body = if parts.method == Method::HEAD {
        Bytes::new()
    } else {
        replay.body.clone()
    };
    let mut response = Response::new(Full::new(body));
    *response.status_mut() = replay.status;
    *response.headers_mut() = replay.headers.clone();
    // The default transforms: the client's ids come back.
    for name in ["x-ms-client-request-id", "x-ms-client-id"] {
        if let Some(value) = parts.headers.get(name) {
            response.headers_mut().insert(name, value.clone());
        }
    }
    Ok(response)
}

/// An error and its sources, `: `-joined (hyper's client errors say what
/// went wrong, e.g. a certificate check, only in their sources).
fn error_chain(error: &(dyn std::error::Error + 'static)) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        if !text.contains(&cause_text) {
            text.push_str(": ");
            text.push_str(&cause_text);
        }
        source = cause.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn absolute_uris() {
        assert_eq!(absolute("HTTP://Host:80/a/B?x=1"), "http://host/a/B?x=1");
        assert_eq!(absolute("https://h:443?x"), "https://h/?x");
        assert_eq!(absolute("http://h:8080"), "http://h:8080/");
    }

    #[test]
    fn booleans_as_dotnet_parses_them() {
        assert_eq!(parse_bool("True"), Some(true));
        assert_eq!(parse_bool(" false "), Some(false));
        assert_eq!(parse_bool("1"), None);
    }
}
