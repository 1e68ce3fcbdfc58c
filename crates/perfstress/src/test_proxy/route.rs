//! The route a test installs into its client: while the framework records
//! or plays back, every request goes to the test proxy with the headers of
//! the test-proxy protocol.

use std::sync::{Arc, RwLock};

use super::url::ProxyUrl;

/// Header: the service the proxy forwards to (record) or pretends to be
/// (playback), `scheme://host[:port]`.
pub const UPSTREAM_BASE_URI: &str = "x-recording-upstream-base-uri";
/// Header: the recording (or playback) session id.
pub const RECORDING_ID: &str = "x-recording-id";
/// Header: `record` or `playback`.
pub const RECORDING_MODE: &str = "x-recording-mode";
/// Header: whether a played-back entry is consumed; perf runs send `false`
/// so that the one recorded operation answers every iteration.
pub const RECORDING_REMOVE: &str = "x-recording-remove";

/// What the test proxy does with the requests routed to it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RecordingMode {
    /// The proxy forwards each request to the service and records it.
    Record,
    /// The proxy answers each request from the recording.
    Playback,
}

impl RecordingMode {
    /// The `x-recording-mode` header's value.
    pub fn as_str(self) -> &'static str {
        match self {
            RecordingMode::Record => "record",
            RecordingMode::Playback => "playback",
        }
    }
}

/// A recording or playback in progress: where requests go and the headers
/// they carry. Cheap to share (`Arc`); fixed while it is active.
#[derive(Debug)]
pub struct ActiveRoute {
    mode: RecordingMode,
    recording_id: String,
    proxy_base: String,
    proxy_scheme: String,
    proxy_authority: String,
}

impl ActiveRoute {
    /// Record or playback.
    pub fn mode(&self) -> RecordingMode {
        self.mode
    }

    /// The `x-recording-id` every routed request carries.
    pub fn recording_id(&self) -> &str {
        &self.recording_id
    }

    /// The proxy, `scheme://host:port` (no trailing `/`).
    pub fn proxy_base(&self) -> &str {
        &self.proxy_base
    }

    /// The proxy's scheme, `http` or `https`.
    pub fn proxy_scheme(&self) -> &str {
        &self.proxy_scheme
    }

    /// The proxy's `host:port`.
    pub fn proxy_authority(&self) -> &str {
        &self.proxy_authority
    }

    /// The headers a routed request carries, besides
    /// [`UPSTREAM_BASE_URI`] (see [`upstream_base`]): id, mode and
    /// `x-recording-remove: false`.
    pub fn headers(&self) -> [(&'static str, &str); 3] {
        [
            (RECORDING_ID, &self.recording_id),
            (RECORDING_MODE, self.mode.as_str()),
            (RECORDING_REMOVE, "false"),
        ]
    }

    /// Routes the absolute URL `url`: returns the URL to send to (the
    /// proxy's scheme and authority, `url`'s path and query unchanged) and
    /// the value of [`UPSTREAM_BASE_URI`] (`url`'s `scheme://authority`).
    /// `None` if `url` is not absolute.
    ///
    /// ```
    /// use perfstress::test_proxy::{ProxyUrl, RecordingMode, TestProxyRoute};
    ///
    /// let route = TestProxyRoute::new(ProxyUrl::parse("http://127.0.0.1:5000/").unwrap());
    /// route.set(Some((RecordingMode::Playback, "P".to_owned())));
    /// let active = route.active().unwrap();
    /// let (url, upstream) = active.rewrite_url("https://acct.blob.core.windows.net/c/b?comp=x").unwrap();
    /// assert_eq!(url, "http://127.0.0.1:5000/c/b?comp=x");
    /// assert_eq!(upstream, "https://acct.blob.core.windows.net");
    /// ```
    pub fn rewrite_url(&self, url: &str) -> Option<(String, String)> {
        let upstream = upstream_base(url)?;
        let rest = &url[upstream.len()..];
        let rest = if rest.is_empty() { "/" } else { rest };
        Some((format!("{}{rest}", self.proxy_base), upstream.to_owned()))
    }
}

/// `scheme://authority` of the absolute URL `url` (the value of
/// [`UPSTREAM_BASE_URI`]), or `None` if `url` is not absolute.
pub fn upstream_base(url: &str) -> Option<&str> {
    let scheme_end = url.find("://")?;
    if scheme_end == 0 {
        return None;
    }
    let authority_start = scheme_end + 3;
    let authority_end = url[authority_start..]
        .find(['/', '?', '#'])
        .map_or(url.len(), |at| authority_start + at);
    (authority_end > authority_start).then(|| &url[..authority_end])
}

/// The route of one test instance to its test proxy (instance *i* of *n*
/// uses proxy *i mod n* of `-x/--test-proxies`). [`TestContext::test_proxy`]
/// hands it to the test, which installs it into the client it measures:
///
/// * with `http::Request`s (hyper and friends; feature `http`):
///   [`apply`](Self::apply) on each request, as late as possible;
/// * with reqwest (feature `reqwest`): [`apply_reqwest`](Self::apply_reqwest);
/// * with an `azure_core` pipeline (feature `azure_core`): add
///   [`policy`](Self::policy) to the client options' **per-retry** policies;
/// * with any other client: [`active`](Self::active) gives the URL rewrite
///   and headers to apply.
///
/// While the framework is not recording or playing back (setup, the
/// un-proxied first operation, cleanup), the route leaves requests alone.
/// Clones share one state.
///
/// [`TestContext::test_proxy`]: crate::TestContext::test_proxy
#[derive(Clone, Debug)]
pub struct TestProxyRoute {
    inner: Arc<RouteInner>,
}

#[derive(Debug)]
struct RouteInner {
    proxy: ProxyUrl,
    insecure: bool,
    active: RwLock<Option<Arc<ActiveRoute>>>,
}

impl TestProxyRoute {
    /// A route to `proxy`, inactive until [`set`](Self::set). The framework
    /// makes these; tests of a client's integration may too.
    pub fn new(proxy: ProxyUrl) -> Self {
        TestProxyRoute {
            inner: Arc::new(RouteInner {
                proxy,
                insecure: false,
                active: RwLock::new(None),
            }),
        }
    }

    /// The same route, whose control calls to an `https://` proxy do not
    /// check its certificate (`--insecure`; the framework sets it).
    pub fn with_insecure(self, insecure: bool) -> Self {
        TestProxyRoute {
            inner: Arc::new(RouteInner {
                proxy: self.inner.proxy.clone(),
                insecure,
                active: RwLock::new(self.active()),
            }),
        }
    }

    /// Whether the control calls skip an `https://` proxy's certificate
    /// check (`--insecure`). A test's own client through an `https://`
    /// proxy should do the same ([`TestContext::insecure`]).
    ///
    /// [`TestContext::insecure`]: crate::TestContext::insecure
    pub fn is_insecure(&self) -> bool {
        self.inner.insecure
    }

    /// The test proxy this route goes to.
    pub fn proxy(&self) -> &ProxyUrl {
        &self.inner.proxy
    }

    /// The recording or playback in progress, if any.
    pub fn active(&self) -> Option<Arc<ActiveRoute>> {
        self.inner
            .active
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .clone()
    }

    /// The current mode (`None`: requests go directly to the service).
    pub fn mode(&self) -> Option<RecordingMode> {
        self.active().map(|active| active.mode)
    }

    /// The current recording id, if recording or playing back.
    pub fn recording_id(&self) -> Option<String> {
        self.active().map(|active| active.recording_id.clone())
    }

    /// Starts routing in `mode` with `recording_id`, or (`None`) stops.
    /// The framework calls this between operations, never during one.
    pub fn set(&self, state: Option<(RecordingMode, String)>) {
        let active = state.map(|(mode, recording_id)| {
            Arc::new(ActiveRoute {
                mode,
                recording_id,
                proxy_base: self.inner.proxy.base(),
                proxy_scheme: self.inner.proxy.scheme().to_owned(),
                proxy_authority: self.inner.proxy.authority().to_owned(),
            })
        });
        *self
            .inner
            .active
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner()) = active;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn route() -> TestProxyRoute {
        TestProxyRoute::new(ProxyUrl::parse("http://127.0.0.1:5000/").unwrap())
    }

    #[test]
    fn inactive_until_set_and_after_clear() {
        let route = route();
        assert_eq!(route.mode(), None);
        route.set(Some((RecordingMode::Record, "R".to_owned())));
        let clone = route.clone();
        assert_eq!(clone.mode(), Some(RecordingMode::Record));
        assert_eq!(clone.recording_id().as_deref(), Some("R"));
        route.set(None);
        assert_eq!(clone.mode(), None);
    }

    #[test]
    fn rewrites_scheme_and_authority_only() {
        let route = route();
        route.set(Some((RecordingMode::Playback, "P".to_owned())));
        let active = route.active().unwrap();
        assert_eq!(
            active.rewrite_url("http://127.0.0.1:8080/a/b?c=d%20e&f"),
            Some((
                "http://127.0.0.1:5000/a/b?c=d%20e&f".to_owned(),
                "http://127.0.0.1:8080".to_owned()
            ))
        );
        assert_eq!(
            active.rewrite_url("https://host"),
            Some((
                "http://127.0.0.1:5000/".to_owned(),
                "https://host".to_owned()
            ))
        );
        assert_eq!(active.rewrite_url("/relative"), None);
        assert_eq!(
            active.headers(),
            [
                (RECORDING_ID, "P"),
                (RECORDING_MODE, "playback"),
                (RECORDING_REMOVE, "false")
            ]
        );
    }
}
