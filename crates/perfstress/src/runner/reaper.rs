//! The worker processes this process started, so that none outlives it:
//! even the hard exit of a second Ctrl-C kills them first.

use std::sync::Mutex;

static CHILDREN: Mutex<Vec<u32>> = Mutex::new(Vec::new());

fn children() -> std::sync::MutexGuard<'static, Vec<u32>> {
    CHILDREN
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Remembers a started worker process.
pub(crate) fn register(pid: u32) {
    children().push(pid);
}

/// Forgets a worker process that has exited.
pub(crate) fn forget(pid: u32) {
    children().retain(|&child| child != pid);
}

/// Kills every worker process still registered (before a hard exit).
pub(crate) fn kill_all() {
    for pid in children().drain(..) {
        kill(pid);
    }
}

/// Kills one process (SIGKILL on Unix).
pub(crate) fn kill(pid: u32) {
    #[cfg(unix)]
    if let Ok(pid) = libc::pid_t::try_from(pid) {
        // SAFETY: kill has no memory-safety preconditions.
        unsafe {
            libc::kill(pid, libc::SIGKILL);
        }
    }
    #[cfg(not(unix))]
    let _ = pid;
}
