//! The official suite's Class names (azure_core_test's test names, and
//! its perf-tests.yml Classes) find the same tests, case-insensitively.

use crate::azurite::*;

#[test]
fn the_list_shows_every_test_and_its_aliases() {
    let output = runner().ok();
    for line in [
        "(also: download_blob, DownloadBlob)",
        "(also: upload_blob, UploadBlob)",
        "(also: list_blob, ListBlob)",
        "(also: download_into_blob, DownloadIntoBlob)",
        "(also: list_containers)",
    ] {
        assert!(output.stdout.contains(line), "{line}\n{}", output.dump());
    }
    for test in crate::runs::TESTS.map(|(test, _)| test) {
        assert!(output.stdout.contains(test), "{test}\n{}", output.dump());
    }
}

#[test]
fn aliases_run_the_tests() {
    let azurite = Azurite::start();
    for (alias, args) in [
        ("download_blob", &["--size", "512"][..]),
        ("UPLOADBLOB", &["--size", "512"][..]),
        ("list_blob", &["--count", "3"][..]),
        ("download_into_blob", &["--size", "512"][..]),
    ] {
        crate::runs::run_briefly(&azurite, alias, args, true, 1);
    }
}
