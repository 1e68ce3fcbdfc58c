//! Runs across hosts (`--listen`, `--join`): each "host" is a process tree
//! of its own (`systemperf --join` and its worker processes) connecting
//! from a loopback address of its own (127.0.0.2, 127.0.0.3, ...: all of
//! 127.0.0.0/8 is loopback on Linux).

use std::net::TcpListener;
use std::time::{Duration, Instant};

use crate::common::*;

pub(crate) const TOKEN: &str = "hosts-test-token-3f9a";

/// A free port on 127.0.0.1 for a coordinator's `--listen`.
pub(crate) fn free_address() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().to_string()
}

/// `systemperf --join ADDR` from 127.0.0.`n`, as host `h<n>`, with two
/// worker processes.
pub(crate) fn host(address: &str, n: u8, token: &str) -> Run {
    runner()
        .arg("--join")
        .arg(address)
        .arg("--bind")
        .arg(format!("127.0.0.{n}"))
        .arg("--host-id")
        .arg(format!("h{n}"))
        .processes(2)
        .env("PERFSTRESS_JOIN_TOKEN", token)
        .timeout(Duration::from_secs(60))
}

/// The coordinator of `test` over `hosts` hosts at `address`.
pub(crate) fn coordinator(test: &str, address: &str, hosts: usize) -> Run {
    systemperf(test)
        .option("--listen", address)
        .option("--hosts", hosts)
        .option("--join-timeout", 20)
        .env("PERFSTRESS_JOIN_TOKEN", TOKEN)
        .timeout(Duration::from_secs(60))
}

/// The processes whose parent is `pid` (Linux).
pub(crate) fn children_of(pid: u32) -> Vec<u32> {
    let mut children = Vec::new();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(child) = entry.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        let Ok(stat) = std::fs::read_to_string(format!("/proc/{child}/stat")) else {
            continue;
        };
        // pid (comm) state ppid ...
        let after = stat.rsplit_once(") ").map(|(_, rest)| rest).unwrap_or("");
        if after
            .split(' ')
            .nth(1)
            .and_then(|ppid| ppid.parse::<u32>().ok())
            == Some(pid)
        {
            children.push(child);
        }
    }
    children
}

pub(crate) fn wait_until_gone(pids: &[u32], timeout: Duration) -> Vec<u32> {
    let deadline = Instant::now() + timeout;
    loop {
        let running: Vec<u32> = pids
            .iter()
            .copied()
            .filter(|pid| process_is_running(*pid))
            .collect();
        if running.is_empty() || Instant::now() > deadline {
            return running;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// SleepTest over 3 hosts x 2 processes: every instance of `--parallel 6`
/// runs exactly once, with its own parallel index, and the merged results
/// are those of the hosts taken together; the latency merged across hosts
/// is the merge of the hosts' histograms (count, min, max and mean agree).
#[test]
fn sleep_test_over_three_hosts_is_the_whole_parallel() {
    let _timing = timing_sensitive();
    let address = free_address();
    let results = TempPath::new("hosts-sleep");
    let timeline = TempPath::new("hosts-sleep-timeline");
    let coordinating = coordinator("SleepTest", &address, 3)
        .option("--timeline", timeline.arg())
        .option("--initial-delay-ms", 100)
        .parallel(6)
        // Each host spreads its share over its own --processes.
        .processes(1)
        .duration(1)
        .warmup(0)
        .latency()
        .results(&results)
        .start();
    let hosts: Vec<Watched> = (2..=4).map(|n| host(&address, n, TOKEN).start()).collect();
    let output = coordinating.finish();
    output.assert_outcome(Outcome::Success);
    for host in hosts {
        host.finish().assert_outcome(Outcome::Success);
    }
    assert!(
        output.section("Options")[0].contains("parallel 6 over 3 hosts"),
        "{}",
        output.dump()
    );
    let json = results.json();
    assert_one_second_of_sleeps(&json, 6);
    let total = json["total_operations"].as_u64().unwrap();
    assert_eq!(output.results("Tests").total, total);
    let hosts = json["hosts"].as_array().unwrap();
    let names: Vec<&str> = hosts
        .iter()
        .map(|host| host["host"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["h2", "h3", "h4"]);
    let shares: Vec<Vec<u64>> = hosts
        .iter()
        .map(|host| {
            host["parallel_indexes"]
                .as_array()
                .unwrap()
                .iter()
                .map(|index| index.as_u64().unwrap())
                .collect()
        })
        .collect();
    assert_eq!(shares, [vec![0, 1], vec![2, 3], vec![4, 5]]);
    for (host, n) in hosts.iter().zip(2..) {
        assert!(
            host["address"]
                .as_str()
                .unwrap()
                .starts_with(&format!("127.0.0.{n}:")),
            "{host}"
        );
        assert!(host["clock_offset_uncertainty_ms"].as_f64().unwrap() >= 0.0);
        assert!(host.get("lost_after_interval").is_none());
    }
    let host_total: u64 = hosts
        .iter()
        .map(|host| host["total_operations"].as_u64().unwrap())
        .sum();
    assert_eq!(host_total, total);
    // The timeline has each host's operations per interval: they add up
    // to the interval's, and over the run to the host's.
    let mut per_host = [0; 3];
    for line in std::fs::read_to_string(timeline.path()).unwrap().lines() {
        let line: serde_json::Value = serde_json::from_str(line).unwrap();
        let operations: Vec<u64> = line["process_operations"]
            .as_array()
            .unwrap_or_else(|| panic!("{line}"))
            .iter()
            .map(|n| n.as_u64().unwrap())
            .collect();
        assert_eq!(operations.len(), 3, "{line}");
        assert_eq!(
            operations.iter().sum::<u64>(),
            line["operations"].as_u64().unwrap()
        );
        for (sum, operations) in per_host.iter_mut().zip(operations) {
            *sum += operations;
        }
    }
    let host_totals: Vec<u64> = hosts
        .iter()
        .map(|host| host["total_operations"].as_u64().unwrap())
        .collect();
    assert_eq!(per_host.to_vec(), host_totals);
    // ops/s is the sum of the hosts' (each instance's rate, added).
    let host_rate: f64 = hosts
        .iter()
        .map(|host| host["operations_per_second"].as_f64().unwrap())
        .sum();
    assert_close(
        json["operations_per_second"].as_f64().unwrap(),
        host_rate,
        1e-9,
        "merged ops/s",
    );
    let latency = &json["latency"];
    let count: u64 = hosts
        .iter()
        .map(|host| host["latency"]["count"].as_u64().unwrap())
        .sum();
    assert_eq!(latency["count"].as_u64(), Some(count));
    let fold = |field: &str, pick: fn(f64, f64) -> f64| {
        hosts
            .iter()
            .map(|host| host["latency"][field].as_f64().unwrap())
            .reduce(pick)
            .unwrap()
    };
    assert_eq!(latency["max_ms"].as_f64(), Some(fold("max_ms", f64::max)));
    assert_eq!(latency["min_ms"].as_f64(), Some(fold("min_ms", f64::min)));
    let weighted_mean: f64 = hosts
        .iter()
        .map(|host| {
            host["latency"]["mean_ms"].as_f64().unwrap()
                * host["latency"]["count"].as_f64().unwrap()
        })
        .sum::<f64>()
        / count as f64;
    assert_close(
        latency["mean_ms"].as_f64().unwrap(),
        weighted_mean,
        1e-6,
        "mean",
    );
    let coordination = &json["coordination_seconds"];
    for figure in ["join", "clock_probes", "clock_offset_uncertainty_max"] {
        assert!(coordination[figure].as_f64().is_some(), "{json}");
    }
    assert!(
        output.stdout.contains("Worst clock offset uncertainty"),
        "{}",
        output.dump()
    );
}

/// A host killed with SIGKILL mid-run: the coordinator names it (host,
/// pid, last interval) and fails; the other hosts stop and clean up, and
/// no process of any host is left running. With `--continue-on-error`
/// the run goes on without it and says so.
#[test]
fn a_killed_host_is_reported_and_nothing_is_left_running() {
    for continue_on_error in [false, true] {
        let address = free_address();
        let mut coordinating = coordinator("SleepTest", &address, 2)
            .option("--initial-delay-ms", 50)
            .parallel(4)
            .processes(1)
            .duration(if continue_on_error { 2 } else { 30 })
            .warmup(0);
        if continue_on_error {
            coordinating = coordinating.arg("--continue-on-error");
        }
        let mut coordinating = coordinating.start();
        let hosts: Vec<Watched> = (2..=3).map(|n| host(&address, n, TOKEN).start()).collect();
        coordinating.wait_for_status_line(Duration::from_secs(20));
        let mut everyone: Vec<u32> = Vec::new();
        for host in &hosts {
            everyone.push(host.pid());
            everyone.extend(children_of(host.pid()));
        }
        assert_eq!(everyone.len(), 6, "2 hosts and 2 workers each");
        let victim = hosts[1].pid();
        send_signal(victim, libc::SIGKILL);
        let output = coordinating.finish();
        let lost = format!("host h3 (pid {victim} at 127.0.0.3:");
        assert!(output.stderr.contains(&lost), "{}", output.dump());
        assert!(
            output.stderr.contains("lost its connection")
                && output.stderr.contains("after interval"),
            "{}",
            output.dump()
        );
        if continue_on_error {
            output.assert_outcome(Outcome::Success);
            assert!(
                output
                    .stderr
                    .contains("going on without it (--continue-on-error)"),
                "{}",
                output.dump()
            );
            assert!(
                output.stdout.contains("lost after interval"),
                "{}",
                output.dump()
            );
        } else {
            output.assert_outcome(Outcome::Failed);
        }
        let mut hosts = hosts.into_iter();
        let survivor = hosts.next().unwrap().finish();
        drop(hosts);
        if !continue_on_error {
            // Cancelled by the coordinator: it ends as the coordinator did.
            assert!(survivor.code.is_some(), "{}", survivor.dump());
        }
        let running = wait_until_gone(&everyone, Duration::from_secs(10));
        assert!(running.is_empty(), "still running: {running:?}");
    }
}

/// A wrong token is refused exactly as a port where no run waits would
/// answer: the host cannot tell whether a run exists. The coordinator
/// goes on waiting, and a host with the right token then joins.
#[test]
fn a_wrong_token_is_refused_without_saying_whether_a_run_exists() {
    let address = free_address();
    let coordinating = coordinator("SleepTest", &address, 1)
        .option("--initial-delay-ms", 20)
        .duration(0.2)
        .warmup(0)
        .start();
    let wrong = host(&address, 2, "not-the-token").run();
    wrong.assert_outcome(Outcome::Failed);
    assert!(!wrong.stderr.contains("not-the-token"), "{}", wrong.dump());
    // A listener that closes every connection, as a stranger's would.
    let stranger = TcpListener::bind("127.0.0.1:0").unwrap();
    let stranger_address = stranger.local_addr().unwrap().to_string();
    let closer = std::thread::spawn(move || {
        let (stream, _) = stranger.accept().unwrap();
        std::thread::sleep(Duration::from_millis(50));
        drop(stream);
    });
    let nobody = host(&stranger_address, 3, TOKEN).run();
    closer.join().unwrap();
    nobody.assert_outcome(Outcome::Failed);
    let message = |output: &Output, address: &str| output.stderr.replace(address, "ADDR");
    assert_eq!(
        message(&wrong, &address),
        message(&nobody, &stranger_address)
    );
    assert!(
        wrong
            .stderr
            .contains("the join token is wrong, or no run is waiting"),
        "{}",
        wrong.dump()
    );

    let right = host(&address, 4, TOKEN).start();
    let output = coordinating.finish();
    output.assert_outcome(Outcome::Success);
    right.finish().assert_outcome(Outcome::Success);
    assert!(!output.stderr.contains("not-the-token") && !output.stdout.contains(TOKEN));
}

/// Hosts that do not all join in time: the error names who joined and
/// how many are missing, and a second host with a name already taken is
/// refused with the reason. No token: a usage error before anything.
#[test]
fn missing_and_duplicate_hosts_are_named() {
    let address = free_address();
    let coordinating = coordinator("SleepTest", &address, 3)
        .option("--join-timeout", 2)
        .parallel(3)
        .duration(0.2)
        .warmup(0)
        .start();
    let first = host(&address, 2, TOKEN).start();
    std::thread::sleep(Duration::from_millis(300));
    let duplicate = host(&address, 2, TOKEN).run();
    duplicate.assert_outcome(Outcome::Failed);
    assert!(
        duplicate
            .stderr
            .contains("refused this host: a host named 'h2' has joined already"),
        "{}",
        duplicate.dump()
    );
    let output = coordinating.finish();
    output.assert_outcome(Outcome::Failed);
    assert!(
        output.stderr.contains("1 of 3 hosts joined within 2 s")
            && output.stderr.contains("'h2' (pid")
            && output.stderr.contains("missing: 2 hosts"),
        "{}",
        output.dump()
    );
    first.finish().assert_outcome(Outcome::Failed);

    let output = systemperf("SleepTest")
        .option("--listen", "127.0.0.1:0")
        .option("--hosts", 2)
        .parallel(2)
        .env_remove("PERFSTRESS_JOIN_TOKEN")
        .outcome(Outcome::Usage);
    assert!(
        output.stderr.contains("PERFSTRESS_JOIN_TOKEN"),
        "{}",
        output.dump()
    );
    let output = runner()
        .arg("--join")
        .arg("127.0.0.1:1")
        .arg("SleepTest")
        .env("PERFSTRESS_JOIN_TOKEN", TOKEN)
        .outcome(Outcome::Usage);
    assert!(
        output.stderr.contains("--join takes no test"),
        "{}",
        output.dump()
    );
}

/// `--shard 0/3`, `1/3`, `2/3` started independently, then `merge`: the
/// merged file is one run of `--parallel 6` (every parallel index once,
/// ops/s the results math over all instances, the histograms merged),
/// and a single run of the same total agrees with it.
#[test]
fn shards_merge_into_one_run() {
    let _timing = timing_sensitive();
    // Every run writes its timeline (two intervals of 0.5 s) and its
    // interval histograms.
    let sleep = |results: &TempPath, timeline: &TempPath, log: &TempPath| {
        systemperf("SleepTest")
            .option("--initial-delay-ms", 100)
            .parallel(6)
            .processes(1)
            .duration(1)
            .warmup(0)
            .latency()
            .option("--status-interval", "0.5")
            .option("--timeline", timeline.arg())
            .option("--histogram-log", log.arg())
            .results(results)
    };
    let files: Vec<TempPath> = (0..3)
        .map(|index| TempPath::new(&format!("shard-{index}")))
        .collect();
    let timelines: Vec<TempPath> = (0..3)
        .map(|index| TempPath::new(&format!("shard-timeline-{index}")))
        .collect();
    let logs: Vec<TempPath> = (0..3)
        .map(|index| TempPath::new(&format!("shard-hlog-{index}")))
        .collect();
    let (whole, whole_timeline, whole_log) = (
        TempPath::new("shard-whole"),
        TempPath::new("shard-whole-timeline"),
        TempPath::new("shard-whole-hlog"),
    );
    let mut running: Vec<Watched> = (0..3)
        .map(|index| {
            sleep(&files[index], &timelines[index], &logs[index])
                .option("--shard", format!("{index}/3"))
                .start()
        })
        .collect();
    running.push(sleep(&whole, &whole_timeline, &whole_log).start());
    for run in running {
        run.finish().assert_outcome(Outcome::Success);
    }
    let merged = TempPath::new("shard-merged");
    // In any order.
    let output = runner()
        .arg("merge")
        .arg(files[2].arg())
        .arg(files[0].arg())
        .arg(files[1].arg())
        .arg("--test-results")
        .arg(merged.arg())
        .ok();
    let json = merged.json();
    let shards: Vec<serde_json::Value> = files.iter().map(TempPath::json).collect();
    let instances: Vec<&serde_json::Value> = shards
        .iter()
        .flat_map(|shard| shard["instances"].as_array().unwrap())
        .collect();
    let merged_instances = json["instances"].as_array().unwrap();
    assert_eq!(merged_instances.len(), 6);
    for (index, (merged, shard)) in merged_instances.iter().zip(&instances).enumerate() {
        assert_eq!(merged["parallel_index"].as_u64(), Some(index as u64));
        assert_eq!(shard["parallel_index"].as_u64(), Some(index as u64));
        assert_eq!(
            merged["completed_operations"],
            shard["completed_operations"]
        );
    }
    // The results math over every instance: sum of each one's ops/s.
    let expected: f64 = instances
        .iter()
        .map(|instance| {
            instance["completed_operations"].as_f64().unwrap()
                / instance["last_completion_seconds"].as_f64().unwrap()
        })
        .sum();
    assert_close(
        json["operations_per_second"].as_f64().unwrap(),
        expected,
        1e-6,
        "ops/s",
    );
    let total: u64 = shards
        .iter()
        .map(|shard| shard["total_operations"].as_u64().unwrap())
        .sum();
    assert_eq!(json["total_operations"].as_u64(), Some(total));
    let count: u64 = shards
        .iter()
        .map(|shard| shard["latency"]["count"].as_u64().unwrap())
        .sum();
    assert_eq!(json["latency"]["count"].as_u64(), Some(count));
    let max = shards
        .iter()
        .map(|shard| shard["latency"]["max_ms"].as_f64().unwrap())
        .fold(0.0, f64::max);
    assert_eq!(json["latency"]["max_ms"].as_f64(), Some(max));
    assert_eq!(output.results("Tests").total, total);
    // One run of the same total: the same operations per instance (10, or
    // 11 with the one due at the deadline), and ops/s within 2%.
    let whole = whole.json();
    for instance in whole["instances"].as_array().unwrap() {
        assert!((10..=11).contains(&instance["completed_operations"].as_u64().unwrap()));
    }
    assert_close(
        json["operations_per_second"].as_f64().unwrap(),
        whole["operations_per_second"].as_f64().unwrap(),
        0.02,
        "merged vs one run",
    );

    // A shard missing, or a file that is no shard's: usage errors.
    let output = runner()
        .arg("merge")
        .arg(files[0].arg())
        .arg(files[1].arg())
        .outcome(Outcome::Usage);
    assert!(
        output.stderr.contains("shard 2/3 of 3 missing"),
        "{}",
        output.dump()
    );
    let output = runner()
        .arg("merge")
        .arg(files[0].arg())
        .arg(merged.arg())
        .outcome(Outcome::Usage);
    assert!(
        output
            .stderr
            .contains("is not the --test-results file of a --shard run"),
        "{}",
        output.dump()
    );

    merged_timeline(&files, &timelines, &logs, &whole_timeline);
}

fn timeline_lines(path: &TempPath) -> Vec<serde_json::Value> {
    std::fs::read_to_string(path.path())
        .unwrap_or_else(|error| panic!("cannot read {}: {error}", path.arg()))
        .lines()
        .map(|line| serde_json::from_str(line).unwrap_or_else(|error| panic!("{error}: {line}")))
        .collect()
}

/// `merge` of the shards' timelines (each after its results file, with
/// its histogram log): interval by interval the sums of the shards' lines
/// exactly, the latency of the merged interval histograms, and within one
/// operation per instance what one run of the same total saw; bad
/// combinations are usage errors that write nothing.
fn merged_timeline(
    files: &[TempPath],
    timelines: &[TempPath],
    logs: &[TempPath],
    whole_timeline: &TempPath,
) {
    let (results, timeline, log) = (
        TempPath::new("merged-results"),
        TempPath::new("merged-timeline"),
        TempPath::new("merged-hlog"),
    );
    // In any shard order; each shard's files after its results file.
    let mut merge = runner().arg("merge");
    for index in [1, 2, 0] {
        merge = merge
            .arg(files[index].arg())
            .arg(logs[index].arg())
            .arg(timelines[index].arg());
    }
    merge
        .arg("--test-results")
        .arg(results.arg())
        .arg("--timeline")
        .arg(timeline.arg())
        .arg("--histogram-log")
        .arg(log.arg())
        .ok();
    let merged = timeline_lines(&timeline);
    let shards: Vec<Vec<serde_json::Value>> = timelines.iter().map(timeline_lines).collect();
    let whole = timeline_lines(whole_timeline);
    let intervals = shards.iter().map(Vec::len).max().unwrap();
    assert_eq!(merged.len(), intervals, "{merged:?}");
    assert!(intervals >= 2, "{merged:?}");
    let of = |line: &serde_json::Value, key: &str| line[key].as_u64().unwrap_or(0);
    for (index, line) in merged.iter().enumerate() {
        let parts: Vec<&serde_json::Value> =
            shards.iter().filter_map(|shard| shard.get(index)).collect();
        assert_eq!(line["interval"], index as u64);
        assert_eq!(line["phase"], "run");
        assert_eq!(line["final"], index + 1 == intervals);
        let sum = |key: &str| parts.iter().map(|part| of(part, key)).sum::<u64>();
        assert_eq!(of(line, "operations"), sum("operations"), "{line}");
        let totals: u64 = shards
            .iter()
            .map(|shard| {
                of(
                    shard.get(index).or(shard.last()).unwrap(),
                    "total_operations",
                )
            })
            .sum();
        assert_eq!(of(line, "total_operations"), totals, "{line}");
        if parts.len() == shards.len() {
            assert_eq!(of(line, "rss_bytes"), sum("rss_bytes"), "{line}");
        }
        let latency = |part: &serde_json::Value, key: &str| part["latency_ms"][key].as_f64();
        assert_eq!(
            line["latency_ms"]["count"].as_u64().unwrap(),
            parts
                .iter()
                .map(|part| part["latency_ms"]["count"].as_u64().unwrap())
                .sum::<u64>()
        );
        // The merged histogram's maximum is the largest shard's, exactly.
        let max = parts
            .iter()
            .filter_map(|part| latency(part, "max"))
            .fold(0.0, f64::max);
        assert_eq!(latency(line, "max"), Some(max), "{line}");
        // Recomputed from the summed operations.
        let seconds =
            line["end_seconds"].as_f64().unwrap() - line["start_seconds"].as_f64().unwrap();
        if seconds >= 0.001 {
            let rate = line["operations_per_second"].as_f64().unwrap();
            assert_close(rate, of(line, "operations") as f64 / seconds, 1e-9, "rate");
        }
        // SleepTest at 100 ms: 5 operations per instance in a whole
        // interval of 0.5 s, as the unsharded run saw; each instance's
        // operation due at a boundary may fall on either side of it, in
        // each of the two runs independently (so up to 6 each way apart).
        if let Some(one_run) = whole.get(index) {
            let (merged_ops, whole_ops) = (of(line, "operations"), of(one_run, "operations"));
            assert!(merged_ops.abs_diff(whole_ops) <= 12, "{line} vs {one_run}");
            if !line["final"].as_bool().unwrap() {
                assert!(merged_ops.abs_diff(30) <= 6, "{line}");
            }
        }
    }
    let json = results.json();
    assert_eq!(
        merged.last().unwrap()["total_operations"],
        json["total_operations"]
    );
    // The merged interval log: one histogram a merged interval, together
    // the merged run's.
    let text = std::fs::read_to_string(log.path()).unwrap();
    let histograms = text
        .lines()
        .filter(|line| line.starts_with(|c: char| c.is_ascii_digit()))
        .count();
    assert_eq!(histograms, intervals, "{text}");

    // A timeline of another run (the unsharded one), a shard without its
    // timeline, a timeline without its histogram log, an unreadable file:
    // usage errors naming the cause, and no output written.
    let expect_usage = |args: Vec<&str>, message: &str| {
        let output_path = TempPath::new("merged-refused");
        let mut merge = runner().arg("merge");
        for arg in args {
            merge = merge.arg(arg);
        }
        let output = merge
            .arg("--timeline")
            .arg(output_path.arg())
            .outcome(Outcome::Usage);
        assert!(output.stderr.contains(message), "{}", output.dump());
        assert!(!output_path.exists());
    };
    let (f, t, l) = (
        |i: usize| files[i].arg(),
        |i: usize| timelines[i].arg(),
        |i: usize| logs[i].arg(),
    );
    expect_usage(
        vec![
            f(0),
            whole_timeline.arg(),
            l(0),
            f(1),
            t(1),
            l(1),
            f(2),
            t(2),
            l(2),
        ],
        "is not the timeline of",
    );
    expect_usage(
        vec![f(0), t(0), l(0), f(1), l(1), f(2), t(2), l(2)],
        "2 of 3 shards come with a timeline",
    );
    expect_usage(
        vec![f(0), t(0), f(1), t(1), f(2), t(2)],
        "give each shard's --histogram-log file",
    );
    expect_usage(
        vec![t(0), f(0), f(1), f(2)],
        "give it after its shard's results file",
    );
    expect_usage(
        vec![
            f(0),
            t(0),
            l(0),
            f(1),
            t(1),
            l(1),
            f(2),
            t(2),
            "/nonexistent/h.hlog",
        ],
        "cannot read /nonexistent/h.hlog",
    );
}

/// A coordinator's options set by environment (a framework option's
/// `PERFSTRESS_*`, a test option's `env`) reach hosts that do not have
/// them, and win over the hosts' own variables: SleepTest's ops are those
/// of the coordinator's 0.5 s at 100 ms per sleep, not of the hosts' 3 s
/// at 1 s.
#[test]
fn hosts_follow_the_coordinators_environment() {
    let _timing = timing_sensitive();
    let address = free_address();
    let results = TempPath::new("hosts-env");
    let coordinating = systemperf("SleepTest")
        .option("--listen", &address)
        .option("--hosts", 2)
        .option("--join-timeout", 20)
        .env("PERFSTRESS_JOIN_TOKEN", TOKEN)
        .env("PERFSTRESS_DURATION", "1")
        .env("SYSTEMPERF_INITIAL_DELAY_MS", "100")
        .parallel(2)
        .warmup(0)
        .results(&results)
        .timeout(Duration::from_secs(60))
        .start();
    let plain = host(&address, 2, TOKEN).start();
    let own = host(&address, 3, TOKEN)
        .env("PERFSTRESS_DURATION", "3")
        .env("SYSTEMPERF_INITIAL_DELAY_MS", "1000")
        .start();
    let output = coordinating.finish();
    output.assert_outcome(Outcome::Success);
    plain.finish().assert_outcome(Outcome::Success);
    own.finish().assert_outcome(Outcome::Success);
    let json = results.json();
    for host in json["hosts"].as_array().unwrap() {
        let operations = host["total_operations"].as_u64().unwrap();
        assert!((10..=11).contains(&operations), "{host}");
    }
}

/// The results of `SleepTest -d 1` (100 ms sleeps) over `parallel`
/// instances, wherever they ran: every parallel index once, in order, and
/// each instance 10 sleeps in the second (and one more due exactly at the
/// deadline that may start before it).
pub(crate) fn assert_one_second_of_sleeps(json: &serde_json::Value, parallel: u64) {
    let instances = json["instances"].as_array().unwrap();
    let indexes: Vec<u64> = instances
        .iter()
        .map(|instance| instance["parallel_index"].as_u64().unwrap())
        .collect();
    assert_eq!(indexes, (0..parallel).collect::<Vec<_>>(), "{json}");
    for instance in instances {
        let operations = instance["completed_operations"].as_u64().unwrap();
        assert!((10..=11).contains(&operations), "{json}");
    }
}
