use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use perfstress::{Error, EventPerfTest, EventSink, Result, TestContext};

/// Options of [`SampleEventTest`].
#[derive(clap::Args, Clone, Debug)]
pub struct SampleEventOptions {
    /// Partitions of the mock processor: each raises events from a thread
    /// (`--sync`) or a task of its own.
    #[arg(long, value_name = "N", default_value_t = 8,
          value_parser = clap::value_parser!(u32).range(1..=1024))]
    pub partitions: u32,

    /// Events per second over all partitions; absent: as fast as possible.
    #[arg(long, value_name = "RATE", value_parser = parse_positive)]
    pub max_events_per_second: Option<f64>,

    /// Raise an error this many seconds after the source starts.
    #[arg(long, value_name = "SECS", value_parser = parse_positive)]
    pub error_after_seconds: Option<f64>,
}

fn parse_positive(text: &str) -> std::result::Result<f64, String> {
    match text.parse::<f64>() {
        Ok(value) if value.is_finite() && value > 0.0 => Ok(value),
        _ => Err(format!("expected a number greater than 0; got '{text}'")),
    }
}

/// Events between checks of the stop flag (and yields, in async partitions)
/// when unthrottled.
const UNTHROTTLED_BATCH: u32 = 256;
/// A throttled partition sleeps at most this long at once, to notice a stop.
const MAX_SLEEP: Duration = Duration::from_millis(50);

/// What one partition does; shared by the sync and async variants.
#[derive(Clone)]
struct Partition {
    index: u32,
    sink: EventSink,
    stop: Arc<AtomicBool>,
    /// Time between two events of this partition; `None`: unthrottled.
    interval: Option<Duration>,
    error_after: Option<Duration>,
    started: Instant,
}

enum Next {
    /// Raise the next event at this time.
    At(Instant),
    /// Raise a batch of events now.
    Batch,
    /// Stop (asked to, or after raising the injected error).
    Stop,
}

impl Partition {
    /// Decides what to do for event number `sequence` of this partition.
    fn next(&self, sequence: u64) -> Next {
        if self.stop.load(Ordering::Relaxed) {
            return Next::Stop;
        }
        if let Some(error_after) = self.error_after
            && self.index == 0
            && self.started.elapsed() >= error_after
        {
            self.sink.error_raised(Error::msg(format!(
                "SampleEventTest: error raised after {} s (--error-after-seconds)",
                error_after.as_secs_f64()
            )));
            return Next::Stop;
        }
        match self.interval {
            // The schedule is absolute, so the rate is exact however late a
            // single event is.
            Some(interval) => Next::At(self.started + interval.mul_f64(sequence as f64)),
            None => Next::Batch,
        }
    }

    fn run_blocking(self) {
        let mut sequence = 0;
        loop {
            match self.next(sequence) {
                Next::Stop => return,
                Next::Batch => {
                    for _ in 0..UNTHROTTLED_BATCH {
                        self.sink.event_raised();
                    }
                }
                Next::At(at) => {
                    let now = Instant::now();
                    if at > now {
                        std::thread::sleep((at - now).min(MAX_SLEEP));
                        continue;
                    }
                    self.sink.event_raised();
                    sequence += 1;
                }
            }
        }
    }

    async fn run_async(self) {
        let mut sequence = 0;
        loop {
            match self.next(sequence) {
                Next::Stop => return,
                Next::Batch => {
                    for _ in 0..UNTHROTTLED_BATCH {
                        self.sink.event_raised();
                    }
                    tokio::task::yield_now().await;
                }
                Next::At(at) => {
                    let now = Instant::now();
                    if at > now {
                        tokio::time::sleep((at - now).min(MAX_SLEEP)).await;
                        continue;
                    }
                    self.sink.event_raised();
                    sequence += 1;
                }
            }
        }
    }
}

/// A mock event processor (think Event Hubs): `--partitions` sources raise
/// events, optionally rate-limited, optionally failing after a while.
pub struct SampleEventTest {
    options: SampleEventOptions,
    sink: EventSink,
    stop: Arc<AtomicBool>,
    threads: Vec<std::thread::JoinHandle<()>>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

impl SampleEventTest {
    fn partitions(&self) -> Vec<Partition> {
        self.stop.store(false, Ordering::Relaxed);
        let count = self.options.partitions;
        let interval = self
            .options
            .max_events_per_second
            .map(|rate| Duration::from_secs_f64(f64::from(count) / rate));
        let started = Instant::now();
        (0..count)
            .map(|index| Partition {
                index,
                // Each partition gets its own clone: no contention.
                sink: self.sink.clone(),
                stop: self.stop.clone(),
                interval,
                error_after: self
                    .options
                    .error_after_seconds
                    .map(Duration::from_secs_f64),
                started,
            })
            .collect()
    }
}

/// A mock event processor with partitions, an optional rate and an optional error.
#[perfstress::test]
impl EventPerfTest for SampleEventTest {
    type Options = SampleEventOptions;

    async fn new(ctx: &TestContext<SampleEventOptions>, sink: EventSink) -> Result<Self> {
        Ok(SampleEventTest {
            options: ctx.options().clone(),
            sink,
            stop: Arc::new(AtomicBool::new(false)),
            threads: Vec::new(),
            tasks: Vec::new(),
        })
    }

    fn start_events_sync(&mut self) -> Result<()> {
        for partition in self.partitions() {
            let thread = std::thread::Builder::new()
                .name(format!("sample-event-partition-{}", partition.index))
                .spawn(move || partition.run_blocking())?;
            self.threads.push(thread);
        }
        Ok(())
    }

    fn stop_events_sync(&mut self) -> Result<()> {
        self.stop.store(true, Ordering::Relaxed);
        for thread in self.threads.drain(..) {
            thread
                .join()
                .map_err(|_| Error::msg("a SampleEventTest partition thread panicked"))?;
        }
        Ok(())
    }

    async fn start_events_async(&mut self) -> Result<()> {
        for partition in self.partitions() {
            self.tasks.push(tokio::spawn(partition.run_async()));
        }
        Ok(())
    }

    async fn stop_events_async(&mut self) -> Result<()> {
        self.stop.store(true, Ordering::Relaxed);
        for task in self.tasks.drain(..) {
            task.await?;
        }
        Ok(())
    }
}
