//! Two registered tests with the same name: neither could be run by name,
//! so the runner refuses to run (or list) anything. This needs a test
//! binary of its own, since the duplicate registration affects every run
//! in the binary.

use perfstress::{NoOptions, Outcome, PerfTest, TestContext};

mod blob {
    use super::*;

    pub struct UploadTest;

    #[perfstress::test]
    impl PerfTest for UploadTest {
        type Options = NoOptions;

        async fn new(_: &TestContext<NoOptions>) -> perfstress::Result<Self> {
            Ok(UploadTest)
        }

        fn run_sync(&mut self) -> perfstress::Result<()> {
            Ok(())
        }
    }
}

mod legacy {
    use super::*;

    pub struct UploadTest;

    #[perfstress::test]
    impl PerfTest for UploadTest {
        type Options = NoOptions;

        async fn new(_: &TestContext<NoOptions>) -> perfstress::Result<Self> {
            Ok(UploadTest)
        }

        fn run_sync(&mut self) -> perfstress::Result<()> {
            Ok(())
        }
    }
}

#[test]
fn duplicate_names_are_a_registration_error() {
    let modules: Vec<&str> = perfstress::tests()
        .iter()
        .filter(|entry| entry.name() == "UploadTest")
        .map(|entry| entry.module_path())
        .collect();
    assert_eq!(
        modules,
        ["duplicate_names::blob", "duplicate_names::legacy"],
        "both are registered, with where they are defined"
    );
    for args in [
        &["perf"][..],
        &[
            "perf",
            "UploadTest",
            "--sync",
            "-d",
            "1",
            "-w",
            "0",
            "--processes",
            "1",
        ],
    ] {
        let argv = args.iter().map(Into::into).collect();
        assert_eq!(perfstress::run(argv), Outcome::Usage, "{args:?}");
    }
}
