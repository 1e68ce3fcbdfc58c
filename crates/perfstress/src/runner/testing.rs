//! Faults the framework's own end-to-end tests inject, through environment
//! variables no user sets (they are not options, and `--help` does not list
//! them): the conditions they stand for (the OS refusing a thread, a worker
//! slow to connect) cannot be produced reliably from outside, least of all
//! on a CI machine running as root, where `RLIMIT_NPROC` does not apply.

use std::sync::OnceLock;
use std::time::Duration;

/// `PERFSTRESS_TEST_THREAD_LIMIT=N`: a `--sync` timed phase starts at most
/// `N` instance threads in a process; the next fails as `pthread_create`
/// does when the OS has no more threads to give (`EAGAIN`).
const THREAD_LIMIT: &str = "PERFSTRESS_TEST_THREAD_LIMIT";

/// `PERFSTRESS_TEST_CONNECT_DELAY_MS=MS`: a worker process waits this long
/// before it connects to its parent.
const CONNECT_DELAY: &str = "PERFSTRESS_TEST_CONNECT_DELAY_MS";

/// `PERFSTRESS_TEST_FRAMEWORK_PANIC=STAGE`: the framework itself panics at
/// the start of that stage of the lifecycle (its header name, e.g.
/// `Warmup`, `Tests`, `Setup`, case-insensitive), as a bug of the runner
/// would; the run must report it as a failure and still clean up.
const FRAMEWORK_PANIC: &str = "PERFSTRESS_TEST_FRAMEWORK_PANIC";

fn number(name: &str) -> Option<u64> {
    std::env::var(name).ok()?.trim().parse().ok()
}

/// The error the OS gives when it cannot start the thread of instance
/// number `started` (counting from 0 in this process), if it is told to.
pub(crate) fn refuse_thread(started: usize) -> Option<std::io::Error> {
    static LIMIT: OnceLock<Option<u64>> = OnceLock::new();
    let limit = (*LIMIT.get_or_init(|| number(THREAD_LIMIT)))?;
    if (started as u64) < limit {
        return None;
    }
    #[cfg(unix)]
    return Some(std::io::Error::from_raw_os_error(libc::EAGAIN));
    #[cfg(not(unix))]
    return Some(std::io::Error::other("no more threads (injected)"));
}

/// How long a worker waits before it connects, if it is told to.
pub(crate) fn connect_delay() -> Option<Duration> {
    number(CONNECT_DELAY).map(Duration::from_millis)
}

/// Panics if the framework is told to at the start of `stage`.
pub(crate) fn framework_panic(stage: crate::phase::Phase) {
    static STAGE: OnceLock<Option<String>> = OnceLock::new();
    let wanted = STAGE.get_or_init(|| std::env::var(FRAMEWORK_PANIC).ok());
    if let Some(wanted) = wanted
        && wanted.eq_ignore_ascii_case(stage.header())
    {
        panic!("injected framework panic in {}", stage.header());
    }
}
