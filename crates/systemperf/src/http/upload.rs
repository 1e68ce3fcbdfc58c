//! `HttpPutTest`: PUT of a streamed random body through hyper's pooled client.

use http::{Method, Request, Uri};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use perfstress::{AsyncRandomStream, PerfTest, Result, TestContext};

use super::hyper_client::{drain, pooled_client};
use super::options::HttpOptions;
use super::target::Target;

/// PUTs `--size` bytes per operation with hyper's pooled client, streamed
/// from an [`AsyncRandomStream`] (zero-copy chunks of the shared random
/// buffer, sent with `Content-Length`). The embedded server reads, counts
/// and discards the body. Async only.
pub struct HttpPutTest {
    target: Target,
    client: Client<HttpConnector, AsyncRandomStream>,
    uri: Uri,
    /// Kept at position 0; each operation sends a clone (a reference count
    /// and a cursor, no copy of the data).
    body: AsyncRandomStream,
}

/// PUT of a --size byte streamed body with hyper's pooled client; embedded server unless --url.
#[perfstress::test(sync_bridge)]
impl PerfTest for HttpPutTest {
    type Options = HttpOptions;

    async fn new(ctx: &TestContext<HttpOptions>) -> Result<Self> {
        Ok(HttpPutTest {
            target: Target::new(ctx.options()),
            client: pooled_client(),
            uri: Uri::default(),
            body: AsyncRandomStream::new(ctx.options().size),
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
        let mut request = Request::new(self.body.clone());
        *request.method_mut() = Method::PUT;
        *request.uri_mut() = self.uri.clone();
        let response = self.client.request(request).await?;
        drain(response, "PUT", &self.uri).await?;
        Ok(())
    }
}
