//! The route installed into common clients: `http::Request`s (hyper and
//! friends), reqwest, and the `azure_core` pipeline. Each rewrites a
//! request only while a recording or playback is active, sets
//! `x-recording-upstream-base-uri` only when the request does not carry it
//! yet (a retried request was rewritten already: its URL is the proxy's),
//! and always sets id, mode and `x-recording-remove: false`.

#[cfg(any(feature = "http", feature = "reqwest", feature = "azure_core"))]
use super::route::{TestProxyRoute, UPSTREAM_BASE_URI};

#[cfg(feature = "http")]
mod http_impl {
    use super::*;
    use crate::error::{Error, ErrorKind};
    use http::header::{HeaderName, HeaderValue};

    impl TestProxyRoute {
        /// Feature `http`: routes `request` (an absolute URI) to the test
        /// proxy while recording or playing back; does nothing otherwise.
        /// Call it on each request as late as possible (after signing),
        /// also on a retried one.
        pub fn apply<B>(&self, request: &mut http::Request<B>) -> crate::Result<()> {
            let Some(active) = self.active() else {
                return Ok(());
            };
            let headers = request.headers_mut();
            if !headers.contains_key(UPSTREAM_BASE_URI) {
                let uri = request.uri();
                let (Some(scheme), Some(authority)) = (uri.scheme_str(), uri.authority()) else {
                    return Err(Error::new(
                        ErrorKind::Test,
                        format!(
                            "cannot route '{uri}' through the test proxy: it is not an absolute URI"
                        ),
                    ));
                };
                let upstream =
                    HeaderValue::try_from(format!("{scheme}://{authority}")).map_err(|error| {
                        Error::with_source(ErrorKind::Test, "bad upstream URI", error)
                    })?;
                request
                    .headers_mut()
                    .insert(HeaderName::from_static(UPSTREAM_BASE_URI), upstream);
            }
            let mut parts = std::mem::take(request.uri_mut()).into_parts();
            parts.scheme = Some(active.proxy_scheme().parse().map_err(bad_proxy)?);
            parts.authority = Some(active.proxy_authority().parse().map_err(bad_proxy)?);
            if parts.path_and_query.is_none() {
                parts.path_and_query = Some(http::uri::PathAndQuery::from_static("/"));
            }
            *request.uri_mut() = http::Uri::from_parts(parts).map_err(bad_proxy)?;
            let headers = request.headers_mut();
            for (name, value) in active.headers() {
                let value = HeaderValue::from_str(value).map_err(bad_proxy)?;
                headers.insert(HeaderName::from_static(name), value);
            }
            Ok(())
        }
    }

    fn bad_proxy(error: impl std::error::Error + Send + Sync + 'static) -> Error {
        Error::with_source(
            ErrorKind::Test,
            "cannot route the request to the test proxy",
            error,
        )
    }
}

#[cfg(feature = "reqwest")]
mod reqwest_impl {
    use super::*;
    use crate::error::{Error, ErrorKind};
    use reqwest::header::{HeaderName, HeaderValue};

    impl TestProxyRoute {
        /// Feature `reqwest`: routes a built `reqwest::Request` (build it
        /// with `RequestBuilder::build`, then `Client::execute` it) to the
        /// test proxy while recording or playing back.
        pub fn apply_reqwest(&self, request: &mut reqwest::Request) -> crate::Result<()> {
            let Some(active) = self.active() else {
                return Ok(());
            };
            let fail = |what: &str| {
                Error::new(
                    ErrorKind::Test,
                    format!("cannot route the request to the test proxy: {what}"),
                )
            };
            if !request.headers().contains_key(UPSTREAM_BASE_URI) {
                let origin = request.url().origin().ascii_serialization();
                let value = HeaderValue::try_from(origin).map_err(|_| fail("bad upstream URL"))?;
                request
                    .headers_mut()
                    .insert(HeaderName::from_static(UPSTREAM_BASE_URI), value);
            }
            let proxy = self.proxy();
            let url = request.url_mut();
            url.set_scheme(proxy.scheme())
                .map_err(|()| fail("scheme"))?;
            url.set_host(Some(proxy.host())).map_err(|_| fail("host"))?;
            url.set_port(Some(proxy.port()))
                .map_err(|()| fail("port"))?;
            let headers = request.headers_mut();
            for (name, value) in active.headers() {
                let value = HeaderValue::from_str(value).map_err(|_| fail("header"))?;
                headers.insert(HeaderName::from_static(name), value);
            }
            Ok(())
        }
    }
}

#[cfg(feature = "azure_core")]
mod azure_core_impl {
    use std::sync::Arc;

    use super::*;
    use azure_core::http::policies::{Policy, PolicyResult};
    use azure_core::http::{Context, Request};

    /// Feature `azure_core`: the route as an `azure_core` pipeline policy.
    /// Add it to the client options' **per-retry** policies, so that it
    /// runs after the signing policies and on every retry:
    ///
    /// ```ignore
    /// options.per_try_policies.push(Arc::new(route.policy()));
    /// ```
    #[derive(Clone, Debug)]
    pub struct TestProxyPolicy {
        route: TestProxyRoute,
    }

    impl TestProxyRoute {
        /// Feature `azure_core`: this route as a per-retry pipeline policy.
        pub fn policy(&self) -> TestProxyPolicy {
            TestProxyPolicy {
                route: self.clone(),
            }
        }
    }

    // `Context` without its lifetime: as the trait declares it (async_trait).
    #[allow(elided_lifetimes_in_paths)]
    #[async_trait::async_trait]
    impl Policy for TestProxyPolicy {
        async fn send(
            &self,
            ctx: &Context,
            request: &mut Request,
            next: &[Arc<dyn Policy>],
        ) -> PolicyResult {
            if let Some(active) = self.route.active() {
                let upstream =
                    azure_core::http::headers::HeaderName::from_static(UPSTREAM_BASE_URI);
                if request.headers().get_optional_str(&upstream).is_none() {
                    let origin = request.url().origin().ascii_serialization();
                    request.insert_header(upstream, origin);
                }
                let proxy = self.route.proxy();
                let url = request.url_mut();
                let rewritten = url.set_scheme(proxy.scheme()).is_ok()
                    && url.set_host(Some(proxy.host())).is_ok()
                    && url.set_port(Some(proxy.port())).is_ok();
                if !rewritten {
                    return Err(azure_core::Error::with_message(
                        azure_core::error::ErrorKind::Other,
                        format!("cannot route the request to the test proxy {proxy}"),
                    ));
                }
                for (name, value) in active.headers() {
                    request.insert_header(
                        azure_core::http::headers::HeaderName::from_static(name),
                        value.to_owned(),
                    );
                }
            }
            next[0].send(ctx, request, &next[1..]).await
        }
    }
}

#[cfg(feature = "azure_core")]
pub use azure_core_impl::TestProxyPolicy;

#[cfg(all(test, feature = "http"))]
mod tests {
    use super::*;
    use crate::test_proxy::{ProxyUrl, RecordingMode};

    fn route() -> TestProxyRoute {
        TestProxyRoute::new(ProxyUrl::parse("http://127.0.0.1:5000/").unwrap())
    }

    #[test]
    fn apply_rewrites_only_while_active_and_keeps_the_upstream_on_retries() {
        let route = route();
        let mut request = http::Request::get("https://acct.blob.core.windows.net/c/b?comp=x")
            .body(())
            .unwrap();
        route.apply(&mut request).unwrap();
        assert_eq!(
            request.uri(),
            "https://acct.blob.core.windows.net/c/b?comp=x"
        );
        assert!(request.headers().is_empty(), "inactive: untouched");

        route.set(Some((RecordingMode::Record, "R".to_owned())));
        route.apply(&mut request).unwrap();
        assert_eq!(request.uri(), "http://127.0.0.1:5000/c/b?comp=x");
        let headers = request.headers();
        assert_eq!(
            headers[UPSTREAM_BASE_URI],
            "https://acct.blob.core.windows.net"
        );
        assert_eq!(headers["x-recording-id"], "R");
        assert_eq!(headers["x-recording-mode"], "record");
        assert_eq!(headers["x-recording-remove"], "false");

        // A retry of the same request, now in playback: the upstream stays
        // the service's, not the proxy's.
        route.set(Some((RecordingMode::Playback, "P".to_owned())));
        route.apply(&mut request).unwrap();
        assert_eq!(request.uri(), "http://127.0.0.1:5000/c/b?comp=x");
        assert_eq!(
            request.headers()[UPSTREAM_BASE_URI],
            "https://acct.blob.core.windows.net"
        );
        assert_eq!(request.headers()["x-recording-id"], "P");
        assert_eq!(request.headers()["x-recording-mode"], "playback");
        assert_eq!(
            request.headers().get_all("x-recording-id").iter().count(),
            1
        );

        let mut relative = http::Request::get("/c/b").body(()).unwrap();
        assert!(route.apply(&mut relative).is_err());
    }
}

#[cfg(all(test, feature = "reqwest"))]
mod reqwest_tests {
    use super::*;
    use crate::test_proxy::{ProxyUrl, RecordingMode};

    #[test]
    fn apply_reqwest_rewrites_and_keeps_the_upstream() {
        let route = TestProxyRoute::new(ProxyUrl::parse("http://localhost:5000").unwrap());
        route.set(Some((RecordingMode::Playback, "P".to_owned())));
        let url = reqwest::Url::parse("https://acct.example:8443/a?b=c").unwrap();
        let mut request = reqwest::Request::new(reqwest::Method::GET, url);
        route.apply_reqwest(&mut request).unwrap();
        route.apply_reqwest(&mut request).unwrap();
        assert_eq!(request.url().as_str(), "http://localhost:5000/a?b=c");
        assert_eq!(
            request.headers()[UPSTREAM_BASE_URI],
            "https://acct.example:8443"
        );
        assert_eq!(request.headers()["x-recording-mode"], "playback");
    }
}
