//! Multi-process runs: how instances are spread, merged results, and what
//! happens when a worker process or the runner itself dies.

use std::time::Duration;

use crate::common::*;

/// `-p 3 --processes 2`: 2 + 1 instances; `--processes 8 -p 3`: at most
/// one process per instance. The results file merges every process's
/// instances, in parallel-index order.
#[test]
fn instances_are_spread_and_results_merged() {
    let _timing = timing_sensitive();
    let results = TempPath::new("spread");
    let output = systemperf("SleepTest")
        .option("--initial-delay-ms", 100)
        .parallel(3)
        .processes(2)
        .duration(1)
        .warmup(0)
        .results(&results)
        .ok();
    assert!(
        output.section("Options")[0].contains("parallel 3 over 2 processes"),
        "{}",
        output.dump()
    );
    let json = results.json();
    assert_eq!(json["processes"], 2);
    assert_eq!(json["parallel"], 3);
    let instances = json["instances"].as_array().unwrap();
    let indexes: Vec<u64> = instances
        .iter()
        .map(|instance| instance["parallel_index"].as_u64().unwrap())
        .collect();
    assert_eq!(indexes, [0, 1, 2]);
    let total: u64 = instances
        .iter()
        .map(|instance| instance["completed_operations"].as_u64().unwrap())
        .sum();
    assert_eq!(json["total_operations"].as_u64(), Some(total));
    // 3 x 10, and one more each whose operation due exactly at the
    // deadline (SleepTest's schedule is absolute) started before it.
    assert!((27..=33).contains(&total), "3 x 10 operations: {json}");
    assert_eq!(output.results("Tests").total, total);

    let output = systemperf("SleepTest")
        .option("--initial-delay-ms", 50)
        .parallel(3)
        .processes(8)
        .duration(0.2)
        .warmup(0)
        .ok();
    assert!(
        output.section("Options")[0].contains("parallel 3 over 3 processes"),
        "{}",
        output.dump()
    );
}

/// A worker process killed with SIGKILL: reported by index and signal; the
/// other worker stops promptly and cleans up; exit 1; no results file.
#[test]
fn a_dead_worker_process_is_reported_and_the_others_clean_up() {
    let results = TempPath::stale("dead-worker");
    let mut child = systemperf("LogTest")
        .option("--delay-ms", 100)
        .parallel(3)
        .processes(2)
        .duration(30)
        .warmup(0)
        .results(&results)
        .start();
    // Instance 2 is worker process 1's only instance.
    let line = child.wait_for(Duration::from_secs(10), |line| {
        line.ends_with("parallel index 2: new")
    });
    let victim = log_calls(&line)[0].pid;
    child.wait_for_status_line(Duration::from_secs(5));
    send_signal(victim, libc::SIGKILL);
    let output = child.finish();
    output.assert_outcome(Outcome::Failed);
    let dump = output.dump();
    assert!(
        output.elapsed < Duration::from_secs(5),
        "stopped promptly\n{dump}"
    );
    let error = output
        .stderr
        .lines()
        .find(|line| line.starts_with("error:"))
        .unwrap_or_else(|| panic!("the death is reported\n{dump}"));
    for needle in [
        "LogTest",
        "worker process 1",
        &format!("pid {victim}"),
        "parallel indexes 2..=2",
        "SIGKILL",
    ] {
        assert!(error.contains(needle), "{error:?} should name {needle:?}");
    }
    // The survivors (instances 0 and 1, worker process 0) cleaned up.
    let calls = output.log_calls();
    for (index, name) in [
        (0, "cleanup"),
        (1, "cleanup"),
        (0, "global_cleanup"),
        (0, "close"),
        (1, "close"),
    ] {
        assert!(
            calls
                .iter()
                .any(|call| call.index == index && call.name() == name),
            "{name} of instance {index}\n{dump}"
        );
    }
    assert!(
        calls.iter().all(|call| call.index != 2
            || call.name() == "new"
            || call.name() == "global_setup"
            || call.name() == "setup"
            || call.name().starts_with("run_")),
        "the dead worker did nothing after its death\n{dump}"
    );
    assert!(!results.exists(), "no results file\n{dump}");
}

/// The runner killed with SIGKILL (it cannot clean up): its workers notice,
/// clean up and close their instances, and exit; none outlives it.
#[test]
fn worker_processes_clean_up_when_the_runner_dies() {
    let mut child = systemperf("LogTest")
        .option("--delay-ms", 100)
        .parallel(2)
        .processes(2)
        .duration(30)
        .warmup(0)
        .start();
    let workers = wait_for_workers(&mut child, 2);
    child.wait_for_status_line(Duration::from_secs(5));
    child.signal(libc::SIGKILL);
    // Stdout closes once every worker has exited too.
    assert!(
        child.wait_for_eof(Duration::from_secs(10)),
        "worker processes still hold stdout 10 s after the runner died"
    );
    let output = child.finish();
    assert_eq!(
        output.code, None,
        "the runner was killed: {:?}",
        output.status
    );
    for worker in &workers {
        assert!(
            !process_is_running(*worker),
            "worker {worker} outlived the runner"
        );
    }
    let calls = output.log_calls();
    for index in 0..2 {
        for name in ["cleanup", "global_cleanup", "close"] {
            assert!(
                calls
                    .iter()
                    .any(|call| call.index == index && call.name() == name),
                "{name} of instance {index}\n{}",
                output.dump()
            );
        }
    }
}
