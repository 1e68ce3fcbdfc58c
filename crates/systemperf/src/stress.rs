//! `StressSampleTest`: a test that fails on purpose, in a few kinds, and
//! can leak memory or allocate a set number of times per operation, so
//! that every stress-mode feature (`--continue-on-error`, the error
//! groups, `--max-error-rate`, the timeline, the memory trend and the
//! counting allocator) can be seen from the command line.

use std::hint::black_box;
use std::time::Duration;

use perfstress::{Error, ErrorKind, PerfTest, Result, TestContext};

/// A kind of injected failure.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum FailureKind {
    /// `timed out after N ms` (N varies: one group once masked).
    Timeout,
    /// An I/O error `connection reset by peer` under the context
    /// `sending request #N`.
    Reset,
    /// `HTTP 503 Service Unavailable from 127.0.0.1:PORT`, in the group the
    /// test names: `HTTP 503`.
    Status,
}

/// Options of [`StressSampleTest`].
#[derive(clap::Args, Clone, Debug)]
pub struct StressSampleOptions {
    /// The share of operations that fail, as a fraction or a percentage
    /// (`0.01` or `1%`). Deterministic: operation k of an instance fails
    /// when floor(k * rate) steps up, so `1%` fails exactly operations 100,
    /// 200, ... of each instance.
    #[arg(long, value_name = "RATE", default_value = "0", value_parser = perfstress::parse_fraction)]
    pub error_rate: f64,

    /// The kinds of failure, taken in turn (comma-separated).
    #[arg(
        long,
        value_name = "KINDS",
        value_enum,
        value_delimiter = ',',
        default_value = "timeout"
    )]
    pub error_kinds: Vec<FailureKind>,

    /// Bytes each successful operation allocates, fills and keeps until the
    /// instance is dropped: a leak of known size.
    #[arg(long, value_name = "BYTES", default_value_t = 0)]
    pub leak_bytes_per_op: usize,

    /// Allocations each operation makes (and frees): a known figure for the
    /// counting allocator.
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub allocations_per_op: u32,

    /// Microseconds each operation spins (0: none).
    #[arg(long, value_name = "MICROS", default_value_t = 0)]
    pub busy_us: u64,
}

/// Fails, leaks and allocates as its options say; otherwise does nothing.
#[derive(Debug)]
pub struct StressSampleTest {
    options: StressSampleOptions,
    /// Operations attempted so far.
    operations: u64,
    /// Failures injected so far.
    failures: u64,
    /// What the leak keeps.
    leaked: Vec<Box<[u8]>>,
}

impl StressSampleTest {
    fn operation(&mut self) -> Result<()> {
        self.operations += 1;
        if self.options.busy_us > 0 {
            let until = std::time::Instant::now() + Duration::from_micros(self.options.busy_us);
            while std::time::Instant::now() < until {
                std::hint::spin_loop();
            }
        }
        for _ in 0..self.options.allocations_per_op {
            black_box(Box::new(black_box(self.operations)));
        }
        let rate = self.options.error_rate;
        let due =
            (self.operations as f64 * rate).floor() > ((self.operations - 1) as f64 * rate).floor();
        if due {
            self.failures += 1;
            let kinds = &self.options.error_kinds;
            let kind = kinds[(self.failures as usize - 1) % kinds.len()];
            return Err(self.failure(kind));
        }
        if self.options.leak_bytes_per_op > 0 {
            // Filled, so the pages are resident.
            self.leaked
                .push(vec![0xA5u8; self.options.leak_bytes_per_op].into_boxed_slice());
        }
        Ok(())
    }

    fn failure(&self, kind: FailureKind) -> Error {
        match kind {
            FailureKind::Timeout => {
                Error::msg(format!("timed out after {} ms", 20 + self.failures % 17))
            }
            FailureKind::Reset => Error::from(std::io::Error::new(
                std::io::ErrorKind::ConnectionReset,
                "connection reset by peer",
            ))
            .context(format!("sending request #{}", self.operations)),
            FailureKind::Status => Error::new(
                ErrorKind::Test,
                format!(
                    "HTTP 503 Service Unavailable from 127.0.0.1:{}",
                    40_000 + self.failures % 1000
                ),
            )
            .with_group("HTTP 503"),
        }
    }
}

/// Fails with a given probability, leaks and allocates on demand.
#[perfstress::test]
impl PerfTest for StressSampleTest {
    type Options = StressSampleOptions;

    async fn new(ctx: &TestContext<StressSampleOptions>) -> Result<Self> {
        if ctx.options().error_kinds.is_empty() {
            return Err(Error::new(
                ErrorKind::Usage,
                "--error-kinds needs at least one kind",
            ));
        }
        Ok(Self {
            options: ctx.options().clone(),
            operations: 0,
            failures: 0,
            leaked: Vec::new(),
        })
    }

    fn run_sync(&mut self) -> Result<()> {
        self.operation()
    }

    async fn run_async(&mut self) -> Result<()> {
        self.operation()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn test(rate: f64, kinds: Vec<FailureKind>) -> StressSampleTest {
        StressSampleTest {
            options: StressSampleOptions {
                error_rate: rate,
                error_kinds: kinds,
                leak_bytes_per_op: 0,
                allocations_per_op: 0,
                busy_us: 0,
            },
            operations: 0,
            failures: 0,
            leaked: Vec::new(),
        }
    }

    #[test]
    fn one_percent_fails_every_hundredth_operation() {
        let mut sample = test(0.01, vec![FailureKind::Timeout, FailureKind::Status]);
        let failed: Vec<u64> = (1..=1000u64)
            .filter(|_| sample.operation().is_err())
            .collect();
        assert_eq!(failed, (1..=10).map(|k| k * 100).collect::<Vec<_>>());
        let mut none = test(0.0, vec![FailureKind::Timeout]);
        assert!((0..1000).all(|_| none.operation().is_ok()));
        let mut all = test(1.0, vec![FailureKind::Reset]);
        assert!((0..10).all(|_| all.operation().is_err()));
    }

    #[test]
    fn kinds_take_turns_and_status_names_its_group() {
        let mut sample = test(1.0, vec![FailureKind::Timeout, FailureKind::Status]);
        let first = sample.operation().unwrap_err();
        assert!(first.to_string().starts_with("timed out after"));
        assert_eq!(first.group(), None);
        let second = sample.operation().unwrap_err();
        assert_eq!(second.group(), Some("HTTP 503"));
    }
}
