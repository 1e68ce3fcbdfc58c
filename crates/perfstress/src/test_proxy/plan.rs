//! What the plan decides about test proxies.

use crate::error::{Error, ErrorKind, Result};
use crate::options::GlobalOptions;
use crate::registry::TestEntry;

use super::url::ProxyUrl;

/// The proxies of a run: `-x/--test-proxies` in order, then
/// `--test-proxy`, each URL once (PerfAutomation may pass the same proxy
/// in both forms). A usage error when the test cannot go through one.
pub(crate) fn proxies(entry: &TestEntry, global: &GlobalOptions) -> Result<Vec<ProxyUrl>> {
    let mut proxies: Vec<ProxyUrl> = Vec::new();
    for proxy in global.test_proxies.iter().chain(&global.test_proxy) {
        if !proxies.contains(proxy) {
            proxies.push(proxy.clone());
        }
    }
    let usage = |message: String| Err(Error::new(ErrorKind::Usage, message));
    if proxies.is_empty() {
        return Ok(proxies);
    }
    if entry.is_event {
        return usage(format!(
            "{} is an event test: it has no operation the test proxy could record; run it without --test-proxies",
            entry.name
        ));
    }
    if let Some(proxy) = proxies.iter().find(|proxy| proxy.scheme() != "http") {
        return usage(format!(
            "test proxy {proxy}: https:// proxies are not supported (perfstress builds no TLS client for the proxy's control calls); start the proxy with an http:// listener, e.g. --urls http://127.0.0.1:5000"
        ));
    }
    Ok(proxies)
}
