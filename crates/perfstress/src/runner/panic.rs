//! Turning a panic of test code into an error that names its message and
//! location: the panic hook, and catchers for closures and futures.

use std::any::Any;
use std::cell::{Cell, RefCell};
use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::pin::Pin;
use std::sync::Once;
use std::task::{Context, Poll};

use crate::error::{Error, ErrorKind};
use crate::failure::Failure;
use crate::phase::Phase;

thread_local! {
    /// Where the last panic on this thread happened, recorded by the hook.
    static LAST_PANIC_LOCATION: RefCell<Option<String>> = const { RefCell::new(None) };
    /// How many of the framework's panic catchers this thread is inside.
    static CATCHING: Cell<u32> = const { Cell::new(0) };
}

/// Installs a panic hook that records where a panic of test code happened,
/// so it is reported as a failure with its location instead of the default
/// `thread '...' panicked` noise in the middle of the results. Panics
/// outside the framework's catchers (a bug, or code that embeds
/// `perfstress::run`) go to the default hook as usual, and with
/// `RUST_BACKTRACE` set, caught ones do too (for the backtrace).
pub(crate) fn install_panic_hook() {
    static INSTALL: Once = Once::new();
    INSTALL.call_once(|| {
        let default_hook = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if CATCHING.with(Cell::get) == 0 {
                default_hook(info);
                return;
            }
            let location = info.location().map(|location| {
                format!(
                    "{}:{}:{}",
                    location.file(),
                    location.line(),
                    location.column()
                )
            });
            LAST_PANIC_LOCATION.with(|last| *last.borrow_mut() = location);
            if std::env::var_os("RUST_BACKTRACE").is_some_and(|value| value != "0") {
                default_hook(info);
            }
        }));
    });
}

/// Runs `f`, catching a panic (reported quietly by the hook).
pub(crate) fn catch_panic<R>(f: impl FnOnce() -> R) -> Result<R, Box<dyn Any + Send>> {
    CATCHING.with(|catching| catching.set(catching.get() + 1));
    let outcome = std::panic::catch_unwind(AssertUnwindSafe(f));
    CATCHING.with(|catching| catching.set(catching.get() - 1));
    outcome
}

pin_project_lite::pin_project! {
    /// A future whose panics are caught (and reported quietly by the hook)
    /// like [`catch_panic`]'s, on whichever thread polls it.
    pub(crate) struct CatchPanic<F> {
        #[pin]
        inner: F,
    }
}

impl<F: Future> CatchPanic<F> {
    /// Wraps `future`, in place: the operation loop runs inside it, so no
    /// extra allocation or indirection.
    pub(crate) fn new(future: F) -> Self {
        Self { inner: future }
    }
}

impl<F: Future> Future for CatchPanic<F> {
    type Output = Result<F::Output, Box<dyn Any + Send>>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let inner = self.project().inner;
        match catch_panic(move || inner.poll(cx)) {
            Ok(Poll::Ready(output)) => Poll::Ready(Ok(output)),
            Ok(Poll::Pending) => Poll::Pending,
            Err(payload) => Poll::Ready(Err(payload)),
        }
    }
}

/// The error for a caught panic: its message and, when the hook saw it,
/// its location. Call on the thread that caught the panic.
pub(crate) fn panic_error(payload: Box<dyn Any + Send>) -> Error {
    let message = if let Some(message) = payload.downcast_ref::<&str>() {
        (*message).to_owned()
    } else if let Some(message) = payload.downcast_ref::<String>() {
        message.clone()
    } else {
        "a panic with a non-string payload".to_owned()
    };
    let location = LAST_PANIC_LOCATION.with(|last| last.borrow_mut().take());
    let text = match location {
        Some(location) => format!("panicked at {location}: {message}"),
        None => format!("panicked: {message}"),
    };
    Error::new(ErrorKind::Panic, text)
}

impl Failure {
    /// A failure from the payload of a caught panic.
    pub(crate) fn from_panic(
        parallel_index: usize,
        phase: Phase,
        payload: Box<dyn Any + Send>,
    ) -> Self {
        Self::new(parallel_index, phase, panic_error(payload))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn panic_becomes_error_with_location() {
        install_panic_hook();
        let payload = catch_panic(|| panic!("boom {}", 42)).unwrap_err();
        let error = panic_error(payload);
        assert_eq!(error.kind(), ErrorKind::Panic);
        let text = error.to_string();
        assert!(text.starts_with("panicked at "), "{text}");
        assert!(text.contains("panic.rs"), "{text}");
        assert!(text.ends_with("boom 42"), "{text}");
    }
}
