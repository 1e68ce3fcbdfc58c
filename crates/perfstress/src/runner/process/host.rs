//! A host joining a run across hosts (`<runner> --join ADDR`): it connects
//! to the coordinator, proves it knows the join token, answers the clock
//! probes, and is given the coordinator's arguments and its share of the
//! instances. It then runs that share over worker processes of its own
//! ([`RemoteStages`], as a multi-process run does), stage by stage as the
//! coordinator commands, and reports the merged status and measurements
//! of its share as one worker would.

use std::ffi::OsString;
use std::net::{SocketAddr, TcpStream, ToSocketAddrs};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::error::{Error, ErrorKind};
use crate::metrics::TickReport;
use crate::options::{GlobalOptions, HOST_OPTION};
use crate::outcome::Outcome;
use crate::phase::Phase;
use crate::plan::Plan;
use crate::redact::remember_secret;
use crate::report::Console;
use crate::runner::control::{ControlEvent, RunControl};
use crate::runner::lifecycle::Stages;
use crate::runner::signals::route_interrupts_to;

use super::parent::RemoteStages;
use super::protocol::{
    FailureMessage, ToParent, ToWorker, read_message, unix_nanos_now, write_message,
};
use super::worker::{Command, ORPHAN_CLEANUP, ToParentSender, spawn_heartbeat, spawn_reader};

/// The environment variable holding the join token (or `--token-file`).
pub(crate) const JOIN_TOKEN_VARIABLE: &str = "PERFSTRESS_JOIN_TOKEN";

/// The connection to the coordinator, from [`join`] to the run it starts
/// in this process ([`run_host`]).
static LINK: Mutex<Option<TcpStream>> = Mutex::new(None);

/// The join token: the first line of `--token-file`, else
/// `PERFSTRESS_JOIN_TOKEN`; a usage error without one.
pub(crate) fn join_token(global: &GlobalOptions) -> Result<String, Error> {
    let usage = |message: String| Error::new(ErrorKind::Usage, message);
    let token = match &global.token_file {
        Some(path) => {
            let text = std::fs::read_to_string(path).map_err(|error| {
                usage(format!(
                    "cannot read the join token from {} (--token-file): {error}",
                    path.display()
                ))
            })?;
            text.lines().next().unwrap_or_default().trim().to_owned()
        }
        None => std::env::var(JOIN_TOKEN_VARIABLE)
            .unwrap_or_default()
            .trim()
            .to_owned(),
    };
    if token.is_empty() {
        return Err(usage(format!(
            "a run across hosts needs a join token, the same on every host: put it in a file for --token-file PATH, or in the environment variable {JOIN_TOKEN_VARIABLE} (never on the command line, which `ps` shows)"
        )));
    }
    remember_secret(&token);
    Ok(token)
}

/// `<runner> --join ADDR`: joins the run coordinated at ADDR and returns
/// the arguments of this host's part of it (run by the caller: the test
/// is only known once they are parsed), or the outcome it ended with.
pub(crate) fn join(program: OsString, global: &GlobalOptions) -> Result<Vec<OsString>, Outcome> {
    let console = Console::new();
    let fail = |error: Error| {
        console.error(&format!("error: {error}"));
        match error.kind() {
            ErrorKind::Usage => Outcome::Usage,
            _ => Outcome::Failed,
        }
    };
    let address = global.join.clone().unwrap_or_default();
    let token = join_token(global).map_err(fail)?;
    let bind = match &global.bind {
        Some(bind) => Some(parse_bind(bind).map_err(fail)?),
        None => None,
    };
    let identity = global.host_id.clone().unwrap_or_else(default_identity);
    let tls = super::client_tls(global).map_err(fail)?;
    let secure = tls.is_some();
    let Joined {
        stream,
        args,
        share,
        env,
    } = connect(&address, bind, tls, &token, &identity, global.join_timeout).map_err(fail)?;
    console.error(&format!(
        "Joined the run at {address}{} as host '{identity}': parallel indexes {}..={}",
        if secure { " over TLS" } else { "" },
        share.first_index,
        share.first_index + share.count - 1
    ));
    *LINK.lock().unwrap_or_else(|poisoned| poisoned.into_inner()) = Some(stream);
    *COORDINATOR_ENVIRONMENT
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner()) = Some(CoordinatorEnvironment {
        values: env,
        tls: secure,
    });
    Ok(std::iter::once(program)
        .chain(args.into_iter().map(OsString::from))
        .chain([
            OsString::from(HOST_OPTION),
            OsString::from(format!("{},{}", share.first_index, share.count)),
            // This host's own --processes (the last value wins).
            OsString::from("--processes"),
            OsString::from(global.processes.to_string()),
        ])
        .collect())
}

fn parse_bind(bind: &str) -> Result<SocketAddr, Error> {
    let unbracketed = bind.trim_start_matches('[').trim_end_matches(']');
    if let Ok(ip) = unbracketed.parse::<std::net::IpAddr>() {
        return Ok(SocketAddr::new(ip, 0));
    }
    bind.parse().map_err(|_| {
        Error::new(
            ErrorKind::Usage,
            format!("--bind takes a local IP address, with or without a port (10.0.0.5, 10.0.0.5:0); got '{bind}'"),
        )
    })
}

/// This machine's host name and this process's id.
fn default_identity() -> String {
    let name = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .map(|name| name.trim().to_owned())
        .filter(|name| !name.is_empty())
        .or_else(|| std::env::var("HOSTNAME").ok())
        .unwrap_or_else(|| "host".to_owned());
    format!("{name}-{}", std::process::id())
}

/// What a host is given when it joins.
struct Joined {
    /// The connection to the coordinator (plain, or relayed TLS).
    stream: TcpStream,
    /// The coordinator's arguments.
    args: Vec<String>,
    /// This host's instances.
    share: crate::plan::ProcessShare,
    /// The coordinator's options set by environment.
    env: Vec<(String, String)>,
}

/// Connects (retrying while nothing listens yet, until `timeout`), says
/// hello, answers the clock probes and receives this host's share.
fn connect(
    address: &str,
    bind: Option<SocketAddr>,
    tls: Option<super::ClientTls>,
    token: &str,
    identity: &str,
    timeout: Duration,
) -> Result<Joined, Error> {
    let deadline = Instant::now() + timeout;
    let unreachable = |error: std::io::Error| {
        Error::with_source(
            ErrorKind::Io,
            format!("cannot reach the coordinator at {address} (--join)"),
            error,
        )
    };
    let target = address
        .to_socket_addrs()
        .map_err(|error| {
            Error::new(
                ErrorKind::Usage,
                format!(
                    "--join takes HOST:PORT of the coordinator's --listen; '{address}': {error}"
                ),
            )
        })?
        .find(|target| bind.is_none_or(|bind| bind.is_ipv4() == target.is_ipv4()))
        .ok_or_else(|| {
            Error::new(
                ErrorKind::Usage,
                format!("--join: no address for '{address}'"),
            )
        })?;
    let stream = loop {
        match open(target, bind) {
            Ok(stream) => break stream,
            Err(error)
                if error.kind() == std::io::ErrorKind::ConnectionRefused
                    && Instant::now() < deadline =>
            {
                std::thread::sleep(Duration::from_millis(100));
            }
            Err(error) => return Err(unreachable(error)),
        }
    };
    let _ = stream.set_nodelay(true);
    let mut stream = match tls {
        None => stream,
        #[cfg(feature = "tls")]
        Some((config, name)) => super::secure::connect(stream, config, name, address, deadline)?,
        #[cfg(not(feature = "tls"))]
        Some(tls) => match tls {},
    };
    write_message(
        &mut stream,
        &ToParent::HostHello {
            token: token.to_owned(),
            identity: identity.to_owned(),
            pid: std::process::id(),
        },
    )
    .map_err(unreachable)?;
    let refused = || {
        Error::msg(format!(
            "the coordinator at {address} did not take this host: the join token is wrong, or no run is waiting for hosts there (check --token-file or {JOIN_TOKEN_VARIABLE}, and the address)"
        ))
    };
    stream
        .set_read_timeout(Some(
            deadline
                .saturating_duration_since(Instant::now())
                .max(Duration::from_secs(1)),
        ))
        .map_err(unreachable)?;
    loop {
        let message = match read_message::<ToWorker>(&mut stream) {
            Ok(message) => message,
            Err(error)
                if matches!(
                    error.kind(),
                    std::io::ErrorKind::ConnectionReset | std::io::ErrorKind::BrokenPipe
                ) =>
            {
                return Err(refused());
            }
            Err(error) => return Err(unreachable(error)),
        };
        match message {
            Some(ToWorker::ClockProbe) => {
                write_message(
                    &mut stream,
                    &ToParent::ClockReply {
                        unix_nanos: unix_nanos_now(),
                    },
                )
                .map_err(unreachable)?;
            }
            Some(ToWorker::Join {
                args, share, env, ..
            }) => {
                stream.set_read_timeout(None).map_err(unreachable)?;
                return Ok(Joined {
                    stream,
                    args,
                    share,
                    env,
                });
            }
            Some(ToWorker::Refused { reason }) => {
                return Err(Error::msg(format!(
                    "the coordinator at {address} refused this host: {reason}"
                )));
            }
            Some(_) => {}
            None => return Err(refused()),
        }
    }
}

/// A connection to `target`, from `bind` if given.
fn open(target: SocketAddr, bind: Option<SocketAddr>) -> std::io::Result<TcpStream> {
    let Some(bind) = bind else {
        return TcpStream::connect(target);
    };
    let socket = if target.is_ipv4() {
        tokio::net::TcpSocket::new_v4()?
    } else {
        tokio::net::TcpSocket::new_v6()?
    };
    socket.bind(bind)?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_io()
        .build()?;
    let stream = runtime.block_on(socket.connect(target))?.into_std()?;
    stream.set_nonblocking(false)?;
    Ok(stream)
}

/// Runs this host's share of the run (`plan` has it, from the hidden
/// host option [`join`] added) as the coordinator commands.
pub(crate) fn run_host(plan: Plan, args: &[OsString]) -> Outcome {
    let console = Console::new();
    let Some(stream) = LINK
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
        .take()
    else {
        console.error(&format!(
            "error: {HOST_OPTION} is set by `--join` on the run it joins; run `<runner> --join ADDR`"
        ));
        return Outcome::Usage;
    };
    let Ok(reader) = stream.try_clone() else {
        return Outcome::Failed;
    };
    let sender = ToParentSender(Arc::new(Mutex::new(stream)));
    spawn_heartbeat(sender.clone());
    let control = Arc::new(RunControl::new());
    let _ = route_interrupts_to(&control);
    let (commands, starts) = spawn_reader(reader, control.clone(), ORPHAN_CLEANUP);
    let upstream = {
        let sender = sender.clone();
        Box::new(move |event: ControlEvent<'_>| match event {
            ControlEvent::Failed(failure) => {
                sender.send(&ToParent::Failure(FailureMessage::from(failure)))
            }
            ControlEvent::Interrupted(signal) => sender.send(&ToParent::Interrupted(signal)),
        })
    };
    let mut stages = match RemoteStages::start(
        args,
        &plan.shares,
        plan.liveness_timeout,
        control.clone(),
        Some(upstream),
    ) {
        Ok(stages) => stages,
        Err(error) => {
            let failure = crate::failure::Failure {
                who: crate::failure::Who::Runner,
                phase: Phase::Setup,
                error: error.context("cannot start this host's worker processes"),
            };
            sender.send(&ToParent::Failure(FailureMessage::from(&failure)));
            console.error(&format!("error: {}", failure.error));
            return Outcome::Failed;
        }
    };
    {
        let sender = sender.clone();
        stages.set_start_gate(Box::new(move || {
            sender.send(&ToParent::Ready);
            // The coordinator gone: start now (the stage ends at once).
            starts.recv().unwrap_or_else(|_| unix_nanos_now())
        }));
    }
    while let Ok(command) = commands.recv() {
        match command {
            Command::Begin { stage, duration } => {
                let measurement = match stage {
                    Phase::Setup => {
                        stages.setup();
                        None
                    }
                    Phase::PostSetup => {
                        stages.post_setup();
                        None
                    }
                    Phase::Warmup | Phase::Run => {
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
                        Some(Box::new(stages.timed(stage, duration, &mut on_status)))
                    }
                    Phase::PreCleanup => {
                        stages.pre_cleanup();
                        None
                    }
                    Phase::Cleanup => {
                        stages.cleanup();
                        None
                    }
                    _ => None,
                };
                sender.send(&ToParent::StageDone { stage, measurement });
            }
            Command::Exit => break,
            Command::Orphaned => {
                console.error(
                    "error: lost the connection to the coordinator: cleaning up and ending this host's workers",
                );
                stages.cleanup();
                stages.finish();
                return Outcome::Failed;
            }
        }
    }
    stages.finish();
    drop(stages);
    control.outcome()
}

/// Options of the host's own, which the coordinator's environment does not
/// set on a host (each host reads its own variables for them): its
/// processes, how it joins, the coordinator's own --listen, --hosts and
/// --shard, and the hidden options of hosts and workers.
const HOST_LOCAL_OPTIONS: &[&str] = &[
    "processes",
    "listen",
    "hosts",
    "join",
    "bind",
    "host_id",
    "token_file",
    "join_timeout",
    "tls_cert",
    "tls_key",
    "tls_ca",
    "tls_server_name",
    "shard",
    "perfstress_host",
    "perfstress_worker",
];

/// The coordinator's options set by environment (`PERFSTRESS_DURATION`, a
/// test option's `env`), as the joined host applies them.
#[derive(Debug, Default)]
struct CoordinatorEnvironment {
    /// Variable and value, for each option the coordinator read from its
    /// environment.
    values: Vec<(String, String)>,
    /// The link is TLS (secret options set by environment are forwarded).
    tls: bool,
}

static COORDINATOR_ENVIRONMENT: Mutex<Option<CoordinatorEnvironment>> = Mutex::new(None);

/// The variables this host's worker processes get (`Some`) or lose
/// (`None`), so that they see the coordinator's options as the host does.
static WORKER_ENVIRONMENT: Mutex<Vec<(String, Option<String>)>> = Mutex::new(Vec::new());

/// Whether the coordinator's environment decides `arg` on a host: options
/// with a variable, but not the host's own, nor (without TLS) secrets,
/// which would cross the network in clear.
fn follows_coordinator(arg: &clap::Arg, tls: bool) -> Option<String> {
    let variable = arg.get_env()?.to_str()?.to_owned();
    if HOST_LOCAL_OPTIONS.contains(&arg.get_id().as_str()) {
        return None;
    }
    let secret = crate::redact::is_secret_variable(&variable)
        || arg.get_long().is_some_and(crate::redact::is_secret);
    (tls || !secret).then_some(variable)
}

/// On the coordinator: the options its environment set, to send the hosts
/// (`matches` parsed by `command`), as variable and value.
pub(crate) fn forwarded_environment(
    command: &clap::Command,
    matches: &clap::ArgMatches,
    tls: bool,
) -> Vec<(String, String)> {
    command
        .get_arguments()
        .filter(|arg| {
            matches.value_source(arg.get_id().as_str())
                == Some(clap::parser::ValueSource::EnvVariable)
        })
        .filter_map(|arg| follows_coordinator(arg, tls))
        .filter_map(|variable| Some((variable.clone(), std::env::var(&variable).ok()?)))
        .collect()
}

/// On a joined host: `command` with the options that follow the
/// coordinator taking the coordinator's environment instead of this
/// host's (its value as the default, so the command line still wins, as
/// on the coordinator). Unchanged elsewhere.
pub(crate) fn follow_coordinator_environment(command: clap::Command) -> clap::Command {
    let guard = COORDINATOR_ENVIRONMENT
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    let Some(environment) = guard.as_ref() else {
        return command;
    };
    let mut workers = Vec::new();
    let command = command.mut_args(|arg| {
        let Some(variable) = follows_coordinator(&arg, environment.tls) else {
            return arg;
        };
        let value = environment
            .values
            .iter()
            .find(|(name, _)| *name == variable)
            .map(|(_, value)| value.clone());
        let secret = crate::redact::is_secret_variable(&variable)
            || arg.get_long().is_some_and(crate::redact::is_secret);
        if let Some(value) = value.as_deref().filter(|_| secret) {
            remember_secret(value);
        }
        workers.push((variable, value.clone()));
        let arg = arg.env(None);
        match value {
            None => arg,
            Some(value) => match arg.get_value_delimiter() {
                Some(delimiter) => arg.default_values(
                    value
                        .split(delimiter)
                        .map(str::to_owned)
                        .collect::<Vec<_>>(),
                ),
                None => arg.default_value(value),
            },
        }
    });
    *WORKER_ENVIRONMENT
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner()) = workers;
    command
}

/// The environment this host's worker processes get on top of its own
/// (see [`follow_coordinator_environment`]); nothing elsewhere.
pub(crate) fn worker_environment() -> Vec<(String, Option<String>)> {
    WORKER_ENVIRONMENT
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
        .clone()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn arg(id: &'static str, variable: &'static str) -> clap::Arg {
        clap::Arg::new(id).long(id.replace('_', "-")).env(variable)
    }

    #[test]
    fn hosts_follow_the_coordinator_but_for_their_own_options_and_secrets_in_clear() {
        let duration = arg("duration", "PERFSTRESS_DURATION");
        assert_eq!(
            follows_coordinator(&duration, false).as_deref(),
            Some("PERFSTRESS_DURATION")
        );
        for own in [
            arg("processes", "PERFSTRESS_PROCESSES"),
            arg("host_id", "PERFSTRESS_HOST_ID"),
            arg("tls_ca", "PERFSTRESS_TLS_CA"),
        ] {
            assert_eq!(follows_coordinator(&own, true), None);
        }
        let key = arg("account_key", "STORAGE_ACCOUNT_KEY");
        assert_eq!(follows_coordinator(&key, false), None);
        assert_eq!(
            follows_coordinator(&key, true).as_deref(),
            Some("STORAGE_ACCOUNT_KEY")
        );
        assert_eq!(
            follows_coordinator(&clap::Arg::new("size").long("size"), true),
            None
        );
    }
}
