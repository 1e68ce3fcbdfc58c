//! Resource use of the whole process, for the results file.

use std::time::Duration;

/// CPU time (user + system) used by this process so far.
pub fn process_cpu_time() -> Option<Duration> {
    #[cfg(unix)]
    {
        // SAFETY: getrusage only writes the struct it is given.
        let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
        // SAFETY: `usage` is a valid, writable rusage.
        if unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut usage) } != 0 {
            return None;
        }
        let to_duration = |time: libc::timeval| {
            Duration::from_secs(time.tv_sec as u64) + Duration::from_micros(time.tv_usec as u64)
        };
        Some(to_duration(usage.ru_utime) + to_duration(usage.ru_stime))
    }
    #[cfg(not(unix))]
    {
        None
    }
}

/// The resident memory of this process in bytes (Linux; `None` elsewhere).
pub fn resident_memory_bytes() -> Option<u64> {
    let statm = std::fs::read_to_string("/proc/self/statm").ok()?;
    let resident_pages: u64 = statm.split_whitespace().nth(1)?.parse().ok()?;
    // SAFETY: sysconf has no preconditions.
    #[cfg(unix)]
    let page_size = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
    #[cfg(not(unix))]
    let page_size = 4096;
    Some(resident_pages * u64::try_from(page_size).ok()?)
}

/// Memory the system can still give processes, in bytes (Linux's
/// `MemAvailable`; `None` elsewhere).
pub(crate) fn available_memory_bytes() -> Option<u64> {
    let meminfo = std::fs::read_to_string("/proc/meminfo").ok()?;
    let line = meminfo
        .lines()
        .find(|line| line.starts_with("MemAvailable:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpu_time_grows_with_work() {
        let before = process_cpu_time().expect("getrusage works on unix");
        let mut x = 0u64;
        let start = std::time::Instant::now();
        while start.elapsed() < Duration::from_millis(50) {
            x = std::hint::black_box(x.wrapping_add(1));
        }
        let after = process_cpu_time().unwrap();
        assert!(after > before);
    }

    #[test]
    #[cfg(target_os = "linux")]
    fn resident_memory_is_plausible() {
        let bytes = resident_memory_bytes().expect("/proc/self/statm exists on Linux");
        assert!(bytes > 100 * 1024 && bytes < 64 * 1024 * 1024 * 1024);
    }
}
