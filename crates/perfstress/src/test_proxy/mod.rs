//! The Azure SDK test proxy, from the test's side (`-x/--test-proxies`).
//!
//! With test proxies, the framework records one real operation per
//! instance after setup and plays it back for the warm-up and the timed
//! run, so the numbers measure the client library, not the service. The
//! framework does the calls to the proxy (post setup: one operation
//! direct, `/record/start`, one operation recorded, `/record/stop`,
//! `/playback/start`; pre cleanup: `/playback/stop` with purge). The test
//! does one thing: it installs the [`TestProxyRoute`] that
//! [`TestContext::test_proxy`](crate::TestContext::test_proxy) gives it
//! into the client it measures, which then sends each request to the proxy
//! with the protocol's headers while a recording or playback is active:
//!
//! ```ignore
//! async fn run_async(&mut self) -> Result<()> {
//!     let mut request = http::Request::get(&self.url).body(Empty::new())?;
//!     if let Some(route) = &self.route {
//!         route.apply(&mut request)?; // feature `http`
//!     }
//!     self.client.request(request).await?;
//!     Ok(())
//! }
//! ```
//!
//! The protocol is documented in the repository's
//! `specs/test-proxy-protocol.md` (sections 5.1, 6.1 and 10); the
//! `test-proxy` crate is a compatible server.

mod clients;
mod control;
pub(crate) mod plan;
mod route;
mod url;

#[cfg(feature = "azure_core")]
pub use clients::TestProxyPolicy;
pub use route::{
    ActiveRoute, RECORDING_ID, RECORDING_MODE, RECORDING_REMOVE, RecordingMode, TestProxyRoute,
    UPSTREAM_BASE_URI, upstream_base,
};
pub use url::ProxyUrl;

pub(crate) use url::parse_proxy_url;

use crate::error::{Error, ErrorKind, Result};

/// The test proxy's reason for an error response, from its headers:
/// `x-request-mismatch-error` (a playback request matched no recorded
/// entry: 404) or `x-request-known-exception-error` /
/// `x-request-exception-error`, base64-decoded. `get` looks a header up by
/// (lower-case) name. Tests put it into the error of a failed operation so
/// that a mismatch says what differed.
pub fn proxy_error(get: impl Fn(&str) -> Option<String>) -> Option<String> {
    [
        "x-request-mismatch-error",
        "x-request-known-exception-error",
        "x-request-exception-error",
    ]
    .into_iter()
    .find_map(|name| get(name).and_then(|value| control::decode_base64(&value)))
}

/// Post setup, after the un-proxied operation: `/record/start`, then the
/// route records.
pub(crate) async fn start_recording(route: &TestProxyRoute) -> Result<()> {
    let response = control::post(route.proxy(), route.is_insecure(), "/record/start", &[]).await?;
    let id = recording_id(route, "/record/start", &response)?;
    route.set(Some((RecordingMode::Record, id)));
    Ok(())
}

/// Post setup, after the recorded operation: `/record/stop`,
/// `/playback/start`, then the route plays back.
pub(crate) async fn start_playback(route: &TestProxyRoute) -> Result<()> {
    let Some(recording) = route.recording_id() else {
        return Err(Error::new(ErrorKind::Test, "no recording to play back"));
    };
    // A failure from here on: nothing is routed any more.
    route.set(None);
    control::post(
        route.proxy(),
        route.is_insecure(),
        "/record/stop",
        &[(RECORDING_ID, &recording)],
    )
    .await?;
    let response = control::post(
        route.proxy(),
        route.is_insecure(),
        "/playback/start",
        &[(RECORDING_ID, &recording)],
    )
    .await?;
    let id = recording_id(route, "/playback/start", &response)?;
    route.set(Some((RecordingMode::Playback, id)));
    Ok(())
}

/// Pre cleanup (also after a failure): stops the playback and purges the
/// recording, or drops an unfinished recording; afterwards requests go
/// directly to the service again.
pub(crate) async fn stop(route: &TestProxyRoute) -> Result<()> {
    let Some(active) = route.active() else {
        return Ok(());
    };
    route.set(None);
    match active.mode() {
        RecordingMode::Playback => {
            control::post(
                route.proxy(),
                route.is_insecure(),
                "/playback/stop",
                &[
                    (RECORDING_ID, active.recording_id()),
                    ("x-purge-inmemory-recording", "true"),
                ],
            )
            .await?;
        }
        RecordingMode::Record => {
            control::post(
                route.proxy(),
                route.is_insecure(),
                "/record/stop",
                &[
                    (RECORDING_ID, active.recording_id()),
                    ("x-recording-skip", "request-response"),
                ],
            )
            .await?;
        }
    }
    Ok(())
}

fn recording_id(
    route: &TestProxyRoute,
    call: &str,
    response: &control::ControlResponse,
) -> Result<String> {
    match response.header(RECORDING_ID) {
        Some(id) if !id.is_empty() => Ok(id.to_owned()),
        _ => Err(Error::new(
            ErrorKind::Test,
            format!(
                "test proxy call POST {}{call} answered {} without an x-recording-id header",
                route.proxy(),
                response.status
            ),
        )),
    }
}
