//! The parent's side of a multi-process run: start the worker processes
//! (the same executable in worker mode), then drive every stage in all of
//! them together, merging their status and results.

use std::ffi::OsString;
use std::io::ErrorKind as IoErrorKind;
use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::mpsc::{Receiver, RecvTimeoutError, channel};
use std::time::{Duration, Instant};

use crate::error::{Error, ErrorKind};
use crate::metrics::TickReport;

use super::protocol::{ToParent, ToWorker, read_message, unix_nanos_now, write_message};
use crate::failure::{Failure, Who};
use crate::metrics::PhaseMeasurement;
use crate::options::WORKER_OPTION;
use crate::outcome::Outcome;
use crate::phase::Phase;
use crate::plan::ProcessShare;
use crate::report::Console;
use crate::runner::control::RunControl;
use crate::runner::lifecycle::{OnStatus as OnMergedStatus, Stages};
use crate::runner::reaper as children;

/// Workers that have not connected by then are reported as failed to start.
mod child;
mod events;
mod handshake;
pub(crate) mod hosts;
mod ticks;

use crate::metrics::{HostPart, JoinedHost};
use child::{describe_exit, end_with_parent, kill_pending, wait_with_timeout};
use events::{Event, Liveness, spawn_reader};
use handshake::accept_workers;
use ticks::{Standing, Ticks};

const CONNECT_TIMEOUT: Duration = Duration::from_secs(60);
/// How far ahead of "now" the parent sets a timed stage's start, once every
/// worker is ready, so that each has the message before the moment comes
/// (it takes about 0.1 ms on loopback). It is part of the time from the
/// stage's header to its results line, which stays within 10 ms of the
/// duration (the timing tests check it).
const START_LEAD: Duration = Duration::from_millis(2);
/// How long a worker may take to exit after the last stage.
const EXIT_TIMEOUT: Duration = Duration::from_secs(10);
/// How long a connection to the worker listener may take to say its
/// `Hello`; connections are read side by side, so a silent one delays no
/// other.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);
/// Connections saying their `Hello` at once; beyond this the oldest is
/// dropped (a flood of stray connections must not exhaust descriptors).
const MAX_HANDSHAKES: usize = 256;
/// A `Hello` is far smaller than this; a longer frame is not a worker's.
const MAX_HELLO_BYTES: usize = 64 * 1024;
/// A worker silent this long (8 heartbeats missed) is reported as not
/// responding, and the status lines go on without its progress.
const STALL_NOTICE: Duration = Duration::from_secs(2);
/// How often the parent looks for silent workers while it waits.
const LIVENESS_POLL: Duration = Duration::from_millis(100);

/// The environment variable that hands a worker its connection token.
pub(crate) const WORKER_TOKEN_VARIABLE: &str = "PERFSTRESS_WORKER_TOKEN";

/// Where merged status goes (the coordinator's status line printer).
type OnStatus<'a> = Option<OnMergedStatus<'a>>;

/// What runs a share: a worker process this one started, or a host that
/// joined the run (`--join`), which runs its share over processes of its own.
enum Peer {
    Child(Child),
    Host(JoinedHost),
}

struct Worker {
    share: ProcessShare,
    peer: Peer,
    stream: TcpStream,
    alive: bool,
    /// Since when it has been reported as not responding.
    stalled_since: Option<Instant>,
    /// The last status interval it reported in the stage under way.
    last_tick: u32,
    /// A host that was lost (died or disconnected) during the run.
    lost: bool,
}

impl Worker {
    /// `worker process 1 (pid 123, parallel indexes 2..=3)`, or
    /// `host b (pid 123 at 10.0.0.5:4711, parallel indexes 2..=3)`.
    fn describe(&self, index: usize) -> String {
        let indexes = format!(
            "parallel indexes {}..={}",
            self.share.first_index,
            self.share.first_index + self.share.count - 1,
        );
        match &self.peer {
            Peer::Child(child) => {
                format!("worker process {index} (pid {}, {indexes})", child.id())
            }
            Peer::Host(host) => format!(
                "host {} (pid {} at {}, {indexes})",
                host.identity, host.pid, host.address
            ),
        }
    }

    /// The offset of its clock from this process's, in nanoseconds.
    fn clock_offset_nanos(&self) -> i128 {
        match &self.peer {
            Peer::Child(_) => 0,
            Peer::Host(host) => host.clock.offset_nanos,
        }
    }
}

/// Called by a joined host once its own workers are ready for a timed
/// stage: tells the coordinator and returns the start it sets (wall clock
/// of this machine, nanoseconds since the Unix epoch).
pub(crate) type StartGate = Box<dyn Fn() -> u128 + Send>;

/// The worker processes of a run.
pub(crate) struct RemoteStages {
    workers: Vec<Worker>,
    events: Receiver<Event>,
    control: Arc<RunControl>,
    cancel_sent: bool,
    coordination: Vec<(String, f64)>,
    liveness: Arc<Liveness>,
    /// `--liveness-timeout`.
    liveness_timeout: Duration,
    /// How far ahead a timed stage's start is set.
    start_lead: Duration,
    /// On a joined host: the coordinator sets the start.
    start_gate: Option<StartGate>,
    /// Hosts only: whether the run goes on without a host that is lost
    /// (`--continue-on-error`).
    continue_without_lost: bool,
    /// Hosts only: each one's measurement of the last timed run.
    last_run: Vec<Option<PhaseMeasurement>>,
}

impl RemoteStages {
    /// Starts one worker process per share with the parent's arguments.
    pub(crate) fn start(
        args: &[OsString],
        shares: &[ProcessShare],
        liveness_timeout: Duration,
        control: Arc<RunControl>,
        upstream: Option<Upstream>,
    ) -> Result<Self, Error> {
        let started = Instant::now();
        let io_error = |what: &str, error: std::io::Error| {
            Error::with_source(ErrorKind::Io, what.to_owned(), error)
        };
        let listener = TcpListener::bind(("127.0.0.1", 0))
            .map_err(|error| io_error("cannot listen on 127.0.0.1 for worker processes", error))?;
        let address = listener
            .local_addr()
            .map_err(|error| io_error("no local address", error))?;
        let token = random_token();
        let executable = std::env::current_exe().map_err(|error| {
            io_error(
                "cannot find this executable to start worker processes",
                error,
            )
        })?;

        let mut pending: Vec<Option<(ProcessShare, Child)>> = Vec::with_capacity(shares.len());
        for (index, share) in shares.iter().enumerate() {
            let mut command = Command::new(&executable);
            command
                .args(&args[1..])
                .arg(WORKER_OPTION)
                .arg(format!("{address},{index}"))
                // The token goes in the environment, which other users
                // cannot read, not on the command line, which `ps` shows.
                .env(WORKER_TOKEN_VARIABLE, &token)
                .stdin(Stdio::null());
            // A joined host's workers: the coordinator's options set by environment.
            for (variable, value) in super::host::worker_environment() {
                match value {
                    Some(value) => command.env(variable, value),
                    None => command.env_remove(variable),
                };
            }
            end_with_parent(&mut command);
            let spawned = command.spawn();
            match spawned {
                Ok(child) => {
                    children::register(child.id());
                    pending.push(Some((*share, child)));
                }
                Err(error) => {
                    kill_pending(&mut pending);
                    return Err(io_error(
                        &format!("cannot start worker process {index}"),
                        error,
                    ));
                }
            }
        }

        let mut streams: Vec<Option<TcpStream>> = (0..shares.len()).map(|_| None).collect();
        if let Err(error) = accept_workers(&listener, &token, &mut pending, &mut streams, &control)
        {
            kill_pending(&mut pending);
            return Err(error);
        }

        let peers = pending
            .into_iter()
            .zip(streams)
            .map(|(slot, stream)| {
                let (share, child) = slot.expect("every worker was started");
                (
                    share,
                    Peer::Child(child),
                    stream.expect("every worker connected"),
                )
            })
            .collect();
        Self::over(peers, liveness_timeout, control, upstream, started)
    }

    /// Drives the shares of hosts that joined the run (see [`hosts`]).
    pub(crate) fn over_hosts(
        joined: Vec<(JoinedHost, ProcessShare, TcpStream)>,
        liveness_timeout: Duration,
        continue_on_error: bool,
        control: Arc<RunControl>,
        coordination: Vec<(String, f64)>,
    ) -> Result<Self, Error> {
        let slowest = joined
            .iter()
            .map(|(host, _, _)| host.clock.round_trip)
            .max()
            .unwrap_or_default();
        let count = joined.len();
        let peers = joined
            .into_iter()
            .map(|(host, share, stream)| (share, Peer::Host(host), stream))
            .collect();
        let mut stages = Self::over(peers, liveness_timeout, control, None, Instant::now())?;
        stages.coordination = coordination;
        // The start must reach every host, and its workers, before it comes.
        stages.start_lead = START_LEAD * 5 + slowest * 2;
        stages.continue_without_lost = continue_on_error;
        stages.last_run = (0..count).map(|_| None).collect();
        Ok(stages)
    }

    fn over(
        peers: Vec<(ProcessShare, Peer, TcpStream)>,
        liveness_timeout: Duration,
        control: Arc<RunControl>,
        upstream: Option<Upstream>,
        started: Instant,
    ) -> Result<Self, Error> {
        let (sender, events) = channel();
        let liveness = Arc::new(Liveness::new(peers.len()));
        let mut workers = Vec::with_capacity(peers.len());
        for (index, (share, peer, stream)) in peers.into_iter().enumerate() {
            liveness.heard(index);
            spawn_reader(index, &stream, sender.clone(), liveness.clone())?;
            workers.push(Worker {
                share,
                peer,
                stream,
                alive: true,
                stalled_since: None,
                last_tick: 0,
                lost: false,
            });
        }
        let cancel_sender = sender.clone();
        control.set_listener(move |event| {
            if let Some(upstream) = &upstream {
                upstream(event);
            }
            let _ = cancel_sender.send(Event::Cancelled);
        });
        Ok(Self {
            workers,
            events,
            control,
            cancel_sent: false,
            coordination: vec![("startup".to_owned(), started.elapsed().as_secs_f64())],
            liveness,
            liveness_timeout,
            start_lead: START_LEAD,
            start_gate: None,
            continue_without_lost: false,
            last_run: Vec::new(),
        })
    }

    /// On a joined host: the coordinator sets the start of timed stages.
    pub(crate) fn set_start_gate(&mut self, gate: StartGate) {
        self.start_gate = Some(gate);
    }

    /// The joined hosts, with their measurement of the last timed run.
    pub(crate) fn host_parts(&self) -> Vec<HostPart> {
        self.workers
            .iter()
            .zip(&self.last_run)
            .filter_map(|(worker, run)| match &worker.peer {
                Peer::Host(host) => Some(HostPart {
                    host: host.clone(),
                    share: worker.share,
                    run: run.clone(),
                    lost: worker.lost.then_some(worker.last_tick),
                }),
                Peer::Child(_) => None,
            })
            .collect()
    }

    fn send(worker: &mut Worker, message: &ToWorker) {
        if worker.alive {
            // A worker that cannot be written to is gone; its reader reports it.
            let _ = write_message(&mut worker.stream, message);
        }
    }

    fn broadcast_cancel(&mut self) {
        if !self.cancel_sent {
            self.cancel_sent = true;
            for worker in &mut self.workers {
                Self::send(worker, &ToWorker::Cancel);
            }
        }
    }

    /// Runs `stage` in every live worker and waits until all are done. Status
    /// ticks are merged and passed on when every live worker has sent them.
    fn run_stage(
        &mut self,
        stage: Phase,
        duration: Duration,
        mut on_status: OnStatus<'_>,
    ) -> Vec<Option<PhaseMeasurement>> {
        if self.control.is_cancelled() {
            self.broadcast_cancel();
        }
        let timed = stage.is_timed();
        let command = ToWorker::Begin {
            stage,
            duration_nanos: u64::try_from(duration.as_nanos()).unwrap_or(u64::MAX),
        };
        for worker in &mut self.workers {
            Self::send(worker, &command);
        }
        let mut done: Vec<bool> = self.workers.iter().map(|worker| !worker.alive).collect();
        // A timed stage starts once every live worker is ready.
        let mut ready: Vec<bool> = done.clone();
        let mut start_sent = !timed;
        let mut measurements: Vec<Option<PhaseMeasurement>> =
            self.workers.iter().map(|_| None).collect();
        let mut ticks = Ticks::new(self.workers.iter().map(|worker| worker.share.count));
        let mut last_check = Instant::now();
        while done.iter().any(|done| !done) {
            if !start_sent && ready.iter().all(|ready| *ready) {
                start_sent = true;
                let start = match &self.start_gate {
                    Some(gate) => gate(),
                    None => unix_nanos_now() + self.start_lead.as_nanos(),
                };
                for worker in &mut self.workers {
                    // Each in its own clock.
                    let start_unix_nanos =
                        u128::try_from(start as i128 + worker.clock_offset_nanos())
                            .unwrap_or(start);
                    Self::send(worker, &ToWorker::Start { start_unix_nanos });
                }
            }
            if last_check.elapsed() >= LIVENESS_POLL {
                last_check = Instant::now();
                // Cancelled from outside (a joined host's coordinator).
                if self.control.is_cancelled() {
                    self.broadcast_cancel();
                }
                self.check_liveness(stage, &mut done, &mut ready);
                self.flush_ticks(&mut ticks, &mut on_status);
                continue;
            }
            let event = match self.events.recv_timeout(LIVENESS_POLL) {
                Ok(event) => event,
                Err(RecvTimeoutError::Timeout) => continue,
                Err(RecvTimeoutError::Disconnected) => break,
            };
            if let Event::Message(index, _) = event {
                self.responding(index, stage);
            }
            match event {
                Event::Message(index, ToParent::Ready) => ready[index] = true,
                Event::Message(
                    index,
                    ToParent::Status {
                        tick,
                        snapshots,
                        errors,
                        latency,
                        rss_bytes,
                        cpu_seconds,
                    },
                ) => {
                    let report = TickReport {
                        snapshots,
                        errors,
                        latency,
                        rss_bytes,
                        cpu_seconds,
                        process_operations: Vec::new(),
                    };
                    self.workers[index].last_tick = tick;
                    ticks.add(index, tick, report);
                    self.flush_ticks(&mut ticks, &mut on_status);
                }
                Event::Message(index, ToParent::Failure(message)) => {
                    let mut failure = Failure::from(message);
                    if let Peer::Host(host) = &self.workers[index].peer {
                        failure.error = failure.error.context(format!("on host {}", host.identity));
                    }
                    self.control.fail(failure)
                }
                Event::Message(_, ToParent::Interrupted(signal)) => {
                    self.control.interrupt_from_worker(signal)
                }
                Event::Message(
                    index,
                    ToParent::StageDone {
                        stage: finished,
                        measurement,
                    },
                ) if finished == stage => {
                    measurements[index] = measurement.map(|measurement| *measurement);
                    done[index] = true;
                    // Done without Ready (it could not get its instances
                    // ready): the others must not wait for it to start.
                    ready[index] = true;
                }
                Event::Message(_, _) => {}
                Event::Closed(index) => {
                    if self.workers[index].alive {
                        self.worker_died(index, stage);
                    }
                    done[index] = true;
                    ready[index] = true;
                    self.flush_ticks(&mut ticks, &mut on_status);
                }
                Event::Cancelled => self.broadcast_cancel(),
            }
        }
        measurements
    }

    /// Passes on every tick that all live workers have reported; a worker
    /// not responding counts with the progress it last reported, so the
    /// status lines go on (and show its standstill).
    fn flush_ticks(&self, ticks: &mut Ticks, on_status: &mut OnStatus<'_>) {
        let standing: Vec<Standing> = self
            .workers
            .iter()
            .map(|worker| match (worker.alive, worker.stalled_since) {
                (false, _) => Standing::Gone,
                (true, Some(_)) => Standing::Silent,
                (true, None) => Standing::Responding,
            })
            .collect();
        while let Some(tick) = ticks.next_complete(&standing) {
            let merged = ticks.flush(tick, &standing);
            if let Some(on_status) = on_status.as_mut() {
                on_status(tick, &merged);
            }
        }
    }

    /// Reports workers silent for [`STALL_NOTICE`], and fails the run over
    /// (and kills) those silent for the liveness timeout. Only workers the
    /// stage still waits for are checked.
    fn check_liveness(&mut self, stage: Phase, done: &mut [bool], ready: &mut [bool]) {
        for index in 0..self.workers.len() {
            if done[index] || !self.workers[index].alive {
                continue;
            }
            let silent_for = self.liveness.silent_for(index);
            if silent_for >= self.liveness_timeout {
                self.worker_silent(index, stage, silent_for);
                done[index] = true;
                ready[index] = true;
            } else if silent_for >= STALL_NOTICE && self.workers[index].stalled_since.is_none() {
                let worker = &mut self.workers[index];
                worker.stalled_since = Some(Instant::now() - silent_for);
                Console::new().error(&format!(
                    "warning: {} has sent nothing for {:.1} s, not even its heartbeat (stopped? overloaded?){}; the run fails if it stays silent for {} s (--liveness-timeout)",
                    worker.describe(index),
                    silent_for.as_secs_f64(),
                    if stage.is_timed() {
                        "; the status lines go on without its progress"
                    } else {
                        ""
                    },
                    self.liveness_timeout.as_secs_f64(),
                ));
            }
        }
    }

    /// A message from worker `index`: if it had been reported as not
    /// responding, say it is back, and that its figures are skewed.
    fn responding(&mut self, index: usize, stage: Phase) {
        let worker = &mut self.workers[index];
        if let Some(since) = worker.stalled_since.take() {
            Console::new().error(&format!(
                "warning: {} responded again after {:.1} s of silence{}",
                worker.describe(index),
                since.elapsed().as_secs_f64(),
                if stage.is_timed() {
                    format!(
                        "; its instances' figures for the {} stage are skewed",
                        stage.header()
                    )
                } else {
                    String::new()
                },
            ));
        }
    }

    /// Worker `index` was silent for the liveness timeout: kill it (it may
    /// be stopped, which only SIGKILL ends) and fail the run.
    fn worker_silent(&mut self, index: usize, stage: Phase, silent_for: Duration) {
        let worker = &mut self.workers[index];
        worker.alive = false;
        worker.stalled_since = None;
        match &mut worker.peer {
            Peer::Child(child) => {
                let _ = child.kill();
                let _ = wait_with_timeout(child, Duration::from_secs(2));
                children::forget(child.id());
            }
            // Its host ends its workers once the connection is gone.
            Peer::Host(_) => {
                let _ = worker.stream.shutdown(std::net::Shutdown::Both);
            }
        }
        let error = Error::msg(format!(
            "{} sent nothing for {:.1} s, not even its heartbeat (stopped, or hung?): killed (--liveness-timeout {} s)",
            worker.describe(index),
            silent_for.as_secs_f64(),
            self.liveness_timeout.as_secs_f64(),
        ));
        self.control.fail(Failure {
            who: Who::Process(index),
            phase: stage,
            error,
        });
    }

    fn worker_died(&mut self, index: usize, stage: Phase) {
        let worker = &mut self.workers[index];
        worker.alive = false;
        worker.stalled_since = None;
        let child = match &mut worker.peer {
            Peer::Child(child) => child,
            Peer::Host(_) => return self.host_lost(index, stage),
        };
        let status = wait_with_timeout(child, Duration::from_secs(2));
        children::forget(child.id());
        let error = Error::msg(format!(
            "{} {}",
            worker.describe(index),
            describe_exit(status),
        ));
        self.control.fail(Failure {
            who: Who::Process(index),
            phase: stage,
            error,
        });
    }

    /// Host `index` closed its connection (it died, or its network
    /// failed): the run fails, or with `--continue-on-error` goes on
    /// without it, saying so.
    fn host_lost(&mut self, index: usize, stage: Phase) {
        self.workers[index].lost = true;
        let worker = &self.workers[index];
        let last = if stage.is_timed() {
            match worker.last_tick {
                0 => format!(
                    " in the {} stage, before its first interval",
                    stage.header()
                ),
                tick => format!(" in the {} stage, after interval {tick}", stage.header()),
            }
        } else {
            format!(" in the {} stage", stage.header())
        };
        let message = format!(
            "{} lost its connection (it died, or the network failed){last}",
            worker.describe(index)
        );
        if self.continue_without_lost && !self.control.is_cancelled() {
            Console::new().error(&format!(
                "warning: {message}; going on without it (--continue-on-error): its instances are left out of the results from here on"
            ));
            return;
        }
        self.control.fail(Failure {
            who: Who::Process(index),
            phase: stage,
            error: Error::msg(message),
        });
    }

    /// Runs a stage that does nothing in the workers yet and records how
    /// long the round trip took: the cost of one barrier.
    fn barrier_stage(&mut self, stage: Phase, name: &str) {
        let started = Instant::now();
        self.run_stage(stage, Duration::ZERO, None);
        self.coordination
            .push((format!("barrier_{name}"), started.elapsed().as_secs_f64()));
    }
}

impl Stages for RemoteStages {
    fn setup(&mut self) {
        self.run_stage(Phase::Setup, Duration::ZERO, None);
    }

    fn post_setup(&mut self) {
        self.barrier_stage(Phase::PostSetup, "post_setup");
    }

    fn timed(
        &mut self,
        stage: Phase,
        duration: Duration,
        on_status: OnMergedStatus<'_>,
    ) -> PhaseMeasurement {
        let measurements = self.run_stage(stage, duration, Some(on_status));
        if stage == Phase::Run && !self.last_run.is_empty() {
            self.last_run = measurements.clone();
        }
        let processes = measurements
            .iter()
            .map(|measurement| {
                measurement
                    .as_ref()
                    .map(PhaseMeasurement::completed_operations)
            })
            .collect::<Vec<_>>();
        let mut merged = PhaseMeasurement::merge(measurements.into_iter().flatten());
        if processes.len() > 1 {
            merged.process_operations = processes;
        }
        merged
    }

    fn pre_cleanup(&mut self) {
        self.barrier_stage(Phase::PreCleanup, "pre_cleanup");
    }

    fn cleanup(&mut self) {
        self.run_stage(Phase::Cleanup, Duration::ZERO, None);
    }

    fn finish(&mut self) {
        for worker in &mut self.workers {
            Self::send(worker, &ToWorker::Exit);
        }
        self.wait_for_hosts();
        for index in 0..self.workers.len() {
            let worker = &mut self.workers[index];
            let Peer::Child(child) = &mut worker.peer else {
                continue;
            };
            if !worker.alive {
                continue;
            }
            worker.alive = false;
            let status = wait_with_timeout(child, EXIT_TIMEOUT);
            children::forget(child.id());
            // Any outcome's code is the worker's own verdict (its failures,
            // usage errors and signals were reported already); anything
            // else is a crash.
            let expected = status
                .and_then(|status| status.code())
                .and_then(Outcome::from_code)
                .is_some();
            if !expected {
                let pid = child.id();
                self.control.fail(Failure {
                    who: Who::Process(index),
                    phase: Phase::Close,
                    error: Error::msg(format!(
                        "worker process {index} (pid {pid}) {}",
                        describe_exit(status)
                    )),
                });
            }
        }
    }

    fn coordination(&self) -> Vec<(String, f64)> {
        self.coordination.clone()
    }

    fn hosts(&self) -> Vec<HostPart> {
        self.host_parts()
    }
}

impl Drop for RemoteStages {
    fn drop(&mut self) {
        // No worker outlives the parent, whatever happened.
        for worker in &mut self.workers {
            match &mut worker.peer {
                Peer::Child(child) => {
                    if child.try_wait().ok().flatten().is_none() {
                        let _ = child.kill();
                        let _ = child.wait();
                    }
                    children::forget(child.id());
                }
                // A host ends its workers when its connection goes.
                Peer::Host(_) => {
                    let _ = worker.stream.shutdown(std::net::Shutdown::Both);
                }
            }
        }
    }
}

impl RemoteStages {
    /// After `Exit`: waits (up to [`EXIT_TIMEOUT`]) for every live host to
    /// close its connection, which it does once its workers have exited.
    fn wait_for_hosts(&mut self) {
        let is_host = |worker: &Worker| worker.alive && matches!(worker.peer, Peer::Host(_));
        let deadline = Instant::now() + EXIT_TIMEOUT;
        while self.workers.iter().any(is_host) {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.events.recv_timeout(left) {
                Ok(Event::Closed(index)) => self.workers[index].alive = false,
                Ok(Event::Message(index, ToParent::Failure(message))) => {
                    let mut failure = Failure::from(message);
                    if let Peer::Host(host) = &self.workers[index].peer {
                        failure.error = failure.error.context(format!("on host {}", host.identity));
                    }
                    self.control.fail(failure)
                }
                Ok(_) => {}
                Err(_) => break,
            }
        }
        for index in 0..self.workers.len() {
            if is_host(&self.workers[index]) {
                let worker = &mut self.workers[index];
                worker.alive = false;
                let _ = worker.stream.shutdown(std::net::Shutdown::Both);
                let error = Error::msg(format!(
                    "{} did not end within {} s of the last stage",
                    worker.describe(index),
                    EXIT_TIMEOUT.as_secs()
                ));
                self.control.fail(Failure {
                    who: Who::Process(index),
                    phase: Phase::Close,
                    error,
                });
            }
        }
    }
}

/// On a joined host: passes its failures and Ctrl-C on to the coordinator.
pub(crate) type Upstream = Box<dyn Fn(crate::runner::control::ControlEvent<'_>) + Send + Sync>;

/// A token only this run's workers know, so a stray local connection is
/// never taken for a worker.
fn random_token() -> String {
    use std::hash::{BuildHasher, Hasher};
    let mut token = String::new();
    for round in 0..2u64 {
        let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
        hasher.write_u64(round);
        hasher.write_u128(unix_nanos_now());
        hasher.write_u32(std::process::id());
        token.push_str(&format!("{:016x}", hasher.finish()));
    }
    token
}
