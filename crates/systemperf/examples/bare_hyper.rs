//! The baseline of the HTTP transport benchmark: hyper's pooled client in a
//! bare loop, without the framework. `TASKS` tokio tasks (each with its own
//! client, like `HttpGetTest`'s instances) GET the URL in a loop; after
//! `WARMUP` seconds the requests of the next `SECONDS` are counted, with the
//! process's CPU time over those seconds. Prints one JSON line.
//!
//! `cargo run --release -p systemperf --example bare_hyper -- <tasks> <seconds> [url] [warmup] [yield-ms]`
//!
//! Without a URL (or with `embedded`) it starts systemperf's embedded server.
//! With `yield-ms` > 0 each task also yields to the runtime when that many
//! milliseconds have passed since its last yield, as perfstress's async
//! loop does every 1 ms (so that an instance that never waits cannot
//! starve the others); 0, the default, never yields.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Empty};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use perfstress::metrics::process_cpu_time;
use systemperf::EmbeddedServer;

/// A counter on a cache line of its own: one writer, read at two moments.
#[repr(align(128))]
#[derive(Default)]
struct Counter(AtomicU64);

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let tasks: usize = args.get(1).and_then(|a| a.parse().ok()).unwrap_or(1);
    let seconds: f64 = args.get(2).and_then(|a| a.parse().ok()).unwrap_or(5.0);
    let url = args.get(3).cloned().filter(|url| url != "embedded");
    let warmup: f64 = args.get(4).and_then(|a| a.parse().ok()).unwrap_or(2.0);
    let yield_interval = args
        .get(5)
        .and_then(|a| a.parse::<f64>().ok())
        .filter(|ms| *ms > 0.0)
        .map(|ms| Duration::from_secs_f64(ms / 1000.0));

    let server = url
        .is_none()
        .then(|| EmbeddedServer::start(16).expect("embedded server"));
    let url = url.unwrap_or_else(|| {
        server
            .as_ref()
            .map(|s| s.url().to_owned())
            .unwrap_or_default()
    });
    let uri: http::Uri = url.parse().expect("an http:// URL");

    // The framework's runtime: tokio's default multi-thread runtime.
    let runtime = tokio::runtime::Runtime::new().expect("a tokio runtime");
    let stop = Arc::new(AtomicBool::new(false));
    let counters: Arc<Vec<Counter>> = Arc::new((0..tasks).map(|_| Counter::default()).collect());
    let handles: Vec<_> = (0..tasks)
        .map(|task| {
            let (stop, counters, uri) = (stop.clone(), counters.clone(), uri.clone());
            runtime.spawn(async move {
                let mut connector = HttpConnector::new();
                connector.set_nodelay(true);
                let client: Client<_, Empty<Bytes>> =
                    Client::builder(TokioExecutor::new()).build(connector);
                let counter = &counters[task].0;
                let mut last_yield = Instant::now();
                while !stop.load(Ordering::Relaxed) {
                    let response = client.get(uri.clone()).await.expect("GET");
                    assert!(
                        response.status().is_success(),
                        "status {}",
                        response.status()
                    );
                    let mut body = response.into_body();
                    while let Some(frame) = body.frame().await {
                        frame.expect("body");
                    }
                    counter.store(counter.load(Ordering::Relaxed) + 1, Ordering::Relaxed);
                    if let Some(interval) = yield_interval {
                        let now = Instant::now();
                        if now.duration_since(last_yield) >= interval {
                            last_yield = now;
                            tokio::task::yield_now().await;
                        }
                    }
                }
            })
        })
        .collect();

    let total = || {
        counters
            .iter()
            .map(|c| c.0.load(Ordering::Relaxed))
            .sum::<u64>()
    };
    std::thread::sleep(Duration::from_secs_f64(warmup));
    let (before, start, cpu_before) = (total(), Instant::now(), process_cpu_time());
    std::thread::sleep(Duration::from_secs_f64(seconds));
    let (after, elapsed) = (total(), start.elapsed().as_secs_f64());
    let cpu_seconds = match (cpu_before, process_cpu_time()) {
        (Some(before), Some(after)) => after.saturating_sub(before).as_secs_f64(),
        _ => f64::NAN,
    };
    stop.store(true, Ordering::Relaxed);
    for handle in handles {
        runtime.block_on(handle).expect("task");
    }
    drop(runtime);
    if let Some(server) = server {
        server.stop();
    }
    let requests = after - before;
    println!(
        "{{\"tasks\":{tasks},\"seconds\":{elapsed:.3},\"requests\":{requests},\"requests_per_second\":{:.1},\"cpu_seconds\":{cpu_seconds:.3}}}",
        requests as f64 / elapsed
    );
}
