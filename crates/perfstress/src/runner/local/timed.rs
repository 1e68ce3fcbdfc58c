//! A timed phase (warm-up or the timed run): start every instance together,
//! tick once a second from the coordinating thread, end at the deadline,
//! collect the figures.

use std::sync::{Arc, Barrier, Condvar, Mutex};
use std::time::{Duration, Instant};

use futures::future::{AbortHandle, Abortable};

use crate::error::Error;
use crate::metrics::{InstanceCounters, InstanceSnapshot, LatencyRecord, resident_memory_bytes};

use super::driver::Driver;
use super::op_loop::{run_async_loop, run_sync_loop};
use super::timing::{Paced, Recorded, Timing, TimingPlan, Untimed};
use crate::failure::Failure;
use crate::phase::Phase;
use crate::runner::control::RunControl;
use crate::runner::lifecycle::OnStatus;
use crate::runner::panic::{CatchPanic, catch_panic};

const STATUS_INTERVAL: Duration = Duration::from_secs(1);

/// What a timed phase needs besides the instances.
pub(crate) struct TimedPhase<'a> {
    pub(crate) phase: Phase,
    pub(crate) duration: Duration,
    pub(crate) sync: bool,
    /// The parallel index of the first instance of this process.
    pub(crate) first_index: usize,
    pub(crate) counters: &'a Arc<[InstanceCounters]>,
    pub(crate) control: &'a Arc<RunControl>,
    pub(crate) runtime: &'a tokio::runtime::Runtime,
    /// With several processes: called once every instance of this process
    /// is ready; returns the start all processes agreed on. `None`: start as
    /// soon as every instance is ready.
    pub(crate) agree_start: Option<&'a dyn Fn() -> Instant>,
    pub(crate) timing: TimingPlan,
    /// The latency clock (calibrated) and its measured resolution in
    /// nanoseconds (0 if not measured).
    pub(crate) clock: &'a quanta::Clock,
    pub(crate) clock_resolution_ns: f64,
}

/// What a phase saw besides the counters.
#[derive(Default)]
pub(crate) struct PhaseReadings {
    /// Samples of the process's resident memory, one per tick.
    pub(crate) memory_samples: Vec<u64>,
    /// The latency of every instance, merged; `None` if not recorded.
    pub(crate) latency: Option<LatencyRecord>,
}

impl TimedPhase<'_> {
    /// Runs the phase over `instances` (all present) and returns each
    /// instance's figures.
    pub(crate) fn run<D: Driver>(
        &self,
        instances: &mut [Option<D>],
        on_tick: OnStatus<'_>,
    ) -> (Vec<InstanceSnapshot>, PhaseReadings) {
        for counters in self.counters.iter() {
            counters.reset();
        }
        let is_event_test = instances
            .iter()
            .flatten()
            .any(|test| test.event_counter().is_some());
        let clock = self.clock;
        let plan = self.timing;
        let mut readings = if is_event_test {
            self.run_events(instances, on_tick)
        } else if let Some(rate) = plan.rate {
            self.run_timed(instances, on_tick, |index| {
                Paced::new(
                    clock.clone(),
                    rate,
                    plan.parallel,
                    index,
                    plan.record,
                    self.duration,
                )
            })
        } else if plan.record {
            self.run_timed(instances, on_tick, |_| Recorded::new(clock.clone()))
        } else {
            self.run_timed(instances, on_tick, |_| Untimed)
        };
        if let Some(latency) = &mut readings.latency {
            latency.clock_resolution_ns = self.clock_resolution_ns;
        }
        let snapshots = self
            .counters
            .iter()
            .map(InstanceCounters::snapshot)
            .collect();
        (snapshots, readings)
    }

    /// Runs the operation loops with timing `make(parallel_index)`.
    fn run_timed<D: Driver, T: Timing>(
        &self,
        instances: &mut [Option<D>],
        on_tick: OnStatus<'_>,
        make: impl Fn(usize) -> T,
    ) -> PhaseReadings {
        let (memory_samples, timings) = if self.sync {
            self.run_threads(instances, on_tick, make)
        } else {
            self.run_tasks(instances, on_tick, make)
        };
        let mut latency: Option<LatencyRecord> = None;
        for record in timings.into_iter().filter_map(Timing::into_record) {
            match &mut latency {
                Some(merged) => merged.merge(&record),
                None => latency = Some(record),
            }
        }
        PhaseReadings {
            memory_samples,
            latency,
        }
    }

    fn run_threads<D: Driver, T: Timing>(
        &self,
        instances: &mut [Option<D>],
        on_tick: OnStatus<'_>,
        make: impl Fn(usize) -> T,
    ) -> (Vec<u64>, Vec<T>) {
        self.control.begin_phase(Vec::new());
        let barrier = Barrier::new(instances.len() + 1);
        let start_cell = StartSignal::default();
        std::thread::scope(|scope| {
            let mut threads = Vec::with_capacity(instances.len());
            for (offset, slot) in instances.iter_mut().enumerate() {
                let test = slot
                    .as_mut()
                    .expect("every instance exists in a timed phase");
                let (barrier, start_cell) = (&barrier, &start_cell);
                let parallel_index = self.first_index + offset;
                let counters = &self.counters[offset];
                let control = &**self.control;
                let phase = self.phase;
                let mut timing = make(parallel_index);
                let thread = std::thread::Builder::new()
                    .name(format!("perfstress-instance-{parallel_index}"))
                    .spawn_scoped(scope, move || {
                        barrier.wait();
                        let start = start_cell.wait();
                        let outcome = catch_panic(|| {
                            run_sync_loop(test, counters, control.stop_flag(), start, &mut timing)
                        });
                        match outcome {
                            Ok(Ok(())) => {}
                            Ok(Err(error)) => {
                                control.fail(Failure::new(parallel_index, phase, error))
                            }
                            Err(payload) => {
                                control.fail(Failure::from_panic(parallel_index, phase, payload))
                            }
                        }
                        timing
                    })
                    .expect("the OS can start a thread per instance");
                threads.push(thread);
            }
            barrier.wait();
            let start = self.agreed_start();
            start_cell.set(start);
            let memory_samples = self.drive_clock(start, on_tick, &|| {}, &|| {});
            let timings = threads
                .into_iter()
                .filter_map(|thread| thread.join().ok())
                .collect();
            (memory_samples, timings)
        })
    }

    fn run_tasks<D: Driver, T: Timing>(
        &self,
        instances: &mut [Option<D>],
        on_tick: OnStatus<'_>,
        make: impl Fn(usize) -> T,
    ) -> (Vec<u64>, Vec<T>) {
        let barrier = Arc::new(tokio::sync::Barrier::new(instances.len() + 1));
        // Tasks wait for the start without spinning (see `StartSignal`).
        let (start_sender, start_cell) = tokio::sync::watch::channel(None::<Instant>);
        let (abort_handles, registrations): (Vec<_>, Vec<_>) =
            instances.iter().map(|_| AbortHandle::new_pair()).unzip();
        self.control.begin_phase(abort_handles);
        let mut tasks = Vec::with_capacity(instances.len());
        for ((offset, slot), registration) in instances.iter_mut().enumerate().zip(registrations) {
            let mut test = slot.take().expect("every instance exists in a timed phase");
            let (barrier, mut start_cell) = (barrier.clone(), start_cell.clone());
            let counters = self.counters.clone();
            let control = self.control.clone();
            let parallel_index = self.first_index + offset;
            let phase = self.phase;
            let mut timing = make(parallel_index);
            tasks.push(self.runtime.spawn(async move {
                barrier.wait().await;
                let start = match start_cell.wait_for(Option::is_some).await {
                    Ok(start) => start.expect("waited for a start"),
                    // The coordinator is gone (it panicked): start now.
                    Err(_) => Instant::now(),
                };
                let work = CatchPanic::new(run_async_loop(
                    &mut test,
                    &counters[offset],
                    control.stop_flag(),
                    start,
                    &mut timing,
                ));
                match Abortable::new(work, registration).await {
                    // Aborted: another instance failed or Ctrl-C; already recorded.
                    Err(_aborted) => {}
                    Ok(Ok(Ok(()))) => {}
                    Ok(Ok(Err(error))) => control.fail(Failure::new(parallel_index, phase, error)),
                    Ok(Err(payload)) => {
                        control.fail(Failure::from_panic(parallel_index, phase, payload))
                    }
                }
                (test, timing)
            }));
        }
        self.runtime.block_on(barrier.wait());
        let start = self.agreed_start();
        start_sender.send_replace(Some(start));
        let memory_samples = self.drive_clock(start, on_tick, &|| {}, &|| {});
        let finished = self.runtime.block_on(futures::future::join_all(tasks));
        let mut timings = Vec::with_capacity(finished.len());
        for (offset, (slot, finished)) in instances.iter_mut().zip(finished).enumerate() {
            match finished {
                Ok((test, timing)) => {
                    *slot = Some(test);
                    timings.push(timing);
                }
                Err(join_error) => self.control.fail(Failure::new(
                    self.first_index + offset,
                    self.phase,
                    Error::msg(format!("the instance's task was lost: {join_error}")),
                )),
            }
        }
        (memory_samples, timings)
    }

    /// An event test has no loop to run: open every instance's counter at
    /// the start, publish the counts at each tick, close at the deadline.
    fn run_events<D: Driver>(
        &self,
        instances: &mut [Option<D>],
        on_tick: OnStatus<'_>,
    ) -> PhaseReadings {
        self.control.begin_phase(Vec::new());
        let event_counters: Vec<_> = instances
            .iter()
            .map(|slot| {
                slot.as_ref()
                    .and_then(Driver::event_counter)
                    .expect("every instance of an event test has a counter")
            })
            .collect();
        let publish = || {
            for (counter, counters) in event_counters.iter().zip(self.counters.iter()) {
                let snapshot = counter.snapshot();
                counters.publish(snapshot.completed_operations, snapshot.last_completion);
            }
        };
        let start = self.agreed_start();
        for counter in &event_counters {
            counter.open(start, self.duration);
        }
        // Close the counters the moment the deadline passes: events raised
        // while the coordinator prints the last status line must not count.
        let close = || {
            for counter in &event_counters {
                counter.close();
            }
        };
        let memory_samples = self.drive_clock(start, on_tick, &publish, &close);
        close();
        publish();
        PhaseReadings {
            memory_samples,
            latency: None,
        }
    }

    /// Every instance is ready: the phase starts now, or at the moment the
    /// processes agreed on, so that all of them start together.
    fn agreed_start(&self) -> Instant {
        match self.agree_start {
            Some(agree_start) => {
                let start_at = agree_start();
                let now = Instant::now();
                if start_at > now {
                    std::thread::sleep(start_at - now);
                }
                start_at
            }
            None => Instant::now(),
        }
    }

    /// On the coordinating thread (never a runtime worker, so a saturated
    /// runtime cannot starve it): one tick per interval at exact multiples
    /// of the interval from the start, then the deadline. Returns the
    /// memory samples taken at the ticks.
    /// `refresh` runs before each tick's snapshot; `at_deadline_hook` right when
    /// the deadline passes, before anything else.
    fn drive_clock(
        &self,
        start: Instant,
        on_tick: OnStatus<'_>,
        refresh: &dyn Fn(),
        at_deadline_hook: &dyn Fn(),
    ) -> Vec<u64> {
        let mut memory_samples = Vec::new();
        let deadline = start + self.duration;
        let mut tick: u32 = 1;
        loop {
            let next_tick = start + STATUS_INTERVAL * tick;
            let wake = next_tick.min(deadline);
            if !self.control.wait_until(wake) {
                break;
            }
            let at_deadline = wake == deadline;
            if at_deadline {
                self.control.end_phase();
                at_deadline_hook();
            }
            if next_tick <= deadline {
                refresh();
                let snapshots: Vec<_> = self
                    .counters
                    .iter()
                    .map(InstanceCounters::snapshot)
                    .collect();
                on_tick(tick, &snapshots);
                if let Some(bytes) = resident_memory_bytes() {
                    memory_samples.push(bytes);
                }
                tick += 1;
            }
            if at_deadline {
                break;
            }
        }
        memory_samples
    }
}

/// The start of a phase, set once by the coordinating thread, waited for
/// by the instance threads. They block rather than spin: spinning threads
/// (as many as instances) would take the CPU from the coordinator and, in a
/// worker process, from the thread that reads the parent's messages,
/// delaying the start itself by milliseconds on a busy machine.
#[derive(Default)]
struct StartSignal {
    start: Mutex<Option<Instant>>,
    set: Condvar,
}

impl StartSignal {
    fn set(&self, start: Instant) {
        *self
            .start
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner()) = Some(start);
        self.set.notify_all();
    }

    fn wait(&self) -> Instant {
        let mut start = self
            .start
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        loop {
            if let Some(start) = *start {
                return start;
            }
            start = self
                .set
                .wait(start)
                .unwrap_or_else(|poisoned| poisoned.into_inner());
        }
    }
}
