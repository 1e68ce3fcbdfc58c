//! Benchmarks of the stream utilities, each against a baseline from the
//! same run (see BENCHMARKS.md, "Streams"):
//!
//! - throughput of reading `RandomStream`, `AsyncRandomStream` (tokio
//!   `AsyncRead`) and its zero-copy `Stream<Bytes>` into a `WriteStream`,
//!   against a plain memcpy of the same bytes from the shared buffer into a
//!   64 KiB destination (the read chunk), for 1 KiB, 1 MiB and 1 GiB;
//! - peak memory (VmHWM) of 64 streams of 1 GiB read at once, measured in a
//!   child process of its own so the throughput runs don't pollute it.
//!
//! `cargo bench -p perfstress --bench streams -- [ROUNDS]` (median of ROUNDS,
//! default 5). Internal: `-- memory sync|async` runs one memory measurement.

use std::hint::black_box;
use std::io::{Read, Write};
use std::process::Command;
use std::time::{Duration, Instant};

use futures::StreamExt;
use perfstress::streams::{RANDOM_BUFFER_LEN, fill_random, random_buffer};
use perfstress::{AsyncRandomStream, RandomStream, WriteStream, get_random_bytes};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

// `WriteStream` is both `Write` and `AsyncWrite`, as `Vec<u8>` is: the
// calls below name the trait where both are in scope.

const KIB: u64 = 1024;
const MIB: u64 = 1024 * KIB;
const GIB: u64 = 1024 * MIB;
/// The read chunk of every copying variant and the memcpy baseline.
const CHUNK: usize = 64 * 1024;
/// How long one measurement of one variant runs (at least one iteration).
const TARGET: Duration = Duration::from_millis(300);
const MEMORY_STREAMS: usize = 64;
const MEMORY_LENGTH: u64 = GIB;

fn main() {
    let all: Vec<String> = std::env::args().skip(1).collect();
    // `cargo bench` passes --bench; `cargo test --all-targets` runs bench
    // targets without it, as a smoke test: this one takes minutes, so it
    // only says how to run it.
    let is_memory_child = all.first().map(String::as_str) == Some("memory");
    if !is_memory_child && !all.iter().any(|arg| arg == "--bench") {
        println!("streams benchmark: run it with `cargo bench -p perfstress --bench streams`");
        return;
    }
    let args: Vec<String> = all.into_iter().filter(|arg| arg != "--bench").collect();
    if args.first().map(String::as_str) == Some("memory") {
        memory_child(args.get(1).map(String::as_str) == Some("async"));
        return;
    }
    let rounds: usize = args.first().and_then(|arg| arg.parse().ok()).unwrap_or(5);
    print_machine();
    throughput(rounds);
    random_bytes(rounds);
    memory(rounds);
}

fn print_machine() {
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let model = cpuinfo
        .lines()
        .find_map(|line| line.strip_prefix("model name"))
        .map(|rest| rest.trim_start_matches([' ', '\t', ':']).to_string())
        .unwrap_or_else(|| "unknown".into());
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    println!("machine: {cores} cores, {model}");
}

/// Bytes per second of `run_once` (which processes `bytes` per call), run
/// repeatedly for about `TARGET`.
fn rate(bytes: u64, mut run_once: impl FnMut()) -> f64 {
    let started = Instant::now();
    let mut iterations = 0u64;
    while iterations == 0 || started.elapsed() < TARGET {
        run_once();
        iterations += 1;
    }
    (bytes * iterations) as f64 / started.elapsed().as_secs_f64()
}

/// `rate` for async work: the whole timing loop runs inside one
/// `block_on`, so the runtime's entry cost is not charged per iteration.
async fn rate_async(bytes: u64, mut run_once: impl AsyncFnMut()) -> f64 {
    let started = Instant::now();
    let mut iterations = 0u64;
    while iterations == 0 || started.elapsed() < TARGET {
        run_once().await;
        iterations += 1;
    }
    (bytes * iterations) as f64 / started.elapsed().as_secs_f64()
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

/// The baseline: copy `length` bytes from the shared buffer, wrapping like
/// the streams do, into a `CHUNK`-byte destination.
fn memcpy(length: u64, destination: &mut [u8]) {
    let source = random_buffer();
    let mut copied = 0u64;
    while copied < length {
        let offset = (copied % RANDOM_BUFFER_LEN as u64) as usize;
        let len = (RANDOM_BUFFER_LEN - offset)
            .min(destination.len())
            .min((length - copied) as usize);
        destination[..len].copy_from_slice(&source[offset..offset + len]);
        black_box(&mut *destination);
        copied += len as u64;
    }
}

fn sync_read(stream: &mut RandomStream, buffer: &mut [u8], sink: &mut WriteStream) {
    stream.reset();
    loop {
        let read = stream.read(buffer).unwrap();
        if read == 0 {
            break;
        }
        Write::write_all(sink, black_box(&buffer[..read])).unwrap();
    }
}

async fn async_read(stream: &mut AsyncRandomStream, buffer: &mut [u8], sink: &mut WriteStream) {
    stream.reset();
    loop {
        let read = stream.read(buffer).await.unwrap();
        if read == 0 {
            break;
        }
        AsyncWriteExt::write_all(sink, black_box(&buffer[..read]))
            .await
            .unwrap();
    }
}

async fn stream_chunks(stream: &mut AsyncRandomStream, sink: &mut WriteStream) {
    stream.reset();
    while let Some(chunk) = stream.next().await {
        Write::write_all(sink, black_box(&chunk.unwrap())).unwrap();
    }
}

fn throughput(rounds: usize) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let mut buffer = vec![0u8; CHUNK];
    println!();
    println!(
        "| length | memcpy (baseline) | RandomStream read | AsyncRandomStream read | Stream<Bytes> chunks |"
    );
    println!("|---|---|---|---|---|");
    for (label, length) in [("1 KiB", KIB), ("1 MiB", MIB), ("1 GiB", GIB)] {
        let mut samples: [Vec<f64>; 4] = Default::default();
        let mut sink = WriteStream::new();
        let mut sync_stream = RandomStream::new(length);
        let mut async_stream = AsyncRandomStream::new(length);
        // Interleaved, so a burst of load from other work hits every variant.
        for _ in 0..rounds {
            samples[0].push(rate(length, || memcpy(length, &mut buffer)));
            samples[1].push(rate(length, || {
                sync_read(&mut sync_stream, &mut buffer, &mut sink)
            }));
            samples[2].push(runtime.block_on(rate_async(length, async || {
                async_read(&mut async_stream, &mut buffer, &mut sink).await
            })));
            samples[3].push(runtime.block_on(rate_async(length, async || {
                stream_chunks(&mut async_stream, &mut sink).await
            })));
        }
        // Every variant must really have read every byte.
        assert_eq!(sink.written() % length, 0);
        let [baseline, sync, asynchronous, chunks] = samples.map(median);
        println!(
            "| {label} | {} | {} ({:.2}x) | {} ({:.2}x) | {} ({:.2}x) |",
            gbps(baseline),
            gbps(sync),
            sync / baseline,
            gbps(asynchronous),
            asynchronous / baseline,
            gbps(chunks),
            chunks / baseline,
        );
    }
    println!(
        "(GB/s = 1e9 bytes/s; (Nx) = throughput / memcpy baseline, >1 is faster; median of {rounds})"
    );
}

fn gbps(bytes_per_second: f64) -> String {
    format!("{:.2} GB/s", bytes_per_second / 1e9)
}

fn random_bytes(rounds: usize) {
    let length = 64 * MIB;
    let source = vec![1u8; length as usize];
    let mut destination = vec![0u8; length as usize];
    let mut samples: [Vec<f64>; 4] = Default::default();
    for _ in 0..rounds {
        // A fresh allocation each time (page faults included), against
        // allocating and memcpy-ing the same amount.
        samples[0].push(rate(length, || {
            black_box(get_random_bytes(length as usize));
        }));
        samples[1].push(rate(length, || {
            let mut fresh = vec![0u8; length as usize];
            fresh.copy_from_slice(&source);
            black_box(&mut fresh);
        }));
        // Into memory that already exists: the generator's own speed.
        samples[2].push(rate(length, || fill_random(black_box(&mut destination))));
        samples[3].push(rate(length, || {
            destination.copy_from_slice(&source);
            black_box(&mut destination);
        }));
    }
    let [fresh, fresh_copy, fill, copy] = samples.map(median);
    println!();
    println!("| 64 MiB of random bytes | rate | baseline (same run) | ratio |");
    println!("|---|---|---|---|");
    println!(
        "| get_random_bytes (new Vec) | {} | allocate + memcpy: {} | {:.2}x |",
        gbps(fresh),
        gbps(fresh_copy),
        fresh / fresh_copy
    );
    println!(
        "| fill_random (existing buffer) | {} | memcpy: {} | {:.2}x |",
        gbps(fill),
        gbps(copy),
        fill / copy
    );
}

/// Runs the memory measurement in fresh child processes and prints the median.
fn memory(rounds: usize) {
    let exe = std::env::current_exe().unwrap();
    println!();
    println!(
        "| {MEMORY_STREAMS} streams of 1 GiB at once | VmHWM before | VmHWM after | growth | time |"
    );
    println!("|---|---|---|---|---|");
    for mode in ["sync", "async"] {
        let mut runs: Vec<(u64, u64, f64)> = (0..rounds.min(3))
            .map(|_| {
                let output = Command::new(&exe).args(["memory", mode]).output().unwrap();
                assert!(
                    output.status.success(),
                    "{}",
                    String::from_utf8_lossy(&output.stderr)
                );
                let text = String::from_utf8(output.stdout).unwrap();
                let fields: Vec<f64> = text
                    .split_whitespace()
                    .map(|field| field.parse().unwrap())
                    .collect();
                (fields[0] as u64, fields[1] as u64, fields[2])
            })
            .collect();
        runs.sort_by_key(|(before, after, _)| after - before);
        let (before, after, seconds) = runs[runs.len() / 2];
        let what = match mode {
            "sync" => "RandomStream, 64 threads, io::copy",
            _ => "AsyncRandomStream, 64 tasks, tokio::io::copy",
        };
        println!(
            "| {what} | {:.1} MiB | {:.1} MiB | {:.2} MiB | {seconds:.1} s |",
            before as f64 / MIB as f64,
            after as f64 / MIB as f64,
            (after - before) as f64 / MIB as f64,
        );
    }
}

/// Peak resident memory of this process (VmHWM), in bytes.
fn peak_resident_bytes() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let line = status
        .lines()
        .find(|line| line.starts_with("VmHWM:"))
        .unwrap();
    let kib: u64 = line.split_whitespace().nth(1).unwrap().parse().unwrap();
    kib * 1024
}

/// Child: reads 64 streams of 1 GiB at once, prints
/// `peak_before peak_after seconds`.
fn memory_child(asynchronous: bool) {
    // Everything a run needs exists before the "before" figure: the shared
    // buffer and the runtime with its worker threads.
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .build()
        .unwrap();
    black_box(random_buffer());
    let before = peak_resident_bytes();
    let started = Instant::now();
    let total: u64 = if asynchronous {
        runtime.block_on(async {
            let tasks: Vec<_> = (0..MEMORY_STREAMS)
                .map(|_| {
                    tokio::spawn(async {
                        let mut stream = AsyncRandomStream::new(MEMORY_LENGTH);
                        let mut sink = WriteStream::new();
                        tokio::io::copy(&mut stream, &mut sink).await.unwrap()
                    })
                })
                .collect();
            let mut total = 0;
            for task in tasks {
                total += task.await.unwrap();
            }
            total
        })
    } else {
        let threads: Vec<_> = (0..MEMORY_STREAMS)
            .map(|_| {
                std::thread::spawn(|| {
                    let mut stream = RandomStream::new(MEMORY_LENGTH);
                    let mut sink = WriteStream::new();
                    std::io::copy(&mut stream, &mut sink).unwrap()
                })
            })
            .collect();
        threads
            .into_iter()
            .map(|thread| thread.join().unwrap())
            .sum()
    };
    assert_eq!(total, MEMORY_STREAMS as u64 * MEMORY_LENGTH);
    let seconds = started.elapsed().as_secs_f64();
    println!("{before} {} {seconds}", peak_resident_bytes());
}
