//! The channel between the parent and its worker processes: framed
//! messages (a 4-byte big-endian length, then JSON) over a loopback TCP
//! connection. Each side drains its incoming messages on a thread of its
//! own, so a large message can never deadlock the two.

use std::io::{Read, Write};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::error::{Error, ErrorKind};
use crate::metrics::{ErrorGroups, InstanceSnapshot, LatencyHistogram};

use crate::failure::{Failure, Who};
use crate::metrics::PhaseMeasurement;
use crate::phase::Phase;
use crate::plan::ProcessShare;
use crate::runner::control::StopSignal;

/// Messages larger than this are refused as corrupt.
const MAX_MESSAGE_BYTES: u32 = 1 << 30;

/// How often a worker sends [`ToParent::Heartbeat`].
pub(crate) const HEARTBEAT_INTERVAL: Duration = Duration::from_millis(250);

/// From the parent to a worker.
#[derive(Debug, Serialize, Deserialize)]
pub(crate) enum ToWorker {
    /// The answer to [`ToParent::Hello`]: the worker's share of the plan.
    Assign { share: ProcessShare },
    /// Run `stage` (one of [`Phase::STAGES`]). A timed stage (lasting
    /// `duration_nanos`) gets its instances ready, answers
    /// [`ToParent::Ready`] and waits for `Start`.
    Begin { stage: Phase, duration_nanos: u64 },
    /// Every worker is ready: the timed stage starts at `start_unix_nanos`
    /// (wall clock, the same for every process on the machine).
    Start { start_unix_nanos: u128 },
    /// Stop what you are doing (another process failed, or Ctrl-C); the
    /// parent still sends the cleanup stages.
    Cancel,
    /// All stages are done: exit.
    Exit,
    /// To a joining host: answer with [`ToParent::ClockReply`] at once
    /// (the coordinator measures the host's clock offset).
    ClockProbe,
    /// To a joined host: the coordinator's arguments (the test and its
    /// options) and the instances the host runs.
    Join {
        args: Vec<String>,
        share: ProcessShare,
        /// The host's place in the run, from 0.
        host_index: usize,
        /// The coordinator's options set by environment, as variable and
        /// value: the host runs with them, not with its own.
        #[serde(default)]
        env: Vec<(String, String)>,
    },
    /// To a joining host whose token was right: why it cannot join.
    Refused { reason: String },
}

/// From a worker to the parent.
#[derive(Debug, Serialize, Deserialize)]
pub(crate) enum ToParent {
    /// First message on a new connection: the token the parent gave the
    /// worker (in its environment, never on its command line), which
    /// worker it is, and its process id (which must be the child's).
    Hello {
        token: String,
        process_index: usize,
        pid: u32,
    },
    /// First message of a host joining a run (`--join`): the join token,
    /// the name it goes by, and its process id.
    HostHello {
        token: String,
        identity: String,
        pid: u32,
    },
    /// A joining host's answer to [`ToWorker::ClockProbe`]: its wall clock.
    ClockReply { unix_nanos: u128 },
    /// The worker's instances are ready to start the timed stage.
    Ready,
    /// Sent every [`HEARTBEAT_INTERVAL`] from a thread of its own, whatever
    /// the worker is doing: a worker that sends nothing for long is stopped
    /// or hung (`--liveness-timeout`).
    Heartbeat,
    /// Progress at status tick `tick` of the running timed stage, and what
    /// else the tick saw (added fields default, so either end may be older).
    Status {
        tick: u32,
        snapshots: Vec<InstanceSnapshot>,
        /// Errors since the stage started (`--continue-on-error`).
        #[serde(default)]
        errors: ErrorGroups,
        /// The interval's latency (with a timeline or histogram log).
        #[serde(default)]
        latency: Option<LatencyHistogram>,
        /// The worker's resident memory at the tick.
        #[serde(default)]
        rss_bytes: Option<u64>,
        /// CPU seconds the worker used since the stage started.
        #[serde(default)]
        cpu_seconds: Option<f64>,
    },
    /// An instance of the worker failed.
    Failure(FailureMessage),
    /// Ctrl-C reached the worker.
    Interrupted(StopSignal),
    /// The worker finished `stage`; timed stages carry their measurement.
    StageDone {
        stage: Phase,
        measurement: Option<Box<PhaseMeasurement>>,
    },
}

/// A [`Failure`] as plain data.
#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct FailureMessage {
    who: Who,
    phase: Phase,
    kind: ErrorKind,
    chain: Vec<String>,
}

impl From<&Failure> for FailureMessage {
    fn from(failure: &Failure) -> Self {
        Self {
            who: failure.who,
            phase: failure.phase,
            kind: failure.error.kind(),
            chain: failure.error.chain(),
        }
    }
}

impl From<FailureMessage> for Failure {
    fn from(message: FailureMessage) -> Self {
        let kind = message.kind;
        // Rebuild the chain innermost first, so it prints exactly as it did
        // in the worker.
        let mut chain = message.chain.into_iter().rev();
        let mut error = Error::new(kind, chain.next().unwrap_or_default());
        for outer in chain {
            error = error.context(outer);
        }
        Failure {
            who: message.who,
            phase: message.phase,
            error,
        }
    }
}

/// Writes one framed message.
pub(crate) fn write_message(
    writer: &mut impl Write,
    message: &impl Serialize,
) -> std::io::Result<()> {
    let body = serde_json::to_vec(message)?;
    let length = u32::try_from(body.len())
        .ok()
        .filter(|length| *length <= MAX_MESSAGE_BYTES)
        .ok_or_else(|| {
            std::io::Error::new(std::io::ErrorKind::InvalidInput, "message too large")
        })?;
    // One write per message: a frame is never interleaved with another
    // writer's (callers hold the stream's lock for the call).
    let mut frame = Vec::with_capacity(4 + body.len());
    frame.extend_from_slice(&length.to_be_bytes());
    frame.extend_from_slice(&body);
    writer.write_all(&frame)?;
    writer.flush()
}

/// Reads one framed message; `Ok(None)` at a clean end of the stream.
pub(crate) fn read_message<T: DeserializeOwned>(
    reader: &mut impl Read,
) -> std::io::Result<Option<T>> {
    let mut length = [0u8; 4];
    match reader.read_exact(&mut length) {
        Ok(()) => {}
        Err(error) if error.kind() == std::io::ErrorKind::UnexpectedEof => return Ok(None),
        Err(error) => return Err(error),
    }
    let length = u32::from_be_bytes(length);
    if length > MAX_MESSAGE_BYTES {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            format!("a message of {length} bytes is corrupt"),
        ));
    }
    let mut body = vec![0u8; length as usize];
    reader.read_exact(&mut body)?;
    serde_json::from_slice(&body)
        .map(Some)
        .map_err(std::io::Error::from)
}

/// Now on the wall clock, in nanoseconds since the Unix epoch.
pub(crate) fn unix_nanos_now() -> u128 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or(Duration::ZERO)
        .as_nanos()
}

/// The local monotonic instant of a wall-clock time.
pub(crate) fn instant_of_unix_nanos(unix_nanos: u128) -> std::time::Instant {
    let now_unix = unix_nanos_now();
    let now = std::time::Instant::now();
    if unix_nanos >= now_unix {
        now + Duration::from_nanos(u64::try_from(unix_nanos - now_unix).unwrap_or(u64::MAX))
    } else {
        now.checked_sub(Duration::from_nanos(
            u64::try_from(now_unix - unix_nanos).unwrap_or(0),
        ))
        .unwrap_or(now)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_round_trip_including_large_messages() {
        let snapshots = vec![InstanceSnapshot::default(); 100_000];
        let mut buffer = Vec::new();
        write_message(
            &mut buffer,
            &ToParent::Status {
                tick: 3,
                snapshots,
                errors: ErrorGroups::default(),
                latency: None,
                rss_bytes: Some(5),
                cpu_seconds: None,
            },
        )
        .unwrap();
        write_message(&mut buffer, &ToWorker::Exit).unwrap();
        let mut reader = buffer.as_slice();
        match read_message::<ToParent>(&mut reader).unwrap() {
            Some(ToParent::Status {
                tick,
                snapshots,
                rss_bytes,
                ..
            }) => {
                assert_eq!((tick, rss_bytes), (3, Some(5)));
                assert_eq!(snapshots.len(), 100_000);
            }
            other => panic!("unexpected {other:?}"),
        }
        assert!(matches!(
            read_message::<ToWorker>(&mut reader).unwrap(),
            Some(ToWorker::Exit)
        ));
        assert!(read_message::<ToWorker>(&mut reader).unwrap().is_none());
    }

    #[test]
    fn failures_keep_their_chain() {
        let io = std::io::Error::other("connection reset");
        let failure = Failure::new(3, Phase::Run, Error::from(io).context("downloading"));
        let message = FailureMessage::from(&failure);
        let json = serde_json::to_string(&message).unwrap();
        let back = Failure::from(serde_json::from_str::<FailureMessage>(&json).unwrap());
        assert_eq!(back.who, Who::Instance(3));
        assert_eq!(back.phase, Phase::Run);
        assert_eq!(back.error.chain(), vec!["downloading", "connection reset"]);
    }

    #[test]
    fn wall_clock_maps_to_instants() {
        let soon = unix_nanos_now() + 50_000_000;
        let instant = instant_of_unix_nanos(soon);
        let delta = instant.saturating_duration_since(std::time::Instant::now());
        assert!(delta > Duration::from_millis(40) && delta <= Duration::from_millis(50));
    }
}
