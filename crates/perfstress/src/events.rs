//! The sink through which an event test reports its events.
//!
//! An [`EventPerfTest`](crate::EventPerfTest) receives one [`EventSink`]
//! per instance. The callbacks of its event source call
//! [`event_raised`](EventSink::event_raised) for every event and
//! [`error_raised`](EventSink::error_raised) on failure. Events count only
//! while the framework counts (warm-up and the timed run).

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::error::Error;
use crate::metrics::InstanceSnapshot;

/// The counters of one sink clone. Each clone has its own, on its own cache
/// lines, so threads that each hold a clone never contend.
#[derive(Default)]
#[repr(align(128))]
struct Shard {
    events: AtomicU64,
    /// The last event's time, in raw clock ticks (the TSC where reliable).
    last_event_ticks: AtomicU64,
}

impl Shard {
    fn reset(&self) {
        self.events.store(0, Ordering::Relaxed);
        self.last_event_ticks.store(0, Ordering::Relaxed);
    }

    /// Counts one event and stamps its time. Unlike an operation loop, an
    /// event source can fall silent at any moment, so every event is timed:
    /// the last one's time is exact, whatever the pattern of events. The
    /// stamp is a raw clock read (`quanta`: the TSC, a third of the cost of
    /// `Instant::now` here), converted only when the figures are read.
    #[inline]
    fn record(&self, clock: &quanta::Clock, deadline_ticks: u64) {
        let now = clock.raw();
        if now > deadline_ticks {
            // Raised after the phase's deadline: the framework closes the
            // counters only when its thread next runs, which on a saturated
            // machine can be milliseconds later.
            return;
        }
        self.events.fetch_add(1, Ordering::Relaxed);
        // A plain store: threads sharing one clone may store a time a few
        // nanoseconds older than the latest, which no figure can notice.
        self.last_event_ticks.store(now, Ordering::Relaxed);
    }
}

/// What the framework and every clone of one instance's sink share.
struct Channel {
    counting: AtomicBool,
    clock: quanta::Clock,
    /// Raw clock ticks when counting opened...
    open_ticks: AtomicU64,
    /// ...and how long after the phase start that was, in nanoseconds.
    open_lag_nanos: AtomicU64,
    /// Raw clock ticks of the phase's deadline: later events do not count.
    deadline_ticks: AtomicU64,
    shards: Mutex<Vec<Arc<Shard>>>,
    on_error: Box<dyn Fn(Error) + Send + Sync>,
    error_reported: AtomicBool,
}

/// Where an event test reports its events: cheap to clone, `Send` and
/// `Sync`. Give each thread or task of the event source its own clone: each
/// clone counts on its own cache line, so counting stays exact and costs a
/// few nanoseconds however many threads raise events at once.
pub struct EventSink {
    channel: Arc<Channel>,
    shard: Arc<Shard>,
}

impl Clone for EventSink {
    fn clone(&self) -> Self {
        let shard = Arc::new(Shard::default());
        shard.reset();
        lock(&self.channel.shards).push(shard.clone());
        Self {
            channel: self.channel.clone(),
            shard,
        }
    }
}

impl std::fmt::Debug for EventSink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EventSink")
            .field("counting", &self.channel.counting.load(Ordering::Relaxed))
            .finish_non_exhaustive()
    }
}

impl EventSink {
    /// One event happened. Counted only during warm-up and the timed run.
    #[inline]
    pub fn event_raised(&self) {
        if self.channel.counting.load(Ordering::Relaxed) {
            let deadline = self.channel.deadline_ticks.load(Ordering::Relaxed);
            self.shard.record(&self.channel.clock, deadline);
        }
    }

    /// The event source failed: the run stops as a failure (exit 1) and
    /// cleanup runs. Only the first error of an instance is reported.
    pub fn error_raised(&self, error: impl Into<Error>) {
        if !self.channel.error_reported.swap(true, Ordering::Relaxed) {
            (self.channel.on_error)(error.into());
        }
    }
}

/// The framework's side of one instance's sink.
pub(crate) struct EventCounter {
    channel: Arc<Channel>,
}

impl EventCounter {
    /// A counter and the first sink of an instance; errors go to `on_error`.
    pub(crate) fn new(on_error: impl Fn(Error) + Send + Sync + 'static) -> (Self, EventSink) {
        let shard = Arc::new(Shard::default());
        shard.reset();
        let channel = Arc::new(Channel {
            counting: AtomicBool::new(false),
            clock: quanta::Clock::new(),
            open_ticks: AtomicU64::new(0),
            open_lag_nanos: AtomicU64::new(0),
            deadline_ticks: AtomicU64::new(u64::MAX),
            shards: Mutex::new(vec![shard.clone()]),
            on_error: Box::new(on_error),
            error_reported: AtomicBool::new(false),
        });
        (
            Self {
                channel: channel.clone(),
            },
            EventSink { channel, shard },
        )
    }

    /// Starts counting from zero for a phase that started at `start` and
    /// lasts `duration`.
    pub(crate) fn open(&self, start: Instant, duration: Duration) {
        let shards = lock(&self.channel.shards);
        for shard in shards.iter() {
            shard.reset();
        }
        let clock = &self.channel.clock;
        let open_ticks = clock.raw();
        let lag = Instant::now().saturating_duration_since(start);
        // Raw ticks per nanosecond (the TSC's rate, or 1 where quanta falls
        // back to the OS clock), to place the deadline on the raw scale.
        const PROBE_TICKS: u64 = 1 << 40;
        let nanos_per_probe = clock.delta_as_nanos(0, PROBE_TICKS).max(1);
        let ticks_per_nano = PROBE_TICKS as f64 / nanos_per_probe as f64;
        let remaining = duration.saturating_sub(lag).as_nanos() as f64;
        let deadline_ticks = open_ticks.saturating_add((remaining * ticks_per_nano) as u64);
        self.channel.open_lag_nanos.store(
            u64::try_from(lag.as_nanos()).unwrap_or(u64::MAX),
            Ordering::Relaxed,
        );
        self.channel.open_ticks.store(open_ticks, Ordering::Relaxed);
        self.channel
            .deadline_ticks
            .store(deadline_ticks, Ordering::Relaxed);
        self.channel.counting.store(true, Ordering::Release);
    }

    /// Stops counting (events raised from now on are ignored).
    pub(crate) fn close(&self) {
        self.channel.counting.store(false, Ordering::Release);
    }

    /// Events so far in the phase, and the time of the last one (never
    /// before the phase start; zero without events).
    pub(crate) fn snapshot(&self) -> InstanceSnapshot {
        let open_ticks = self.channel.open_ticks.load(Ordering::Relaxed);
        let lag = self.channel.open_lag_nanos.load(Ordering::Relaxed);
        let mut completed_operations = 0;
        let mut last_ticks = open_ticks;
        for shard in lock(&self.channel.shards).iter() {
            let events = shard.events.load(Ordering::Relaxed);
            if events > 0 {
                completed_operations += events;
                last_ticks = last_ticks.max(shard.last_event_ticks.load(Ordering::Relaxed));
            }
        }
        InstanceSnapshot {
            completed_operations,
            last_completion: if completed_operations == 0 {
                Duration::ZERO
            } else {
                Duration::from_nanos(
                    lag + self.channel.clock.delta_as_nanos(open_ticks, last_ticks),
                )
            },
        }
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn counter() -> (EventCounter, EventSink, Arc<Mutex<Vec<String>>>) {
        let errors = Arc::new(Mutex::new(Vec::new()));
        let sink_errors = errors.clone();
        let (counter, sink) =
            EventCounter::new(move |error| sink_errors.lock().unwrap().push(error.to_string()));
        (counter, sink, errors)
    }

    #[test]
    fn counts_only_while_open() {
        let (counter, sink, _) = counter();
        sink.event_raised();
        counter.open(Instant::now(), Duration::from_secs(60));
        for _ in 0..10 {
            sink.event_raised();
        }
        std::thread::sleep(Duration::from_millis(2));
        sink.event_raised();
        counter.close();
        sink.event_raised();
        let snapshot = counter.snapshot();
        assert_eq!(snapshot.completed_operations, 11);
        assert!(snapshot.last_completion >= Duration::from_millis(2));
    }

    #[test]
    fn events_after_the_deadline_do_not_count() {
        let (counter, sink, _) = counter();
        counter.open(Instant::now(), Duration::from_millis(20));
        sink.event_raised();
        std::thread::sleep(Duration::from_millis(30));
        sink.event_raised();
        let snapshot = counter.snapshot();
        assert_eq!(snapshot.completed_operations, 1);
        assert!(snapshot.last_completion < Duration::from_millis(20));
    }

    #[test]
    fn no_events_means_zero_time() {
        let (counter, _sink, _) = counter();
        counter.open(Instant::now(), Duration::from_secs(60));
        std::thread::sleep(Duration::from_millis(1));
        assert_eq!(counter.snapshot(), InstanceSnapshot::default());
    }

    #[test]
    fn many_threads_count_exactly() {
        let (counter, sink, _) = counter();
        counter.open(Instant::now(), Duration::from_secs(60));
        std::thread::scope(|scope| {
            // Eight threads with a clone each, four sharing one clone.
            for _ in 0..8 {
                let own = sink.clone();
                scope.spawn(move || {
                    for _ in 0..100_000 {
                        own.event_raised();
                    }
                });
            }
            for _ in 0..4 {
                let shared = &sink;
                scope.spawn(move || {
                    for _ in 0..100_000 {
                        shared.event_raised();
                    }
                });
            }
        });
        counter.close();
        assert_eq!(counter.snapshot().completed_operations, 1_200_000);
    }

    #[test]
    fn only_the_first_error_is_reported() {
        let (_counter, sink, errors) = counter();
        sink.error_raised(Error::msg("first"));
        sink.clone().error_raised(Error::msg("second"));
        assert_eq!(*errors.lock().unwrap(), vec!["first".to_owned()]);
    }
}
