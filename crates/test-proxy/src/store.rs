//! The server's sessions (spec section 1): active recordings, finished
//! in-memory recordings, active playbacks. Control calls are rare and
//! take plain locks; the playback hot path looks its session up in one of
//! [`SHARDS`] read-locked shards (no global lock) and matches under the
//! session's own read lock, so instances on different recording ids run
//! in parallel and never copy a body.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};

use bytes::Bytes;
use http::{HeaderMap, HeaderName, HeaderValue, StatusCode};

use crate::codec::gzip;
use crate::matcher::{Matcher, Prepared};
use crate::recording::{Entry, first_header};

/// Shards of the playback table.
const SHARDS: usize = 64;

/// A recorded entry, ready to be matched and replayed.
#[derive(Debug)]
pub struct Stored {
    prepared: Prepared,
    /// The response, built once.
    pub replay: Replay,
}

impl AsRef<Prepared> for Stored {
    fn as_ref(&self) -> &Prepared {
        &self.prepared
    }
}

/// A recorded response as it is sent: headers and the (re-compressed) body
/// built once; each request clones references only.
#[derive(Debug)]
pub struct Replay {
    /// The status.
    pub status: StatusCode,
    /// The headers, without `Transfer-Encoding` and hop-by-hop headers;
    /// `Retry-After` set to 0 (the default transform).
    pub headers: HeaderMap,
    /// The body as sent (gzip-compressed again if it was recorded so).
    pub body: Bytes,
}

impl Stored {
    /// Prepares `entry` for matching and replay.
    pub fn new(entry: Entry) -> Stored {
        let mut headers = HeaderMap::new();
        for (name, values) in &entry.response_headers {
            let lower = name.to_ascii_lowercase();
            if matches!(
                lower.as_str(),
                "transfer-encoding" | "connection" | "keep-alive" | "content-length"
            ) {
                continue;
            }
            let Ok(name) = HeaderName::from_bytes(lower.as_bytes()) else {
                continue;
            };
            for value in values {
                let value = if lower == "retry-after" {
                    "0"
                } else {
                    value.as_str()
                };
                if let Ok(value) = HeaderValue::from_str(value) {
                    headers.append(name.clone(), value);
                }
            }
        }
        let body = entry.response_body.clone().unwrap_or_default();
        let gzipped = first_header(&entry.response_headers, "content-encoding")
            .is_some_and(|encoding| encoding.trim().eq_ignore_ascii_case("gzip"));
        let body = if gzipped && !body.is_empty() {
            Bytes::from(gzip(&body))
        } else {
            body
        };
        let replay = Replay {
            status: StatusCode::from_u16(entry.status_code)
                .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
            headers,
            body,
        };
        Stored {
            prepared: Prepared::new(entry),
            replay,
        }
    }
}

/// An active recording.
#[derive(Debug)]
pub struct RecordSession {
    /// The file it is saved to; `None`: an in-memory recording.
    pub path: Option<PathBuf>,
    /// The entries so far.
    pub entries: Mutex<Vec<Entry>>,
}

/// A finished in-memory recording.
#[derive(Debug)]
pub struct InMemory {
    /// Its entries.
    pub entries: Vec<Arc<Stored>>,
    /// Its variables.
    pub variables: Vec<(String, String)>,
}

/// An active playback.
#[derive(Debug)]
pub struct PlaybackSession {
    /// The entries not consumed yet (`x-recording-remove: true` consumes).
    pub entries: RwLock<Vec<Arc<Stored>>>,
    /// The in-memory recording it plays, for `/Playback/Stop`'s purge.
    pub source: Option<String>,
    /// A matcher set for this session by `/Admin/SetMatcher`.
    pub matcher: RwLock<Option<Arc<Matcher>>>,
    /// Whether `matcher` is set (read without its lock).
    pub has_matcher: AtomicBool,
}

/// How many sessions of each kind exist.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SessionCounts {
    /// Active recordings.
    pub recording: usize,
    /// Finished in-memory recordings.
    pub in_memory: usize,
    /// Active playbacks.
    pub playback: usize,
}

/// What the server did, counted.
#[derive(Debug, Default)]
pub struct Counters {
    /// Requests forwarded upstream in record mode.
    pub recorded: AtomicU64,
    /// Requests answered from a recording.
    pub played_back: AtomicU64,
    /// Playback requests that matched nothing.
    pub mismatches: AtomicU64,
}

/// The server's state.
#[derive(Debug)]
pub struct Store {
    recording: Mutex<HashMap<String, Arc<RecordSession>>>,
    in_memory: Mutex<HashMap<String, Arc<InMemory>>>,
    playback: Vec<RwLock<HashMap<String, Arc<PlaybackSession>>>>,
    global_matcher: RwLock<Option<Arc<Matcher>>>,
    has_global_matcher: AtomicBool,
    default_matcher: Arc<Matcher>,
    /// Where relative recording file paths are resolved.
    pub context_directory: PathBuf,
    /// The counts.
    pub counters: Counters,
    /// The control calls, in order (the last [`LOG_LIMIT`]).
    log: Mutex<Vec<String>>,
}

/// Control calls kept in the log.
const LOG_LIMIT: usize = 10_000;

fn shard(id: &str) -> usize {
    // FNV-1a: cheap and well spread for GUID strings.
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in id.bytes() {
        hash = (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3);
    }
    (hash % SHARDS as u64) as usize
}

/// A fresh recording id: a random GUID, as the real proxy makes them.
pub fn new_id() -> String {
    let bits: u128 = rand::random();
    let hex = format!("{bits:032x}");
    format!(
        "{}-{}-{}-{}-{}",
        &hex[..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..]
    )
}

impl Store {
    /// An empty store resolving file paths against `context_directory`.
    pub fn new(context_directory: PathBuf) -> Store {
        Store {
            recording: Mutex::default(),
            in_memory: Mutex::default(),
            playback: (0..SHARDS).map(|_| RwLock::default()).collect(),
            global_matcher: RwLock::new(None),
            has_global_matcher: AtomicBool::new(false),
            default_matcher: Arc::new(Matcher::default()),
            context_directory,
            counters: Counters::default(),
            log: Mutex::default(),
        }
    }

    /// Notes a control call.
    pub fn log(&self, event: String) {
        let mut log = self.log.lock().unwrap_or_else(|p| p.into_inner());
        if log.len() >= LOG_LIMIT {
            log.remove(0);
        }
        log.push(event);
    }

    /// The control calls so far.
    pub fn log_entries(&self) -> Vec<String> {
        self.log.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// Starts a recording.
    pub fn start_recording(&self, path: Option<PathBuf>) -> String {
        let id = new_id();
        let session = Arc::new(RecordSession {
            path,
            entries: Mutex::default(),
        });
        self.recording
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(id.clone(), session);
        id
    }

    /// The active recording `id`.
    pub fn recording(&self, id: &str) -> Option<Arc<RecordSession>> {
        self.recording
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(id)
            .cloned()
    }

    /// Ends the recording `id`, returning it.
    pub fn stop_recording(&self, id: &str) -> Option<Arc<RecordSession>> {
        self.recording
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(id)
    }

    /// Keeps a finished recording in memory under `id`.
    pub fn keep_in_memory(&self, id: String, recording: InMemory) {
        self.in_memory
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(id, Arc::new(recording));
    }

    /// The in-memory recording `id`.
    pub fn in_memory(&self, id: &str) -> Option<Arc<InMemory>> {
        self.in_memory
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(id)
            .cloned()
    }

    /// Frees the in-memory recording `id`.
    pub fn purge(&self, id: &str) -> bool {
        self.in_memory
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(id)
            .is_some()
    }

    /// Starts a playback of `entries`; returns its new id.
    pub fn start_playback(&self, entries: Vec<Arc<Stored>>, source: Option<String>) -> String {
        let id = new_id();
        let session = Arc::new(PlaybackSession {
            entries: RwLock::new(entries),
            source,
            matcher: RwLock::new(None),
            has_matcher: AtomicBool::new(false),
        });
        self.playback[shard(&id)]
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .insert(id.clone(), session);
        id
    }

    /// The active playback `id` (the hot path: one shard's read lock).
    pub fn playback(&self, id: &str) -> Option<Arc<PlaybackSession>> {
        self.playback[shard(id)]
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .get(id)
            .cloned()
    }

    /// Ends the playback `id`, returning it.
    pub fn stop_playback(&self, id: &str) -> Option<Arc<PlaybackSession>> {
        self.playback[shard(id)]
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .remove(id)
    }

    /// The matcher for `session`: its own, else the process-wide one, else
    /// the default.
    pub fn matcher_for(&self, session: &PlaybackSession) -> Arc<Matcher> {
        if session.has_matcher.load(Ordering::Acquire)
            && let Some(matcher) = session
                .matcher
                .read()
                .unwrap_or_else(|p| p.into_inner())
                .clone()
        {
            return matcher;
        }
        if self.has_global_matcher.load(Ordering::Acquire)
            && let Some(matcher) = self
                .global_matcher
                .read()
                .unwrap_or_else(|p| p.into_inner())
                .clone()
        {
            return matcher;
        }
        self.default_matcher.clone()
    }

    /// Sets (or, `None`, resets) the process-wide matcher.
    pub fn set_global_matcher(&self, matcher: Option<Matcher>) {
        let set = matcher.is_some();
        *self
            .global_matcher
            .write()
            .unwrap_or_else(|p| p.into_inner()) = matcher.map(Arc::new);
        self.has_global_matcher.store(set, Ordering::Release);
    }

    /// How many sessions exist.
    pub fn counts(&self) -> SessionCounts {
        SessionCounts {
            recording: self
                .recording
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .len(),
            in_memory: self
                .in_memory
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .len(),
            playback: self
                .playback
                .iter()
                .map(|shard| shard.read().unwrap_or_else(|p| p.into_inner()).len())
                .sum(),
        }
    }
}

impl PlaybackSession {
    /// Sets (or resets) this session's matcher.
    pub fn set_matcher(&self, matcher: Option<Matcher>) {
        let set = matcher.is_some();
        *self.matcher.write().unwrap_or_else(|p| p.into_inner()) = matcher.map(Arc::new);
        self.has_matcher.store(set, Ordering::Release);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_guids_and_spread_over_shards() {
        let id = new_id();
        assert_eq!(id.len(), 36);
        assert_eq!(id.matches('-').count(), 4);
        let shards: std::collections::HashSet<usize> =
            (0..1000).map(|_| shard(&new_id())).collect();
        assert!(shards.len() > SHARDS / 2);
    }

    #[test]
    fn replay_recompresses_and_zeroes_retry_after() {
        let entry = Entry {
            request_uri: "http://h/".into(),
            request_method: "GET".into(),
            request_headers: Vec::new(),
            request_body: None,
            status_code: 503,
            response_headers: vec![
                ("Content-Encoding".into(), vec!["gzip".into()]),
                ("Retry-After".into(), vec!["30".into()]),
                ("Transfer-Encoding".into(), vec!["chunked".into()]),
                ("Set-Cookie".into(), vec!["a".into(), "b".into()]),
            ],
            response_body: Some(Bytes::from_static(b"hello")),
        };
        let stored = Stored::new(entry);
        assert_eq!(stored.replay.status, 503);
        assert_eq!(stored.replay.headers["retry-after"], "0");
        assert!(!stored.replay.headers.contains_key("transfer-encoding"));
        assert_eq!(
            stored.replay.headers.get_all("set-cookie").iter().count(),
            2
        );
        assert_eq!(crate::codec::gunzip(&stored.replay.body).unwrap(), b"hello");
    }
}
