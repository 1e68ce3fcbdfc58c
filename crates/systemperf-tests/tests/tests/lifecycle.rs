//! The order of lifecycle calls, as LogTest prints them.

use crate::common::*;

/// Where each call of `name` by instance `index` happened in `calls`.
fn positions(calls: &[LogCall], name: &str, index: usize) -> Vec<usize> {
    calls
        .iter()
        .enumerate()
        .filter(|(_, call)| call.name() == name && call.index == index)
        .map(|(position, _)| position)
        .collect()
}

/// Where every call of `name` (any instance) happened.
fn all_positions(calls: &[LogCall], name: &str) -> Vec<usize> {
    calls
        .iter()
        .enumerate()
        .filter(|(_, call)| call.name() == name)
        .map(|(position, _)| position)
        .collect()
}

/// The names of the calls LogTest printed in `stage`.
fn calls_in(output: &Output, stage: &str) -> Vec<String> {
    log_calls(&output.section(stage).join("\n"))
        .iter()
        .map(|call| call.name().to_owned())
        .collect()
}

/// Checks a whole successful run of `parallel` instances: construction,
/// global setup once, setup, runs, then (unless `no_cleanup`) cleanup and
/// global cleanup once, and close last.
fn check_order(output: &Output, parallel: usize, run_name: &str, no_cleanup: bool) {
    let calls = output.log_calls();
    let dump = || format!("{calls:#?}\n{}", output.dump());
    assert!(!calls.is_empty(), "{}", dump());
    assert!(
        calls.iter().all(|call| call.pid == output.pid),
        "everything runs in the runner's process: {}",
        dump()
    );

    // Every instance is created first, in parallel-index order.
    for (position, call) in calls.iter().take(parallel).enumerate() {
        assert_eq!(
            (call.index, call.call.as_str()),
            (position, "new"),
            "{}",
            dump()
        );
    }
    assert_eq!(all_positions(&calls, "new").len(), parallel, "{}", dump());

    // Global setup once, on instance 0, after every `new`, before any setup.
    let global_setup = all_positions(&calls, "global_setup");
    assert_eq!(global_setup, [parallel], "{}", dump());
    assert_eq!(calls[parallel].index, 0);
    let first_run = all_positions(&calls, run_name)[0];
    for index in 0..parallel {
        let setup = positions(&calls, "setup", index);
        assert_eq!(setup.len(), 1, "setup of {index}: {}", dump());
        assert!(
            setup[0] > global_setup[0] && setup[0] < first_run,
            "{}",
            dump()
        );
    }

    // Runs: each instance counts its iterations 1, 2, 3, ...
    let mut last_runs = Vec::new();
    for index in 0..parallel {
        let runs = positions(&calls, run_name, index);
        assert!(runs.len() >= 2, "instance {index} ran: {}", dump());
        for (iteration, position) in (1..).zip(&runs) {
            assert_eq!(
                calls[*position].call,
                format!("{run_name} {iteration}"),
                "{}",
                dump()
            );
        }
        last_runs.push(*runs.last().unwrap());
    }
    let last_run = *last_runs.iter().max().unwrap();
    let other_variant = if run_name == "run_sync" {
        "run_async"
    } else {
        "run_sync"
    };
    assert!(
        all_positions(&calls, other_variant).is_empty(),
        "{}",
        dump()
    );

    // Cleanup on every instance after every run, global cleanup once after
    // every cleanup; or neither with --no-cleanup.
    let cleanups = all_positions(&calls, "cleanup");
    let global_cleanup = all_positions(&calls, "global_cleanup");
    if no_cleanup {
        assert!(
            cleanups.is_empty() && global_cleanup.is_empty(),
            "{}",
            dump()
        );
    } else {
        for index in 0..parallel {
            let cleanup = positions(&calls, "cleanup", index);
            assert_eq!(cleanup.len(), 1, "cleanup of {index}: {}", dump());
            assert!(cleanup[0] > last_run, "{}", dump());
        }
        assert_eq!(global_cleanup.len(), 1, "{}", dump());
        assert_eq!(calls[global_cleanup[0]].index, 0);
        assert!(
            global_cleanup[0] > *cleanups.iter().max().unwrap(),
            "{}",
            dump()
        );
    }

    // Close last, on every instance.
    let closes = all_positions(&calls, "close");
    assert_eq!(closes.len(), parallel, "{}", dump());
    let expected: Vec<usize> = (calls.len() - parallel..calls.len()).collect();
    assert_eq!(closes, expected, "close comes last: {}", dump());
    for index in 0..parallel {
        assert_eq!(positions(&calls, "close", index).len(), 1, "{}", dump());
    }

    // And each call is printed in its stage.
    let setup_calls = calls_in(output, "Setup");
    assert_eq!(setup_calls.len(), 2 * parallel + 1, "{}", dump());
    assert!(
        setup_calls
            .iter()
            .all(|name| ["new", "global_setup", "setup"].contains(&name.as_str())),
        "{}",
        dump()
    );
    assert!(
        calls_in(output, "Tests")
            .iter()
            .all(|name| name == run_name),
        "{}",
        dump()
    );
    let cleanup_calls = calls_in(output, "Cleanup");
    let expected_cleanup = if no_cleanup {
        parallel
    } else {
        2 * parallel + 1
    };
    assert_eq!(cleanup_calls.len(), expected_cleanup, "{}", dump());
}

/// `LogTest --delay-ms 50 -p PARALLEL` in one process (so that the order of
/// calls is deterministic).
fn log_test(parallel: usize) -> Run {
    systemperf("LogTest")
        .processes(1)
        .parallel(parallel)
        .option("--delay-ms", 50)
}

#[test]
fn lifecycle_order_async() {
    let output = log_test(2).duration(0.5).warmup(0).ok();
    check_order(&output, 2, "run_async", false);
}

#[test]
fn lifecycle_order_sync() {
    let output = log_test(3).duration(0.5).warmup(0).sync(true).ok();
    check_order(&output, 3, "run_sync", false);
}

#[test]
fn no_cleanup_skips_cleanup_but_closes() {
    let output = log_test(2).duration(0.3).warmup(0).arg("--no-cleanup").ok();
    check_order(&output, 2, "run_async", true);
    // The stages are still all printed.
    assert!(output.stages().contains(&"=== Pre Cleanup ==="));
    assert!(output.stages().contains(&"=== Cleanup ==="));
}

/// The same instances run the warm-up and the timed run: their iteration
/// numbers continue, and setup is not repeated.
#[test]
fn warmup_and_run_share_instances() {
    let output = log_test(2).warmup(0.3).duration(0.3).ok();
    check_order(&output, 2, "run_async", false);
    let warmup = log_calls(&output.section("Warmup").join("\n"));
    let tests = log_calls(&output.section("Tests").join("\n"));
    for index in 0..2 {
        let warmup_runs = warmup.iter().filter(|call| call.index == index).count();
        let first_timed = tests
            .iter()
            .find(|call| call.index == index)
            .unwrap_or_else(|| panic!("instance {index} ran in Tests\n{}", output.dump()));
        assert!(warmup_runs >= 2, "{}", output.dump());
        assert_eq!(first_timed.call, format!("run_async {}", warmup_runs + 1));
    }
}

/// `-p 3 --processes 2`: instances 0 and 1 in one worker process, 2 in
/// another. Global setup and global cleanup run once per process, on its
/// first instance; the stages are barriers across processes (every setup
/// before any operation, every operation before any cleanup).
#[test]
fn lifecycle_per_process() {
    let output = systemperf("LogTest")
        .parallel(3)
        .processes(2)
        .duration(0.5)
        .warmup(0)
        .option("--delay-ms", 50)
        .ok();
    assert!(
        output.section("Options")[0].contains("parallel 3 over 2 processes"),
        "{}",
        output.dump()
    );
    let calls = output.log_calls();
    let dump = || format!("{calls:#?}\n{}", output.dump());
    let pid_of = |index: usize| {
        calls
            .iter()
            .find(|call| call.index == index)
            .map(|call| call.pid)
            .unwrap_or_else(|| panic!("instance {index} ran: {}", dump()))
    };
    let (first, second) = (pid_of(0), pid_of(2));
    assert_eq!(pid_of(1), first, "instances 0 and 1 share a process");
    assert_ne!(first, second, "instance 2 has a process of its own");
    assert!(
        first != output.pid && second != output.pid,
        "workers, not the parent"
    );
    for call in &calls {
        let expected = if call.index == 2 { second } else { first };
        assert_eq!(call.pid, expected, "{call:?} in its process: {}", dump());
    }

    for (pid, indexes) in [(first, &[0, 1][..]), (second, &[2][..])] {
        let mine: Vec<&LogCall> = calls.iter().filter(|call| call.pid == pid).collect();
        let names = |name: &str| -> Vec<usize> {
            mine.iter()
                .filter(|call| call.name() == name)
                .map(|call| call.index)
                .collect()
        };
        assert_eq!(names("new"), indexes, "{}", dump());
        assert_eq!(names("global_setup"), [indexes[0]], "{}", dump());
        assert_eq!(names("global_cleanup"), [indexes[0]], "{}", dump());
        let mut setups = names("setup");
        setups.sort();
        assert_eq!(setups, indexes, "{}", dump());
        let mut closes = names("close");
        closes.sort();
        assert_eq!(closes, indexes, "{}", dump());
        // In this process: new..., global_setup, setups, runs, cleanups,
        // global_cleanup, closes.
        let order: Vec<&str> = mine.iter().map(|call| call.name()).collect();
        let rank = |name: &str| match name {
            "new" => 0,
            "global_setup" => 1,
            "setup" => 2,
            "run_async" => 3,
            "cleanup" => 4,
            "global_cleanup" => 5,
            "close" => 6,
            other => panic!("unexpected call {other}"),
        };
        assert!(
            order.windows(2).all(|pair| rank(pair[0]) <= rank(pair[1])),
            "process {pid}: {order:?}"
        );
    }

    // The stages are barriers across the processes.
    let position = |name: &str, last: bool| {
        let mut found = calls
            .iter()
            .enumerate()
            .filter(|(_, call)| call.name() == name)
            .map(|(position, _)| position);
        if last {
            found.next_back()
        } else {
            found.next()
        }
        .expect("the call happened")
    };
    assert!(
        position("setup", true) < position("run_async", false),
        "{}",
        dump()
    );
    assert!(
        position("run_async", true) < position("cleanup", false),
        "{}",
        dump()
    );
    // Every instance kept counting its own iterations.
    for index in 0..3 {
        let runs: Vec<&str> = calls
            .iter()
            .filter(|call| call.index == index && call.name() == "run_async")
            .map(|call| call.call.as_str())
            .collect();
        assert!(runs.len() >= 5, "{}", dump());
        for (iteration, run) in (1..).zip(&runs) {
            assert_eq!(*run, format!("run_async {iteration}"));
        }
    }
}
