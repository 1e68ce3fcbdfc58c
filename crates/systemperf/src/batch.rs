use perfstress::{BatchPerfTest, Error, ErrorKind, Result, TestContext};
use rand::{Rng, SeedableRng};

/// Options of [`SampleBatchTest`].
#[derive(clap::Args, Clone, Debug)]
pub struct SampleBatchOptions {
    /// Fewest messages a batch returns.
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub min_message_count: u64,

    /// Most messages a batch returns.
    #[arg(long, value_name = "N", default_value_t = 10)]
    pub max_message_count: u64,
}

/// A batch test: each run "receives" a random number of messages in
/// `min..=max` and returns that count.
pub struct SampleBatchTest {
    range: std::ops::RangeInclusive<u64>,
    rng: rand::rngs::SmallRng,
}

/// Returns a random number of messages per batch (a batch-test sample).
#[perfstress::test]
impl BatchPerfTest for SampleBatchTest {
    type Options = SampleBatchOptions;

    async fn new(ctx: &TestContext<SampleBatchOptions>) -> Result<Self> {
        let options = ctx.options();
        if options.min_message_count > options.max_message_count {
            return Err(Error::new(
                ErrorKind::Usage,
                format!(
                    "--min-message-count ({}) must not exceed --max-message-count ({})",
                    options.min_message_count, options.max_message_count
                ),
            ));
        }
        Ok(SampleBatchTest {
            range: options.min_message_count..=options.max_message_count,
            rng: rand::rngs::SmallRng::from_os_rng(),
        })
    }

    fn run_batch_sync(&mut self) -> Result<u64> {
        Ok(self.rng.random_range(self.range.clone()))
    }

    async fn run_batch_async(&mut self) -> Result<u64> {
        Ok(self.rng.random_range(self.range.clone()))
    }
}
