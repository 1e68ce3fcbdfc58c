//! The author-facing API: the test kinds and the context a test is built from.

use std::future::Future;

use crate::error::{Error, ErrorKind, Result};
use crate::events::EventSink;

/// What a test's own command-line options must be: a `clap::Args` type.
///
/// Derive it with `#[derive(clap::Args, Clone, Debug)]`; every field becomes
/// an option shown in `<runner> <TestName> --help`. Tests without options use
/// [`NoOptions`].
pub trait TestOptions: clap::Args + Clone + Send + Sync + 'static {}

impl<T: clap::Args + Clone + Send + Sync + 'static> TestOptions for T {}

/// The options of a test that has none of its own.
#[derive(clap::Args, Clone, Copy, Debug, Default)]
pub struct NoOptions {}

/// Everything a test instance is created from: its options, its parallel
/// index, and the framework settings it must honour.
#[derive(Clone, Debug)]
pub struct TestContext<O> {
    options: O,
    test_name: &'static str,
    parallel_index: usize,
    parallel: usize,
    insecure: bool,
    sync: bool,
    test_proxy: Option<crate::test_proxy::TestProxyRoute>,
}

impl<O> TestContext<O> {
    /// A context; the runner makes these, tests and their unit tests may too.
    pub fn new(
        test_name: &'static str,
        options: O,
        parallel_index: usize,
        parallel: usize,
    ) -> Self {
        Self {
            options,
            test_name,
            parallel_index,
            parallel,
            insecure: false,
            sync: false,
            test_proxy: None,
        }
    }

    /// Sets the `--insecure` and `--sync` flags this context reports.
    pub fn with_flags(mut self, insecure: bool, sync: bool) -> Self {
        self.insecure = insecure;
        self.sync = sync;
        self
    }

    /// Sets the route to the test proxy this context hands out.
    pub fn with_test_proxy(mut self, route: Option<crate::test_proxy::TestProxyRoute>) -> Self {
        self.test_proxy = route;
        self
    }

    /// With `-x/--test-proxies`: this instance's route to its test proxy
    /// (proxy `parallel_index mod n`). Install it into the client under
    /// test (see [`crate::test_proxy`]); the framework records and plays
    /// back through it. `None` without test proxies.
    pub fn test_proxy(&self) -> Option<&crate::test_proxy::TestProxyRoute> {
        self.test_proxy.as_ref()
    }

    /// The test's own parsed command-line options.
    pub fn options(&self) -> &O {
        &self.options
    }

    /// The test's name (its type name), e.g. `"SleepTest"`.
    pub fn test_name(&self) -> &'static str {
        self.test_name
    }

    /// This instance's index, unique across all processes: `0..parallel`.
    pub fn parallel_index(&self) -> usize {
        self.parallel_index
    }

    /// The total number of instances (`--parallel`).
    pub fn parallel(&self) -> usize {
        self.parallel
    }

    /// `--insecure`: the client under test should not validate TLS certificates.
    pub fn insecure(&self) -> bool {
        self.insecure
    }

    /// `--sync`: the run uses `run_sync` on threads instead of `run_async`.
    pub fn is_sync(&self) -> bool {
        self.sync
    }

    /// The value of environment variable `name`, or an error that names it.
    pub fn get_from_env(&self, name: &str) -> Result<String> {
        get_from_env(name)
    }
}

/// The value of environment variable `name`, or an error that names it and
/// says how to fix it.
pub fn get_from_env(name: &str) -> Result<String> {
    match std::env::var(name) {
        Ok(value) if !value.is_empty() => {
            // A connection string, key or token: never printed, wherever
            // an error message would quote it.
            if crate::redact::is_secret_variable(name) {
                crate::redact::remember_secret(&value);
            }
            Ok(value)
        }
        Ok(_) => Err(Error::new(
            ErrorKind::Environment,
            format!(
                "environment variable {name} is empty; set it to a value before running the test"
            ),
        )),
        Err(std::env::VarError::NotPresent) => Err(Error::new(
            ErrorKind::Environment,
            format!("environment variable {name} is not set; set it before running the test"),
        )),
        Err(std::env::VarError::NotUnicode(_)) => Err(Error::new(
            ErrorKind::Environment,
            format!("environment variable {name} is not valid UTF-8"),
        )),
    }
}

/// Declares the lifecycle hooks shared by every test kind, with their
/// defaults, so the three traits stay identical in this respect.
macro_rules! lifecycle_hooks {
    () => {
        /// Runs once per process, on the first instance, after every
        /// instance was created and before any `setup`. Create what all
        /// instances share (a container, a blob to download).
        fn global_setup(&mut self) -> impl Future<Output = Result<()>> + Send {
            async { Ok(()) }
        }

        /// Runs on every instance after `global_setup`.
        fn setup(&mut self) -> impl Future<Output = Result<()>> + Send {
            async { Ok(()) }
        }

        /// Runs on every instance after the timed run, also after a failure
        /// or Ctrl-C, so it must tolerate a partial setup. Skipped with
        /// `--no-cleanup`.
        fn cleanup(&mut self) -> impl Future<Output = Result<()>> + Send {
            async { Ok(()) }
        }

        /// Runs once per process, on the first instance, after every
        /// `cleanup`. Skipped with `--no-cleanup`.
        fn global_cleanup(&mut self) -> impl Future<Output = Result<()>> + Send {
            async { Ok(()) }
        }

        /// Runs last on every instance, even with `--no-cleanup`: release
        /// clients and connections.
        fn close(&mut self) -> impl Future<Output = Result<()>> + Send {
            async { Ok(()) }
        }
    };
}

/// A test whose every run is one operation (one result).
///
/// Implement `run_sync` (used with `--sync`, on OS threads), `run_async`
/// (the default, on a tokio runtime), or both, and mark the impl with
/// [`#[perfstress::test]`](crate::test) to register it.
pub trait PerfTest: Sized + Send + 'static {
    /// The test's own command-line options ([`NoOptions`] for none).
    type Options: TestOptions;

    /// Creates one instance; called once per parallel index.
    fn new(ctx: &TestContext<Self::Options>) -> impl Future<Output = Result<Self>> + Send;

    lifecycle_hooks!();

    /// One operation, synchronously (blocking is fine: each instance has a thread).
    fn run_sync(&mut self) -> Result<()> {
        Err(Error::new(
            ErrorKind::Unsupported,
            "this test has no sync variant (run_sync); run it without --sync",
        ))
    }

    /// One operation, asynchronously.
    fn run_async(&mut self) -> impl Future<Output = Result<()>> + Send {
        async {
            Err(Error::new(
                ErrorKind::Unsupported,
                "this test has no async variant (run_async); run it with --sync",
            ))
        }
    }
}

/// A test whose every run produces a batch of results and says how many
/// (0 is fine), e.g. receiving up to N messages.
pub trait BatchPerfTest: Sized + Send + 'static {
    /// The test's own command-line options ([`NoOptions`] for none).
    type Options: TestOptions;

    /// Creates one instance; called once per parallel index.
    fn new(ctx: &TestContext<Self::Options>) -> impl Future<Output = Result<Self>> + Send;

    lifecycle_hooks!();

    /// One batch, synchronously; returns how many results it produced.
    fn run_batch_sync(&mut self) -> Result<u64> {
        Err(Error::new(
            ErrorKind::Unsupported,
            "this test has no sync variant (run_batch_sync); run it without --sync",
        ))
    }

    /// One batch, asynchronously; returns how many results it produced.
    fn run_batch_async(&mut self) -> impl Future<Output = Result<u64>> + Send {
        async {
            Err(Error::new(
                ErrorKind::Unsupported,
                "this test has no async variant (run_batch_async); run it with --sync",
            ))
        }
    }
}

/// A test that measures events delivered through callbacks (an Event Hubs
/// consumer, a Service Bus processor) rather than operations it calls.
///
/// The framework hands each instance an [`EventSink`] in [`new`](Self::new);
/// the test keeps it and gives clones to its event source's callbacks, which
/// call [`EventSink::event_raised`] per event and
/// [`EventSink::error_raised`] on failure. After `setup`, the framework
/// starts the source (`start_events_sync` with `--sync`, else
/// `start_events_async`); before `cleanup` it stops it. Events count only
/// during warm-up and the timed run; the results math is the same as for
/// the other kinds, with the time of an instance's last event as its last
/// completion.
pub trait EventPerfTest: Sized + Send + 'static {
    /// The test's own command-line options ([`NoOptions`] for none).
    type Options: TestOptions;

    /// Creates one instance with the sink its events go to.
    fn new(
        ctx: &TestContext<Self::Options>,
        sink: EventSink,
    ) -> impl Future<Output = Result<Self>> + Send;

    lifecycle_hooks!();

    /// Starts the event source for a sync run, outside any async runtime
    /// (blocking clients are fine). It must return once the source runs: a
    /// source that blocks gets threads of its own from the test.
    fn start_events_sync(&mut self) -> Result<()> {
        Err(Error::new(
            ErrorKind::Unsupported,
            "this test has no sync variant (start_events_sync); run it without --sync",
        ))
    }

    /// Stops the event source started by `start_events_sync`.
    fn stop_events_sync(&mut self) -> Result<()> {
        Ok(())
    }

    /// Starts the event source for an async run, e.g. by spawning tasks; it
    /// must return once the source runs.
    fn start_events_async(&mut self) -> impl Future<Output = Result<()>> + Send {
        async {
            Err(Error::new(
                ErrorKind::Unsupported,
                "this test has no async variant (start_events_async); run it with --sync",
            ))
        }
    }

    /// Stops the event source started by `start_events_async`.
    fn stop_events_async(&mut self) -> impl Future<Output = Result<()>> + Send {
        async { Ok(()) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_variable_is_named() {
        let error = get_from_env("PERFSTRESS_SURELY_NOT_SET_4711").unwrap_err();
        assert_eq!(error.kind(), ErrorKind::Environment);
        assert!(error.to_string().contains("PERFSTRESS_SURELY_NOT_SET_4711"));
    }
}
