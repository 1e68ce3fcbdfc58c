//! One internal interface over the test kinds, so the runner is written
//! once and monomorphized per test type: a single-operation test is a batch
//! test whose every run returns 1.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use futures::FutureExt;

use crate::error::{Error, ErrorKind, Result};
use crate::events::EventCounter;
use crate::test::{BatchPerfTest, EventPerfTest, PerfTest, TestContext, TestOptions};

use crate::failure::Failure;
use crate::phase::Phase;
use crate::runner::control::RunControl;

/// A boxed lifecycle hook (boxing happens once per hook call, never per
/// operation).
pub(crate) type HookFuture<'a> = Pin<Box<dyn Future<Output = Result<()>> + Send + 'a>>;

/// What the runner needs of a test, whatever its kind.
pub(crate) trait Driver: Send + Sized + 'static {
    type Options: TestOptions;

    fn create(
        ctx: &TestContext<Self::Options>,
        control: &Arc<RunControl>,
    ) -> impl Future<Output = Result<Self>> + Send;

    /// The future of lifecycle hook `phase` (global setup, setup, cleanup,
    /// global cleanup, close, or an event test's async start/stop events).
    fn hook(&mut self, phase: Phase) -> HookFuture<'_>;

    /// One run, synchronously; returns the number of results.
    fn run_sync(&mut self) -> Result<u64>;

    /// One run, asynchronously; returns the number of results.
    fn run_async(&mut self) -> impl Future<Output = Result<u64>> + Send;

    /// Event tests count through their sinks instead of a run loop.
    fn event_counter(&self) -> Option<&EventCounter> {
        None
    }

    /// Starts an event test's source (sync variant, outside the runtime).
    fn start_events_sync(&mut self) -> Result<()> {
        Ok(())
    }

    /// Stops an event test's source (sync variant, outside the runtime).
    fn stop_events_sync(&mut self) -> Result<()> {
        Ok(())
    }
}

/// Dispatches a hook phase to the test's method of that name.
macro_rules! dispatch_hook {
    ($test:expr, $phase:expr) => {
        match $phase {
            Phase::GlobalSetup => Box::pin($test.global_setup()),
            Phase::Setup => Box::pin($test.setup()),
            Phase::Cleanup => Box::pin($test.cleanup()),
            Phase::GlobalCleanup => Box::pin($test.global_cleanup()),
            Phase::Close => Box::pin($test.close()),
            Phase::StartEvents | Phase::StopEvents => Box::pin(async { Ok(()) }),
            other => unreachable!("{other} is not a lifecycle hook"),
        }
    };
}

/// Adapts a [`PerfTest`]: each run is one result.
pub(crate) struct Single<T>(pub(crate) T);

impl<T: PerfTest> Driver for Single<T> {
    type Options = T::Options;

    async fn create(ctx: &TestContext<T::Options>, _control: &Arc<RunControl>) -> Result<Self> {
        T::new(ctx).await.map(Single)
    }

    fn hook(&mut self, phase: Phase) -> HookFuture<'_> {
        dispatch_hook!(self.0, phase)
    }

    #[inline(always)]
    fn run_sync(&mut self) -> Result<u64> {
        self.0.run_sync().map(|()| 1)
    }

    #[inline(always)]
    fn run_async(&mut self) -> impl Future<Output = Result<u64>> + Send {
        // A combinator rather than an `async` block: one state machine
        // less per operation on the hot path.
        self.0.run_async().map(|result| result.map(|()| 1))
    }
}

/// Adapts a [`BatchPerfTest`]: each run returns its own count.
pub(crate) struct Batch<T>(pub(crate) T);

impl<T: BatchPerfTest> Driver for Batch<T> {
    type Options = T::Options;

    async fn create(ctx: &TestContext<T::Options>, _control: &Arc<RunControl>) -> Result<Self> {
        T::new(ctx).await.map(Batch)
    }

    fn hook(&mut self, phase: Phase) -> HookFuture<'_> {
        dispatch_hook!(self.0, phase)
    }

    #[inline(always)]
    fn run_sync(&mut self) -> Result<u64> {
        self.0.run_batch_sync()
    }

    #[inline(always)]
    fn run_async(&mut self) -> impl Future<Output = Result<u64>> + Send {
        self.0.run_batch_async()
    }
}

/// Adapts an [`EventPerfTest`]: no run loop; its sink counts the events.
pub(crate) struct Event<T> {
    test: T,
    counter: EventCounter,
}

impl<T: EventPerfTest> Driver for Event<T> {
    type Options = T::Options;

    async fn create(ctx: &TestContext<T::Options>, control: &Arc<RunControl>) -> Result<Self> {
        let parallel_index = ctx.parallel_index();
        let control = control.clone();
        let (counter, sink) = EventCounter::new(move |error| {
            control.fail(Failure::new(parallel_index, control.current_phase(), error));
        });
        let test = T::new(ctx, sink).await?;
        Ok(Event { test, counter })
    }

    fn hook(&mut self, phase: Phase) -> HookFuture<'_> {
        match phase {
            Phase::StartEvents => Box::pin(self.test.start_events_async()),
            Phase::StopEvents => Box::pin(self.test.stop_events_async()),
            other => dispatch_hook!(self.test, other),
        }
    }

    fn run_sync(&mut self) -> Result<u64> {
        unreachable!("event tests have no run loop")
    }

    async fn run_async(&mut self) -> Result<u64> {
        unreachable!("event tests have no run loop")
    }

    fn event_counter(&self) -> Option<&EventCounter> {
        Some(&self.counter)
    }

    fn start_events_sync(&mut self) -> Result<()> {
        self.test.start_events_sync()
    }

    fn stop_events_sync(&mut self) -> Result<()> {
        self.test.stop_events_sync()
    }
}

/// The sync bridge (`#[perfstress::test(sync_bridge)]`): under `--sync`,
/// each run drives the test's async operation to completion on a
/// current-thread runtime owned by the instance's thread, as a blocking
/// wrapper of an async-only SDK would. The async variant is the test's own.
pub(crate) struct Bridged<D> {
    inner: D,
    /// Made on the instance's thread at its first sync run.
    runtime: Option<tokio::runtime::Runtime>,
}

impl<D: Driver> Driver for Bridged<D> {
    type Options = D::Options;

    async fn create(ctx: &TestContext<D::Options>, control: &Arc<RunControl>) -> Result<Self> {
        Ok(Bridged {
            inner: D::create(ctx, control).await?,
            runtime: None,
        })
    }

    fn hook(&mut self, phase: Phase) -> HookFuture<'_> {
        self.inner.hook(phase)
    }

    #[inline(always)]
    fn run_sync(&mut self) -> Result<u64> {
        let runtime = match &mut self.runtime {
            Some(runtime) => runtime,
            empty => empty.insert(
                tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .map_err(|error| {
                        Error::with_source(
                            ErrorKind::Io,
                            "cannot start the sync bridge's runtime",
                            error,
                        )
                    })?,
            ),
        };
        runtime.block_on(self.inner.run_async())
    }

    #[inline(always)]
    fn run_async(&mut self) -> impl Future<Output = Result<u64>> + Send {
        self.inner.run_async()
    }
}
