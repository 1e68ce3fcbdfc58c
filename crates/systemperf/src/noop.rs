use perfstress::{NoOptions, PerfTest, Result, TestContext};

/// Measures the framework's own cost per operation: each run does nothing.
pub struct NoOpTest;

/// Does nothing per operation: the framework's own overhead.
#[perfstress::test]
impl PerfTest for NoOpTest {
    type Options = NoOptions;

    async fn new(_ctx: &TestContext<NoOptions>) -> Result<Self> {
        Ok(NoOpTest)
    }

    #[inline]
    fn run_sync(&mut self) -> Result<()> {
        Ok(())
    }

    #[inline]
    async fn run_async(&mut self) -> Result<()> {
        Ok(())
    }
}
