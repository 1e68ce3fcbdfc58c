//! `AzureCoreGetTest`: GET through the Azure SDK's HTTP pipeline
//! (`azure_core::http::Pipeline`), the path every Azure SDK client's calls take.

use azure_core::http::{ClientOptions, Context, Method, Pipeline, Request, Url};
use perfstress::{Error, PerfTest, Result, TestContext};

use super::options::HttpOptions;
use super::target::Target;

/// GETs the URL through an `azure_core` pipeline with default client
/// options: the client request id, user agent, retry and logging policies,
/// then the default transport (reqwest). The response is buffered, as
/// `Pipeline::send` does for every typed SDK response. Each instance has its
/// own pipeline. Async only: azure_core has no sync API.
pub struct AzureCoreGetTest {
    target: Target,
    pipeline: Pipeline,
    url: Option<Url>,
}

/// GET through the azure_core HTTP pipeline (async; --sync through the sync bridge); embedded server unless --url.
#[perfstress::test(sync_bridge)]
impl PerfTest for AzureCoreGetTest {
    type Options = HttpOptions;

    async fn new(ctx: &TestContext<HttpOptions>) -> Result<Self> {
        // With -x: the test proxy's route, per retry (after signing).
        let per_retry: Vec<std::sync::Arc<dyn azure_core::http::policies::Policy>> = ctx
            .test_proxy()
            .map(|route| std::sync::Arc::new(route.policy()) as _)
            .into_iter()
            .collect();
        let pipeline = Pipeline::new(
            Some(env!("CARGO_PKG_NAME")),
            Some(env!("CARGO_PKG_VERSION")),
            ClientOptions::default(),
            Vec::new(),
            per_retry,
            None,
        );
        Ok(AzureCoreGetTest {
            target: Target::new(ctx.options()),
            pipeline,
            url: None,
        })
    }

    async fn global_setup(&mut self) -> Result<()> {
        self.target.global_setup()
    }

    async fn setup(&mut self) -> Result<()> {
        self.url = Some(Url::parse(self.target.url()?.as_str())?);
        Ok(())
    }

    async fn global_cleanup(&mut self) -> Result<()> {
        self.target.global_cleanup();
        Ok(())
    }

    async fn run_async(&mut self) -> Result<()> {
        let url = self
            .url
            .as_ref()
            .ok_or_else(|| Error::msg("the instance has no URL: its setup did not run"))?;
        let mut request = Request::new(url.clone(), Method::Get);
        // `send` checks the status (an error response fails the operation)
        // and buffers the body.
        let response = self
            .pipeline
            .send(&Context::new(), &mut request, None)
            .await?;
        drop(response);
        Ok(())
    }
}
