#!/usr/bin/env python3
"""How much noise `--iterations` sees, and the smallest slowdown `compare`
flags reliably (BENCHMARKS.md, "Regression detection").

Runs each test ROUNDS times (interleaved, so a burst of load hits every
test alike) with `--iterations 10`, and prints:

- the run-to-run noise: the coefficient of variation of ops/s over the 10
  iterations of each run (median and largest over the rounds);
- for 5 and 10 iterations, the share of comparisons that `systemperf
  compare` flags as REGRESSED when a known slowdown S is injected into the
  newer of two independent runs (each of its iterations' ops/s times
  1 - S), for every ordered pair of rounds; S = 0 is the false-verdict
  rate of identical runs. The smallest S flagged in at least 95% of the
  comparisons is what `compare` detects reliably.

Usage: CARGO_TARGET_DIR=... scripts/bench-regressions.py [ROUNDS] [SECONDS]
       BENCH_RUNS_FROM=DIR scripts/bench-regressions.py [ROUNDS]   (analyse DIR's files again)

The runs go at `nice -15` (as root; BENCH_NICE=0 turns it off), as in
bench-http.sh: on a machine shared with other builds, the noise otherwise
measures the neighbours.
"""

import json
import os
import subprocess
import sys
import tempfile

ROUNDS = int(sys.argv[1]) if len(sys.argv) > 1 else 6
SECONDS = sys.argv[2] if len(sys.argv) > 2 else "1"
ITERATIONS = 10
SLOWDOWNS = [0.0, 0.01, 0.02, 0.05, 0.10, 0.20, 0.30, 0.50]
TESTS = {
    "NoOpTest": ["-p", "1", "--processes", "1"],
    # The embedded loopback server (one per process), 16-byte bodies.
    "HttpGetTest": ["-p", "1", "--processes", "1"],
}

target = os.environ.get("CARGO_TARGET_DIR", "target")
subprocess.run(
    ["cargo", "build", "--release", "-q", "-p", "systemperf-tests", "--bin", "systemperf"],
    check=True,
)
runner = os.path.join(target, "release", "systemperf")
nice = os.environ.get("BENCH_NICE", "-15")
prefix = ["nice", "-n", nice] if nice != "0" else []
work = tempfile.mkdtemp(prefix="bench-regressions-")
print(f"results files in {work}", file=sys.stderr)
# BENCH_RUNS_FROM=DIR: analyse the results files an earlier run left in DIR.
reuse = os.environ.get("BENCH_RUNS_FROM")

runs = {test: [] for test in TESTS}
for round_ in range(ROUNDS):
    if reuse:
        for test in TESTS:
            with open(os.path.join(reuse, f"{test}-{round_}.json")) as file:
                runs[test].append(json.load(file))
        continue
    for test, args in TESTS.items():
        path = os.path.join(work, f"{test}-{round_}.json")
        subprocess.run(
            [*prefix, runner, test, *args, "-d", SECONDS, "-w", "1",
             "--iterations", str(ITERATIONS), "--test-results", path],
            check=True, stdout=subprocess.DEVNULL,
        )
        with open(path) as file:
            runs[test].append(json.load(file))
        print(f"round {round_ + 1}/{ROUNDS} {test}: "
              f"{runs[test][-1]['operations_per_second']:.0f} ops/s", file=sys.stderr)


def cv(run):
    rates = [iteration["operations_per_second"] for iteration in run["iterations"]]
    mean = sum(rates) / len(rates)
    sd = (sum((rate - mean) ** 2 for rate in rates) / (len(rates) - 1)) ** 0.5
    return sd / mean


def verdict(old, new, count, slowdown):
    def cut(run, factor):
        run = dict(run)
        run["iterations"] = [
            dict(iteration, operations_per_second=iteration["operations_per_second"] * factor)
            for iteration in run["iterations"][:count]
        ]
        return run
    paths = []
    for name, run in (("old", cut(old, 1.0)), ("new", cut(new, 1.0 - slowdown))):
        path = os.path.join(work, f"{name}.json")
        with open(path, "w") as file:
            json.dump(run, file)
        paths.append(path)
    output = subprocess.run([runner, "compare", *paths], capture_output=True, text=True,
                            check=True).stdout
    row = next(line for line in output.splitlines() if line.strip().startswith("ops/s"))
    return row.rsplit("  ", 1)[-1].strip()


print("| test | median ops/s | CV over 10 iterations: median (largest) of the rounds |")
print("|---|---:|---:|")
for test in TESTS:
    cvs = sorted(cv(run) for run in runs[test])
    rates = sorted(run["operations_per_second"] for run in runs[test])
    print(f"| {test} | {rates[len(rates) // 2]:,.0f} | "
          f"{cvs[len(cvs) // 2] * 100:.2f}% ({cvs[-1] * 100:.2f}%) |")
print()
header = " | ".join(f"-{s * 100:g}%" for s in SLOWDOWNS)
print(f"| test | iterations | flagged REGRESSED at a slowdown of {header} | smallest reliable (>= 95%) |")
print("|---|---:|" + "---:|" * len(SLOWDOWNS) + "---:|")
for test in TESTS:
    for count in (5, 10):
        cells, reliable = [], None
        pairs = [(a, b) for a in range(ROUNDS) for b in range(ROUNDS) if a != b]
        for slowdown in SLOWDOWNS:
            flagged = sum(
                verdict(runs[test][a], runs[test][b], count, slowdown) == "REGRESSED"
                for a, b in pairs
            )
            cells.append(f"{flagged}/{len(pairs)}")
            if reliable is None and slowdown > 0 and flagged >= 0.95 * len(pairs):
                reliable = slowdown
        smallest = f"{reliable * 100:g}%" if reliable is not None else f"> {SLOWDOWNS[-1] * 100:g}%"
        print(f"| {test} | {count} | " + " | ".join(cells) + f" | {smallest} |")
