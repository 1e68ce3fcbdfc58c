use std::time::{Duration, Instant};

use perfstress::{PerfTest, Result, TestContext};

/// Options of [`SleepTest`].
///
/// Each instance keeps an absolute schedule: operation `k` of a run of
/// consecutive operations wakes at `start + d0 + d1 + ... + dk` (each `d`
/// the delay of that operation), so the time a wake-up comes late (timer
/// slack, tokio's millisecond tick, a busy CPU) does not add up, and the
/// reported rate is `parallel / delay` whatever the timer's resolution.
/// The schedule restarts at the first operation of each phase (the
/// framework runs each phase's operations on new threads or tasks), after
/// a pause of the caller between two operations (`--rate` waiting), and
/// after a stall that leaves an operation more than half its delay (and
/// more than 25 ms) behind, so no operation is shortened to make up for
/// time outside the loop, nor skipped or cut below half its delay to catch
/// up.
#[derive(clap::Args, Clone, Debug)]
pub struct SleepOptions {
    /// Delay of each operation of instance 0, in milliseconds. Operations
    /// follow an absolute schedule (each wakes at the previous one's
    /// scheduled wake-up plus its delay), so timer slack does not accumulate.
    #[arg(long, value_name = "MS", default_value_t = 1000, value_parser = clap::value_parser!(u64).range(0..=86_400_000),
          env = "SYSTEMPERF_INITIAL_DELAY_MS")]
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

/// A pause of the caller at least this long between one operation's return
/// and the next call restarts the schedule. Inside a phase the operation
/// loop calls again within a microsecond (a wake-up that comes late is
/// inside the operation, and is what the schedule absorbs); while `--rate`
/// waits the pause is longer, and an operation must not be shortened to
/// make up for it.
const RESTART_AFTER_PAUSE: Duration = Duration::from_micros(500);

/// The lateness a short operation always absorbs (tokio's timer alone is a
/// millisecond late); past it, and past half the delay, the schedule
/// restarts instead.
const MAX_CATCH_UP: Duration = Duration::from_millis(25);

/// Where an operation was called from. The framework runs each timed phase
/// (warm-up, the timed run) on new threads (`--sync`) or tasks, so another
/// caller means another phase: its schedule starts afresh, whatever the
/// previous phase owed (a wake-up late at the end of the warm-up must not
/// be made up in the timed run; the pause between them can be shorter than
/// [`RESTART_AFTER_PAUSE`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Caller {
    Thread(std::thread::ThreadId),
    Task(Option<tokio::task::Id>),
}

/// The last operation: its scheduled wake-up, when it returned, and who
/// called it.
#[derive(Clone, Copy, Debug)]
struct Last {
    wake: Instant,
    returned: Instant,
    caller: Caller,
}

/// Sleeps per operation, so its throughput is known in advance:
/// `parallel / delay` operations per second (with growth factors 1), on an
/// absolute schedule per instance (see [`SleepOptions`]).
pub struct SleepTest {
    delay_seconds: f64,
    iteration_growth_factor: f64,
    /// The last operation, once there was one.
    last: Option<Last>,
}

impl SleepTest {
    fn next_delay(&mut self) -> Duration {
        let delay = Duration::from_secs_f64(self.delay_seconds.min(MAX_DELAY_SECONDS));
        self.delay_seconds *= self.iteration_growth_factor;
        delay
    }

    /// The scheduled wake-up of an operation called at `now` by `caller`:
    /// its delay after the previous operation's scheduled wake-up, or after
    /// `now` if there is none, another caller made it, or the caller paused
    /// since it returned.
    fn next_wake(&mut self, now: Instant, caller: Caller) -> Instant {
        let delay = self.next_delay();
        let base = match self.last {
            // Behind schedule by a wake-up's slack (up to half a delay, or
            // 25 ms for short delays): this operation is that much
            // shorter. Further behind (a stalled machine): the schedule
            // restarts, so no operation is cut below half its delay.
            Some(last)
                if last.caller == caller
                    && now.saturating_duration_since(last.returned) < RESTART_AFTER_PAUSE
                    && now.saturating_duration_since(last.wake)
                        <= (delay / 2).max(MAX_CATCH_UP) =>
            {
                last.wake
            }
            _ => now,
        };
        base + delay
    }

    /// The operation scheduled to wake at `wake`, called by `caller`,
    /// returns at `now`.
    fn returned(&mut self, wake: Instant, now: Instant, caller: Caller) {
        self.last = Some(Last {
            wake,
            returned: now,
            caller,
        });
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
            last: None,
        })
    }

    fn run_sync(&mut self) -> Result<()> {
        let caller = Caller::Thread(std::thread::current().id());
        let wake = self.next_wake(Instant::now(), caller);
        // `thread::sleep` sleeps at least as long as asked (it resumes after
        // a signal), so the wake-up is never early.
        if let Some(wait) = wake.checked_duration_since(Instant::now()) {
            std::thread::sleep(wait);
        }
        self.returned(wake, Instant::now(), caller);
        Ok(())
    }

    async fn run_async(&mut self) -> Result<()> {
        let caller = Caller::Task(tokio::task::try_id());
        let wake = self.next_wake(Instant::now(), caller);
        // Already due (catching up on a late wake-up): no timer at all.
        if wake > Instant::now() {
            tokio::time::sleep_until(tokio::time::Instant::from_std(wake)).await;
        }
        self.returned(wake, Instant::now(), caller);
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

    impl SleepTest {
        fn next_wake_here(&mut self, now: Instant) -> Instant {
            self.next_wake(now, here())
        }

        fn returned_here(&mut self, wake: Instant, now: Instant) {
            self.returned(wake, now, here())
        }
    }

    fn here() -> Caller {
        Caller::Thread(std::thread::current().id())
    }

    fn sleep_test(delay_ms: u64) -> SleepTest {
        SleepTest {
            delay_seconds: delay_ms as f64 / 1000.0,
            iteration_growth_factor: 1.0,
            last: None,
        }
    }

    #[test]
    fn late_wake_ups_do_not_accumulate() {
        let mut test = sleep_test(10);
        let start = Instant::now();
        let ms = Duration::from_millis;
        let first = test.next_wake_here(start);
        assert_eq!(first, start + ms(10));
        // It woke 3 ms late; the next call follows at once: the next
        // wake-up stays on the schedule, 20 ms after the start.
        test.returned_here(first, first + ms(3));
        let second = test.next_wake_here(first + ms(3) + Duration::from_micros(1));
        assert_eq!(second, start + ms(20));
        // 5 ms late: the next one is that much shorter.
        test.returned_here(second, second + ms(5));
        let third = test.next_wake_here(second + ms(5));
        assert_eq!(third, start + ms(30));
        // 15 ms late: still caught up (short delays absorb up to 25 ms),
        // so the next one is already due.
        test.returned_here(third, third + ms(15));
        let fourth = test.next_wake_here(third + ms(15));
        assert_eq!(fourth, start + ms(40));
        // 30 ms late (a stall): the schedule restarts, a whole delay from
        // now, rather than operations that do not sleep at all.
        test.returned_here(fourth, fourth + ms(30));
        let fifth = test.next_wake_here(fourth + ms(30));
        assert_eq!(fifth, fourth + ms(30) + ms(10));
    }

    #[test]
    fn a_pause_of_the_caller_restarts_the_schedule() {
        let mut test = sleep_test(10);
        let start = Instant::now();
        let ms = Duration::from_millis;
        let first = test.next_wake_here(start);
        test.returned_here(first, first);
        // The caller comes back 50 ms later (the next phase): a whole
        // delay from then, nothing made up for the pause.
        let resumed = first + ms(50);
        assert_eq!(test.next_wake_here(resumed), resumed + ms(10));
    }

    #[test]
    fn another_caller_restarts_the_schedule() {
        let mut test = sleep_test(10);
        let start = Instant::now();
        let ms = Duration::from_millis;
        let first = test.next_wake_here(start);
        // The warm-up's last operation woke 10 ms late (the same caller
        // would make that up)...
        test.returned_here(first, first + ms(10));
        // ... and the timed run's first comes at once, from a new thread:
        // a whole delay, nothing made up for the warm-up's lateness.
        let now = first + ms(10) + Duration::from_micros(100);
        let other = std::thread::spawn(|| std::thread::current().id())
            .join()
            .unwrap();
        assert_eq!(test.next_wake(now, Caller::Thread(other)), now + ms(10));
    }

    #[test]
    fn growth_applies_to_each_scheduled_step() {
        let mut test = sleep_test(100);
        test.iteration_growth_factor = 2.0;
        let start = Instant::now();
        let mut now = start;
        let mut wakes = Vec::new();
        for _ in 0..4 {
            let wake = test.next_wake_here(now);
            test.returned_here(wake, wake);
            wakes.push(wake.duration_since(start).as_millis());
            now = wake;
        }
        assert_eq!(wakes, [100, 300, 700, 1500]);
    }

    #[test]
    fn factors_must_be_positive() {
        assert!(parse_factor("0").is_err());
        assert!(parse_factor("-1").is_err());
        assert!(parse_factor("nan").is_err());
        assert_eq!(parse_factor("1.5"), Ok(1.5));
    }
}
