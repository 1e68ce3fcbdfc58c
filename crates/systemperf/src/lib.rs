//! `systemperf`: perfstress's built-in system tests. They measure the
//! framework itself (no-op, sleep, batch), show its lifecycle (log), and
//! serve as examples of each test kind.
//!
//! Features (all on by default): `http`, the HTTP transport tests and their
//! embedded loopback server; `azure-core`, `AzureCoreGetTest` (implies
//! `http`). Without them the crate needs no HTTP stack.
#![deny(missing_docs)]

mod batch;
mod event;
#[cfg(feature = "http")]
mod http;
mod log;
mod noop;
mod output;
mod sleep;
mod stress;

#[cfg(feature = "azure-core")]
pub use self::http::AzureCoreGetTest;
#[cfg(feature = "http")]
pub use self::http::{
    EmbeddedServer, HttpGetOptions, HttpGetTest, HttpOptions, HttpPutTest, HttpUrl, RawTcpGetTest,
    ReqwestGetTest, ServedTotals, UreqGetTest,
};
pub use batch::{SampleBatchOptions, SampleBatchTest};
pub use event::{SampleEventOptions, SampleEventTest};
pub use log::{LogOptions, LogTest};
pub use noop::NoOpTest;
pub use sleep::{SleepOptions, SleepTest};
pub use stress::{FailureKind, StressSampleOptions, StressSampleTest};

/// Runs the systemperf runner on the process's arguments and exits.
pub fn main() -> ! {
    perfstress::main()
}
