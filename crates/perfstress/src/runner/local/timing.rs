//! How the per-operation loop times operations: not at all (the default:
//! no clock read per operation), recording latency, or pacing operations to
//! a target rate and recording both service time and corrected latency.
//! The loop is generic over these, so the untimed loop pays nothing for
//! their existence.

use std::future::Future;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::metrics::{LatencyHistogram, LatencyRecord};
use crate::plan::LATE_START_THRESHOLD;

/// How a timed phase times its operations.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct TimingPlan {
    /// Record latency (`--latency`, only in the timed run).
    pub(crate) record: bool,
    /// Target rate over all instances (`--rate`), in operations per second.
    pub(crate) rate: Option<f64>,
    /// Instances in all processes.
    pub(crate) parallel: usize,
}

/// The timing strategy of the operation loop.
pub(crate) trait Timing: Send + 'static {
    /// Whether `before_*` may wait. The async loop skips the call (and its
    /// await point) entirely when not, which keeps the untimed loop as
    /// tight as before.
    const PACED: bool;

    /// Right before the first operation.
    fn begin(&mut self);

    /// Before each operation: waits for its scheduled time if paced.
    /// Returns `false` if the phase ended while waiting.
    fn before_sync(&mut self, stop: &AtomicBool) -> bool;

    /// The async form of [`before_sync`](Self::before_sync).
    fn before_async(&mut self, stop: &AtomicBool) -> impl Future<Output = bool> + Send;

    /// After each completed operation.
    fn after(&mut self);

    /// After each failed operation (`--continue-on-error`): its latency
    /// goes into a histogram of its own.
    fn after_error(&mut self);

    /// When the instance's loop ends (on the instance's thread or task).
    #[inline(always)]
    fn end(&mut self) {}

    /// What was recorded, if anything.
    fn into_record(self) -> Option<LatencyRecord>;
}

/// No timing: the loop reads no clock per operation.
pub(crate) struct Untimed;

impl Timing for Untimed {
    const PACED: bool = false;

    #[inline(always)]
    fn begin(&mut self) {}

    #[inline(always)]
    fn before_sync(&mut self, _stop: &AtomicBool) -> bool {
        true
    }

    #[inline(always)]
    async fn before_async(&mut self, _stop: &AtomicBool) -> bool {
        true
    }

    #[inline(always)]
    fn after(&mut self) {}

    #[inline(always)]
    fn after_error(&mut self) {}

    fn into_record(self) -> Option<LatencyRecord> {
        None
    }
}

/// Where [`Recorded`] puts each latency: a histogram of the instance's own
/// (the phase's whole histogram), or [`IntervalSink`], which hands the
/// interval's histogram to the status tick when asked.
pub(crate) trait LatencySink: Send + 'static {
    /// Records one latency.
    fn record_nanos(&mut self, nanos: u64);
    /// What is left at the end of the phase.
    fn into_histogram(self) -> LatencyHistogram;
    /// Called while an instance waits for its next operation's due time
    /// (`--rate`): a sink that hands its interval over does it now rather
    /// than at the next operation's end.
    #[inline(always)]
    fn idle(&mut self) {}
    /// When the instance's loop ends.
    #[inline(always)]
    fn end(&mut self) {}
}

impl LatencySink for LatencyHistogram {
    #[inline(always)]
    fn record_nanos(&mut self, nanos: u64) {
        LatencyHistogram::record_nanos(self, nanos);
    }

    fn into_histogram(self) -> LatencyHistogram {
        self
    }
}

/// How long a tick waits for the instances to hand over their interval
/// histograms; one in the middle of an operation hands its own over with
/// the next interval's (the last interval is the phase's histogram less the
/// others, so nothing is lost or counted twice).
const HAND_OVER_WAIT: Duration = Duration::from_millis(5);
/// With `--rate` a waiting instance hands over when it wakes for its next
/// operation, so the tick waits up to one instance's interval between
/// operations, but never longer than this (the status line waits with it).
const PACED_HAND_OVER_WAIT_MAX: Duration = Duration::from_millis(50);

impl TimingPlan {
    /// How long a tick waits for the instances' interval histograms: an
    /// instance answers at the end of its current operation or, paced, when
    /// it wakes for its next one (no extra wake-ups on the waiting path).
    pub(crate) fn hand_over_wait(&self) -> Duration {
        match self.rate {
            Some(rate) if rate > 0.0 => {
                Duration::from_secs_f64((self.parallel as f64 / rate).min(1.0))
                    .saturating_add(Duration::from_millis(1))
                    .clamp(HAND_OVER_WAIT, PACED_HAND_OVER_WAIT_MAX)
            }
            _ => HAND_OVER_WAIT,
        }
    }
}

/// The meeting point of an instance's [`IntervalSink`] and the status tick.
#[derive(Debug, Default)]
pub(crate) struct SharedLatency {
    /// Set by the tick; the instance hands its histogram over at its next
    /// operation and clears it. Read (relaxed) once per operation: a line
    /// written once an interval, so no contention.
    requested: AtomicBool,
    handed: Mutex<Option<LatencyHistogram>>,
}

impl SharedLatency {
    /// One meeting point for each of `count` instances.
    pub(crate) fn for_instances(count: usize) -> Vec<Arc<SharedLatency>> {
        (0..count).map(|_| Arc::default()).collect()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Option<LatencyHistogram>> {
        self.handed
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// The interval histograms of `sinks`, merged: asks every instance,
    /// waits at most `wait` for them ([`TimingPlan::hand_over_wait`]),
    /// takes what was handed.
    pub(crate) fn take_all(sinks: &[Arc<SharedLatency>], wait: Duration) -> LatencyHistogram {
        for sink in sinks {
            sink.requested.store(true, Ordering::Release);
        }
        let deadline = std::time::Instant::now() + wait;
        while sinks
            .iter()
            .any(|sink| sink.requested.load(Ordering::Acquire))
            && std::time::Instant::now() < deadline
        {
            std::thread::sleep(Duration::from_micros(50));
        }
        let mut merged = LatencyHistogram::new();
        for sink in sinks {
            if let Some(histogram) = sink.lock().take() {
                merged.merge(&histogram);
            }
        }
        merged
    }
}

/// An instance's latency histogram of the current interval, handed to the
/// tick when it asks (`--latency` with a timeline or histogram log).
pub(crate) struct IntervalSink {
    histogram: LatencyHistogram,
    shared: Arc<SharedLatency>,
}

impl IntervalSink {
    pub(crate) fn new(shared: Arc<SharedLatency>) -> Self {
        Self {
            histogram: LatencyHistogram::new(),
            shared,
        }
    }

    #[cold]
    #[inline(never)]
    fn hand_over(&mut self) {
        let interval = std::mem::take(&mut self.histogram);
        let mut handed = self.shared.lock();
        match &mut *handed {
            Some(earlier) => earlier.merge(&interval),
            None => *handed = Some(interval),
        }
        self.shared.requested.store(false, Ordering::Release);
    }
}

impl LatencySink for IntervalSink {
    #[inline(always)]
    fn record_nanos(&mut self, nanos: u64) {
        self.histogram.record_nanos(nanos);
        if self.shared.requested.load(Ordering::Relaxed) {
            self.hand_over();
        }
    }

    fn idle(&mut self) {
        if self.shared.requested.load(Ordering::Relaxed) {
            self.hand_over();
        }
    }

    /// The loop ended: what it recorded since the last hand-over belongs
    /// to the interval in progress, so the next tick takes it (a paced
    /// instance ends before the phase's last tick when its next operation
    /// would be due after the end; without this the tick at the end would
    /// find nothing and the last, partial interval would hold it all).
    fn end(&mut self) {
        self.hand_over();
    }

    fn into_histogram(mut self) -> LatencyHistogram {
        // What the ticks did not take yet is part of the last interval.
        if let Some(handed) = self.shared.lock().take() {
            self.histogram.merge(&handed);
        }
        self.histogram
    }
}

/// Records each operation's latency. One clock read per operation: the
/// end of one operation is the start of the next (the loop's own work in
/// between is a nanosecond). The clock is the TSC (`quanta`), a third of
/// the cost of `Instant::now` on a VM.
pub(crate) struct Recorded<S: LatencySink = LatencyHistogram> {
    clock: quanta::Clock,
    start: u64,
    histogram: S,
    /// Failed operations (`--continue-on-error`).
    errors: Option<LatencyHistogram>,
}

impl Recorded {
    pub(crate) fn new(clock: quanta::Clock) -> Self {
        Self::with_sink(clock, LatencyHistogram::new())
    }
}

impl<S: LatencySink> Recorded<S> {
    /// Records into `histogram`.
    pub(crate) fn with_sink(clock: quanta::Clock, histogram: S) -> Self {
        Self {
            clock,
            start: 0,
            histogram,
            errors: None,
        }
    }
}

impl<S: LatencySink> Timing for Recorded<S> {
    const PACED: bool = false;

    fn begin(&mut self) {
        self.start = self.clock.raw();
    }

    #[inline(always)]
    fn before_sync(&mut self, _stop: &AtomicBool) -> bool {
        true
    }

    #[inline(always)]
    async fn before_async(&mut self, _stop: &AtomicBool) -> bool {
        true
    }

    #[inline(always)]
    fn after(&mut self) {
        let end = self.clock.raw();
        self.histogram
            .record_nanos(self.clock.delta_as_nanos(self.start, end));
        self.start = end;
    }

    #[cold]
    fn after_error(&mut self) {
        let end = self.clock.raw();
        self.errors
            .get_or_insert_with(LatencyHistogram::new)
            .record_nanos(self.clock.delta_as_nanos(self.start, end));
        self.start = end;
    }

    fn end(&mut self) {
        self.histogram.end();
    }

    fn into_record(self) -> Option<LatencyRecord> {
        Some(LatencyRecord {
            service: self.histogram.into_histogram(),
            corrected: None,
            late_starts: 0,
            clock_resolution_ns: 0.0,
            errors: self.errors,
        })
    }
}

/// Paces operations to a schedule (open loop: the schedule does not wait
/// for slow operations) and records service time and corrected latency.
/// Operation `k` of the instance is due at `origin + offset + k * interval`;
/// its corrected latency runs from that time, however late it started.
/// The service time goes to `S` (an [`IntervalSink`] when the ticks take
/// each interval's latency).
pub(crate) struct Paced<S: LatencySink = LatencyHistogram> {
    clock: quanta::Clock,
    interval: Duration,
    offset: Duration,
    origin: quanta::Instant,
    next: u64,
    scheduled: quanta::Instant,
    started: quanta::Instant,
    /// Warm-up paces but does not record.
    record: bool,
    /// How long the phase lasts: an operation due at or after its end does
    /// not start (`--rate 500 -d 2` is 1000 operations, not 1001).
    phase_length: Duration,
    service: S,
    corrected: LatencyHistogram,
    late_starts: u64,
    /// Failed operations' service time (`--continue-on-error`).
    errors: Option<LatencyHistogram>,
}

/// The next operation would be due after the phase ends.
struct PastTheEnd;

/// Below this, waiting spins (or yields) instead of sleeping: sleeps
/// overshoot by tens of microseconds (a millisecond for tokio's timer).
const SPIN_BELOW: Duration = Duration::from_micros(200);
const ASYNC_YIELD_BELOW: Duration = Duration::from_millis(2);
/// A waiting instance checks the end of the phase at least this often.
const MAX_SLEEP: Duration = Duration::from_millis(50);

impl Paced {
    /// Paces one of `parallel` instances to a total of `rate` operations per
    /// second; instances are staggered so the total is evenly spread.
    pub(crate) fn new(
        clock: quanta::Clock,
        rate: f64,
        parallel: usize,
        instance: usize,
        record: bool,
        phase_length: Duration,
    ) -> Self {
        Paced::with_sink(
            clock,
            rate,
            parallel,
            instance,
            record,
            phase_length,
            LatencyHistogram::new(),
        )
    }
}

impl<S: LatencySink> Paced<S> {
    /// As [`Paced::new`], with the service time recorded into `service`.
    pub(crate) fn with_sink(
        clock: quanta::Clock,
        rate: f64,
        parallel: usize,
        instance: usize,
        record: bool,
        phase_length: Duration,
        service: S,
    ) -> Self {
        let now = clock.now();
        Self {
            clock,
            interval: Duration::from_secs_f64(parallel as f64 / rate),
            offset: Duration::from_secs_f64(instance as f64 / rate),
            origin: now,
            next: 0,
            scheduled: now,
            started: now,
            record,
            phase_length,
            service,
            corrected: LatencyHistogram::new(),
            late_starts: 0,
            errors: None,
        }
    }

    /// Sets the next operation's due time; returns how long until then,
    /// or `Err` if it is due after the phase ends.
    fn schedule(&mut self) -> Result<Option<Duration>, PastTheEnd> {
        let due = self.offset + self.interval.mul_f64(self.next as f64);
        if due >= self.phase_length {
            return Err(PastTheEnd);
        }
        self.scheduled = self.origin + due;
        self.next += 1;
        let now = self.clock.now();
        Ok((self.scheduled > now).then(|| self.scheduled - now))
    }

    fn start(&mut self) {
        self.started = self.clock.now();
        if self.record
            && self.started.saturating_duration_since(self.scheduled) > LATE_START_THRESHOLD
        {
            self.late_starts += 1;
        }
    }
}

impl<S: LatencySink> Timing for Paced<S> {
    const PACED: bool = true;

    fn begin(&mut self) {
        self.origin = self.clock.now();
    }

    fn before_sync(&mut self, stop: &AtomicBool) -> bool {
        let Ok(mut remaining) = self.schedule() else {
            return false;
        };
        while let Some(wait) = remaining {
            if stop.load(Ordering::Relaxed) {
                return false;
            }
            self.service.idle();
            if wait > SPIN_BELOW {
                std::thread::sleep((wait - SPIN_BELOW / 2).min(MAX_SLEEP));
            } else {
                std::hint::spin_loop();
            }
            let now = self.clock.now();
            remaining = (self.scheduled > now).then(|| self.scheduled - now);
        }
        // The phase may have ended during the wait: an operation due after
        // the deadline must not start.
        if stop.load(Ordering::Relaxed) {
            return false;
        }
        self.start();
        true
    }

    async fn before_async(&mut self, stop: &AtomicBool) -> bool {
        let Ok(mut remaining) = self.schedule() else {
            return false;
        };
        while let Some(wait) = remaining {
            if stop.load(Ordering::Relaxed) {
                return false;
            }
            self.service.idle();
            if wait > ASYNC_YIELD_BELOW {
                tokio::time::sleep((wait - ASYNC_YIELD_BELOW / 2).min(MAX_SLEEP)).await;
            } else {
                tokio::task::yield_now().await;
            }
            let now = self.clock.now();
            remaining = (self.scheduled > now).then(|| self.scheduled - now);
        }
        // The phase may have ended during the wait: an operation due after
        // the deadline must not start.
        if stop.load(Ordering::Relaxed) {
            return false;
        }
        self.start();
        true
    }

    fn after(&mut self) {
        if self.record {
            let end = self.clock.now();
            self.service
                .record_nanos(duration_nanos(end.saturating_duration_since(self.started)));
            self.corrected.record_nanos(duration_nanos(
                end.saturating_duration_since(self.scheduled),
            ));
        }
    }

    #[cold]
    fn after_error(&mut self) {
        if self.record {
            let end = self.clock.now();
            self.errors
                .get_or_insert_with(LatencyHistogram::new)
                .record_nanos(duration_nanos(end.saturating_duration_since(self.started)));
        }
    }

    fn end(&mut self) {
        self.service.end();
    }

    fn into_record(self) -> Option<LatencyRecord> {
        self.record.then(|| LatencyRecord {
            service: self.service.into_histogram(),
            corrected: Some(self.corrected),
            late_starts: self.late_starts,
            clock_resolution_ns: 0.0,
            errors: self.errors,
        })
    }
}

/// Raw readings in the burst that measures the clock's resolution (about
/// 100 µs of reading the TSC).
const RESOLUTION_READS: usize = 10_000;

/// The real resolution of `clock`, in nanoseconds: the step by which its
/// raw readings advance, converted with the clock's own scale.
///
/// The step is the greatest common divisor of the differences between
/// consecutive distinct readings over a short burst. (Not their smallest
/// difference: that is bounded below by what one reading costs, ~10 ns,
/// whatever the step.) An Intel TSC advances by 1 at its nominal
/// frequency (0.48 ns at 2.1 GHz); a clock that advances in coarser steps
/// (a TSC updated once per 10 ns by a multiplier, a clocksource counting in
/// 100 ns units) shows that step. `quanta`'s conversion from raw counts to
/// nanoseconds is a multiply and shift with a large shift, so it adds no
/// step of its own beyond the whole nanoseconds the histograms keep.
pub(crate) fn clock_resolution_ns(clock: &quanta::Clock) -> f64 {
    let mut readings = [0u64; RESOLUTION_READS];
    for reading in readings.iter_mut() {
        *reading = clock.raw();
    }
    let step = raw_step(&readings);
    // Nanoseconds per raw unit, at the full precision of the clock's scale.
    const SPAN: u64 = 1 << 40;
    let nanos_per_unit = clock.delta_as_nanos(0, SPAN) as f64 / SPAN as f64;
    step as f64 * nanos_per_unit
}

/// The greatest common divisor of the differences between consecutive
/// distinct `readings` (1 if they never advanced).
fn raw_step(readings: &[u64]) -> u64 {
    let mut step = 0;
    for pair in readings.windows(2) {
        if pair[1] > pair[0] {
            step = gcd(step, pair[1] - pair[0]);
            if step == 1 {
                break;
            }
        }
    }
    step.max(1)
}

fn gcd(mut a: u64, mut b: u64) -> u64 {
    while b != 0 {
        (a, b) = (b, a % b);
    }
    a
}

fn duration_nanos(duration: Duration) -> u64 {
    u64::try_from(duration.as_nanos()).unwrap_or(u64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_step_is_the_common_divisor_of_the_advances() {
        // A TSC advancing by 26 per 10 ns, read every ~13 ns.
        assert_eq!(raw_step(&[1000, 1026, 1026, 1052, 1104, 1130]), 26);
        // A TSC advancing by 1: any two coprime differences give 1.
        assert_eq!(raw_step(&[5, 30, 52, 77]), 1);
        // A clock that never advanced during the burst.
        assert_eq!(raw_step(&[7, 7, 7]), 1);
    }

    #[test]
    fn this_clock_has_a_resolution() {
        let resolution = clock_resolution_ns(&quanta::Clock::new());
        eprintln!("clock resolution here: {resolution} ns");
        assert!(resolution.is_finite() && resolution > 0.0, "{resolution}");
    }

    #[test]
    fn recorded_times_each_operation() {
        let mut timing = Recorded::new(quanta::Clock::new());
        timing.begin();
        for _ in 0..3 {
            std::thread::sleep(Duration::from_millis(2));
            timing.after();
        }
        let record = timing.into_record().unwrap();
        assert_eq!(record.service.count(), 3);
        assert!(record.service.percentile(0.0) >= Duration::from_millis(2));
    }

    #[test]
    fn pacing_follows_the_schedule_and_counts_late_starts() {
        let stop = AtomicBool::new(false);
        // 200 ops/s for one instance: one every 5 ms.
        let mut timing = Paced::new(
            quanta::Clock::new(),
            200.0,
            1,
            0,
            true,
            Duration::from_secs(10),
        );
        timing.begin();
        let started = std::time::Instant::now();
        for operation in 0..10 {
            assert!(timing.before_sync(&stop));
            if operation == 5 {
                // A slow operation: the next ones start late.
                std::thread::sleep(Duration::from_millis(20));
            }
            timing.after();
        }
        let elapsed = started.elapsed();
        assert!(elapsed >= Duration::from_millis(45), "{elapsed:?}");
        let record = timing.into_record().unwrap();
        assert!(record.late_starts >= 2, "{}", record.late_starts);
        let corrected = record.corrected.unwrap();
        assert!(corrected.percentile(100.0) > record.service.percentile(90.0));
    }
}
