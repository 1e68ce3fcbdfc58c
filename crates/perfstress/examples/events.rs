//! An event test ([`EventPerfTest`]): results arrive through callbacks,
//! counted with [`EventSink::event_raised`].
//!
//! `ProcessEventsTest` runs a simulated event processor (think Event Hubs):
//! `--partitions` sources, each raising one event every `--interval-us`
//! microseconds, on threads of their own with `--sync` and on tokio tasks
//! without. `--fail-after-seconds` makes a source call
//! [`EventSink::error_raised`], which fails the run (exit 1) after cleanup.
//! It runs against nothing external.
//!
//! The async variant uses `tokio::spawn` and `tokio::time`: a suite needs
//! `tokio = { version = "1", features = ["rt", "time"] }`.
//!
//! ```sh
//! cargo run -p perfstress --example events -- ProcessEventsTest -d 5
//! cargo run -p perfstress --example events -- ProcessEventsTest --sync --partitions 2 -d 5
//! cargo run -p perfstress --example events -- ProcessEventsTest --fail-after-seconds 1 -w 0 -d 5
//! ```

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use perfstress::{Error, EventPerfTest, EventSink, Result, TestContext};

/// Options of [`ProcessEventsTest`].
#[derive(clap::Args, Clone, Debug)]
pub struct ProcessEventsOptions {
    /// Event sources (partitions) per instance.
    #[arg(long, value_name = "N", default_value_t = 2,
          value_parser = clap::value_parser!(u32).range(1..=64))]
    partitions: u32,

    /// Time between two events of one partition, in microseconds.
    #[arg(long, value_name = "MICROS", default_value_t = 1000,
          value_parser = clap::value_parser!(u64).range(1..))]
    interval_us: u64,

    /// Make partition 0 report an error this many seconds after it starts.
    #[arg(long, value_name = "SECS")]
    fail_after_seconds: Option<u64>,
}

/// One partition of the simulated processor: what its thread or task does.
struct Partition {
    index: u32,
    /// This partition's own clone of the instance's sink.
    sink: EventSink,
    stop: Arc<AtomicBool>,
    interval: Duration,
    fail_after: Option<Duration>,
    started: Instant,
}

impl Partition {
    /// Whether to stop; reports the injected error when it is due.
    fn should_stop(&self) -> bool {
        if self.stop.load(Ordering::Relaxed) {
            return true;
        }
        match self.fail_after {
            Some(after) if self.index == 0 && self.started.elapsed() >= after => {
                self.sink.error_raised(Error::msg(format!(
                    "partition 0 lost its connection after {} s (--fail-after-seconds)",
                    after.as_secs()
                )));
                true
            }
            _ => false,
        }
    }

    fn run_blocking(self) {
        while !self.should_stop() {
            std::thread::sleep(self.interval);
            self.sink.event_raised();
        }
    }

    async fn run_async(self) {
        let mut ticks = tokio::time::interval(self.interval);
        while !self.should_stop() {
            ticks.tick().await;
            self.sink.event_raised();
        }
    }
}

/// One instance per parallel index: its sink, and the sources it started.
pub struct ProcessEventsTest {
    options: ProcessEventsOptions,
    sink: EventSink,
    stop: Arc<AtomicBool>,
    threads: Vec<std::thread::JoinHandle<()>>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

impl ProcessEventsTest {
    fn partitions(&self) -> impl Iterator<Item = Partition> + '_ {
        self.stop.store(false, Ordering::Relaxed);
        let started = Instant::now();
        (0..self.options.partitions).map(move |index| Partition {
            index,
            // One clone per thread or task: each counts on its own cache line.
            sink: self.sink.clone(),
            stop: self.stop.clone(),
            interval: Duration::from_micros(self.options.interval_us),
            fail_after: self.options.fail_after_seconds.map(Duration::from_secs),
            started,
        })
    }
}

/// Counts the events of a simulated processor with --partitions sources.
#[perfstress::test]
impl EventPerfTest for ProcessEventsTest {
    type Options = ProcessEventsOptions;

    /// Keeps the sink; the sources start later, after `setup`.
    async fn new(ctx: &TestContext<ProcessEventsOptions>, sink: EventSink) -> Result<Self> {
        Ok(ProcessEventsTest {
            options: ctx.options().clone(),
            sink,
            stop: Arc::new(AtomicBool::new(false)),
            threads: Vec::new(),
            tasks: Vec::new(),
        })
    }

    /// With `--sync`, after `setup`: called on a plain thread, outside the
    /// async runtime. Must return once the source runs, so a blocking
    /// source gets threads of its own.
    fn start_events_sync(&mut self) -> Result<()> {
        let partitions: Vec<Partition> = self.partitions().collect();
        for partition in partitions {
            let thread = std::thread::Builder::new()
                .name(format!("partition-{}", partition.index))
                .spawn(move || partition.run_blocking())?;
            self.threads.push(thread);
        }
        Ok(())
    }

    /// With `--sync`, before `cleanup` (also after a failure or Ctrl-C).
    fn stop_events_sync(&mut self) -> Result<()> {
        self.stop.store(true, Ordering::Relaxed);
        for thread in self.threads.drain(..) {
            thread
                .join()
                .map_err(|_| Error::msg("a partition thread panicked"))?;
        }
        Ok(())
    }

    /// Without `--sync`, after `setup`, on the tokio runtime: spawn tasks.
    async fn start_events_async(&mut self) -> Result<()> {
        let partitions: Vec<Partition> = self.partitions().collect();
        for partition in partitions {
            self.tasks.push(tokio::spawn(partition.run_async()));
        }
        Ok(())
    }

    /// Without `--sync`, before `cleanup`.
    async fn stop_events_async(&mut self) -> Result<()> {
        self.stop.store(true, Ordering::Relaxed);
        for task in self.tasks.drain(..) {
            task.await?; // a JoinError (the task panicked) converts with `?`
        }
        Ok(())
    }
}

fn main() {
    perfstress::main()
}
