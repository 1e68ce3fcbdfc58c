//! The framework-owned stages of a run through the test proxy
//! (`-x/--test-proxies`), per instance of this process:
//!
//! * post setup: one operation direct (so one-time traffic such as token
//!   requests is not recorded), `/record/start`, one operation recorded,
//!   `/record/stop`, `/playback/start`; the warm-up and the timed run then
//!   play back;
//! * pre cleanup (also after a failure or Ctrl-C): `/playback/stop` with
//!   purge (or the unfinished recording dropped), and cleanup's traffic
//!   goes directly to the service again.
//!
//! Instances go through these concurrently; the operations run in the
//! variant of the run (`run_sync` on a thread of their own with `--sync`).

use futures::{StreamExt, stream::FuturesUnordered};

use crate::error::{Error, Result};
use crate::failure::Failure;
use crate::phase::Phase;
use crate::runner::control::RunControl;
use crate::runner::panic::{CatchPanic, catch_panic};
use crate::test_proxy::{self, TestProxyRoute};

use super::driver::Driver;

/// The post-setup stage on every instance that has a route.
pub(crate) fn post_setup<D: Driver>(
    instances: &mut [Option<D>],
    routes: &[Option<TestProxyRoute>],
    first_index: usize,
    sync: bool,
    runtime: &tokio::runtime::Runtime,
    control: &RunControl,
) {
    if sync {
        let handle = runtime.handle();
        std::thread::scope(|scope| {
            for (offset, (test, route)) in instances.iter_mut().zip(routes).enumerate() {
                let (Some(test), Some(route)) = (test.as_mut(), route) else {
                    continue;
                };
                std::thread::Builder::new()
                    .name(format!("perfstress-proxy-{}", first_index + offset))
                    .spawn_scoped(scope, move || {
                        let result = record_sync(test, route, handle, control);
                        report(result, first_index + offset, control);
                    })
                    .expect("the OS can start a thread");
            }
        });
        return;
    }
    runtime.block_on(async {
        let mut pending: FuturesUnordered<_> = instances
            .iter_mut()
            .zip(routes)
            .enumerate()
            .filter_map(|(offset, (test, route))| {
                let (test, route) = (test.as_mut()?, route.as_ref()?);
                Some(async move { (offset, record_async(test, route, control).await) })
            })
            .collect();
        let all = async {
            while let Some((offset, result)) = pending.next().await {
                report(result, first_index + offset, control);
            }
        };
        tokio::select! {
            biased;
            () = all => {}
            () = control.cancelled() => {}
        }
    });
}

/// The pre-cleanup stage: stops every instance's playback (or recording).
pub(crate) fn pre_cleanup(
    routes: &[Option<TestProxyRoute>],
    first_index: usize,
    runtime: &tokio::runtime::Runtime,
    control: &RunControl,
) {
    runtime.block_on(async {
        let mut pending: FuturesUnordered<_> = routes
            .iter()
            .enumerate()
            .filter_map(|(offset, route)| {
                let route = route.as_ref()?;
                Some(async move { (offset, test_proxy::stop(route).await) })
            })
            .collect();
        while let Some((offset, result)) = pending.next().await {
            if let Err(error) = result {
                control.fail(Failure::new(first_index + offset, Phase::PreCleanup, error));
            }
        }
    });
}

/// What went wrong with one instance's post setup: an error, or a panic
/// of test code.
enum Failed {
    Error(Error),
    Panic(Box<dyn std::any::Any + Send>),
    Cancelled,
}

fn report(result: std::result::Result<(), Failed>, parallel_index: usize, control: &RunControl) {
    match result {
        Ok(()) | Err(Failed::Cancelled) => {}
        Err(Failed::Error(error)) => {
            control.fail(Failure::new(parallel_index, Phase::PostSetup, error));
        }
        Err(Failed::Panic(payload)) => {
            control.fail(Failure::from_panic(
                parallel_index,
                Phase::PostSetup,
                payload,
            ));
        }
    }
}

fn operation_failed(error: Error, route: &TestProxyRoute, recorded: bool) -> Failed {
    Failed::Error(if recorded {
        error.context(format!(
            "the operation recorded through test proxy {} failed",
            route.proxy()
        ))
    } else {
        error.context("the operation run once before recording (not through the test proxy) failed")
    })
}

async fn record_async<D: Driver>(
    test: &mut D,
    route: &TestProxyRoute,
    control: &RunControl,
) -> std::result::Result<(), Failed> {
    for recorded in [false, true] {
        if control.is_cancelled() {
            return Err(Failed::Cancelled);
        }
        match CatchPanic::new(test.run_async()).await {
            Ok(Ok(_)) => {}
            Ok(Err(error)) => return Err(operation_failed(error, route, recorded)),
            Err(payload) => return Err(Failed::Panic(payload)),
        }
        if recorded {
            test_proxy::start_playback(route)
                .await
                .map_err(Failed::Error)?;
        } else {
            test_proxy::start_recording(route)
                .await
                .map_err(Failed::Error)?;
        }
    }
    Ok(())
}

fn record_sync<D: Driver>(
    test: &mut D,
    route: &TestProxyRoute,
    handle: &tokio::runtime::Handle,
    control: &RunControl,
) -> std::result::Result<(), Failed> {
    for recorded in [false, true] {
        if control.is_cancelled() {
            return Err(Failed::Cancelled);
        }
        match catch_panic(|| test.run_sync()) {
            Ok(Ok(_)) => {}
            Ok(Err(error)) => return Err(operation_failed(error, route, recorded)),
            Err(payload) => return Err(Failed::Panic(payload)),
        }
        let call: Result<()> = if recorded {
            handle.block_on(test_proxy::start_playback(route))
        } else {
            handle.block_on(test_proxy::start_recording(route))
        };
        call.map_err(Failed::Error)?;
    }
    Ok(())
}
