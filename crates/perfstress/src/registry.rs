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
    /// The version of the crate the test is in.
    pub(crate) suite_version: &'static str,
    /// Other names the test is found by (`alias = "..."`).
    pub(crate) aliases: &'static [&'static str],
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
    /// A coordinator's options set by environment, for its hosts
    /// (variable, value); empty elsewhere.
    pub(crate) environment: Vec<(String, String)>,
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
    /// The version of the crate the test is in (`CARGO_PKG_VERSION` there).
    pub suite_version: &'static str,
    /// `alias = "..."`: other names the test is found by.
    pub aliases: &'static [&'static str],
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
            suite_version: registration.suite_version,
            aliases: registration.aliases,
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

    /// Other names the test is found by (`#[perfstress::test(alias = "...")]`).
    pub fn aliases(&self) -> &'static [&'static str] {
        self.aliases
    }

    /// Every name the test is found by: its own, then its aliases.
    fn names(&self) -> impl Iterator<Item = &'static str> {
        std::iter::once(self.name).chain(self.aliases.iter().copied())
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
    // Every name and alias, by its lower-case spelling.
    let mut names: Vec<(String, &str, &TestEntry)> = tests
        .iter()
        .flat_map(|entry| {
            entry
                .names()
                .map(move |name| (name.to_ascii_lowercase(), name, *entry))
        })
        .collect();
    names.sort_by(|a, b| (&a.0, a.2.module_path).cmp(&(&b.0, b.2.module_path)));
    let pairs: Vec<String> = names
        .windows(2)
        .filter(|pair| pair[0].0 == pair[1].0)
        .map(|pair| {
            format!(
                "'{}' is registered twice: {}::{} and {}::{}",
                pair[0].1,
                pair[0].2.module_path,
                pair[0].2.name,
                pair[1].2.module_path,
                pair[1].2.name
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
        .find(|entry| entry.names().any(|known| known.eq_ignore_ascii_case(name)))
    {
        return Ok(entry);
    }
    Err(closest_name(
        name,
        tests.iter().flat_map(|entry| entry.names()),
    ))
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
                suite_version: "0.0.0",
                aliases: &[],
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
        // An alias counts as a name.
        let aliased = TestEntry {
            aliases: &["downloadtest"],
            ..entry("OtherTest", "suite::other")
        };
        let clash = duplicates_among(&[&c, &aliased]).expect("an alias clash");
        assert!(clash.contains("suite::other::OtherTest"), "{clash}");
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
