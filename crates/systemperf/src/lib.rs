//! `systemperf`: perfstress's built-in system tests. They measure the
//! framework itself (no-op, sleep, batch), show its lifecycle (log), and
//! serve as examples of each test kind.
#![deny(missing_docs)]

mod batch;
mod event;
mod http;
mod log;
mod noop;
mod sleep;

pub use self::http::{
    AzureCoreGetTest, EmbeddedServer, HttpGetTest, HttpOptions, HttpPutTest, HttpUrl,
    RawTcpGetTest, ReqwestGetTest, ServedTotals, UreqGetTest,
};
pub use batch::{SampleBatchOptions, SampleBatchTest};
pub use event::{SampleEventOptions, SampleEventTest};
pub use log::{LogOptions, LogTest};
pub use noop::NoOpTest;
pub use sleep::{SleepOptions, SleepTest};

/// Runs the systemperf runner on the process's arguments and exits.
pub fn main() -> ! {
    perfstress::main()
}
