//! What the plan decides about test proxies.

use crate::error::{Error, ErrorKind, Result};

use super::url::ProxyUrl;

/// The proxies of a run: `-x/--test-proxies` in order, then
/// `--test-proxy`, each URL once (PerfAutomation may pass the same proxy
/// in both forms). A usage error when test `test_name` cannot go through
/// one (`is_event`: an event test has no operation to record).
pub(crate) fn proxies(
    list: &[ProxyUrl],
    single: &[ProxyUrl],
    test_name: &str,
    is_event: bool,
) -> Result<Vec<ProxyUrl>> {
    let proxies = merge(list, single);
    let usage = |message: String| Err(Error::new(ErrorKind::Usage, message));
    if proxies.is_empty() {
        return Ok(proxies);
    }
    if is_event {
        return usage(format!(
            "{} is an event test: it has no operation the test proxy could record; run it without --test-proxies",
            test_name
        ));
    }
    #[cfg(not(feature = "tls"))]
    if let Some(proxy) = proxies.iter().find(|proxy| proxy.scheme() != "http") {
        return usage(format!(
            "test proxy {proxy}: https:// proxies need perfstress's feature `tls` (this build has no TLS); enable it, or start the proxy with an http:// listener, e.g. --urls http://127.0.0.1:5000"
        ));
    }
    Ok(proxies)
}

/// `-x/--test-proxies` then `--test-proxy`, each URL once.
fn merge(list: &[ProxyUrl], single: &[ProxyUrl]) -> Vec<ProxyUrl> {
    let mut proxies: Vec<ProxyUrl> = Vec::new();
    for proxy in list.iter().chain(single) {
        if !proxies.contains(proxy) {
            proxies.push(proxy.clone());
        }
    }
    proxies
}

/// The proxy of instance `parallel_index`: `proxies[i mod n]`.
pub(crate) fn proxy_for(proxies: &[ProxyUrl], parallel_index: usize) -> Option<&ProxyUrl> {
    (!proxies.is_empty()).then(|| &proxies[parallel_index % proxies.len()])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url(text: &str) -> ProxyUrl {
        ProxyUrl::parse(text).unwrap()
    }

    #[test]
    fn instance_i_uses_proxy_i_mod_n() {
        let proxies = merge(
            &[url("http://127.0.0.1:1/"), url("http://127.0.0.1:2/")],
            &[],
        );
        let ports: Vec<u16> = (0..4)
            .map(|i| proxy_for(&proxies, i).unwrap().port())
            .collect();
        assert_eq!(ports, [1, 2, 1, 2]);
        assert_eq!(proxy_for(&[], 0), None);
    }

    #[test]
    fn both_forms_make_one_list_each_url_once() {
        let merged = merge(
            &[url("http://127.0.0.1:1/")],
            &[url("http://127.0.0.1:2"), url("http://127.0.0.1:1")],
        );
        let ports: Vec<u16> = merged.iter().map(ProxyUrl::port).collect();
        assert_eq!(ports, [1, 2]);
    }
}
