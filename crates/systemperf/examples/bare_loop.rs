//! The baseline of the overhead benchmark: NoOpTest's operation called in a
//! bare loop that polls a stop flag, without the framework. Prints one JSON
//! line with operations, wall seconds and process CPU seconds.
//!
//! `cargo run --release -p systemperf --example bare_loop -- <threads> <seconds> [sync|async]`

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use perfstress::PerfTest;
use perfstress::metrics::process_cpu_time;
use systemperf::NoOpTest;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let threads: usize = args.get(1).and_then(|a| a.parse().ok()).unwrap_or(1);
    let seconds: f64 = args.get(2).and_then(|a| a.parse().ok()).unwrap_or(5.0);
    let mode = args.get(3).map(String::as_str).unwrap_or("sync");
    let stop = Arc::new(AtomicBool::new(false));
    let runtime = tokio::runtime::Runtime::new().expect("a tokio runtime");

    let cpu_before = process_cpu_time().expect("getrusage");
    let start = Instant::now();
    let operations: u64 = if mode == "async" {
        let tasks: Vec<_> = (0..threads)
            .map(|_| {
                let stop = stop.clone();
                runtime.spawn(async move {
                    let mut test = NoOpTest;
                    let mut count = 0u64;
                    while !stop.load(Ordering::Relaxed) {
                        test.run_async().await.expect("no-op");
                        count += 1;
                    }
                    count
                })
            })
            .collect();
        std::thread::sleep(Duration::from_secs_f64(seconds));
        stop.store(true, Ordering::Relaxed);
        runtime.block_on(futures_join(tasks)).into_iter().sum()
    } else {
        let handles: Vec<_> = (0..threads)
            .map(|_| {
                let stop = stop.clone();
                std::thread::spawn(move || {
                    let mut test = NoOpTest;
                    let mut count = 0u64;
                    while !stop.load(Ordering::Relaxed) {
                        test.run_sync().expect("no-op");
                        count += 1;
                    }
                    count
                })
            })
            .collect();
        std::thread::sleep(Duration::from_secs_f64(seconds));
        stop.store(true, Ordering::Relaxed);
        handles.into_iter().map(|h| h.join().expect("thread")).sum()
    };
    let wall = start.elapsed().as_secs_f64();
    let cpu = (process_cpu_time().expect("getrusage") - cpu_before).as_secs_f64();
    println!(
        "{{\"mode\":\"{mode}\",\"threads\":{threads},\"operations\":{operations},\"wall_seconds\":{wall},\"cpu_seconds\":{cpu}}}"
    );
}

async fn futures_join(tasks: Vec<tokio::task::JoinHandle<u64>>) -> Vec<u64> {
    let mut counts = Vec::with_capacity(tasks.len());
    for task in tasks {
        counts.push(task.await.expect("task"));
    }
    counts
}
