#!/usr/bin/env python3
"""Framework benchmarks for BENCHMARKS.md.

Each benchmark runs its baseline in the same invocation, interleaved with
the measured runs, and prints a Markdown table of medians (the machines are
shared and noisy: compare ratios, not bare times).

    python3 scripts/bench.py overhead   [--seconds 5] [--rounds 3]
    python3 scripts/bench.py processes  [--seconds 5] [--rounds 3]
    python3 scripts/bench.py events     [--seconds 5] [--rounds 3]
    python3 scripts/bench.py latency    [--seconds 5] [--rounds 3]
    python3 scripts/bench.py memory     (10 s and 60 s --latency runs)

Builds the release binaries first. Everything runs on this machine only.
"""

import argparse
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TARGET = os.environ.get("CARGO_TARGET_DIR", os.path.join(ROOT, "target"))
SYSTEMPERF = os.path.join(TARGET, "release", "systemperf")
BARE_LOOP = os.path.join(TARGET, "release", "examples", "bare_loop")


def build():
    subprocess.run(
        [
            "cargo", "build", "--release", "-q",
            "-p", "systemperf-tests", "--bin", "systemperf",
            "-p", "systemperf", "--example", "bare_loop",
        ],
        cwd=ROOT,
        check=True,
    )


def machine():
    model = "unknown CPU"
    try:
        with open("/proc/cpuinfo") as cpuinfo:
            for line in cpuinfo:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return f"{os.cpu_count()} CPUs, {model}, {platform.system()} {platform.release()}"


def run_systemperf(args):
    """Runs systemperf with --test-results; returns the results JSON."""
    with tempfile.TemporaryDirectory() as directory:
        path = os.path.join(directory, "results.json")
        subprocess.run([SYSTEMPERF, *args, "--test-results", path], check=True, stdout=subprocess.DEVNULL)
        with open(path) as results:
            return json.load(results)


def bare_loop(threads, seconds, mode):
    output = subprocess.run([BARE_LOOP, str(threads), str(seconds), mode], check=True, capture_output=True, text=True)
    return json.loads(output.stdout)


def cpu_ns_per_op(results):
    return results["cpu_seconds"] * 1e9 / results["total_operations"]


def median(values):
    return statistics.median(values)


def overhead(args):
    print(f"Machine: {machine()}\n")
    print("| mode | -p | bare loop ns/op | NoOpTest ns/op | ratio | NoOpTest ops/s |")
    print("|---|---|---|---|---|---|")
    for mode in ("sync", "async"):
        for parallel in (1, 2):
            bare, framework, rates = [], [], []
            for _ in range(args.rounds):
                result = bare_loop(parallel, args.seconds, mode)
                bare.append(result["cpu_seconds"] * 1e9 / result["operations"])
                flags = ["--sync"] if mode == "sync" else []
                results = run_systemperf(
                    ["NoOpTest", "-d", str(args.seconds), "-w", "1", "-p", str(parallel), "--processes", "1", *flags]
                )
                framework.append(cpu_ns_per_op(results))
                rates.append(results["operations_per_second"])
            b, f = median(bare), median(framework)
            print(f"| {mode} | {parallel} | {b:.3f} | {f:.3f} | {f / b:.2f}x | {median(rates):.3g} |")


def first_status_line_seconds(args):
    """Seconds from starting the command to its first status line."""
    started = time.monotonic()
    process = subprocess.Popen([SYSTEMPERF, *args], stdout=subprocess.PIPE, text=True)
    first = None
    in_status = False
    for line in process.stdout:
        if line.strip().startswith("Current"):
            in_status = True
            continue
        if in_status and first is None:
            first = time.monotonic() - started
    process.wait()
    return first


def processes(args):
    print(f"Machine: {machine()}\n")
    print("| NoOpTest -p 2 | ns/op (CPU) | ops/s | start to first status line | barrier post-setup | barrier pre-cleanup | worker startup |")
    print("|---|---|---|---|---|---|---|")
    for mode in ("sync", "async"):
        for count in (1, 2):
            ns, rates, firsts, post, pre, startup = [], [], [], [], [], []
            flags = ["--sync"] if mode == "sync" else []
            for _ in range(args.rounds):
                results = run_systemperf(
                    ["NoOpTest", "-d", str(args.seconds), "-w", "0", "-p", "2", "--processes", str(count), *flags]
                )
                ns.append(cpu_ns_per_op(results))
                rates.append(results["operations_per_second"])
                coordination = results.get("coordination_seconds", {})
                post.append(coordination.get("barrier_post_setup", 0.0) * 1e3)
                pre.append(coordination.get("barrier_pre_cleanup", 0.0) * 1e3)
                startup.append(coordination.get("startup", 0.0) * 1e3)
                firsts.append(
                    first_status_line_seconds(
                        ["NoOpTest", "-d", "1.5", "-w", "0", "-p", "2", "--processes", str(count), *flags]
                    )
                )
            barrier = lambda values: f"{median(values):.3f} ms" if count > 1 else "n/a"
            print(
                f"| {mode}, --processes {count} | {median(ns):.3f} | {median(rates):.3g} | "
                f"{median(firsts):.3f} s | {barrier(post)} | {barrier(pre)} | {barrier(startup)} |"
            )


def events(args):
    print(f"Machine: {machine()}\n")
    print("| SampleEventTest, unthrottled | events/s | CPU ns per event |")
    print("|---|---|---|")
    for mode in ("sync", "async"):
        for partitions in (1, 8):
            rates, ns = [], []
            flags = ["--sync"] if mode == "sync" else []
            for _ in range(args.rounds):
                results = run_systemperf(
                    [
                        "SampleEventTest",
                        "--partitions",
                        str(partitions),
                        "-d",
                        str(args.seconds),
                        "-w",
                        "1",
                        "--processes",
                        "1",
                        *flags,
                    ]
                )
                rates.append(results["operations_per_second"])
                ns.append(cpu_ns_per_op(results))
            print(f"| {mode}, {partitions} partition(s) | {median(rates):.4g} | {median(ns):.2f} |")


def latency(args):
    print(f"Machine: {machine()}\n")
    print("| NoOpTest -p 1 | without --latency ns/op | with --latency ns/op | added ns/op |")
    print("|---|---|---|---|")
    for mode in ("sync", "async"):
        without, with_latency = [], []
        flags = ["--sync"] if mode == "sync" else []
        for _ in range(args.rounds):
            base = ["NoOpTest", "-d", str(args.seconds), "-w", "1", "-p", "1", "--processes", "1", *flags]
            without.append(cpu_ns_per_op(run_systemperf(base)))
            with_latency.append(cpu_ns_per_op(run_systemperf([*base, "--latency"])))
        a, b = median(without), median(with_latency)
        print(f"| {mode} | {a:.3f} | {b:.3f} | {b - a:.2f} |")


def peak_memory_mib(args):
    """Peak resident memory of a systemperf run, in MiB (measured by a fresh
    interpreter, so no earlier child's peak can mask it)."""
    probe = (
        "import resource, subprocess, sys\n"
        "subprocess.run(sys.argv[1:], check=True, stdout=subprocess.DEVNULL)\n"
        "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)\n"
    )
    output = subprocess.run([sys.executable, "-c", probe, SYSTEMPERF, *args], check=True, capture_output=True, text=True)
    return int(output.stdout.strip()) / 1024


def memory(args):
    print(f"Machine: {machine()}\n")
    print("| NoOpTest -p 1 --latency | operations recorded | peak RSS |")
    print("|---|---|---|")
    for seconds in (10, 60):
        with tempfile.TemporaryDirectory() as directory:
            path = os.path.join(directory, "results.json")
            command = ["NoOpTest", "-d", str(seconds), "-w", "0", "-p", "1", "--processes", "1", "--latency"]
            peak = peak_memory_mib([*command, "--test-results", path])
            with open(path) as results:
                recorded = json.load(results)["latency"]["count"]
        print(f"| -d {seconds} | {recorded:,} | {peak:.1f} MiB |")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("benchmark", choices=["overhead", "processes", "events", "latency", "memory"])
    parser.add_argument("--seconds", type=float, default=5)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    build()
    globals()[args.benchmark](args)


if __name__ == "__main__":
    sys.exit(main())
