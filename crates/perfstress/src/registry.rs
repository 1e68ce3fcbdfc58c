//! How tests are registered and found by name. `#[perfstress::test]`
//! submits a [`TestEntry`] to a link-time collection (the `inventory`
//! crate), so defining a test in the perf target is all it takes.

use crate::options::GlobalOptions;
use crate::runner::{self, Batch, Driver, Event, Single};
use crate::test::{BatchPerfTest, EventPerfTest, PerfTest};

/// A registered test: its name, description, variants and entry points.
pub struct TestEntry {
    pub(crate) name: &'static str,
    pub(crate) description: &'static str,
    pub(crate) has_sync: bool,
    pub(crate) has_async: bool,
    /// Event tests have no operations to time or pace.
    pub(crate) is_event: bool,
    pub(crate) augment_args: fn(clap::Command) -> clap::Command,
    pub(crate) launch: fn(&'static TestEntry, Invocation) -> i32,
}

/// A parsed command line for one test.
pub(crate) struct Invocation {
    pub(crate) global: GlobalOptions,
    pub(crate) matches: clap::ArgMatches,
    /// The whole command line, to start worker processes with.
    pub(crate) args: Vec<std::ffi::OsString>,
}

impl TestEntry {
    /// The entry of a single-operation test.
    pub const fn single<T: PerfTest>(
        name: &'static str,
        description: &'static str,
        has_sync: bool,
        has_async: bool,
    ) -> Self {
        Self::with_driver::<Single<T>>(name, description, has_sync, has_async, false)
    }

    /// The entry of a batch test.
    pub const fn batch<T: BatchPerfTest>(
        name: &'static str,
        description: &'static str,
        has_sync: bool,
        has_async: bool,
    ) -> Self {
        Self::with_driver::<Batch<T>>(name, description, has_sync, has_async, false)
    }

    /// The entry of an event test.
    pub const fn event<T: EventPerfTest>(
        name: &'static str,
        description: &'static str,
        has_sync: bool,
        has_async: bool,
    ) -> Self {
        Self::with_driver::<Event<T>>(name, description, has_sync, has_async, true)
    }

    const fn with_driver<D: Driver>(
        name: &'static str,
        description: &'static str,
        has_sync: bool,
        has_async: bool,
        is_event: bool,
    ) -> Self {
        Self {
            name,
            description,
            has_sync,
            has_async,
            is_event,
            augment_args: <D::Options as clap::Args>::augment_args,
            launch: runner::launch::<D>,
        }
    }

    /// The test's name (its type name).
    pub fn name(&self) -> &'static str {
        self.name
    }

    /// The one-line description shown in the list of tests.
    pub fn description(&self) -> &'static str {
        self.description
    }
}

inventory::collect!(TestEntry);

/// Every registered test, sorted by name.
pub fn tests() -> Vec<&'static TestEntry> {
    let mut tests: Vec<_> = inventory::iter::<TestEntry>.into_iter().collect();
    tests.sort_by_key(|entry| entry.name);
    tests.dedup_by_key(|entry| entry.name);
    tests
}

/// The test called `name` (case-insensitive), or the closest name.
pub fn find(name: &str) -> Result<&'static TestEntry, Option<&'static str>> {
    let tests = tests();
    if let Some(entry) = tests
        .iter()
        .find(|entry| entry.name.eq_ignore_ascii_case(name))
    {
        return Ok(entry);
    }
    Err(closest_name(name, tests.iter().map(|entry| entry.name)))
}

/// The candidate most similar to `name`, if any is reasonably similar.
pub(crate) fn closest_name<'a>(
    name: &str,
    candidates: impl Iterator<Item = &'a str>,
) -> Option<&'a str> {
    // Nearly every test name ends in "Test": compare what comes before it,
    // or every typo would look closest to the shortest name.
    let stem = |name: &str| {
        let lower = name.to_ascii_lowercase();
        match lower.strip_suffix("test") {
            Some(stem) if !stem.is_empty() => stem.to_owned(),
            _ => lower,
        }
    };
    let wanted = stem(name);
    candidates
        .map(|candidate| {
            let lower = stem(candidate);
            let mut score = strsim::jaro_winkler(&wanted, &lower);
            if !wanted.is_empty() && (lower.contains(&wanted) || wanted.contains(&lower)) {
                score = score.max(0.9);
            }
            (score, candidate)
        })
        .filter(|(score, _)| *score >= 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, candidate)| candidate)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn closest_name_finds_typos_and_parts() {
        let names = ["SleepTest", "NoOpTest", "LogTest", "SampleBatchTest"];
        assert_eq!(
            closest_name("SleeepTest", names.into_iter()),
            Some("SleepTest")
        );
        assert_eq!(closest_name("noop", names.into_iter()), Some("NoOpTest"));
        assert_eq!(
            closest_name("batch", names.into_iter()),
            Some("SampleBatchTest")
        );
        assert_eq!(closest_name("Zebra", names.into_iter()), None);
        assert_eq!(closest_name("UploadTest", names.into_iter()), None);
        assert_eq!(closest_name("FooTest", names.into_iter()), None);
    }
}
