#!/usr/bin/env python3
"""Benchmarks the storage blob suite against Azurite: Upload and Download of
each size at each parallelism, T2 (azure_storage_blob 1.x) and legacy T1
(azure_storage_blobs 0.21) side by side in the same run, each pair run
back to back (the order alternating from row to row). Prints a Markdown
table: ops/s and MiB/s of each, the T2/T1 ratio, the client's CPU
(`average_cpu_use` of its results file, summed over its processes) and
Azurite's CPU over the timed run (from /proc, in % of one core).

Azurite (the pinned install of scripts/install-azurite.sh) is started on a
free port of 127.0.0.1, in memory, without telemetry, and stopped by its
pid when the script ends, also on failure or Ctrl-C.

With `--playback PROXY` (the `test-proxy` executable, e.g.
target/release/test-proxy) it compares DownloadTest live against
DownloadTest through the test proxy in playback (`--test-proxy URL`, the
proxy started on a free port of 127.0.0.1 and stopped at the end) instead,
each pair back to back in the same run, and also notes the proxy's CPU.

Usage: python3 scripts/bench-storage.py EXE [--duration S] [--warmup S]
           [--sizes 1024,1048576] [--parallel 1,8] [--sync] [--processes N]
           [--playback PROXY] [--rows Upload,Download]
EXE is the suite's perf executable, e.g. the one `cargo build --release
-p storage-blob-perf --bench perf --message-format=json` reports.
"""
import argparse
import json
import os
import pathlib
import re
import subprocess
import sys
import tempfile
import time

ROOT = pathlib.Path(__file__).resolve().parent.parent
AZURITE = ROOT / ".ci/.azurite/node_modules/.bin/azurite-blob"
KEY = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid):
    """User + system CPU seconds of process `pid` (Linux /proc)."""
    fields = pathlib.Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


def start_azurite():
    process = subprocess.Popen(
        [str(AZURITE), "--blobHost", "127.0.0.1", "--blobPort", "0",
         "--inMemoryPersistence", "--disableTelemetry"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
        cwd=tempfile.mkdtemp(prefix="bench-azurite-"), text=True)
    deadline = time.time() + 30
    for line in process.stdout:
        found = re.search(r"successfully listens on http://127\.0\.0\.1:(\d+)", line)
        if found:
            return process, int(found.group(1))
        if time.time() > deadline:
            break
    process.kill()
    sys.exit("Azurite did not start")


def start_proxy(exe):
    process = subprocess.Popen(
        [exe, "--urls", "http://127.0.0.1:0"], stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL, text=True)
    line = process.stdout.readline()
    found = re.match(r"Now listening on: (http://127\.0\.0\.1:\d+)", line)
    if not found:
        process.kill()
        sys.exit(f"the test proxy did not start: {line}")
    return process, found.group(1) + "/"


def run(exe, test, size, parallel, args, connection_string, azurite_pid, proxy_pid=None):
    results = tempfile.mktemp(suffix=".json")
    command = [exe, test, "--size", str(size), "-p", str(parallel),
               "--test-results", results] + args
    env = dict(os.environ, AZURE_STORAGE_CONNECTION_STRING=connection_string)
    child = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             stdin=subprocess.DEVNULL, text=True, env=env)
    began = ended = None
    for line in child.stdout:
        line = line.rstrip("\n")
        if line == "=== Tests ===":
            began = (time.monotonic(), cpu_seconds(azurite_pid),
                     cpu_seconds(proxy_pid) if proxy_pid else 0)
        elif line == "=== Pre Cleanup ===" and began:
            ended = (time.monotonic(), cpu_seconds(azurite_pid),
                     cpu_seconds(proxy_pid) if proxy_pid else 0)
    stderr = child.stderr.read()
    if child.wait() != 0 or not ended:
        sys.exit(f"{' '.join(command)} failed ({child.returncode}):\n{stderr}")
    with open(results) as file:
        summary = json.load(file)
    os.remove(results)
    azurite_cpu = 100 * (ended[1] - began[1]) / (ended[0] - began[0])
    if proxy_pid:
        proxy_cpu = 100 * (ended[2] - began[2]) / (ended[0] - began[0])
        return (summary["operations_per_second"], summary.get("average_cpu_use"),
                azurite_cpu, proxy_cpu)
    return summary["operations_per_second"], summary.get("average_cpu_use"), azurite_cpu


def playback_rows(options, args, connection_string, azurite):
    """DownloadTest live vs through the test proxy in playback, per row."""
    proxy, url = start_proxy(options.playback)
    try:
        print(f"load average at start: {os.getloadavg()}; args: {' '.join(args)}")
        print("| size | -p | live ops/s | playback ops/s | playback/live | client CPU live / playback "
              "| Azurite CPU live / playback | proxy CPU (playback) |")
        print("|---|---|---|---|---|---|---|---|")
        row = 0
        for size in map(int, options.sizes.split(",")):
            for parallel in map(int, options.parallel.split(",")):
                order = ["live", "playback"] if row % 2 == 0 else ["playback", "live"]
                measured = {}
                for mode in order:
                    extra = ["--test-proxy", url] if mode == "playback" else []
                    measured[mode] = run(options.exe, "DownloadTest", size, parallel,
                                         args + extra, connection_string, azurite.pid,
                                         proxy.pid)
                row += 1
                (live, live_cpu, live_azurite, _), (played, played_cpu, played_azurite,
                                                     proxy_cpu) = (measured["live"],
                                                                   measured["playback"])
                print(f"| {size} | {parallel} | {live:.1f} | {played:.1f} | {played / live:.2f} "
                      f"| {live_cpu:.0f}% / {played_cpu:.0f}% "
                      f"| {live_azurite:.0f}% / {played_azurite:.0f}% | {proxy_cpu:.0f}% |",
                      flush=True)
        print(f"load average at end: {os.getloadavg()}")
    finally:
        proxy.kill()
        proxy.wait()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("exe")
    parser.add_argument("--duration", default="10")
    parser.add_argument("--warmup", default="3")
    parser.add_argument("--sizes", default="1024,1048576")
    parser.add_argument("--parallel", default="1,8")
    parser.add_argument("--sync", action="store_true")
    parser.add_argument("--processes")
    parser.add_argument("--playback")
    parser.add_argument("--rows", default="Upload,Download")
    options = parser.parse_args()
    args = ["-d", options.duration, "-w", options.warmup]
    if options.sync:
        args.append("--sync")
    if options.processes:
        args += ["--processes", options.processes]

    azurite, port = start_azurite()
    try:
        connection_string = (
            f"DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey={KEY};"
            f"BlobEndpoint=http://127.0.0.1:{port}/devstoreaccount1;")
        if options.playback:
            playback_rows(options, args, connection_string, azurite)
            return
        print(f"load average at start: {os.getloadavg()}; args: {' '.join(args)}")
        print("| test | size | -p | T2 ops/s | T1 ops/s | T2/T1 | T2 MiB/s | T1 MiB/s "
              "| client CPU T2 / T1 | Azurite CPU T2 / T1 |")
        print("|---|---|---|---|---|---|---|---|---|---|")
        row = 0
        for operation in options.rows.split(","):
            for size in map(int, options.sizes.split(",")):
                for parallel in map(int, options.parallel.split(",")):
                    pair = [f"{operation}Test", f"Legacy{operation}Test"]
                    order = pair if row % 2 == 0 else pair[::-1]
                    measured = {}
                    for test in order:
                        measured[test] = run(options.exe, test, size, parallel, args,
                                             connection_string, azurite.pid)
                    row += 1
                    (t2, t2_cpu, t2_azurite), (t1, t1_cpu, t1_azurite) = (
                        measured[pair[0]], measured[pair[1]])
                    mib = size / 2**20
                    print(f"| {operation} | {size} | {parallel} | {t2:.1f} | {t1:.1f} "
                          f"| {t2 / t1:.2f} | {t2 * mib:.1f} | {t1 * mib:.1f} "
                          f"| {t2_cpu:.0f}% / {t1_cpu:.0f}% "
                          f"| {t2_azurite:.0f}% / {t1_azurite:.0f}% |", flush=True)
        print(f"load average at end: {os.getloadavg()}")
    finally:
        azurite.kill()
        azurite.wait()


if __name__ == "__main__":
    main()
