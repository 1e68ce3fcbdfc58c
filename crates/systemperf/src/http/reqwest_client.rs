//! `ReqwestGetTest`: GET through reqwest, async (`reqwest::Client`) and sync
//! (`reqwest::blocking::Client`).

use perfstress::{Error, PerfTest, Result, TestContext};

use super::options::HttpOptions;
use super::target::Target;

/// GETs the URL with reqwest (default settings, as an SDK would create
/// it); each instance has its own client. With `--sync` it uses
/// `reqwest::blocking`, which runs a runtime on a thread of its own per
/// client: that hop is part of what the sync variant measures.
pub struct ReqwestGetTest {
    target: Target,
    /// The async variant's client (without `--sync`).
    client: Option<reqwest::Client>,
    /// The sync variant's client (with `--sync`).
    blocking_client: Option<reqwest::blocking::Client>,
    url: Option<reqwest::Url>,
}

/// GET with reqwest (async, or reqwest::blocking with --sync); embedded server unless --url.
#[perfstress::test]
impl PerfTest for ReqwestGetTest {
    type Options = HttpOptions;

    async fn new(ctx: &TestContext<HttpOptions>) -> Result<Self> {
        let (client, blocking_client) = if ctx.is_sync() {
            // reqwest::blocking refuses to start inside an async runtime (in
            // debug builds), and `new` runs on one: build it on a thread.
            let built = std::thread::scope(|scope| {
                scope
                    .spawn(reqwest::blocking::Client::new)
                    .join()
                    .map_err(|_| Error::msg("building the reqwest::blocking client panicked"))
            })?;
            (None, Some(built))
        } else {
            (Some(reqwest::Client::new()), None)
        };
        Ok(ReqwestGetTest {
            target: Target::new(ctx.options()),
            client,
            blocking_client,
            url: None,
        })
    }

    async fn global_setup(&mut self) -> Result<()> {
        self.target.global_setup()
    }

    async fn setup(&mut self) -> Result<()> {
        self.url = Some(reqwest::Url::parse(self.target.url()?.as_str())?);
        Ok(())
    }

    async fn global_cleanup(&mut self) -> Result<()> {
        self.target.global_cleanup();
        Ok(())
    }

    fn run_sync(&mut self) -> Result<()> {
        let (Some(client), Some(url)) = (&self.blocking_client, &self.url) else {
            return Err(Error::msg(
                "no reqwest::blocking client: the instance was not set up for --sync",
            ));
        };
        let mut response = client.get(url.clone()).send()?.error_for_status()?;
        std::io::copy(&mut response, &mut std::io::sink())?;
        Ok(())
    }

    async fn run_async(&mut self) -> Result<()> {
        let (Some(client), Some(url)) = (&self.client, &self.url) else {
            return Err(Error::msg(
                "no reqwest client: the instance was not set up for async runs",
            ));
        };
        let mut response = client.get(url.clone()).send().await?.error_for_status()?;
        while response.chunk().await?.is_some() {}
        Ok(())
    }
}
