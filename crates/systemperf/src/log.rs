use std::sync::OnceLock;
use std::time::{Duration, Instant};

use perfstress::{Error, PerfTest, Result, TestContext};

/// Where [`LogTest`] injects a failure.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum FailurePoint {
    /// Creating the instance (`new`).
    New,
    /// `global_setup`.
    GlobalSetup,
    /// `setup`.
    Setup,
    /// The first operation (warm-up, or the timed run with `-w 0`).
    Run,
    /// `cleanup`.
    Cleanup,
    /// `global_cleanup`.
    GlobalCleanup,
    /// `close`.
    Close,
}

/// How [`LogTest`] fails.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum FailureMode {
    /// Return an error.
    Error,
    /// Panic.
    Panic,
}

/// Options of [`LogTest`].
#[derive(clap::Args, Clone, Debug)]
pub struct LogOptions {
    /// Sleep of each operation, in milliseconds.
    #[arg(long, value_name = "MS", default_value_t = 200)]
    pub delay_ms: u64,

    /// Inject a failure at this point, to see how the framework handles it.
    #[arg(long, value_enum, value_name = "POINT")]
    pub fail_in: Option<FailurePoint>,

    /// The instance (parallel index) that fails.
    #[arg(long, value_name = "INDEX", default_value_t = 0)]
    pub fail_index: usize,

    /// Whether the failure is an error or a panic.
    #[arg(long, value_enum, value_name = "MODE", default_value = "error")]
    pub fail_mode: FailureMode,

    /// Hang at this point: the call never returns (an operation that never
    /// completes, a cleanup that never ends), to see how the framework
    /// ends the run anyway.
    #[arg(long, value_enum, value_name = "POINT")]
    pub hang_in: Option<FailurePoint>,

    /// The instance (parallel index) that hangs.
    #[arg(long, value_name = "INDEX", default_value_t = 0)]
    pub hang_index: usize,

    /// With `--hang-in run`: operations completed before the one that hangs.
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub hang_after: u64,

    /// An async call hangs by blocking its thread (as a blocking client
    /// called from async code does) instead of awaiting what never comes.
    #[arg(long)]
    pub hang_blocking: bool,
}

/// Prints every lifecycle call with the time since the process started, the
/// process id and the parallel index, so the order of calls can be seen.
/// Optionally fails at a chosen point.
pub struct LogTest {
    parallel_index: usize,
    options: LogOptions,
    iteration: u64,
}

fn process_start() -> Instant {
    static START: OnceLock<Instant> = OnceLock::new();
    *START.get_or_init(Instant::now)
}

impl LogTest {
    fn log(&self, call: &str) {
        crate::output::line(&format!(
            "[{:>8.3}s] pid {} parallel index {}: {call}",
            process_start().elapsed().as_secs_f64(),
            std::process::id(),
            self.parallel_index
        ));
    }

    /// Logs `call`, then fails if `point` is where this instance should fail.
    fn step(&self, call: &str, point: FailurePoint) -> Result<()> {
        self.log(call);
        fail_if(&self.options, self.parallel_index, point)
    }

    /// Whether this instance hangs at `point` now (`--hang-in`).
    fn hangs(&self, point: FailurePoint) -> bool {
        let options = &self.options;
        options.hang_in == Some(point)
            && options.hang_index == self.parallel_index
            && (point != FailurePoint::Run || self.iteration > options.hang_after)
    }

    /// Hangs this thread for good if this instance hangs at `point`.
    fn hang_sync(&self, point: FailurePoint) {
        if self.hangs(point) {
            self.log("hang");
            block_forever();
        }
    }

    /// Never completes if this instance hangs at `point`.
    async fn hang_async(&self, point: FailurePoint) {
        if self.hangs(point) {
            self.log("hang");
            if self.options.hang_blocking {
                block_forever();
            }
            std::future::pending::<()>().await;
        }
    }

    /// [`step`](Self::step), then [`hang_async`](Self::hang_async).
    async fn hook_step(&self, call: &str, point: FailurePoint) -> Result<()> {
        self.step(call, point)?;
        self.hang_async(point).await;
        Ok(())
    }
}

fn block_forever() -> ! {
    loop {
        std::thread::park();
    }
}

fn fail_if(options: &LogOptions, parallel_index: usize, point: FailurePoint) -> Result<()> {
    if options.fail_in != Some(point) || options.fail_index != parallel_index {
        return Ok(());
    }
    let message = format!("LogTest failure injected in {point:?} (--fail-in)");
    match options.fail_mode {
        FailureMode::Error => Err(Error::msg(message)),
        FailureMode::Panic => panic!("{message}"),
    }
}

/// Prints each lifecycle call with elapsed time, process id and parallel index.
#[perfstress::test]
impl PerfTest for LogTest {
    type Options = LogOptions;

    async fn new(ctx: &TestContext<LogOptions>) -> Result<Self> {
        // The first instance made in a process is the one that runs the
        // process's global hooks: a global failure asked of another
        // instance would silently never happen.
        static FIRST_IN_PROCESS: std::sync::atomic::AtomicBool =
            std::sync::atomic::AtomicBool::new(true);
        let first = FIRST_IN_PROCESS.swap(false, std::sync::atomic::Ordering::Relaxed);
        let options = ctx.options();
        let global = matches!(
            options.fail_in,
            Some(FailurePoint::GlobalSetup | FailurePoint::GlobalCleanup)
        );
        if options.fail_in.is_some() && options.fail_index >= ctx.parallel() {
            return Err(Error::new(
                perfstress::ErrorKind::Usage,
                format!(
                    "--fail-index {} names no instance: the parallel indexes are 0 to {}",
                    options.fail_index,
                    ctx.parallel() - 1
                ),
            ));
        }
        if global && options.fail_index == ctx.parallel_index() && !first {
            return Err(Error::new(
                perfstress::ErrorKind::Usage,
                format!(
                    "--fail-in {} --fail-index {}: instance {} does not run the global hooks; only the first instance of each process does (index 0 with --processes 1)",
                    if options.fail_in == Some(FailurePoint::GlobalSetup) {
                        "global-setup"
                    } else {
                        "global-cleanup"
                    },
                    options.fail_index,
                    options.fail_index
                ),
            ));
        }
        let test = LogTest {
            parallel_index: ctx.parallel_index(),
            options: ctx.options().clone(),
            iteration: 0,
        };
        test.hook_step("new", FailurePoint::New).await?;
        Ok(test)
    }

    async fn global_setup(&mut self) -> Result<()> {
        self.hook_step("global_setup", FailurePoint::GlobalSetup)
            .await
    }

    async fn setup(&mut self) -> Result<()> {
        self.hook_step("setup", FailurePoint::Setup).await
    }

    fn run_sync(&mut self) -> Result<()> {
        self.iteration += 1;
        self.step(&format!("run_sync {}", self.iteration), FailurePoint::Run)?;
        self.hang_sync(FailurePoint::Run);
        std::thread::sleep(Duration::from_millis(self.options.delay_ms));
        Ok(())
    }

    async fn run_async(&mut self) -> Result<()> {
        self.iteration += 1;
        self.step(&format!("run_async {}", self.iteration), FailurePoint::Run)?;
        self.hang_async(FailurePoint::Run).await;
        tokio::time::sleep(Duration::from_millis(self.options.delay_ms)).await;
        Ok(())
    }

    async fn cleanup(&mut self) -> Result<()> {
        self.hook_step("cleanup", FailurePoint::Cleanup).await
    }

    async fn global_cleanup(&mut self) -> Result<()> {
        self.hook_step("global_cleanup", FailurePoint::GlobalCleanup)
            .await
    }

    async fn close(&mut self) -> Result<()> {
        self.hook_step("close", FailurePoint::Close).await
    }
}
