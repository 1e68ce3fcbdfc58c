use std::time::Duration;

use perfstress::{PerfTest, Result, TestContext};

/// Options of [`SleepTest`].
#[derive(clap::Args, Clone, Debug)]
pub struct SleepOptions {
    /// Delay of each operation of instance 0, in milliseconds.
    #[arg(long, value_name = "MS", default_value_t = 1000, value_parser = clap::value_parser!(u64).range(0..=86_400_000))]
    pub initial_delay_ms: u64,

    /// Instance i sleeps initial-delay-ms * factor^i.
    #[arg(long, value_name = "FACTOR", default_value_t = 1.0, value_parser = parse_factor)]
    pub instance_growth_factor: f64,

    /// The delay is multiplied by this factor after each operation.
    #[arg(long, value_name = "FACTOR", default_value_t = 1.0, value_parser = parse_factor)]
    pub iteration_growth_factor: f64,
}

fn parse_factor(text: &str) -> std::result::Result<f64, String> {
    match text.parse::<f64>() {
        Ok(factor) if factor.is_finite() && factor > 0.0 => Ok(factor),
        _ => Err(format!(
            "expected a number greater than 0, e.g. 1.5; got '{text}'"
        )),
    }
}

/// The longest single sleep, so that growth factors cannot overflow.
const MAX_DELAY_SECONDS: f64 = 86_400.0;

/// Sleeps per operation, so its throughput is known in advance:
/// `parallel / delay` operations per second (with growth factors 1).
pub struct SleepTest {
    delay_seconds: f64,
    iteration_growth_factor: f64,
}

impl SleepTest {
    fn next_delay(&mut self) -> Duration {
        let delay = Duration::from_secs_f64(self.delay_seconds.min(MAX_DELAY_SECONDS));
        self.delay_seconds *= self.iteration_growth_factor;
        delay
    }
}

/// Sleeps for a configurable, optionally growing delay per operation.
#[perfstress::test]
impl PerfTest for SleepTest {
    type Options = SleepOptions;

    async fn new(ctx: &TestContext<SleepOptions>) -> Result<Self> {
        let options = ctx.options();
        let exponent = i32::try_from(ctx.parallel_index()).unwrap_or(i32::MAX);
        Ok(SleepTest {
            delay_seconds: options.initial_delay_ms as f64 / 1000.0
                * options.instance_growth_factor.powi(exponent),
            iteration_growth_factor: options.iteration_growth_factor,
        })
    }

    fn run_sync(&mut self) -> Result<()> {
        std::thread::sleep(self.next_delay());
        Ok(())
    }

    async fn run_async(&mut self) -> Result<()> {
        tokio::time::sleep(self.next_delay()).await;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn delays_grow_per_instance_and_iteration() {
        let options = SleepOptions {
            initial_delay_ms: 100,
            instance_growth_factor: 2.0,
            iteration_growth_factor: 1.5,
        };
        let mut test = SleepTest::new(&TestContext::new("SleepTest", options, 2, 3))
            .await
            .unwrap();
        assert_eq!(test.next_delay(), Duration::from_millis(400));
        assert_eq!(test.next_delay(), Duration::from_millis(600));
        assert_eq!(test.next_delay(), Duration::from_millis(900));
    }

    #[test]
    fn factors_must_be_positive() {
        assert!(parse_factor("0").is_err());
        assert!(parse_factor("-1").is_err());
        assert!(parse_factor("nan").is_err());
        assert_eq!(parse_factor("1.5"), Ok(1.5));
    }
}
