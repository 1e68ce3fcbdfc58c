//! The parent's side of a multi-process run: start the worker processes
//! (the same executable in worker mode), then drive every stage in all of
//! them together, merging their status and results.

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::io::ErrorKind as IoErrorKind;
use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::Arc;
use std::sync::mpsc::{Receiver, Sender, channel};
use std::time::{Duration, Instant};

use crate::error::{Error, ErrorKind};
use crate::metrics::InstanceSnapshot;

use super::protocol::{ToParent, ToWorker, read_message, unix_nanos_now, write_message};
use crate::failure::{Failure, Who};
use crate::metrics::PhaseMeasurement;
use crate::options::WORKER_OPTION;
use crate::outcome::Outcome;
use crate::phase::Phase;
use crate::plan::ProcessShare;
use crate::runner::control::RunControl;
use crate::runner::lifecycle::{OnStatus as OnMergedStatus, Stages};
use crate::runner::reaper as children;

/// Workers that have not connected by then are reported as failed to start.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(60);
/// How far ahead of "now" the parent sets a timed stage's start, once every
/// worker is ready, so that each has the message before the moment comes
/// (it takes about 0.1 ms on loopback). It is part of the time from the
/// stage's header to its results line, which stays within 10 ms of the
/// duration (the timing tests check it).
const START_LEAD: Duration = Duration::from_millis(2);
/// How long a worker may take to exit after the last stage.
const EXIT_TIMEOUT: Duration = Duration::from_secs(10);

/// The environment variable that hands a worker its connection token.
pub(crate) const WORKER_TOKEN_VARIABLE: &str = "PERFSTRESS_WORKER_TOKEN";

/// Where merged status goes (the coordinator's status line printer).
type OnStatus<'a> = Option<OnMergedStatus<'a>>;

enum Event {
    Message(usize, ToParent),
    /// The connection to a worker ended: it exited or died.
    Closed(usize),
    /// This run was cancelled (failure or Ctrl-C): tell the workers.
    Cancelled,
}

struct Worker {
    share: ProcessShare,
    child: Child,
    stream: TcpStream,
    alive: bool,
}

/// The worker processes of a run.
pub(crate) struct RemoteStages {
    workers: Vec<Worker>,
    events: Receiver<Event>,
    control: Arc<RunControl>,
    cancel_sent: bool,
    coordination: Vec<(String, f64)>,
}

impl RemoteStages {
    /// Starts one worker process per share with the parent's arguments.
    pub(crate) fn start(
        args: &[OsString],
        shares: &[ProcessShare],
        control: Arc<RunControl>,
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
            let spawned = Command::new(&executable)
                .args(&args[1..])
                .arg(WORKER_OPTION)
                .arg(format!("{address},{index}"))
                // The token goes in the environment, which other users
                // cannot read, not on the command line, which `ps` shows.
                .env(WORKER_TOKEN_VARIABLE, &token)
                .stdin(Stdio::null())
                .spawn();
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

        let (sender, events) = channel();
        let mut workers = Vec::with_capacity(shares.len());
        for (index, (slot, stream)) in pending.into_iter().zip(streams).enumerate() {
            let (share, child) = slot.expect("every worker was started");
            let stream = stream.expect("every worker connected");
            spawn_reader(index, &stream, sender.clone())?;
            workers.push(Worker {
                share,
                child,
                stream,
                alive: true,
            });
        }
        let cancel_sender = sender.clone();
        control.set_listener(move |_event| {
            let _ = cancel_sender.send(Event::Cancelled);
        });
        Ok(Self {
            workers,
            events,
            control,
            cancel_sent: false,
            coordination: vec![("startup".to_owned(), started.elapsed().as_secs_f64())],
        })
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
        let mut ticks: BTreeMap<u32, Vec<Option<Vec<InstanceSnapshot>>>> = BTreeMap::new();
        while done.iter().any(|done| !done) {
            if !start_sent && ready.iter().all(|ready| *ready) {
                start_sent = true;
                let start_unix_nanos = unix_nanos_now() + START_LEAD.as_nanos();
                for worker in &mut self.workers {
                    Self::send(worker, &ToWorker::Start { start_unix_nanos });
                }
            }
            let Ok(event) = self.events.recv() else { break };
            match event {
                Event::Message(index, ToParent::Ready) => ready[index] = true,
                Event::Message(index, ToParent::Status { tick, snapshots }) => {
                    let count = self.workers.len();
                    ticks.entry(tick).or_insert_with(|| vec![None; count])[index] = Some(snapshots);
                    self.flush_ticks(&mut ticks, &mut on_status);
                }
                Event::Message(_, ToParent::Failure(message)) => {
                    self.control.fail(Failure::from(message))
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

    /// Passes on every tick that all live workers have reported.
    fn flush_ticks(
        &self,
        ticks: &mut BTreeMap<u32, Vec<Option<Vec<InstanceSnapshot>>>>,
        on_status: &mut OnStatus<'_>,
    ) {
        while let Some(entry) = ticks.first_entry() {
            let complete = entry
                .get()
                .iter()
                .zip(&self.workers)
                .all(|(snapshots, worker)| snapshots.is_some() || !worker.alive);
            if !complete {
                break;
            }
            let tick = *entry.key();
            let merged: Vec<InstanceSnapshot> =
                entry.remove().into_iter().flatten().flatten().collect();
            if let Some(on_status) = on_status.as_mut() {
                on_status(tick, &merged);
            }
        }
    }

    fn worker_died(&mut self, index: usize, stage: Phase) {
        let worker = &mut self.workers[index];
        worker.alive = false;
        let status = wait_with_timeout(&mut worker.child, Duration::from_secs(2));
        children::forget(worker.child.id());
        let share = worker.share;
        let error = Error::msg(format!(
            "worker process {index} (pid {}, parallel indexes {}..={}) {}",
            worker.child.id(),
            share.first_index,
            share.first_index + share.count - 1,
            describe_exit(status),
        ));
        self.control.fail(Failure {
            who: Who::Process(index),
            phase: stage,
            error,
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
        PhaseMeasurement::merge(measurements.into_iter().flatten())
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
        for index in 0..self.workers.len() {
            let worker = &mut self.workers[index];
            if !worker.alive {
                continue;
            }
            worker.alive = false;
            let status = wait_with_timeout(&mut worker.child, EXIT_TIMEOUT);
            children::forget(worker.child.id());
            // Any outcome's code is the worker's own verdict (its failures,
            // usage errors and signals were reported already); anything
            // else is a crash.
            let expected = status
                .and_then(|status| status.code())
                .and_then(Outcome::from_code)
                .is_some();
            if !expected {
                let pid = worker.child.id();
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
}

impl Drop for RemoteStages {
    fn drop(&mut self) {
        // No worker outlives the parent, whatever happened.
        for worker in &mut self.workers {
            if worker.child.try_wait().ok().flatten().is_none() {
                let _ = worker.child.kill();
                let _ = worker.child.wait();
            }
            children::forget(worker.child.id());
        }
    }
}

/// Accepts one connection per worker, checking each one's token.
fn accept_workers(
    listener: &TcpListener,
    token: &str,
    pending: &mut [Option<(ProcessShare, Child)>],
    streams: &mut [Option<TcpStream>],
    control: &RunControl,
) -> Result<(), Error> {
    let io_error = |what: &str, error: std::io::Error| {
        Error::with_source(ErrorKind::Io, what.to_owned(), error)
    };
    listener
        .set_nonblocking(true)
        .map_err(|error| io_error("cannot configure the worker listener", error))?;
    let deadline = Instant::now() + CONNECT_TIMEOUT;
    while streams.iter().any(Option::is_none) {
        if control.is_cancelled() {
            return Err(Error::msg("interrupted while starting worker processes"));
        }
        match listener.accept() {
            Ok((mut stream, _)) => {
                let configured = stream
                    .set_nonblocking(false)
                    .and_then(|()| stream.set_nodelay(true))
                    .and_then(|()| stream.set_read_timeout(Some(Duration::from_secs(10))));
                if configured.is_err() {
                    continue;
                }
                // A connection that does not say the token is not ours: ignore it.
                if let Ok(Some(ToParent::Hello {
                    token: said,
                    process_index,
                    pid,
                })) = read_message::<ToParent>(&mut stream)
                {
                    // The token, and the pid of the child started for that
                    // index: a connection is bound to the process it names.
                    let started = pending
                        .get(process_index)
                        .and_then(Option::as_ref)
                        .filter(|(_, child)| child.id() == pid);
                    if let Some((share, _)) =
                        started.filter(|_| said == token && streams[process_index].is_none())
                    {
                        let assigned =
                            write_message(&mut stream, &ToWorker::Assign { share: *share });
                        if assigned.is_ok() {
                            let _ = stream.set_read_timeout(None);
                            streams[process_index] = Some(stream);
                        }
                    }
                }
            }
            Err(error) if error.kind() == IoErrorKind::WouldBlock => {
                for (index, slot) in pending.iter_mut().enumerate() {
                    if let Some((_, child)) = slot
                        && streams[index].is_none()
                        && let Ok(Some(status)) = child.try_wait()
                    {
                        children::forget(child.id());
                        *slot = None;
                        return Err(Error::msg(format!(
                            "worker process {index} {} before it connected",
                            describe_exit(Some(status))
                        )));
                    }
                }
                if Instant::now() > deadline {
                    return Err(Error::msg(format!(
                        "worker processes did not connect within {} s",
                        CONNECT_TIMEOUT.as_secs()
                    )));
                }
                std::thread::sleep(Duration::from_millis(2));
            }
            Err(error) => return Err(io_error("cannot accept worker connections", error)),
        }
    }
    Ok(())
}

fn kill_pending(pending: &mut [Option<(ProcessShare, Child)>]) {
    for (_, child) in pending.iter_mut().flatten() {
        let _ = child.kill();
        let _ = child.wait();
        children::forget(child.id());
    }
}

/// Drains a worker's messages on a thread of its own into the event channel.
fn spawn_reader(index: usize, stream: &TcpStream, events: Sender<Event>) -> Result<(), Error> {
    let mut reader = stream
        .try_clone()
        .map_err(|error| Error::with_source(ErrorKind::Io, "cannot read from a worker", error))?;
    std::thread::Builder::new()
        .name(format!("perfstress-worker-{index}-reader"))
        .spawn(move || {
            while let Ok(Some(message)) = read_message::<ToParent>(&mut reader) {
                if events.send(Event::Message(index, message)).is_err() {
                    return;
                }
            }
            let _ = events.send(Event::Closed(index));
        })
        .map(|_| ())
        .map_err(|error| Error::with_source(ErrorKind::Io, "cannot start a thread", error))
}

fn wait_with_timeout(child: &mut Child, timeout: Duration) -> Option<ExitStatus> {
    let deadline = Instant::now() + timeout;
    loop {
        match child.try_wait() {
            Ok(Some(status)) => return Some(status),
            Ok(None) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(5)),
            _ => {
                let _ = child.kill();
                return child.wait().ok();
            }
        }
    }
}

fn describe_exit(status: Option<ExitStatus>) -> String {
    let Some(status) = status else {
        return "could not be waited for".to_owned();
    };
    if let Some(code) = status.code() {
        return format!("exited with code {code}");
    }
    #[cfg(unix)]
    {
        use std::os::unix::process::ExitStatusExt;
        if let Some(signal) = status.signal() {
            return format!("was killed by signal {signal}{}", signal_name(signal));
        }
    }
    format!("ended: {status}")
}

#[cfg(unix)]
fn signal_name(signal: i32) -> &'static str {
    match signal {
        libc::SIGKILL => " (SIGKILL)",
        libc::SIGTERM => " (SIGTERM)",
        libc::SIGINT => " (SIGINT)",
        libc::SIGSEGV => " (SIGSEGV)",
        libc::SIGABRT => " (SIGABRT)",
        _ => "",
    }
}

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
