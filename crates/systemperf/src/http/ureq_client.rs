//! `UreqGetTest`: GET through ureq, the blocking client of sync SDKs.

use std::io::Read;

use perfstress::{Error, PerfTest, Result, TestContext};

use super::options::HttpOptions;
use super::target::Target;

/// GETs the URL with a ureq `Agent` (default settings: pooled keep-alive
/// connections); each instance has its own agent. Sync only.
pub struct UreqGetTest {
    target: Target,
    agent: ureq::Agent,
    url: String,
    buffer: Box<[u8]>,
}

/// GET with ureq (sync only: run with --sync); embedded server unless --url.
#[perfstress::test]
impl PerfTest for UreqGetTest {
    type Options = HttpOptions;

    async fn new(ctx: &TestContext<HttpOptions>) -> Result<Self> {
        Ok(UreqGetTest {
            target: Target::new(ctx.options()),
            agent: ureq::Agent::new_with_defaults(),
            url: String::new(),
            buffer: vec![0; 64 * 1024].into_boxed_slice(),
        })
    }

    async fn global_setup(&mut self) -> Result<()> {
        self.target.global_setup()
    }

    async fn setup(&mut self) -> Result<()> {
        self.url = self.target.url()?.as_str().to_owned();
        Ok(())
    }

    async fn global_cleanup(&mut self) -> Result<()> {
        self.target.global_cleanup();
        Ok(())
    }

    fn run_sync(&mut self) -> Result<()> {
        // Errors on a status >= 400 (ureq's default `http_status_as_error`).
        let mut response = self.agent.get(&self.url).call()?;
        let mut body = response.body_mut().as_reader();
        // Read to the end (which returns the connection to the pool),
        // keeping nothing.
        loop {
            match body.read(&mut self.buffer) {
                Ok(0) => break,
                Ok(_) => {}
                Err(error) if error.kind() == std::io::ErrorKind::Interrupted => {}
                Err(error) => {
                    return Err(Error::with_source(
                        perfstress::ErrorKind::Test,
                        format!("reading the response of GET {}", self.url),
                        error,
                    ));
                }
            }
        }
        Ok(())
    }
}
