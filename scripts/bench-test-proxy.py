#!/usr/bin/env python3
"""Playback through our test proxy against direct requests, same client.

HttpGetTest (hyper's pooled client) GETs systemperf's embedded loopback
server directly, and the same test with `-x` records one GET per instance
and then plays it back from `test-proxy` for the whole run. Both at 8 and 64
instances, in one process, interleaved over ROUNDS rounds (a burst of load
from other work hits both alike); prints the medians and the median of each
round's ratio proxy/direct as a Markdown table. Then one proxied run of
MEMORY_SECONDS at 8 instances samples the proxy's resident memory every 5 s.

    scripts/bench-test-proxy.py [SECONDS] [ROUNDS] [MEMORY_SECONDS]   (defaults 5 3 60)

Touches 127.0.0.1 only; the proxy it starts is stopped on exit.
"""

import os
import re
import statistics
import subprocess
import sys
import threading
import time

seconds = sys.argv[1] if len(sys.argv) > 1 else "5"
rounds = int(sys.argv[2]) if len(sys.argv) > 2 else 3
memory_seconds = sys.argv[3] if len(sys.argv) > 3 else "60"
root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
target = os.environ.get("CARGO_TARGET_DIR", os.path.join(root, "target"))
subprocess.run(
    ["cargo", "build", "--release", "-q", "-p", "systemperf-tests", "--bin", "systemperf",
     "-p", "test-proxy", "--bin", "test-proxy"],
    cwd=root, check=True)
systemperf = os.path.join(target, "release", "systemperf")
proxy_bin = os.path.join(target, "release", "test-proxy")

proxy = subprocess.Popen([proxy_bin, "--urls", "http://127.0.0.1:0"], stdout=subprocess.PIPE, text=True)
try:
    line = proxy.stdout.readline()
    match = re.match(r"Now listening on: (http://\S+)", line)
    if not match:
        sys.exit(f"unexpected first line from test-proxy: {line!r}")
    url = match.group(1) + "/"
    # Keep draining its stdout.
    threading.Thread(target=proxy.stdout.read, daemon=True).start()

    def run(parallel, proxied, duration=seconds):
        args = [systemperf, "HttpGetTest", "-d", duration, "-w", "1", "-p", str(parallel), "--processes", "1"]
        if proxied:
            args += ["-x", url]
        out = subprocess.run(args, capture_output=True, text=True)
        if out.returncode != 0:
            sys.exit(f"{' '.join(args)} failed:\n{out.stdout}\n{out.stderr}")
        tests = out.stdout.split("=== Tests ===")[1]
        return float(re.search(r"\(([\d,.]+) ops/s", tests).group(1).replace(",", ""))

    results = {}
    for _ in range(rounds):
        for parallel in (8, 64):
            for proxied in (False, True):
                results.setdefault((parallel, proxied), []).append(run(parallel, proxied))
    print(f"load average before the memory run: {os.getloadavg()}")
    print()
    print("| instances | direct ops/s | playback ops/s | playback / direct |")
    print("|---|---|---|---|")
    for parallel in (8, 64):
        direct, played = results[(parallel, False)], results[(parallel, True)]
        ratios = [p / d for p, d in zip(played, direct)]
        print(f"| {parallel} | {statistics.median(direct):,.0f} | {statistics.median(played):,.0f} "
              f"| {statistics.median(ratios):.2f} (rounds {', '.join(f'{r:.2f}' for r in ratios)}) |")

    def rss_kib():
        with open(f"/proc/{proxy.pid}/status") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
        return 0

    samples = []
    done = threading.Event()

    def sample():
        while not done.wait(5):
            samples.append(rss_kib())

    before = rss_kib()
    sampler = threading.Thread(target=sample)
    sampler.start()
    ops = run(8, True, memory_seconds)
    done.set()
    sampler.join()
    print()
    print(f"memory: {memory_seconds} s of playback at 8 instances ({ops:,.0f} ops/s): proxy RSS before {before} KiB, "
          f"every 5 s: {', '.join(str(s) for s in samples)} KiB")
finally:
    proxy.terminate()
    proxy.wait(timeout=10)
