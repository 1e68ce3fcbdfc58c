//! A worker process: the same perf executable started by a parent with the
//! hidden `--perfstress-worker` option. It runs its share of the instances,
//! stage by stage as the parent commands, and reports status, failures and
//! measurements. If the parent goes away, it cleans up and exits.

use std::net::TcpStream;
use std::sync::mpsc::channel;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::error::{Error, ErrorKind};

use super::protocol::{
    FailureMessage, Stage, ToParent, ToWorker, instant_of_unix_nanos, read_message, write_message,
};
use crate::phase::Phase;
use crate::runner::control::{ControlEvent, RunControl};
use crate::runner::local::driver::Driver;
use crate::runner::local::{LocalSettings, LocalStages};
use crate::runner::plan::split;
use crate::runner::signals::route_interrupts_to;
use crate::runner::{EXIT_FAILED, RunSettings};

/// What the parent told this worker on its command line.
struct WorkerSpec {
    address: String,
    token: String,
    process_index: usize,
}

fn parse_spec(spec: &str) -> Result<WorkerSpec, Error> {
    let mut parts = spec.split(',');
    let (Some(address), Some(token), Some(index), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(Error::new(
            ErrorKind::Usage,
            format!("bad worker specification '{spec}'"),
        ));
    };
    let process_index = index
        .parse()
        .map_err(|_| Error::new(ErrorKind::Usage, format!("bad worker index in '{spec}'")))?;
    Ok(WorkerSpec {
        address: address.to_owned(),
        token: token.to_owned(),
        process_index,
    })
}

enum Command {
    Begin {
        stage: Stage,
        duration: Duration,
    },
    Exit,
    /// The parent is gone.
    Orphaned,
}

/// Runs this process as worker `spec` of a multi-process run.
pub(crate) fn run_worker<D: Driver>(spec: &str, settings: RunSettings, options: D::Options) -> i32 {
    let spec = match parse_spec(spec) {
        Ok(spec) => spec,
        Err(error) => {
            eprintln!("error: {error}");
            return crate::cli::EXIT_USAGE;
        }
    };
    let shares = split(settings.global.parallel, settings.global.processes);
    let Some(&share) = shares.get(spec.process_index) else {
        eprintln!("error: worker index {} is out of range", spec.process_index);
        return crate::cli::EXIT_USAGE;
    };
    let stream = match TcpStream::connect(&spec.address) {
        Ok(stream) => stream,
        Err(error) => {
            eprintln!(
                "error: worker {} cannot reach its parent at {}: {error}",
                spec.process_index, spec.address
            );
            return EXIT_FAILED;
        }
    };
    let _ = stream.set_nodelay(true);
    let (Ok(reader), writer) = (stream.try_clone(), Arc::new(Mutex::new(stream))) else {
        return EXIT_FAILED;
    };
    let send = {
        let writer = writer.clone();
        move |message: &ToParent| {
            let mut stream = writer
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner());
            // If the parent is gone the reader notices; nothing to do here.
            let _ = write_message(&mut *stream, message);
        }
    };
    send(&ToParent::Hello {
        token: spec.token.clone(),
        process_index: spec.process_index,
        pid: std::process::id(),
    });

    let control = Arc::new(RunControl::with_quiet(true));
    let _ = route_interrupts_to(&control);
    {
        let send = send.clone();
        control.set_listener(move |event| match event {
            ControlEvent::Failed(failure) => {
                send(&ToParent::Failure(FailureMessage::from(failure)))
            }
            ControlEvent::Interrupted => send(&ToParent::Interrupted),
        });
    }

    let (commands, received) = channel();
    // Start times of timed stages come on a channel of their own: the main
    // thread waits for one in the middle of a stage.
    let (starts, start_received) = channel::<u128>();
    {
        let control = control.clone();
        let mut reader = reader;
        std::thread::Builder::new()
            .name("perfstress-parent-reader".to_owned())
            .spawn(move || {
                loop {
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
                        Ok(Some(ToWorker::Exit)) => Command::Exit,
                        Ok(None) | Err(_) => {
                            control.cancel_remotely();
                            Command::Orphaned
                        }
                    };
                    let last = !matches!(command, Command::Begin { .. });
                    if commands.send(command).is_err() || last {
                        return;
                    }
                }
            })
            .expect("the OS can start a thread");
    }

    let runtime = match settings.runtime() {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("error: {error}");
            return EXIT_FAILED;
        }
    };
    let local_settings = LocalSettings::new(&settings, share);
    let mut local = LocalStages::<D>::new(local_settings, options, control.clone(), runtime);
    while let Ok(command) = received.recv() {
        match command {
            Command::Begin { stage, duration } => {
                let measurement = match stage {
                    Stage::Setup => {
                        local.setup();
                        None
                    }
                    Stage::Warmup | Stage::Run => {
                        let phase = if stage == Stage::Warmup {
                            Phase::Warmup
                        } else {
                            Phase::Run
                        };
                        // Ready (threads or tasks waiting at the barrier,
                        // profiler running): tell the parent, then start
                        // when it says (now if it is gone).
                        let agree_start = || {
                            send(&ToParent::Ready);
                            start_received
                                .recv()
                                .map(instant_of_unix_nanos)
                                .unwrap_or_else(|_| Instant::now())
                        };
                        let mut on_tick =
                            |tick: u32, snapshots: &[crate::metrics::InstanceSnapshot]| {
                                send(&ToParent::Status {
                                    tick,
                                    snapshots: snapshots.to_vec(),
                                });
                            };
                        Some(Box::new(local.timed(
                            phase,
                            duration,
                            Some(&agree_start),
                            &mut on_tick,
                        )))
                    }
                    Stage::Cleanup => {
                        local.cleanup();
                        None
                    }
                    Stage::PostSetup | Stage::PreCleanup => None,
                };
                send(&ToParent::StageDone { stage, measurement });
            }
            Command::Exit => break,
            Command::Orphaned => {
                // The parent died: clean up what this process created.
                local.cleanup();
                return EXIT_FAILED;
            }
        }
    }
    drop(local);
    control.exit_code()
}
