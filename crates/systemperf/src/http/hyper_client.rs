//! `HttpGetTest`: GET through hyper's pooled client (`hyper-util`'s
//! `legacy::Client`), the transport under reqwest and most async SDKs.

use bytes::Bytes;
use http::Uri;
use http_body_util::{BodyExt, Empty};
use hyper::body::{Body, Incoming};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use perfstress::{Error, PerfTest, Result, TestContext};

use super::options::HttpOptions;
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

/// Checks the status and reads the whole body, counting the bytes without
/// keeping them; returns the count.
pub(crate) async fn drain(
    response: http::Response<Incoming>,
    method: &str,
    uri: &Uri,
) -> Result<u64> {
    if !response.status().is_success() {
        return Err(Error::msg(format!(
            "{method} {uri} answered {}",
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
pub struct HttpGetTest {
    target: Target,
    client: Client<HttpConnector, Empty<Bytes>>,
    uri: Uri,
}

/// GET with hyper's pooled client (hyper-util legacy::Client); embedded server unless --url.
#[perfstress::test(sync_bridge)]
impl PerfTest for HttpGetTest {
    type Options = HttpOptions;

    async fn new(ctx: &TestContext<HttpOptions>) -> Result<Self> {
        Ok(HttpGetTest {
            target: Target::new(ctx.options()),
            client: pooled_client(),
            uri: Uri::default(),
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
        let response = self.client.get(self.uri.clone()).await?;
        drain(response, "GET", &self.uri).await?;
        Ok(())
    }
}
