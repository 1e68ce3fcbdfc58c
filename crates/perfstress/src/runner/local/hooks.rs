//! Lifecycle phases that are not timed: creating instances and the hooks.

use futures::{StreamExt, stream::FuturesUnordered};

use crate::test::{TestContext, TestOptions};

use super::driver::Driver;
use crate::failure::Failure;
use crate::phase::Phase;
use crate::runner::control::RunControl;
use crate::runner::panic::{CatchPanic, catch_panic};

/// Creates one instance per context, in parallel-index order. A failure
/// stops the creation; the instances created so far are returned.
pub(crate) async fn create_instances<D: Driver>(
    contexts: Vec<TestContext<D::Options>>,
    control: &std::sync::Arc<RunControl>,
) -> Vec<Option<D>>
where
    D::Options: TestOptions,
{
    let mut instances = Vec::with_capacity(contexts.len());
    for ctx in &contexts {
        if control.is_cancelled() {
            break;
        }
        let created = tokio::select! {
            biased;
            created = CatchPanic::new(D::create(ctx, control)) => created,
            () = control.cancelled() => break,
        };
        match created {
            Ok(Ok(test)) => instances.push(Some(test)),
            Ok(Err(error)) => {
                control.fail(Failure::new(ctx.parallel_index(), Phase::Create, error));
                break;
            }
            Err(payload) => {
                control.fail(Failure::from_panic(
                    ctx.parallel_index(),
                    Phase::Create,
                    payload,
                ));
                break;
            }
        }
    }
    instances
}

/// Runs hook `phase` on every present instance concurrently, recording
/// failures. With `stop_on_failure`, the first failure (or Ctrl-C) drops
/// the hooks still running, which cancels them.
pub(crate) async fn run_hook<D: Driver>(
    instances: &mut [Option<D>],
    first_index: usize,
    phase: Phase,
    control: &RunControl,
    stop_on_failure: bool,
) {
    let mut pending: FuturesUnordered<_> = instances
        .iter_mut()
        .enumerate()
        .filter_map(|(offset, slot)| {
            slot.as_mut().map(|test| async move {
                let outcome = CatchPanic::new(test.hook(phase)).await;
                (offset, outcome)
            })
        })
        .collect();
    let all = async {
        while let Some((offset, outcome)) = pending.next().await {
            let failure = match outcome {
                Ok(Ok(())) => continue,
                Ok(Err(error)) => Failure::new(first_index + offset, phase, error),
                Err(payload) => Failure::from_panic(first_index + offset, phase, payload),
            };
            control.fail(failure);
            if stop_on_failure {
                return;
            }
        }
    };
    if stop_on_failure {
        tokio::select! {
            biased;
            () = all => {}
            () = control.cancelled() => {}
        }
    } else {
        all.await;
    }
}

/// Runs an event test's sync start (or stop) on each present instance, on
/// this thread and outside the runtime, so blocking clients work. Starting
/// stops at the first failure; stopping goes through every instance.
pub(crate) fn run_sync_events<D: Driver>(
    instances: &mut [Option<D>],
    first_index: usize,
    phase: Phase,
    control: &RunControl,
) {
    for (offset, test) in instances.iter_mut().enumerate() {
        let Some(test) = test.as_mut() else { continue };
        let outcome = catch_panic(|| match phase {
            Phase::StartEvents => test.start_events_sync(),
            _ => test.stop_events_sync(),
        });
        let failure = match outcome {
            Ok(Ok(())) => continue,
            Ok(Err(error)) => Failure::new(first_index + offset, phase, error),
            Err(payload) => Failure::from_panic(first_index + offset, phase, payload),
        };
        control.fail(failure);
        if phase == Phase::StartEvents {
            return;
        }
    }
}
