//! A timed phase (warm-up or the timed run): start every instance together,
//! tick once a second from the coordinating thread, end at the deadline,
//! collect the figures.

use std::sync::{Arc, OnceLock, mpsc};
use std::time::{Duration, Instant};

use futures::future::{AbortHandle, Abortable};

use crate::error::{Error, ErrorKind};
use crate::metrics::{
    ErrorGroups, InstanceCounters, InstanceSnapshot, LatencyHistogram, LatencyRecord, TickReport,
    process_cpu_time, resident_memory_bytes,
};

use super::driver::Driver;
use super::op_loop::{run_async_loop, run_sync_loop};
use super::timing::{IntervalSink, Paced, Recorded, SharedLatency, Timing, TimingPlan, Untimed};
use crate::failure::Failure;
use crate::phase::Phase;
use crate::runner::control::RunControl;
use crate::runner::lifecycle::OnStatus;
use crate::runner::panic::{CatchPanic, catch_panic};
use crate::runner::testing;

/// How often the wait for the loops in the grace period looks for Ctrl-C.
const GRACE_POLL: Duration = Duration::from_millis(20);
/// How long the loops still get once Ctrl-C comes in the grace period, or
/// the parent of a worker process is gone.
const HURRY: Duration = Duration::from_secs(1);
/// How long an async task aborted at the end of the grace period may take
/// to return its instance.
const ABORT_WAIT: Duration = Duration::from_secs(1);

/// What one step of [`TimedPhase::wait_in_grace`] saw.
enum Wait {
    /// One more loop returned.
    Progress,
    /// None yet.
    Pending,
    /// No loop is left to wait for.
    Over,
}

/// `1 s`, `0.5 s`: a duration as the options give it.
fn describe_seconds(duration: Duration) -> String {
    format!("{} s", duration.as_secs_f64())
}

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
    /// `--grace`: how long the loops may take to return once the phase
    /// stopped.
    pub(crate) grace: Duration,
    /// The latency clock (calibrated) and its measured resolution in
    /// nanoseconds (0 if not measured).
    pub(crate) clock: &'a quanta::Clock,
    pub(crate) clock_resolution_ns: f64,
    /// `--continue-on-error`: a failed operation is counted, not fatal.
    pub(crate) continue_on_error: bool,
    /// `--status-interval`: the time between two ticks.
    pub(crate) status_interval: Duration,
    /// Hand each interval's latency histogram to the tick (a timeline or a
    /// histogram log wants it).
    pub(crate) interval_latency: bool,
}

/// What a phase saw besides the counters.
#[derive(Default)]
pub(crate) struct PhaseReadings {
    /// Samples of the process's resident memory, one per tick.
    pub(crate) memory_samples: Vec<u64>,
    /// The latency of every instance, merged; `None` if not recorded.
    pub(crate) latency: Option<LatencyRecord>,
    /// An async task never returned: it blocks a runtime thread, so the
    /// runtime must not be waited for when it is dropped.
    pub(crate) abandoned_tasks: bool,
    /// Failed operations of every instance (`--continue-on-error`).
    pub(crate) errors: ErrorGroups,
}

/// What the coordinating thread's clock saw over a phase.
#[derive(Default)]
struct ClockReadings {
    memory_samples: Vec<u64>,
    /// The interval histograms it took from the instances, merged.
    taken_latency: Option<LatencyHistogram>,
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
        } else if let (Some(rate), true) = (plan.rate, plan.record && self.interval_latency) {
            let sinks = SharedLatency::for_instances(instances.len());
            let first_index = self.first_index;
            self.run_timed(instances, on_tick, &sinks, |index| {
                Paced::with_sink(
                    clock.clone(),
                    rate,
                    plan.parallel,
                    index,
                    plan.record,
                    self.duration,
                    IntervalSink::new(sinks[index - first_index].clone()),
                )
            })
        } else if let Some(rate) = plan.rate {
            self.run_timed(instances, on_tick, &[], |index| {
                Paced::new(
                    clock.clone(),
                    rate,
                    plan.parallel,
                    index,
                    plan.record,
                    self.duration,
                )
            })
        } else if plan.record && self.interval_latency {
            let sinks = SharedLatency::for_instances(instances.len());
            let first_index = self.first_index;
            self.run_timed(instances, on_tick, &sinks, |index| {
                Recorded::with_sink(
                    clock.clone(),
                    IntervalSink::new(sinks[index - first_index].clone()),
                )
            })
        } else if plan.record {
            self.run_timed(instances, on_tick, &[], |_| Recorded::new(clock.clone()))
        } else {
            self.run_timed(instances, on_tick, &[], |_| Untimed)
        };
        for counters in self.counters.iter() {
            readings.errors.merge(&counters.errors());
        }
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

    /// Runs the operation loops with timing `make(parallel_index)`;
    /// `sinks` are the instances' shared interval histograms, if any.
    fn run_timed<D: Driver, T: Timing>(
        &self,
        instances: &mut [Option<D>],
        on_tick: OnStatus<'_>,
        sinks: &[Arc<SharedLatency>],
        make: impl Fn(usize) -> T,
    ) -> PhaseReadings {
        let (clock, timings, abandoned_tasks) = if self.sync {
            let (clock, timings) = self.run_threads(instances, on_tick, sinks, make);
            (clock, timings, false)
        } else {
            self.run_tasks(instances, on_tick, sinks, make)
        };
        let mut latency: Option<LatencyRecord> = None;
        for record in timings.into_iter().filter_map(Timing::into_record) {
            match &mut latency {
                Some(merged) => merged.merge(&record),
                None => latency = Some(record),
            }
        }
        // The intervals the ticks took, and what was left in the sinks,
        // are the phase's whole histogram.
        if let (Some(latency), Some(taken)) = (&mut latency, &clock.taken_latency) {
            latency.service.merge(taken);
        }
        PhaseReadings {
            memory_samples: clock.memory_samples,
            latency,
            abandoned_tasks,
            errors: ErrorGroups::default(),
        }
    }

    /// `--sync`: a thread per instance. A thread the OS refuses fails the
    /// run (the instances already started are released at once, and every
    /// instance stays for cleanup); a thread whose operation outlives the
    /// grace period is abandoned (a thread cannot be stopped), its
    /// instance with it.
    fn run_threads<D: Driver, T: Timing>(
        &self,
        instances: &mut [Option<D>],
        on_tick: OnStatus<'_>,
        sinks: &[Arc<SharedLatency>],
        make: impl Fn(usize) -> T,
    ) -> (ClockReadings, Vec<T>) {
        self.control.begin_phase(Vec::new());
        let start_cell = Arc::new(StartSignal::default());
        let (ready_sender, ready) = mpsc::channel::<()>();
        let (done_sender, done) = mpsc::channel::<usize>();
        let count = instances.len();
        let mut threads = Vec::with_capacity(count);
        for (offset, slot) in instances.iter_mut().enumerate() {
            let parallel_index = self.first_index + offset;
            // The instance goes to its thread once the thread exists: if the
            // OS refuses the thread, the instance stays here for cleanup.
            let (give, take) = mpsc::channel::<D>();
            let (ready_sender, done_sender) = (ready_sender.clone(), done_sender.clone());
            let start_cell = start_cell.clone();
            let counters = self.counters.clone();
            let control = self.control.clone();
            let phase = self.phase;
            let continue_on_error = self.continue_on_error;
            let mut timing = make(parallel_index);
            let body = move || {
                let mut test = take.recv().ok()?;
                let _ = ready_sender.send(());
                let start = start_cell.wait();
                let (instance, counters, stop) =
                    (&mut test, &counters[offset], control.stop_flag());
                let outcome = catch_panic(|| {
                    run_sync_loop(
                        instance,
                        counters,
                        stop,
                        start,
                        &mut timing,
                        continue_on_error,
                    )
                });
                match outcome {
                    Ok(Ok(())) => {}
                    Ok(Err(error)) => control.fail(Failure::new(parallel_index, phase, error)),
                    Err(payload) => {
                        control.fail(Failure::from_panic(parallel_index, phase, payload))
                    }
                }
                let _ = done_sender.send(offset);
                Some((test, timing))
            };
            let spawned = match testing::refuse_thread(offset) {
                Some(error) => Err(error),
                None => std::thread::Builder::new()
                    .name(format!("perfstress-instance-{parallel_index}"))
                    .spawn(body),
            };
            match spawned {
                Ok(thread) => {
                    let test = slot.take().expect("every instance exists in a timed phase");
                    // The thread holds the receiver until it has the instance.
                    let _ = give.send(test);
                    threads.push((offset, thread));
                }
                Err(error) => {
                    self.control.fail(Failure::new(
                        parallel_index,
                        self.phase,
                        Error::with_source(
                            ErrorKind::Io,
                            format!(
                                "cannot start a thread for the instance ({} of {} started in this process; lower --parallel, spread it over more --processes, or raise the limit on threads, e.g. ulimit -u)",
                                threads.len(),
                                count,
                            ),
                            error,
                        ),
                    ));
                    break;
                }
            }
        }
        drop((ready_sender, done_sender));
        // Every thread started is running (a failure to start one has set
        // the stop flag: they will return without an operation).
        for _ in 0..threads.len() {
            if ready.recv().is_err() {
                break;
            }
        }
        let start = self.agreed_start();
        start_cell.set(start, threads.iter().map(|(_, thread)| thread.thread()));
        let clock = self.drive_clock(start, on_tick, &|| {}, &|| {}, sinks);

        let mut finished = vec![false; instances.len()];
        let interrupted =
            self.wait_in_grace(threads.len(), |timeout| match done.recv_timeout(timeout) {
                Ok(offset) => {
                    finished[offset] = true;
                    Wait::Progress
                }
                Err(mpsc::RecvTimeoutError::Timeout) => Wait::Pending,
                Err(mpsc::RecvTimeoutError::Disconnected) => Wait::Over,
            });
        let mut timings = Vec::with_capacity(threads.len());
        for (offset, thread) in threads {
            if finished[offset] || thread.is_finished() {
                // A thread that panicked outside the catcher loses its instance.
                if let Ok(Some((test, timing))) = thread.join() {
                    instances[offset] = Some(test);
                    timings.push(timing);
                }
            } else {
                // Dropping the handle detaches the thread: it may finish its
                // operation some day, then drops the instance.
                self.control.fail(Failure::new(
                    self.first_index + offset,
                    self.phase,
                    Error::msg(format!(
                        "an operation was still running {}: abandoned (a thread cannot be stopped, so this instance is not cleaned up)",
                        if interrupted {
                            "when Ctrl-C (or the parent's death) cut the grace period short"
                                .to_owned()
                        } else {
                            format!("{} after the phase stopped (--grace)", describe_seconds(self.grace))
                        },
                    )),
                ));
            }
        }
        (clock, timings)
    }

    /// Waits for the instances' loops to return after the phase stopped:
    /// at most the grace period from now; at most [`HURRY`] more if Ctrl-C
    /// comes meanwhile, or in a worker whose parent is gone (nobody waits
    /// for its figures), so an operation about to complete still does.
    /// Returns whether the wait was cut short. `next(timeout)` waits at
    /// most `timeout` for one of `count` loops.
    fn wait_in_grace(&self, count: usize, mut next: impl FnMut(Duration) -> Wait) -> bool {
        let began = Instant::now();
        let grace_deadline = began + self.grace;
        let mut left = count;
        while left > 0 {
            let (interrupted_at, orphaned_at) = self.control.hurried_at();
            // A Ctrl-C that stopped the phase leaves it the whole grace period.
            let hurry_deadline = [interrupted_at.filter(|at| *at >= began), orphaned_at]
                .into_iter()
                .flatten()
                .min()
                .map(|at| at + HURRY)
                .filter(|deadline| *deadline < grace_deadline);
            let deadline = hurry_deadline.unwrap_or(grace_deadline);
            let now = Instant::now();
            if now >= deadline {
                return hurry_deadline.is_some();
            }
            match next((deadline - now).min(GRACE_POLL)) {
                Wait::Progress => left -= 1,
                Wait::Pending => {}
                Wait::Over => return false,
            }
        }
        false
    }

    /// Tasks on the runtime. An operation that outlives the grace period
    /// is aborted (the instance returns and is cleaned up); a task that does
    /// not return even then (it blocks its runtime thread) is abandoned.
    /// Returns whether a task was abandoned.
    fn run_tasks<D: Driver, T: Timing>(
        &self,
        instances: &mut [Option<D>],
        on_tick: OnStatus<'_>,
        sinks: &[Arc<SharedLatency>],
        make: impl Fn(usize) -> T,
    ) -> (ClockReadings, Vec<T>, bool) {
        let barrier = Arc::new(tokio::sync::Barrier::new(instances.len() + 1));
        // Tasks wait for the start without spinning (see `StartSignal`).
        let (start_sender, start_cell) = tokio::sync::watch::channel(None::<Instant>);
        let (abort_handles, registrations): (Vec<_>, Vec<_>) =
            instances.iter().map(|_| AbortHandle::new_pair()).unzip();
        self.control.begin_phase(abort_handles.clone());
        let mut tasks = Vec::with_capacity(instances.len());
        for ((offset, slot), registration) in instances.iter_mut().enumerate().zip(registrations) {
            let mut test = slot.take().expect("every instance exists in a timed phase");
            let (barrier, mut start_cell) = (barrier.clone(), start_cell.clone());
            let counters = self.counters.clone();
            let control = self.control.clone();
            let parallel_index = self.first_index + offset;
            let phase = self.phase;
            let continue_on_error = self.continue_on_error;
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
                    continue_on_error,
                ));
                match Abortable::new(work, registration).await {
                    // Aborted: another instance failed, Ctrl-C, or the grace
                    // period ran out; already recorded.
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
        let clock = self.drive_clock(start, on_tick, &|| {}, &|| {}, sinks);

        // Ctrl-C meanwhile aborts every task (the abort handles are still
        // registered), which ends this wait at once.
        let grace_deadline = tokio::time::Instant::now() + self.grace;
        let mut finished: Vec<Option<_>> = self.runtime.block_on(async {
            let mut finished = Vec::with_capacity(tasks.len());
            for task in &mut tasks {
                finished.push(tokio::time::timeout_at(grace_deadline, task).await.ok());
            }
            finished
        });
        let late: Vec<usize> = (0..tasks.len())
            .filter(|&offset| finished[offset].is_none())
            .collect();
        let mut abandoned = false;
        if !late.is_empty() {
            for &offset in &late {
                abort_handles[offset].abort();
            }
            let abort_deadline = tokio::time::Instant::now() + ABORT_WAIT;
            self.runtime.block_on(async {
                for &offset in &late {
                    finished[offset] = tokio::time::timeout_at(abort_deadline, &mut tasks[offset])
                        .await
                        .ok();
                }
            });
            for &offset in &late {
                let returned = finished[offset].is_some();
                if !returned {
                    // It never yields: it blocks a runtime thread for good.
                    abandoned = true;
                    tasks[offset].abort();
                }
                self.control.fail(Failure::new(
                    self.first_index + offset,
                    self.phase,
                    Error::msg(format!(
                        "an operation was still running {} after the phase stopped: {} (--grace)",
                        describe_seconds(self.grace),
                        if returned {
                            "aborted"
                        } else {
                            "abandoned: it does not return when aborted (it blocks its runtime thread), so this instance is not cleaned up"
                        },
                    )),
                ));
            }
        }
        self.control.tasks_collected();
        let mut timings = Vec::with_capacity(finished.len());
        for (offset, (slot, finished)) in instances.iter_mut().zip(finished).enumerate() {
            match finished {
                None => {}
                Some(Ok((test, timing))) => {
                    *slot = Some(test);
                    timings.push(timing);
                }
                Some(Err(join_error)) => self.control.fail(Failure::new(
                    self.first_index + offset,
                    self.phase,
                    Error::msg(format!("the instance's task was lost: {join_error}")),
                )),
            }
        }
        (clock, timings, abandoned)
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
        let clock = self.drive_clock(start, on_tick, &publish, &close, &[]);
        close();
        publish();
        PhaseReadings {
            memory_samples: clock.memory_samples,
            latency: None,
            abandoned_tasks: false,
            errors: ErrorGroups::default(),
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
    /// `sinks` hold the instances' interval histograms: each tick takes
    /// them out.
    fn drive_clock(
        &self,
        start: Instant,
        on_tick: OnStatus<'_>,
        refresh: &dyn Fn(),
        at_deadline_hook: &dyn Fn(),
        sinks: &[Arc<SharedLatency>],
    ) -> ClockReadings {
        let mut readings = ClockReadings::default();
        let cpu_at_start = process_cpu_time();
        let deadline = start + self.duration;
        let mut tick: u32 = 1;
        loop {
            let next_tick = start + self.status_interval * tick;
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
                let mut errors = ErrorGroups::default();
                if self.continue_on_error {
                    for counters in self.counters.iter() {
                        errors.merge(&counters.errors());
                    }
                }
                let latency = (!sinks.is_empty()).then(|| {
                    let interval = SharedLatency::take_all(sinks, self.timing.hand_over_wait());
                    match &mut readings.taken_latency {
                        Some(taken) => taken.merge(&interval),
                        None => readings.taken_latency = Some(interval.clone()),
                    }
                    interval
                });
                let rss_bytes = resident_memory_bytes();
                let report = TickReport {
                    snapshots,
                    errors,
                    latency,
                    rss_bytes,
                    cpu_seconds: cpu_at_start
                        .zip(process_cpu_time())
                        .map(|(before, now)| now.saturating_sub(before).as_secs_f64()),
                    process_operations: Vec::new(),
                };
                on_tick(tick, &report);
                if let Some(bytes) = rss_bytes {
                    readings.memory_samples.push(bytes);
                }
                tick += 1;
            }
            if at_deadline {
                break;
            }
        }
        readings
    }
}

/// The start of a phase, set once by the coordinating thread, waited for
/// by the instance threads. They park rather than spin: spinning threads
/// (as many as instances) would take the CPU from the coordinator and, in a
/// worker process, from the thread that reads the parent's messages,
/// delaying the start itself by milliseconds on a busy machine. (Parked
/// threads are woken one by one, each on its own futex; a condition
/// variable would wake them all onto one mutex.)
#[derive(Default)]
struct StartSignal {
    start: OnceLock<Instant>,
}

impl StartSignal {
    /// Sets the start and wakes `threads`.
    fn set<'a>(&self, start: Instant, threads: impl Iterator<Item = &'a std::thread::Thread>) {
        let _ = self.start.set(start);
        for thread in threads {
            thread.unpark();
        }
    }

    /// Waits for the start (on an instance thread).
    fn wait(&self) -> Instant {
        loop {
            if let Some(start) = self.start.get() {
                return *start;
            }
            // Returns at the unpark (or spuriously: the loop checks again).
            std::thread::park();
        }
    }
}
