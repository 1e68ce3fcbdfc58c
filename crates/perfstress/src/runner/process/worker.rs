//! A worker process: the same perf executable started by a parent with the
//! hidden `--perfstress-worker` option. It connects, is given its share of
//! the plan, runs those instances stage by stage as the parent commands,
//! and reports status, failures and measurements. If the parent goes away,
//! it cleans up and exits.

use std::net::TcpStream;
use std::sync::mpsc::{Receiver, Sender, channel};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::error::{Error, ErrorKind, Result};
use crate::metrics::TickReport;
use crate::outcome::Outcome;
use crate::phase::Phase;
use crate::plan::{Plan, ProcessShare};
use crate::runner::control::{ControlEvent, RunControl};
use crate::runner::local::driver::Driver;
use crate::runner::local::{LocalStages, runtime};
use crate::runner::signals::route_interrupts_to;

use super::parent::WORKER_TOKEN_VARIABLE;
use super::protocol::{
    FailureMessage, HEARTBEAT_INTERVAL, ToParent, ToWorker, instant_of_unix_nanos, read_message,
    write_message,
};
use crate::runner::testing;

/// An orphaned worker (its parent died) has this long to finish its
/// operations (at most 1 s of them, whatever `--grace`) and clean up; then
/// it exits regardless.
pub(super) const ORPHAN_CLEANUP: Duration = Duration::from_secs(10);

/// What the parent told this worker on its command line: where to connect
/// and which worker it is.
struct WorkerSpec {
    address: String,
    process_index: usize,
}

fn parse_spec(spec: &str) -> Result<WorkerSpec> {
    let bad = || {
        Error::new(
            ErrorKind::Usage,
            format!("bad worker specification '{spec}'"),
        )
    };
    let (address, index) = spec.split_once(',').ok_or_else(bad)?;
    Ok(WorkerSpec {
        address: address.to_owned(),
        process_index: index.parse().map_err(|_| bad())?,
    })
}

/// A command of the parent, as the worker's main thread carries it out.
pub(super) enum Command {
    Begin {
        stage: Phase,
        duration: Duration,
    },
    Exit,
    /// The parent is gone.
    Orphaned,
}

/// Sends messages to the parent from any thread.
#[derive(Clone)]
pub(super) struct ToParentSender(pub(super) Arc<Mutex<TcpStream>>);

impl ToParentSender {
    pub(super) fn send(&self, message: &ToParent) {
        let mut stream = self
            .0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        // If the parent is gone the reader notices; nothing to do here.
        let _ = write_message(&mut *stream, message);
    }
}

/// Runs this process as worker `spec` of a multi-process run of `plan`.
pub(crate) fn run_worker<D: Driver>(spec: &str, plan: Plan, options: D::Options) -> Outcome {
    let (stream, share) = match parse_spec(spec).and_then(|spec| connect(&spec)) {
        Ok(connected) => connected,
        Err(error) => {
            eprintln!("error: {error}");
            return match error.kind() {
                ErrorKind::Usage => Outcome::Usage,
                _ => Outcome::Failed,
            };
        }
    };
    let Ok(reader) = stream.try_clone() else {
        return Outcome::Failed;
    };
    let sender = ToParentSender(Arc::new(Mutex::new(stream)));
    spawn_heartbeat(sender.clone());

    let control = Arc::new(RunControl::with_quiet(true));
    let _ = route_interrupts_to(&control);
    {
        let sender = sender.clone();
        control.set_listener(move |event| match event {
            ControlEvent::Failed(failure) => {
                sender.send(&ToParent::Failure(FailureMessage::from(failure)))
            }
            ControlEvent::Interrupted(signal) => sender.send(&ToParent::Interrupted(signal)),
        });
    }
    let (commands, starts) = spawn_reader(reader, control.clone(), ORPHAN_CLEANUP);
    let runtime = match runtime() {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("error: {error}");
            return Outcome::Failed;
        }
    };
    let mut local = LocalStages::<D>::new(Arc::new(plan), share, options, control.clone(), runtime);
    while let Ok(command) = commands.recv() {
        match command {
            Command::Begin { stage, duration } => {
                dispatch(&mut local, stage, duration, &sender, &starts);
            }
            Command::Exit => break,
            Command::Orphaned => {
                // The parent died: clean up what this process created.
                local.cleanup();
                return Outcome::Failed;
            }
        }
    }
    drop(local);
    control.outcome()
}

/// Connects to the parent, says who this is, and receives this worker's
/// share of the plan.
fn connect(spec: &WorkerSpec) -> Result<(TcpStream, ProcessShare)> {
    let unreachable = |error: std::io::Error| {
        Error::with_source(
            ErrorKind::Io,
            format!(
                "worker {} cannot reach its parent at {}",
                spec.process_index, spec.address
            ),
            error,
        )
    };
    let token = std::env::var(WORKER_TOKEN_VARIABLE).map_err(|_| {
        Error::new(
            ErrorKind::Usage,
            format!("a worker process needs {WORKER_TOKEN_VARIABLE}: it is started by its parent"),
        )
    })?;
    if let Some(delay) = testing::connect_delay() {
        std::thread::sleep(delay);
    }
    let mut stream = TcpStream::connect(&spec.address).map_err(unreachable)?;
    let _ = stream.set_nodelay(true);
    write_message(
        &mut stream,
        &ToParent::Hello {
            token,
            process_index: spec.process_index,
            pid: std::process::id(),
        },
    )
    .map_err(unreachable)?;
    match read_message::<ToWorker>(&mut stream).map_err(unreachable)? {
        Some(ToWorker::Assign { share }) => Ok((stream, share)),
        _ => Err(Error::msg(format!(
            "worker {} was not given its instances by its parent",
            spec.process_index
        ))),
    }
}

/// Tells the parent this process is alive, every [`HEARTBEAT_INTERVAL`],
/// for as long as the process runs.
pub(super) fn spawn_heartbeat(sender: ToParentSender) {
    let spawned = std::thread::Builder::new()
        .name("perfstress-heartbeat".to_owned())
        .spawn(move || {
            loop {
                std::thread::sleep(HEARTBEAT_INTERVAL);
                sender.send(&ToParent::Heartbeat);
            }
        });
    // Without it the parent reports this worker silent: the run fails
    // rather than hangs.
    drop(spawned);
}

/// Drains the parent's messages on a thread of its own: stage commands go
/// to the main thread, the start times of timed stages on a channel of
/// their own (the main thread waits for one in the middle of a stage), and
/// a cancel takes effect at once. If the parent goes away, the main thread
/// cleans up and exits; should that take longer than `orphan_limit` (an
/// operation or a hook that never returns), this thread ends the process.
pub(super) fn spawn_reader(
    mut reader: TcpStream,
    control: Arc<RunControl>,
    orphan_limit: Duration,
) -> (Receiver<Command>, Receiver<u128>) {
    let (commands, received) = channel();
    let (starts, start_received): (Sender<u128>, _) = channel();
    std::thread::Builder::new()
        .name("perfstress-parent-reader".to_owned())
        .spawn(move || {
            let orphaned = loop {
                let command = match read_message::<ToWorker>(&mut reader) {
                    Ok(Some(ToWorker::Begin {
                        stage,
                        duration_nanos,
                    })) => Command::Begin {
                        stage,
                        duration: Duration::from_nanos(duration_nanos),
                    },
                    Ok(Some(ToWorker::Start { start_unix_nanos })) => {
                        let _ = starts.send(start_unix_nanos);
                        continue;
                    }
                    Ok(Some(ToWorker::Cancel)) => {
                        control.cancel_remotely();
                        continue;
                    }
                    Ok(Some(
                        ToWorker::Assign { .. }
                        | ToWorker::ClockProbe
                        | ToWorker::Join { .. }
                        | ToWorker::Refused { .. },
                    )) => continue,
                    Ok(Some(ToWorker::Exit)) => Command::Exit,
                    Ok(None) | Err(_) => {
                        control.orphan();
                        Command::Orphaned
                    }
                };
                let orphaned = matches!(command, Command::Orphaned);
                let last = !matches!(command, Command::Begin { .. });
                if commands.send(command).is_err() || last {
                    break orphaned;
                }
            };
            // A main thread waiting for a start that will not come starts now.
            drop((starts, commands));
            if orphaned {
                std::thread::sleep(orphan_limit);
                eprintln!(
                    "error: worker process (pid {}) lost its parent and did not finish cleaning up within {} s: exiting",
                    std::process::id(),
                    orphan_limit.as_secs_f64()
                );
                Outcome::Failed.exit();
            }
        })
        .expect("the OS can start a thread");
    (received, start_received)
}

/// Carries out stage `stage` on this worker's instances and tells the parent.
fn dispatch<D: Driver>(
    local: &mut LocalStages<D>,
    stage: Phase,
    duration: Duration,
    sender: &ToParentSender,
    starts: &Receiver<u128>,
) {
    let measurement = match stage {
        Phase::Setup => {
            local.setup();
            None
        }
        Phase::Warmup | Phase::Run => {
            // Ready (threads or tasks waiting at the barrier, profiler
            // running): tell the parent, then start when it says (now if
            // it is gone).
            let agree_start = || {
                sender.send(&ToParent::Ready);
                starts
                    .recv()
                    .map(instant_of_unix_nanos)
                    .unwrap_or_else(|_| Instant::now())
            };
            let mut on_status = |tick: u32, report: &TickReport| {
                sender.send(&ToParent::Status {
                    tick,
                    snapshots: report.snapshots.clone(),
                    errors: report.errors.clone(),
                    latency: report.latency.clone(),
                    rss_bytes: report.rss_bytes,
                    cpu_seconds: report.cpu_seconds,
                });
            };
            Some(Box::new(local.timed(
                stage,
                duration,
                Some(&agree_start),
                &mut on_status,
            )))
        }
        Phase::PostSetup => {
            local.post_setup();
            None
        }
        Phase::PreCleanup => {
            local.pre_cleanup();
            None
        }
        Phase::Cleanup => {
            local.cleanup();
            None
        }
        // Stages with nothing to do in a worker yet: the barrier only.
        _ => None,
    };
    sender.send(&ToParent::StageDone { stage, measurement });
}
