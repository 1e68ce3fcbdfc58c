//! The lifecycle as a test sees it: the context, the order of the hooks,
//! and what happens after a failure.

use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use perfstress::{Error, ErrorKind, NoOptions, PerfTest, Result, TestContext};

use perfstress_testkit::*;

/// Every lifecycle call of [`RecordingTest`], as (parallel index, call).
static EVENTS: Mutex<Vec<(usize, &'static str)>> = Mutex::new(Vec::new());
/// Operations run, and operations run after a cleanup began (must stay 0).
static RUNS: AtomicU64 = AtomicU64::new(0);
static RUNS_AFTER_CLEANUP: AtomicU64 = AtomicU64::new(0);
static CLEANING: AtomicBool = AtomicBool::new(false);
/// What a context said: (index, parallel, name, sync, insecure).
type ContextSeen = (usize, usize, &'static str, bool, bool);
static CONTEXTS: Mutex<Vec<ContextSeen>> = Mutex::new(Vec::new());

fn record(index: usize, call: &'static str) {
    EVENTS
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
        .push((index, call));
}

fn events() -> Vec<(usize, &'static str)> {
    EVENTS
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
        .clone()
}

fn reset() {
    EVENTS.lock().unwrap_or_else(|p| p.into_inner()).clear();
    CONTEXTS.lock().unwrap_or_else(|p| p.into_inner()).clear();
    RUNS.store(0, Ordering::Relaxed);
    RUNS_AFTER_CLEANUP.store(0, Ordering::Relaxed);
    CLEANING.store(false, Ordering::Relaxed);
}

/// Records every lifecycle call.
pub struct RecordingTest {
    index: usize,
    ran: bool,
}

impl RecordingTest {
    fn operation(&mut self) {
        if !self.ran {
            self.ran = true;
            record(self.index, "run");
        }
        RUNS.fetch_add(1, Ordering::Relaxed);
        if CLEANING.load(Ordering::Relaxed) {
            RUNS_AFTER_CLEANUP.fetch_add(1, Ordering::Relaxed);
        }
    }
}

#[perfstress::test(description = "Records its lifecycle calls.")]
impl PerfTest for RecordingTest {
    type Options = NoOptions;

    async fn new(ctx: &TestContext<NoOptions>) -> Result<Self> {
        CONTEXTS.lock().unwrap_or_else(|p| p.into_inner()).push((
            ctx.parallel_index(),
            ctx.parallel(),
            ctx.test_name(),
            ctx.is_sync(),
            ctx.insecure(),
        ));
        record(ctx.parallel_index(), "new");
        Ok(Self {
            index: ctx.parallel_index(),
            ran: false,
        })
    }

    async fn global_setup(&mut self) -> Result<()> {
        record(self.index, "global_setup");
        Ok(())
    }

    async fn setup(&mut self) -> Result<()> {
        record(self.index, "setup");
        Ok(())
    }

    fn run_sync(&mut self) -> Result<()> {
        self.operation();
        std::thread::sleep(Duration::from_millis(5));
        Ok(())
    }

    async fn run_async(&mut self) -> Result<()> {
        self.operation();
        Ok(())
    }

    async fn cleanup(&mut self) -> Result<()> {
        CLEANING.store(true, Ordering::Relaxed);
        record(self.index, "cleanup");
        Ok(())
    }

    async fn global_cleanup(&mut self) -> Result<()> {
        record(self.index, "global_cleanup");
        Ok(())
    }

    async fn close(&mut self) -> Result<()> {
        record(self.index, "close");
        Ok(())
    }
}

fn where_is(events: &[(usize, &str)], index: usize, call: &str) -> Vec<usize> {
    events
        .iter()
        .enumerate()
        .filter(|(_, event)| **event == (index, call))
        .map(|(position, _)| position)
        .collect()
}

fn check_lifecycle(sync: bool) {
    let _serial = serial();
    reset();
    Perf::test("recordingtest")
        .parallel(3)
        .duration(0.3)
        .warmup(0.2)
        .arg("--insecure")
        .sync(sync)
        .ok();

    let mut contexts = CONTEXTS.lock().unwrap_or_else(|p| p.into_inner()).clone();
    contexts.sort();
    assert_eq!(
        contexts,
        (0..3)
            .map(|index| (index, 3, "RecordingTest", sync, true))
            .collect::<Vec<_>>()
    );

    let events = events();
    let one = |index: usize, call: &str| -> usize {
        let found = where_is(&events, index, call);
        assert_eq!(found.len(), 1, "{call} of {index} once: {events:?}");
        found[0]
    };
    // new in index order, then global setup on the first instance only.
    assert_eq!(
        events[..4],
        [(0, "new"), (1, "new"), (2, "new"), (0, "global_setup")]
    );
    assert!(where_is(&events, 1, "global_setup").is_empty());
    let global_setup = one(0, "global_setup");
    let setups: Vec<usize> = (0..3).map(|index| one(index, "setup")).collect();
    let runs: Vec<usize> = (0..3).map(|index| one(index, "run")).collect();
    let cleanups: Vec<usize> = (0..3).map(|index| one(index, "cleanup")).collect();
    let global_cleanup = one(0, "global_cleanup");
    let closes: Vec<usize> = (0..3).map(|index| one(index, "close")).collect();
    assert!(setups.iter().all(|setup| *setup > global_setup));
    assert!(runs.iter().min() > setups.iter().max(), "{events:?}");
    assert!(cleanups.iter().min() > runs.iter().max(), "{events:?}");
    assert!(
        cleanups.iter().all(|cleanup| *cleanup < global_cleanup),
        "{events:?}"
    );
    assert!(
        closes.iter().all(|close| *close > global_cleanup),
        "{events:?}"
    );
    assert_eq!(events.len(), 4 + 3 * 4 + 1, "nothing else: {events:?}");

    assert!(RUNS.load(Ordering::Relaxed) >= 3);
    assert_eq!(
        RUNS_AFTER_CLEANUP.load(Ordering::Relaxed),
        0,
        "no operation runs once cleanup began"
    );
}

#[test]
fn lifecycle_order_and_context_async() {
    check_lifecycle(false);
}

#[test]
fn lifecycle_order_and_context_sync() {
    check_lifecycle(true);
}

/// Set by instance 0 once its operation (which never completes) started.
static STUCK: AtomicBool = AtomicBool::new(false);
static STUCK_EVENTS: Mutex<Vec<(usize, &'static str)>> = Mutex::new(Vec::new());

fn stuck_record(index: usize, call: &'static str) {
    STUCK_EVENTS
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .push((index, call));
}

/// Instance 0's operation never completes; instance 1 fails once it has
/// started. Async only.
pub struct StuckTest {
    index: usize,
}

/// Instance 0 hangs in an operation; instance 1 then fails.
#[perfstress::test]
impl PerfTest for StuckTest {
    type Options = NoOptions;

    async fn new(ctx: &TestContext<NoOptions>) -> Result<Self> {
        Ok(Self {
            index: ctx.parallel_index(),
        })
    }

    async fn run_async(&mut self) -> Result<()> {
        if self.index == 0 {
            STUCK.store(true, Ordering::SeqCst);
            std::future::pending::<()>().await;
            unreachable!("pending never completes");
        }
        if STUCK.load(Ordering::SeqCst) {
            let cause = std::io::Error::new(std::io::ErrorKind::TimedOut, "the service timed out");
            return Err(Error::from(cause).context("instance 1 gives up"));
        }
        std::thread::yield_now();
        Ok(())
    }

    async fn cleanup(&mut self) -> Result<()> {
        stuck_record(self.index, "cleanup");
        Ok(())
    }

    async fn close(&mut self) -> Result<()> {
        stuck_record(self.index, "close");
        Ok(())
    }
}

/// A failure stops the run at once, even with an operation of another
/// instance in flight (it is cancelled), and every instance is cleaned up.
#[test]
fn failure_cancels_an_operation_in_flight() {
    let _serial = serial();
    STUCK.store(false, Ordering::SeqCst);
    STUCK_EVENTS
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .clear();
    let results = TempPath::stale("stuck");
    let ran = Perf::test("StuckTest")
        .parallel(2)
        .duration(30)
        .warmup(0)
        .results(&results)
        .fails();
    assert!(
        STUCK.load(Ordering::SeqCst),
        "instance 0 was in its operation"
    );
    assert!(
        ran.elapsed < Duration::from_secs(5),
        "stopped promptly: {ran:?}"
    );
    let mut events = STUCK_EVENTS
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .clone();
    events.sort();
    assert_eq!(
        events,
        [(0, "cleanup"), (0, "close"), (1, "cleanup"), (1, "close")]
    );
    assert!(!results.exists(), "no results file after a failure");
}

/// Fails in `new` with a usage error (options the test rejects).
pub struct PickyTest;

/// Rejects every configuration.
#[perfstress::test]
impl PerfTest for PickyTest {
    type Options = NoOptions;

    async fn new(_ctx: &TestContext<NoOptions>) -> Result<Self> {
        Err(Error::new(
            ErrorKind::Usage,
            "PickyTest accepts no configuration",
        ))
    }

    fn run_sync(&mut self) -> Result<()> {
        Ok(())
    }
}

#[test]
fn usage_error_from_new_exits_2() {
    let _serial = serial();
    let results = TempPath::stale("picky");
    Perf::test("PickyTest")
        .sync(true)
        .duration(1)
        .warmup(0)
        .results(&results)
        .outcome(Outcome::Usage);
    assert!(!results.exists());
}

/// Panics in its batch of the timed run.
pub struct PanickingTest;

/// Panics in its first operation.
#[perfstress::test]
impl PerfTest for PanickingTest {
    type Options = NoOptions;

    async fn new(_ctx: &TestContext<NoOptions>) -> Result<Self> {
        Ok(Self)
    }

    fn run_sync(&mut self) -> Result<()> {
        panic!("PanickingTest panics on purpose");
    }

    async fn run_async(&mut self) -> Result<()> {
        panic!("PanickingTest panics on purpose");
    }
}

#[test]
fn panic_in_an_operation_fails_the_run() {
    let _serial = serial();
    for sync in [true, false] {
        let ran = Perf::test("PanickingTest")
            .parallel(2)
            .duration(10)
            .warmup(0)
            .sync(sync)
            .fails();
        assert!(ran.elapsed < Duration::from_secs(3), "sync {sync}: {ran:?}");
    }
}
