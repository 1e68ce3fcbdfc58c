//! Every test of the suite, for a short run against Azurite, async and
//! `--sync` (PerfAutomation always passes it), in one process and with
//! worker processes: it completes operations and leaves no container.

use crate::azurite::*;

/// Each test with small options (a short run must not spend it in setup).
pub const TESTS: [(&str, &[&str]); 8] = [
    ("ListContainersTest", &["--num-containers", "5"]),
    ("ListBlobsTest", &["--count", "5"]),
    ("UploadTest", &["--size", "1024"]),
    ("DownloadTest", &["--size", "1024"]),
    ("DownloadIntoTest", &["--size", "1024"]),
    ("LegacyUploadTest", &["--size", "1024"]),
    ("LegacyDownloadTest", &["--size", "1024"]),
    ("LegacyListBlobsTest", &["--count", "5"]),
];

/// Runs `test args` for 0.5 s against `azurite` and checks the results
/// file and that no container is left.
pub fn run_briefly(azurite: &Azurite, test: &str, args: &[&str], sync: bool, processes: usize) {
    let results = TempPath::new(test);
    let parallel = processes.max(1);
    let output = azurite
        .perf(test)
        .args(args)
        .duration("0.5")
        .warmup(0)
        .parallel(parallel)
        .processes(processes)
        .sync(sync)
        .results(&results)
        .ok();
    let json = results.json();
    assert!(
        json["total_operations"].as_u64().unwrap_or_default() > 0,
        "{test}: no operation completed\n{}",
        output.dump()
    );
    assert_eq!(json["sync"], sync, "{json:#}");
    if sync {
        assert!(
            output
                .stdout
                .contains("sync (async operation on a runtime per instance)"),
            "{test} --sync runs through the sync bridge\n{}",
            output.dump()
        );
    }
    assert_eq!(
        azurite.containers(),
        Vec::<String>::new(),
        "{test} left containers\n{}",
        output.dump()
    );
}

#[test]
fn every_test_runs_async_against_azurite_and_cleans_up() {
    let azurite = Azurite::start();
    for (test, args) in TESTS {
        run_briefly(&azurite, test, args, false, 1);
    }
}

#[test]
fn every_test_runs_sync_against_azurite_and_cleans_up() {
    let azurite = Azurite::start();
    for (test, args) in TESTS {
        run_briefly(&azurite, test, args, true, 1);
    }
}

/// `global_setup` and `global_cleanup` run in every worker process: each
/// has a container of its own, and each deletes it.
#[test]
fn worker_processes_each_make_and_delete_their_own_container() {
    let azurite = Azurite::start();
    for (test, args) in [TESTS[0], TESTS[3], TESTS[6]] {
        run_briefly(&azurite, test, args, true, 2);
    }
}
