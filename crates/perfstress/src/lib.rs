#![doc = include_str!("../../../README.md")]
#![deny(missing_docs)]
#![warn(rust_2018_idioms, unreachable_pub)]

// Lets `#[perfstress::test]` expansions (which name `::perfstress`) work
// inside this crate too.
#[allow(unused_extern_crates)]
extern crate self as perfstress;

mod cli;
mod error;
mod events;
mod failure;
pub mod metrics;
mod options;
mod phase;
mod profile;
mod registry;
pub mod report;
mod runner;
pub mod streams;
mod test;

pub use cli::{main, run};
pub use error::{Error, ErrorKind, Result};
pub use events::EventSink;
pub use options::GlobalOptions;
pub use perfstress_macros::test;
pub use registry::{TestEntry, find, tests};
pub use runner::{ProcessShare, split};
pub use streams::{AsyncRandomStream, RandomStream, WriteStream, get_random_bytes};
pub use test::{
    BatchPerfTest, EventPerfTest, NoOptions, PerfTest, TestContext, TestOptions, get_from_env,
};

/// What `#[perfstress::test]` expands to refers to; not a public API.
#[doc(hidden)]
pub mod __private {
    pub use crate::registry::TestEntry;
    pub use inventory;
}
