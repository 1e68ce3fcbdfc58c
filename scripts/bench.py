#!/usr/bin/env python3
"""Framework benchmarks for BENCHMARKS.md.

Each benchmark runs its baseline in the same invocation, interleaved with
the measured runs, and prints a Markdown table of medians (the machines are
shared and noisy: compare ratios, not bare times).

    python3 scripts/bench.py overhead   [--seconds 5] [--rounds 3] [--baseline BIN]
    python3 scripts/bench.py processes  [--seconds 5] [--rounds 3]
    python3 scripts/bench.py events     [--seconds 5] [--rounds 3]
    python3 scripts/bench.py latency    [--seconds 5] [--rounds 3]
    python3 scripts/bench.py memory     (10 s and 60 s --latency runs)
    python3 scripts/bench.py sleep      [--seconds 3] [--rounds 1] [--baseline BIN]
    python3 scripts/bench.py http       [--seconds 5] [--rounds 3] [--baseline BIN] [--pin]
    python3 scripts/bench.py phase-end  [--rounds 3] [--baseline BIN]
    python3 scripts/bench.py stress     [--seconds 5] [--rounds 3]
    python3 scripts/bench.py stress-memory [--seconds 600]
    python3 scripts/bench.py paced-timeline [--seconds 5] [--rounds 3]

`sleep`: SleepTest's rate against the truth (parallel / delay) over
delays 1, 10, 100 ms x -p 1, 8, 64 x --processes 1, 2, async and sync.
`http`: HttpGetTest at 1 and 8 connections against the bare hyper loop
(crates/systemperf/examples/bare_hyper.rs) of the same client, and that
loop with a 1 ms yield, against one nginx it starts (127.0.0.1 only, its
own config in a temporary directory; needs `apt-get install -y nginx`).
`phase-end`: from the `=== Tests ===` header to the results line, as the
output comes through a pipe, beyond `-d 1`.
`stress`: NoOpTest with and without --continue-on-error (the success path,
interleaved in the same rounds), and StressSampleTest failing every
operation (errors counted per CPU second, per kind).
`stress-memory`: RSS of a NoOpTest --latency --timeline run, from its
timeline, at 1 minute and at the end.
`paced-timeline`: CPU of NoOpTest --rate --latency with and without
--timeline (the interval histograms of a paced run), and whether the
intervals' latency counts add up to the run's.
`--baseline BIN` adds the same rows run by another systemperf binary (an
earlier build), interleaved in the same rounds.

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
BARE_HYPER = os.path.join(TARGET, "release", "examples", "bare_hyper")


def build():
    subprocess.run(
        [
            "cargo", "build", "--release", "-q",
            "-p", "systemperf-tests", "--bin", "systemperf",
            "-p", "systemperf", "--example", "bare_loop", "--example", "bare_hyper",
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


def run_systemperf(args, binary=SYSTEMPERF, prefix=()):
    """Runs systemperf with --test-results; returns the results JSON."""
    with tempfile.TemporaryDirectory() as directory:
        path = os.path.join(directory, "results.json")
        subprocess.run([*prefix, binary, *args, "--test-results", path], check=True, stdout=subprocess.DEVNULL)
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
    print(f"Machine: {machine()}; load average at the start {load()}\n")
    extra = " baseline build NoOpTest ns/op | ratio |" if args.baseline else ""
    print("| mode | -p | bare loop ns/op | NoOpTest ns/op | ratio | NoOpTest ops/s |" + extra)
    print("|---|---|---|---|---|---|" + ("---|---|" if args.baseline else ""))
    for mode in ("sync", "async"):
        for parallel in (1, 2):
            bare, framework, rates, baseline = [], [], [], []
            flags = ["--sync"] if mode == "sync" else []
            command = ["NoOpTest", "-d", str(args.seconds), "-w", "1", "-p", str(parallel), "--processes", "1", *flags]
            for _ in range(args.rounds):
                result = bare_loop(parallel, args.seconds, mode)
                bare.append(result["cpu_seconds"] * 1e9 / result["operations"])
                results = run_systemperf(command)
                framework.append(cpu_ns_per_op(results))
                rates.append(results["operations_per_second"])
                if args.baseline:
                    baseline.append(cpu_ns_per_op(run_systemperf(command, args.baseline)))
            b, f = median(bare), median(framework)
            row = f"| {mode} | {parallel} | {b:.3f} | {f:.3f} | {f / b:.2f}x | {median(rates):.3g} |"
            if args.baseline:
                row += f" {median(baseline):.3f} | {median(baseline) / b:.2f}x |"
            print(row)
    print(f"\nload average at the end {load()}")


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


def stress(args):
    print(f"Machine: {machine()}; load average at the start {load()}\n")
    print("| mode | -p | NoOpTest ns/op | with --continue-on-error ns/op | ratio | ops/s without | ops/s with |")
    print("|---|---|---|---|---|---|---|")
    for mode in ("sync", "async"):
        for parallel in (1, 2):
            flags = ["--sync"] if mode == "sync" else []
            command = ["NoOpTest", "-d", str(args.seconds), "-w", "1", "-p", str(parallel), "--processes", "1", *flags]
            without, with_flag, rates, rates_with = [], [], [], []
            for _ in range(args.rounds):
                results = run_systemperf(command)
                without.append(cpu_ns_per_op(results))
                rates.append(results["operations_per_second"])
                results = run_systemperf([*command, "--continue-on-error"])
                with_flag.append(cpu_ns_per_op(results))
                rates_with.append(results["operations_per_second"])
            a, b = median(without), median(with_flag)
            print(f"| {mode} | {parallel} | {a:.3f} | {b:.3f} | {b / a:.3f}x | {median(rates):.4g} | {median(rates_with):.4g} |")
    print()
    print("| StressSampleTest --error-rate 1, -p 1 | mode | errors | errors per CPU second | ns of CPU per error |")
    print("|---|---|---|---|---|")
    for kind in ("timeout", "reset", "status"):
        for mode in ("sync", "async"):
            flags = ["--sync"] if mode == "sync" else []
            per_second, counts = [], []
            for _ in range(args.rounds):
                results = run_systemperf([
                    "StressSampleTest", "-d", str(args.seconds), "-w", "1", "-p", "1", "--processes", "1", *flags,
                    "--continue-on-error", "--max-error-rate", "100%", "--error-rate", "1", "--error-kinds", kind,
                ])
                counts.append(results["errors"]["total"])
                per_second.append(results["errors"]["total"] / results["cpu_seconds"])
            rate = median(per_second)
            print(f"| `{kind}` | {mode} | {median(counts):,.0f} | {rate:,.0f} | {1e9 / rate:.0f} |")
    print(f"\nload average at the end {load()}")


def stress_memory(args):
    print(f"Machine: {machine()}; load average at the start {load()}\n")
    with tempfile.TemporaryDirectory() as directory:
        timeline = os.path.join(directory, "timeline.jsonl")
        command = ["NoOpTest", "-d", str(args.seconds), "-w", "0", "-p", "1", "--processes", "1", "--latency", "--timeline", timeline]
        results = run_systemperf(command)
        with open(timeline) as lines:
            intervals = [json.loads(line) for line in lines]
    print(f"| NoOpTest -p 1 --latency --timeline, -d {args.seconds:g} | interval | operations so far | RSS |")
    print("|---|---|---|---|")
    for index in (0, 59, len(intervals) - 1):
        if index < len(intervals):
            line = intervals[index]
            print(f"| {line['end_seconds']:g} s | {line['interval']} | {line['total_operations']:,} | {line['rss_bytes'] / 2**20:.2f} MiB |")
    print(f"\npeak {results.get('peak_memory_use', 0) / 2**20:.2f} MiB, growth {results.get('memory_growth_bytes_per_minute', 0) / 1024:.2f} KiB/min (least squares over the run); load average at the end {load()}")


def paced_timeline(args):
    """--rate with --latency: CPU of the run with and without a timeline (the
    interval sinks, whose waiting instances wake every millisecond)."""
    print(f"Machine: {machine()}; load average at the start {load()}\n")
    print("| mode | -p | --rate | CPU % of one core, --latency | with --timeline | ratio | intervals' latency count = run's |")
    print("|---|---|---|---|---|---|---|")
    with tempfile.TemporaryDirectory() as directory:
        timeline = os.path.join(directory, "timeline.jsonl")
        for mode in ("sync", "async"):
            for parallel, rate in ((1, 1000), (8, 1000)):
                flags = ["--sync"] if mode == "sync" else []
                command = ["NoOpTest", "-d", str(args.seconds), "-w", "0", "-p", str(parallel), "--processes", "1",
                           "--rate", str(rate), "--latency", *flags]
                without, with_timeline, exact = [], [], True
                for _ in range(args.rounds):
                    results = run_systemperf(command)
                    without.append(results["cpu_seconds"] / results["duration_seconds"] * 100)
                    results = run_systemperf([*command, "--timeline", timeline])
                    with_timeline.append(results["cpu_seconds"] / results["duration_seconds"] * 100)
                    with open(timeline) as lines:
                        counted = sum(json.loads(line)["latency_ms"]["count"] for line in lines if '"run"' in line)
                    exact = exact and counted == results["latency"]["count"]
                a, b = median(without), median(with_timeline)
                print(f"| {mode} | {parallel} | {rate} | {a:.2f} | {b:.2f} | {b / a:.2f}x | {exact} |")
    print(f"\nload average at the end {load()}")


def load():
    with open("/proc/loadavg") as loadavg:
        return " ".join(loadavg.read().split()[:3])


def sleep(args):
    """SleepTest against the truth, parallel / delay."""
    binaries = [("this build", SYSTEMPERF)] + ([("baseline", args.baseline)] if args.baseline else [])
    print(f"Machine: {machine()}; load average at the start {load()}\n")
    header = "| mode | delay | -p | --processes | expected ops/s | " + " | ".join(f"{name}: ops/s (ratio)" for name, _ in binaries) + " |"
    print(header)
    print("|" + "---|" * (5 + len(binaries)))
    for mode in ("async", "sync"):
        flags = ["--sync"] if mode == "sync" else []
        for delay in (1, 10, 100):
            for parallel in (1, 8, 64):
                for processes in (1, 2):
                    expected = parallel * 1000.0 / delay
                    command = [
                        "SleepTest", "--initial-delay-ms", str(delay), "-p", str(parallel),
                        "--processes", str(processes), "-d", str(args.seconds), "-w", "1", *flags,
                    ]
                    rates = {name: [] for name, _ in binaries}
                    for _ in range(args.rounds):
                        for name, binary in binaries:
                            rates[name].append(run_systemperf(command, binary)["operations_per_second"])
                    cells = []
                    for name, _ in binaries:
                        rate = median(rates[name])
                        cells.append(f"{rate:.6g} ({rate / expected:.4f})")
                    print(f"| {mode} | {delay} ms | {parallel} | {processes} | {expected:g} | " + " | ".join(cells) + " |")
    print(f"\nload average at the end {load()}")


def header_to_results_seconds(binary, args):
    """Seconds from the `=== Tests ===` header to its results line, as they
    come through a pipe."""
    process = subprocess.Popen([binary, *args], stdout=subprocess.PIPE, text=True, bufsize=1)
    header = end = None
    for line in process.stdout:
        now = time.monotonic()
        if line.strip() == "=== Tests ===":
            header = now
        elif header is not None and end is None and line.startswith("Completed"):
            end = now
    if process.wait() != 0 or end is None:
        sys.exit(f"error: {binary} {' '.join(args)} failed")
    return end - header


def phase_end(args):
    binaries = [("this build", SYSTEMPERF)] + ([("baseline", args.baseline)] if args.baseline else [])
    print(f"Machine: {machine()}; load average at the start {load()}\n")
    print("| command (-d 1 -w 0) | " + " | ".join(f"{name}: ms beyond -d (all runs)" for name, _ in binaries) + " |")
    print("|---|" + "---|" * len(binaries))
    commands = [
        ["NoOpTest", "--processes", "1"],
        ["NoOpTest", "-p", "2", "--processes", "2"],
        ["SleepTest", "--initial-delay-ms", "1", "-p", "8", "--processes", "1"],
        ["SleepTest", "--initial-delay-ms", "1", "-p", "8", "--processes", "2"],
        ["SleepTest", "--initial-delay-ms", "1", "-p", "8", "--processes", "1", "--sync"],
        ["SleepTest", "--initial-delay-ms", "1", "-p", "64", "--processes", "2", "--sync"],
    ]
    for command in commands:
        runs = {name: [] for name, _ in binaries}
        for _ in range(args.rounds):
            for name, binary in binaries:
                runs[name].append((header_to_results_seconds(binary, [*command, "-d", "1", "-w", "0"]) - 1) * 1e3)
        cells = [" ".join(f"{ms:.1f}" for ms in runs[name]) for name, _ in binaries]
        print(f"| `{' '.join(command)}` | " + " | ".join(cells) + " |")
    print(f"\nload average at the end {load()}")


NGINX_CONF = """worker_processes 1;
pid {tmp}/nginx.pid;
error_log {tmp}/error.log warn;
events {{ worker_connections 1024; }}
http {{
  access_log off;
  client_body_temp_path {tmp}/client_body;
  proxy_temp_path {tmp}/proxy;
  fastcgi_temp_path {tmp}/fastcgi;
  uwsgi_temp_path {tmp}/uwsgi;
  scgi_temp_path {tmp}/scgi;
  default_type application/octet-stream;
  keepalive_timeout 65;
  keepalive_requests 100000000;
  server {{
    listen 127.0.0.1:{port};
    root {tmp}/www;
  }}
}}
"""


def nice_prefix():
    """`nice -n -15` where allowed (root), as scripts/bench-http.sh does."""
    priority = int(os.environ.get("BENCH_NICE", "-15"))
    if priority < 0 and os.geteuid() != 0:
        priority = 0
    return ["nice", "-n", str(priority)] if priority else []


def http(args):
    """HttpGetTest against the bare hyper loop of the same client."""
    import shutil
    import socket
    import urllib.request

    if shutil.which("nginx") is None:
        sys.exit("error: nginx is missing (apt-get install -y nginx)")
    prefix = nice_prefix()
    with tempfile.TemporaryDirectory() as tmp:
        os.makedirs(os.path.join(tmp, "www"))
        with open(os.path.join(tmp, "www", "index.html"), "w") as page:
            page.write("0123456789abcdef")
        for root, directories, files in os.walk(tmp):
            for name in directories + files:
                os.chmod(os.path.join(root, name), 0o755)
        os.chmod(tmp, 0o755)
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        with open(os.path.join(tmp, "nginx.conf"), "w") as conf:
            conf.write(NGINX_CONF.format(tmp=tmp, port=port))
        # --pin: the server on CPU 0, every client on CPU 1, so the two never
        # compete for a core nor migrate (a one-connection round trip is
        # then two cross-core wake-ups, the same for every row).
        server_prefix = [*prefix, "taskset", "-c", "0"] if args.pin else prefix
        client_prefix = [*prefix, "taskset", "-c", "1"] if args.pin else prefix
        subprocess.run([*server_prefix, "nginx", "-e", os.path.join(tmp, "error.log"), "-p", tmp, "-c", os.path.join(tmp, "nginx.conf")], check=True)
        pid_file = os.path.join(tmp, "nginx.pid")
        for _ in range(50):
            if os.path.exists(pid_file) and os.path.getsize(pid_file) > 0:
                break
            time.sleep(0.1)
        with open(pid_file) as file:
            nginx_pid = int(file.read().strip())
        try:
            url = f"http://127.0.0.1:{port}/index.html"
            assert urllib.request.urlopen(url).read() == b"0123456789abcdef"
            http_rows(args, client_prefix, url)
        finally:
            os.kill(nginx_pid, 3)  # SIGQUIT: graceful stop
            for _ in range(100):
                try:
                    os.kill(nginx_pid, 0)
                except ProcessLookupError:
                    break
                time.sleep(0.1)


def http_rows(args, prefix, url):
    warmup = 2
    seconds = args.seconds
    rows = []  # (label, connections, kind, command)
    for connections in (1, 8):
        bare = [BARE_HYPER, str(connections), str(seconds), url, str(warmup)]
        rows.append(("bare hyper loop (baseline)", connections, "bare", bare))
        rows.append(("bare hyper loop, 1 ms yield", connections, "bare", [*bare, "1"]))
        test = ["HttpGetTest", "--url", url, "-d", str(seconds), "-w", str(warmup), "-p", str(connections), "--processes", "1"]
        rows.append(("HttpGetTest", connections, SYSTEMPERF, test))
        if args.baseline:
            rows.append(("HttpGetTest, baseline build", connections, args.baseline, test))
    rates = [[] for _ in rows]
    cpu = [[] for _ in rows]
    for round_index in range(args.rounds):
        for index, (_, _, kind, command) in enumerate(rows):
            if kind == "bare":
                output = subprocess.run([*prefix, *command], check=True, capture_output=True, text=True)
                result = json.loads(output.stdout.strip().splitlines()[-1])
                rates[index].append(result["requests_per_second"])
                cpu[index].append(result["cpu_seconds"] * 1e6 / result["requests"])
            else:
                result = run_systemperf(command, kind, prefix)
                rates[index].append(result["operations_per_second"])
                cpu[index].append(result["cpu_seconds"] * 1e6 / result["total_operations"])
        print(f"round {round_index + 1} of {args.rounds} done", file=sys.stderr)
    print(f"Machine: {machine()}; load average at the end {load()}; nice {prefix[2] if prefix and prefix[0] == 'nice' else 0}; pinned {'taskset' in prefix}\n")
    print(f"| client | conc. | requests/s (median of {args.rounds}) | all runs | vs bare hyper loop (median of per-round ratios) | client CPU µs/request | command |")
    print("|---|---|---|---|---|---|---|")
    for index, (label, connections, kind, command) in enumerate(rows):
        baseline = next(i for i, row in enumerate(rows) if row[1] == connections and row[0].endswith("(baseline)"))
        ratio = median([a / b for a, b in zip(rates[index], rates[baseline])])
        shown = " ".join(command).replace(url, "http://127.0.0.1:PORT/index.html")
        shown = shown.replace(BARE_HYPER, "bare_hyper").replace(SYSTEMPERF, "systemperf")
        if args.baseline:
            shown = shown.replace(args.baseline, "systemperf")
        runs = " ".join(f"{rate:.0f}" for rate in rates[index])
        print(f"| {label} | {connections} | {median(rates[index]):.0f} | {runs} | {ratio:.3f}x | {median(cpu[index]):.1f} | `{shown}` |")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("benchmark", choices=["overhead", "processes", "events", "latency", "memory", "sleep", "http", "phase-end", "stress", "stress-memory", "paced-timeline"])
    parser.add_argument("--seconds", type=float, default=None)
    parser.add_argument("--rounds", type=int, default=None)
    parser.add_argument("--pin", action="store_true", help="http: nginx on CPU 0, the clients on CPU 1 (taskset)")
    parser.add_argument("--baseline", help="another systemperf binary, measured in the same rounds (overhead, sleep, http, phase-end)")
    args = parser.parse_args()
    if args.seconds is None:
        args.seconds = {"sleep": 3, "stress-memory": 600}.get(args.benchmark, 5)
    if args.rounds is None:
        args.rounds = 1 if args.benchmark == "sleep" else 3
    build()
    globals()[args.benchmark.replace("-", "_")](args)


if __name__ == "__main__":
    sys.exit(main())
