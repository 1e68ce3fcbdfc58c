//! How tests are registered and found by name. `#[perfstress::test]`
//! submits a [`TestEntry`] to a link-time collection (the `inventory`
//! crate), so defining a test in the perf target is all it takes. The
//! entry points of the test kinds are made in `lib.rs`'s `__private`
//! (they name the runner), so this module never depends on the runner.

use crate::options::GlobalOptions;
use crate::outcome::Outcome;

/// A registered test: its name, description, variants and entry point.
///
/// `#[perfstress::test]` makes one per test; test authors never build one.
#[derive(Debug)]
pub struct TestEntry {
    pub(crate) name: &'static str,
    pub(crate) description: &'static str,
    /// Where the test type is defined (`module_path!()`), to tell apart
    /// two tests of the same name.
    pub(crate) module_path: &'static str,
    pub(crate) has_sync: bool,
    pub(crate) has_async: bool,
    /// Event tests have no operations to time or pace.
    pub(crate) is_event: bool,
    /// An async-only test whose `--sync` variant is the sync bridge.
    pub(crate) bridged: bool,
    pub(crate) augment_args: fn(clap::Command) -> clap::Command,
    pub(crate) launch: fn(&'static TestEntry, Invocation) -> Outcome,
}

/// A parsed command line for one test.
pub(crate) struct Invocation {
    pub(crate) global: GlobalOptions,
    pub(crate) matches: clap::ArgMatches,
    /// The whole command line, to start worker processes with.
    pub(crate) args: Vec<std::ffi::OsString>,
}

/// How a test is registered: what the macro knows about its impl block.
#[doc(hidden)]
#[derive(Clone, Copy, Debug)]
pub struct Registration {
    /// The type name.
    pub name: &'static str,
    /// The first line of the impl's doc comment, or `description = "..."`.
    pub description: &'static str,
    /// `module_path!()` at the impl.
    pub module_path: &'static str,
    /// Whether the impl defines the sync variant.
    pub has_sync: bool,
    /// Whether the impl defines the async variant.
    pub has_async: bool,
}

impl TestEntry {
    /// The entry of a test registered as `registration`, whose kind's
    /// runner entry point is `launch` and options `augment_args`.
    pub(crate) const fn new(
        registration: Registration,
        is_event: bool,
        augment_args: fn(clap::Command) -> clap::Command,
        launch: fn(&'static TestEntry, Invocation) -> Outcome,
    ) -> Self {
        Self {
            name: registration.name,
            description: registration.description,
            module_path: registration.module_path,
            has_sync: registration.has_sync,
            has_async: registration.has_async,
            is_event,
            bridged: false,
            augment_args,
            launch,
        }
    }

    /// This entry, marked as running `--sync` through the sync bridge.
    pub(crate) const fn bridged(self) -> Self {
        Self {
            bridged: true,
            ..self
        }
    }

    /// The test's name (its type name).
    pub fn name(&self) -> &'static str {
        self.name
    }

    /// The module the test type is defined in.
    pub fn module_path(&self) -> &'static str {
        self.module_path
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
    tests.sort_by_key(|entry| (entry.name.to_ascii_lowercase(), entry.module_path));
    tests
}

/// Two registered tests whose names match (ignoring case): neither could be
/// run by name, so a runner with such a pair refuses to run anything.
pub(crate) fn duplicate_names() -> Option<String> {
    duplicates_among(&tests())
}

/// The error naming every pair of same-named tests in `tests` (sorted by
/// name), if any.
fn duplicates_among(tests: &[&TestEntry]) -> Option<String> {
    let pairs: Vec<String> = tests
        .windows(2)
        .filter(|pair| pair[0].name.eq_ignore_ascii_case(pair[1].name))
        .map(|pair| {
            format!(
                "'{}' is registered twice: {}::{} and {}::{}",
                pair[0].name, pair[0].module_path, pair[0].name, pair[1].module_path, pair[1].name
            )
        })
        .collect();
    (!pairs.is_empty()).then(|| {
        format!(
            "{}; test names must be unique (ignoring case): rename one of the types",
            pairs.join("; ")
        )
    })
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

    fn entry(name: &'static str, module_path: &'static str) -> TestEntry {
        TestEntry::new(
            Registration {
                name,
                description: "",
                module_path,
                has_sync: true,
                has_async: false,
            },
            false,
            |command| command,
            |_, _| Outcome::Success,
        )
    }

    #[test]
    fn duplicate_names_name_both_types() {
        let (a, b, c) = (
            entry("UploadTest", "suite::blob"),
            entry("uploadtest", "suite::legacy"),
            entry("DownloadTest", "suite::blob"),
        );
        let message = duplicates_among(&[&c, &a, &b]).expect("a duplicate");
        assert!(message.contains("suite::blob::UploadTest"), "{message}");
        assert!(message.contains("suite::legacy::uploadtest"), "{message}");
        assert!(message.contains("rename one"), "{message}");
        assert_eq!(duplicates_among(&[&c, &a]), None);
    }

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
