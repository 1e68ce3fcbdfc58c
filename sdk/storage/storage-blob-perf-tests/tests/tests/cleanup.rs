//! Cleanup after a failed and an interrupted run: no container is left.

use std::time::Duration;

use crate::azurite::*;

/// The blob a running DownloadTest reads is deleted: the next operation
/// fails (404), the run exits 1 naming the phase, and cleanup still
/// deletes the container.
#[test]
fn a_failed_run_leaves_no_container() {
    let azurite = Azurite::start();
    for test in ["DownloadTest", "LegacyDownloadTest"] {
        let mut child = azurite
            .perf(test)
            .args(["--size", "1024"])
            .duration(30)
            .warmup(0)
            .parallel(2)
            .processes(1)
            .start();
        child.wait_for(Duration::from_secs(20), |line| line == "=== Tests ===");
        child.wait_for_status_line(Duration::from_secs(5));
        let containers = azurite.containers();
        assert_eq!(containers.len(), 1, "{containers:?}");
        azurite.delete_blob(&containers[0], "download");
        let output = child.finish();
        output.assert_outcome(Outcome::Failed);
        assert!(
            output.stderr.contains("failed in run"),
            "{test}\n{}",
            output.dump()
        );
        assert_eq!(
            azurite.containers(),
            Vec::<String>::new(),
            "{test} left containers\n{}",
            output.dump()
        );
    }
}

/// Ctrl-C in the timed run: exit 130, and cleanup deleted every container,
/// in one process and in worker processes.
#[test]
fn an_interrupted_run_leaves_no_container() {
    let azurite = Azurite::start();
    for (test, args, processes) in [
        ("UploadTest", &["--size", "1024"][..], 2),
        ("ListContainersTest", &["--num-containers", "20"][..], 1),
        ("LegacyUploadTest", &["--size", "1024"][..], 1),
    ] {
        let mut child = azurite
            .perf(test)
            .args(args)
            .duration(30)
            .warmup(0)
            .parallel(2)
            .processes(processes)
            .arg("--sync")
            .start();
        child.wait_for(Duration::from_secs(20), |line| line == "=== Tests ===");
        child.wait_for_status_line(Duration::from_secs(5));
        assert!(!azurite.containers().is_empty());
        child.signal(libc::SIGINT);
        let output = child.finish();
        output.assert_outcome(Outcome::Interrupted);
        assert_eq!(
            azurite.containers(),
            Vec::<String>::new(),
            "{test} left containers\n{}",
            output.dump()
        );
    }
}
