//! `HttpGetTest`: GET through hyper's pooled client (`hyper-util`'s
//! `legacy::Client`), the transport under reqwest and most async SDKs.

use bytes::Bytes;
use http::Uri;
use http_body_util::{BodyExt, Empty};
use hyper::body::{Body, Incoming};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::{ResponseFuture, connect::Connect};
use hyper_util::rt::TokioExecutor;
use perfstress::test_proxy::TestProxyRoute;
use perfstress::{Error, PerfTest, Result, TestContext};

use super::options::HttpOptions;

/// Options of [`HttpGetTest`]: the transport tests' options, and one to
/// make every request different.
#[derive(clap::Args, Clone, Debug)]
pub struct HttpGetOptions {
    #[command(flatten)]
    #[allow(missing_docs)]
    pub http: HttpOptions,

    /// Add a random `nonce` query parameter to every request (a cache
    /// buster). Through a test proxy, playback then needs a matcher that
    /// ignores it (`CustomDefaultMatcher` with `ignoredQueryParameters: nonce`).
    #[arg(long)]
    pub random_query: bool,
}
use super::target::Target;

/// A pooled hyper client with `TCP_NODELAY` (as reqwest and SDKs set it), for
/// request bodies of type `B`.
pub(crate) fn pooled_client<B>() -> Client<HttpConnector, B>
where
    B: Body + Send + 'static,
    B::Data: Send,
{
    let mut connector = HttpConnector::new();
    connector.set_nodelay(true);
    Client::builder(TokioExecutor::new()).build(connector)
}

/// HttpGetTest's pool: plain, or (through an `https://` test proxy) TLS
/// with the framework's client configuration, which honours `--insecure`.
/// Plain requests take the plain client, so the baseline is unchanged.
enum Pool {
    Plain(Client<HttpConnector, Empty<Bytes>>),
    Tls(Client<hyper_rustls::HttpsConnector<HttpConnector>, Empty<Bytes>>),
}

impl Pool {
    fn new(tls: bool, insecure: bool) -> Self {
        if !tls {
            return Pool::Plain(pooled_client());
        }
        let mut connector = HttpConnector::new();
        connector.set_nodelay(true);
        connector.enforce_http(false);
        let connector = hyper_rustls::HttpsConnectorBuilder::new()
            .with_tls_config(perfstress::tls::client_config(insecure))
            .https_or_http()
            .enable_http1()
            .wrap_connector(connector);
        Pool::Tls(Client::builder(TokioExecutor::new()).build(connector))
    }

    fn request(&self, request: http::Request<Empty<Bytes>>) -> ResponseFuture {
        fn send<C: Connect + Clone + Send + Sync + 'static>(
            client: &Client<C, Empty<Bytes>>,
            request: http::Request<Empty<Bytes>>,
        ) -> ResponseFuture {
            client.request(request)
        }
        match self {
            Pool::Plain(client) => send(client, request),
            Pool::Tls(client) => send(client, request),
        }
    }
}

/// Checks the status and reads the whole body, counting the bytes without
/// keeping them; returns the count.
pub(crate) async fn drain(
    response: http::Response<Incoming>,
    method: &str,
    uri: &Uri,
) -> Result<u64> {
    if !response.status().is_success() {
        // Through the test proxy: its reason (e.g. what a mismatch differs in).
        let reason = perfstress::test_proxy::proxy_error(|name| {
            let value = response.headers().get(name)?;
            value.to_str().ok().map(str::to_owned)
        })
        .map(|reason| format!(" (test proxy: {})", reason.trim_end()))
        .unwrap_or_default();
        return Err(Error::msg(format!(
            "{method} {uri} answered {}{reason}",
            response.status()
        )));
    }
    let mut body = response.into_body();
    let mut received = 0u64;
    while let Some(frame) = body.frame().await {
        if let Some(data) = frame?.data_ref() {
            received += data.len() as u64;
        }
    }
    Ok(received)
}

/// GETs the URL with hyper's pooled client; each instance has its own
/// client (one keep-alive connection). Async only.
///
/// With `-x/--test-proxies` each request goes through the instance's
/// [`TestProxyRoute`] (`route.apply`, the last thing before sending): the
/// framework records one GET per instance and plays it back.
pub struct HttpGetTest {
    target: Target,
    client: Pool,
    uri: Uri,
    route: Option<TestProxyRoute>,
    random_query: bool,
}

/// GET with hyper's pooled client (hyper-util legacy::Client); embedded server unless --url.
#[perfstress::test(sync_bridge)]
impl PerfTest for HttpGetTest {
    type Options = HttpGetOptions;

    async fn new(ctx: &TestContext<HttpGetOptions>) -> Result<Self> {
        Ok(HttpGetTest {
            target: Target::new(&ctx.options().http),
            client: Pool::new(
                ctx.test_proxy()
                    .is_some_and(|route| route.proxy().scheme() == "https"),
                ctx.insecure(),
            ),
            uri: Uri::default(),
            route: ctx.test_proxy().cloned(),
            random_query: ctx.options().random_query,
        })
    }

    async fn global_setup(&mut self) -> Result<()> {
        self.target.global_setup()
    }

    async fn setup(&mut self) -> Result<()> {
        self.uri = self.target.url()?.uri().clone();
        Ok(())
    }

    async fn global_cleanup(&mut self) -> Result<()> {
        self.target.global_cleanup();
        Ok(())
    }

    async fn run_async(&mut self) -> Result<()> {
        if self.random_query {
            return self.run_random_query().await;
        }
        let response = match &self.route {
            None => {
                let request = http::Request::get(self.uri.clone())
                    .body(Empty::new())
                    .map_err(|error| Error::msg(error.to_string()))?;
                self.client.request(request).await?
            }
            Some(route) => {
                let mut request = http::Request::get(self.uri.clone())
                    .body(Empty::new())
                    .map_err(|error| Error::msg(error.to_string()))?;
                route.apply(&mut request)?;
                self.client.request(request).await?
            }
        };
        drain(response, "GET", &self.uri).await?;
        Ok(())
    }
}

impl HttpGetTest {
    /// One GET of the URL with a random `nonce` query parameter.
    async fn run_random_query(&mut self) -> Result<()> {
        let separator = if self.uri.query().is_some() { '&' } else { '?' };
        let uri: Uri = format!("{}{separator}nonce={}", self.uri, rand::random::<u64>())
            .parse()
            .map_err(|error: http::uri::InvalidUri| Error::msg(error.to_string()))?;
        let mut request = http::Request::get(uri.clone())
            .body(Empty::new())
            .map_err(|error| Error::msg(error.to_string()))?;
        if let Some(route) = &self.route {
            route.apply(&mut request)?;
        }
        let response = self.client.request(request).await?;
        drain(response, "GET", &uri).await?;
        Ok(())
    }
}
