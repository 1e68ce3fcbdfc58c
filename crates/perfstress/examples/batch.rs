//! A batch test ([`BatchPerfTest`]): every run returns how many results it
//! produced (0 is fine), and the results count those, not the runs.
//!
//! `ReceiveBatchTest` receives up to `--max-batch` messages per call from
//! an in-memory queue that stands in for a service (think Service Bus
//! `receive_messages`), so it runs against nothing external.
//!
//! ```sh
//! cargo run -p perfstress --example batch -- ReceiveBatchTest -d 5
//! cargo run -p perfstress --example batch -- ReceiveBatchTest --max-batch 100 --sync -p 2 -d 5
//! ```

use std::collections::VecDeque;

use perfstress::{BatchPerfTest, Error, ErrorKind, Result, TestContext};

/// Options of [`ReceiveBatchTest`].
#[derive(clap::Args, Clone, Debug)]
pub struct ReceiveBatchOptions {
    /// Most messages one receive call returns.
    #[arg(long, value_name = "N", default_value_t = 10)]
    max_batch: usize,
}

/// A stand-in for a queue client: every call returns the next batch size
/// of a fixed pattern (0, 1, ..., max, 0, 1, ...), so some calls are empty.
struct MockQueue {
    batch_sizes: VecDeque<usize>,
}

impl MockQueue {
    fn new(max_batch: usize) -> Self {
        Self {
            batch_sizes: (0..=max_batch).collect(),
        }
    }

    fn receive(&mut self) -> Vec<u64> {
        let size = self.batch_sizes[0];
        self.batch_sizes.rotate_left(1);
        (0..size as u64).collect()
    }
}

/// One instance per parallel index, with its own queue client.
pub struct ReceiveBatchTest {
    queue: MockQueue,
}

/// Receives up to --max-batch messages per call from an in-memory queue.
#[perfstress::test]
impl BatchPerfTest for ReceiveBatchTest {
    type Options = ReceiveBatchOptions;

    async fn new(ctx: &TestContext<ReceiveBatchOptions>) -> Result<Self> {
        let max_batch = ctx.options().max_batch;
        if max_batch == 0 {
            return Err(Error::new(
                ErrorKind::Usage,
                "--max-batch must be at least 1",
            ));
        }
        Ok(ReceiveBatchTest {
            queue: MockQueue::new(max_batch),
        })
    }

    /// With `--sync`: one receive call; returns how many messages came.
    fn run_batch_sync(&mut self) -> Result<u64> {
        let messages = self.queue.receive();
        Ok(messages.len() as u64)
    }

    /// Without `--sync`: the same as a tokio task.
    async fn run_batch_async(&mut self) -> Result<u64> {
        let messages = self.queue.receive();
        tokio::task::yield_now().await; // where a client would await the service
        Ok(messages.len() as u64)
    }
}

fn main() {
    perfstress::main()
}
