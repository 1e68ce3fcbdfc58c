//! What the parent hears from its workers: one reader thread per
//! connection turns messages into [`Event`]s on one channel, and notes in
//! [`Liveness`] when each worker was last heard from (heartbeats included).

use std::net::TcpStream;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::Sender;
use std::time::{Duration, Instant};

use crate::error::{Error, ErrorKind};
use crate::runner::process::protocol::{ToParent, read_message};

/// What the parent's event loop hears.
pub(super) enum Event {
    Message(usize, ToParent),
    /// The connection to a worker ended: it exited or died.
    Closed(usize),
    /// This run was cancelled (failure or Ctrl-C): tell the workers.
    Cancelled,
}

/// When each worker was last heard from, as its reader thread saw it.
pub(super) struct Liveness {
    base: Instant,
    /// Milliseconds from `base` to the last message of each worker.
    last_heard: Vec<AtomicU64>,
}

impl Liveness {
    pub(super) fn new(workers: usize) -> Self {
        Self {
            base: Instant::now(),
            last_heard: (0..workers).map(|_| AtomicU64::new(0)).collect(),
        }
    }

    pub(super) fn heard(&self, index: usize) {
        let millis = u64::try_from(self.base.elapsed().as_millis()).unwrap_or(u64::MAX);
        self.last_heard[index].store(millis, Ordering::Relaxed);
    }

    /// How long worker `index` has been silent.
    pub(super) fn silent_for(&self, index: usize) -> Duration {
        let last = Duration::from_millis(self.last_heard[index].load(Ordering::Relaxed));
        self.base.elapsed().saturating_sub(last)
    }
}

/// Drains a worker's messages on a thread of its own into the event channel.
pub(super) fn spawn_reader(
    index: usize,
    stream: &TcpStream,
    events: Sender<Event>,
    liveness: Arc<Liveness>,
) -> Result<(), Error> {
    let mut reader = stream
        .try_clone()
        .map_err(|error| Error::with_source(ErrorKind::Io, "cannot read from a worker", error))?;
    std::thread::Builder::new()
        .name(format!("perfstress-worker-{index}-reader"))
        .spawn(move || {
            while let Ok(Some(message)) = read_message::<ToParent>(&mut reader) {
                liveness.heard(index);
                if matches!(message, ToParent::Heartbeat) {
                    continue;
                }
                if events.send(Event::Message(index, message)).is_err() {
                    return;
                }
            }
            let _ = events.send(Event::Closed(index));
        })
        .map(|_| ())
        .map_err(|error| Error::with_source(ErrorKind::Io, "cannot start a thread", error))
}
