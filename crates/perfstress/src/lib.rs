#![doc = include_str!("../README.md")]
#![cfg_attr(docsrs, feature(doc_cfg))]
#![deny(missing_docs, missing_debug_implementations)]
#![warn(rust_2018_idioms, unreachable_pub)]

// Lets `#[perfstress::test]` expansions (which name `::perfstress`) work
// inside this crate too.
#[allow(unused_extern_crates)]
extern crate self as perfstress;

pub mod alloc;
mod baseline;
mod cli;
mod compare;
#[cfg(doctest)]
mod compile_fail;
mod environment;
mod error;
mod events;
mod failure;
mod fs;
mod merge;
pub mod metrics;
mod options;
mod otlp;
mod outcome;
mod phase;
mod plan;
mod profile;
mod redact;
mod registry;
mod report;
mod runner;
mod saved_report;
pub mod streams;
mod test;
pub mod test_proxy;
mod threshold;
#[cfg(feature = "tls")]
#[cfg_attr(docsrs, doc(cfg(feature = "tls")))]
pub mod tls;

pub use cli::{main, run};
pub use error::{Error, ErrorKind, Result, ResultExt};
pub use events::EventSink;
pub use options::{GlobalOptions, parse_fraction};
pub use outcome::Outcome;
pub use perfstress_macros::test;
pub use redact::remember_secret;
pub use registry::{TestEntry, find, tests};
pub use streams::{AsyncRandomStream, RandomStream, WriteStream, get_random_bytes};
pub use test::{
    BatchPerfTest, EventPerfTest, NoOptions, PerfTest, TestContext, TestOptions, get_from_env,
};

/// Used by the code `#[perfstress::test]` generates. Not public API and
/// thus not subject to SemVer.
#[doc(hidden)]
pub mod __private {
    pub use crate::registry::{Registration, TestEntry};
    pub use inventory;

    use crate::runner::{Batch, Bridged, Event, Single, launch};
    use crate::test::{BatchPerfTest, EventPerfTest, PerfTest};

    /// The entry of a single-operation test.
    pub const fn single<T: PerfTest>(registration: Registration) -> TestEntry {
        TestEntry::new(
            registration,
            false,
            <T::Options as clap::Args>::augment_args,
            launch::<Single<T>>,
        )
    }

    /// The entry of a batch test.
    pub const fn batch<T: BatchPerfTest>(registration: Registration) -> TestEntry {
        TestEntry::new(
            registration,
            false,
            <T::Options as clap::Args>::augment_args,
            launch::<Batch<T>>,
        )
    }

    /// The entry of an async-only single-operation test that runs under
    /// `--sync` through the sync bridge.
    pub const fn single_bridged<T: PerfTest>(registration: Registration) -> TestEntry {
        TestEntry::new(
            registration,
            false,
            <T::Options as clap::Args>::augment_args,
            launch::<Bridged<Single<T>>>,
        )
        .bridged()
    }

    /// The entry of an async-only batch test that runs under `--sync`
    /// through the sync bridge.
    pub const fn batch_bridged<T: BatchPerfTest>(registration: Registration) -> TestEntry {
        TestEntry::new(
            registration,
            false,
            <T::Options as clap::Args>::augment_args,
            launch::<Bridged<Batch<T>>>,
        )
        .bridged()
    }

    /// The entry of an event test.
    pub const fn event<T: EventPerfTest>(registration: Registration) -> TestEntry {
        TestEntry::new(
            registration,
            true,
            <T::Options as clap::Args>::augment_args,
            launch::<Event<T>>,
        )
    }
}
