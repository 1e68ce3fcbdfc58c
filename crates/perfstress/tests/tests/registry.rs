//! Registration with `#[perfstress::test]` and finding tests by name.

use perfstress_testkit::*;

#[test]
fn registered_tests_are_listed_sorted_with_descriptions() {
    let tests = perfstress::tests();
    let names: Vec<&str> = tests.iter().map(|entry| entry.name()).collect();
    let mut sorted = names.clone();
    sorted.sort();
    sorted.dedup();
    assert_eq!(names, sorted, "sorted, no duplicates");
    for name in [
        "CountingBatchTest",
        "PanickingTest",
        "PickyTest",
        "RecordingTest",
        "SlowBatchTest",
        "StuckTest",
    ] {
        assert!(names.contains(&name), "{name} is registered: {names:?}");
    }
    let description = |name: &str| {
        tests
            .iter()
            .find(|entry| entry.name() == name)
            .map(|entry| entry.description())
    };
    // The first doc line of the impl, or the attribute's description.
    assert_eq!(
        description("CountingBatchTest"),
        Some("Counts what its batches return (0 to 3 results each).")
    );
    assert_eq!(
        description("RecordingTest"),
        Some("Records its lifecycle calls.")
    );
}

#[test]
fn find_is_case_insensitive_and_suggests() {
    assert_eq!(
        perfstress::find("countingbatchtest").map(|entry| entry.name()),
        Ok("CountingBatchTest")
    );
    assert_eq!(
        perfstress::find("STUCKTEST").map(|entry| entry.name()),
        Ok("StuckTest")
    );
    assert_eq!(
        perfstress::find("CountingBatchTst").map(|entry| entry.name()),
        Err(Some("CountingBatchTest"))
    );
    assert_eq!(
        perfstress::find("Zebra").map(|entry| entry.name()),
        Err(None)
    );
}

#[test]
fn run_lists_tests_and_rejects_unknown_ones() {
    let _serial = serial();
    Perf::new().ok();
    Perf::test("NoSuchTest").outcome(Outcome::Usage);
    Perf::test("RecordingTest")
        .arg("--bogus")
        .outcome(Outcome::Usage);
    Perf::test("RecordingTest")
        .parallel(0)
        .outcome(Outcome::Usage);
}

/// A test known by another name too, as a suite migrating from
/// azure_core_test keeps its Class names.
pub struct AliasedTest;

#[perfstress::test(alias = "aliased_blob", alias = "AliasedOld")]
impl perfstress::PerfTest for AliasedTest {
    type Options = perfstress::NoOptions;

    async fn new(_: &perfstress::TestContext<perfstress::NoOptions>) -> perfstress::Result<Self> {
        Ok(AliasedTest)
    }

    fn run_sync(&mut self) -> perfstress::Result<()> {
        Ok(())
    }
}

#[test]
fn aliases_find_the_test_case_insensitively() {
    for name in ["aliased_blob", "ALIASED_BLOB", "aliasedold", "AliasedTest"] {
        assert_eq!(
            perfstress::find(name).map(|entry| entry.name()),
            Ok("AliasedTest"),
            "{name}"
        );
    }
    let entry = perfstress::find("AliasedTest").unwrap();
    assert_eq!(entry.aliases(), ["aliased_blob", "AliasedOld"]);
    let _serial = serial();
    Perf::test("ALIASED_BLOB")
        .arg("--sync")
        .duration(0.1)
        .warmup(0)
        .ok();
}
