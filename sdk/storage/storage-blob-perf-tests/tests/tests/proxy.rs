//! `-x` with the storage suite: the 1.x tests against Azurite through our
//! test proxy (started here on 127.0.0.1 port 0), with `--test-proxy`
//! appended after `--sync` as PerfAutomation appends it. Each instance's
//! operation is recorded once (one request to Azurite through the proxy)
//! and every timed operation is played back; the proxy ends with no
//! session and Azurite with no container.

use test_proxy::{Config, SessionCounts, TestProxy};

use crate::azurite::*;

/// Every 1.x test (each repeats its requests, so the default matcher plays
/// them back): (test, options, instances, sync).
const RUNS: [(&str, &[&str], usize, bool); 6] = [
    ("DownloadTest", &["--size", "1024"], 2, false),
    ("DownloadTest", &["--size", "1024"], 2, true),
    ("DownloadIntoTest", &["--size", "1024"], 1, true),
    ("ListBlobsTest", &["--count", "5"], 1, false),
    ("ListContainersTest", &["--num-containers", "3"], 1, true),
    ("UploadTest", &["--size", "1024"], 1, false),
];

#[test]
fn every_test_records_once_then_plays_back_through_the_proxy() {
    let azurite = Azurite::start();
    let proxy = TestProxy::start(Config::loopback(0)).expect("the test proxy starts");
    let url = format!("{}/", proxy.urls()[0]);
    for (test, args, instances, sync) in RUNS {
        let (recorded, played, logged) = (
            proxy.recorded_requests(),
            proxy.played_back_requests(),
            proxy.control_log().len(),
        );
        let output = azurite
            .perf(test)
            .args(args)
            .duration("0.5")
            .warmup(0)
            .parallel(instances)
            .processes(1)
            .sync(sync)
            .option("--test-proxy", &url)
            .ok();
        let what = format!("{test} -p {instances} sync={sync}\n{}", output.dump());
        let total = output.results("Tests").total;
        assert!(total > 0, "{what}");
        assert_eq!(
            proxy.recorded_requests() - recorded,
            instances as u64,
            "one recorded operation per instance: {what}"
        );
        assert_eq!(
            proxy.played_back_requests() - played,
            total,
            "every timed operation played back: {what}"
        );
        let log = &proxy.control_log()[logged..];
        assert_eq!(log.len(), 4 * instances, "{log:?}");
        assert!(
            log.iter()
                .filter(|line| line.starts_with("playback/stop"))
                .all(|line| line.ends_with(" purge")),
            "{log:?}"
        );
        assert_eq!(proxy.mismatches(), 0, "{what}");
        assert_eq!(proxy.sessions(), SessionCounts::default(), "{what}");
        assert_eq!(azurite.containers(), Vec::<String>::new(), "{what}");
    }
    proxy.stop();
}
