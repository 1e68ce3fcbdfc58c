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

Usage: python3 scripts/bench-storage.py EXE [--duration S] [--warmup S]
           [--sizes 1024,1048576] [--parallel 1,8] [--sync] [--processes N]
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


def run(exe, test, size, parallel, args, connection_string, azurite_pid):
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
            began = (time.monotonic(), cpu_seconds(azurite_pid))
        elif line == "=== Pre Cleanup ===" and began:
            ended = (time.monotonic(), cpu_seconds(azurite_pid))
    stderr = child.stderr.read()
    if child.wait() != 0 or not ended:
        sys.exit(f"{' '.join(command)} failed ({child.returncode}):\n{stderr}")
    with open(results) as file:
        summary = json.load(file)
    os.remove(results)
    azurite_cpu = 100 * (ended[1] - began[1]) / (ended[0] - began[0])
    return summary["operations_per_second"], summary.get("average_cpu_use"), azurite_cpu


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("exe")
    parser.add_argument("--duration", default="10")
    parser.add_argument("--warmup", default="3")
    parser.add_argument("--sizes", default="1024,1048576")
    parser.add_argument("--parallel", default="1,8")
    parser.add_argument("--sync", action="store_true")
    parser.add_argument("--processes")
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
        print(f"load average at start: {os.getloadavg()}; args: {' '.join(args)}")
        print("| test | size | -p | T2 ops/s | T1 ops/s | T2/T1 | T2 MiB/s | T1 MiB/s "
              "| client CPU T2 / T1 | Azurite CPU T2 / T1 |")
        print("|---|---|---|---|---|---|---|---|---|---|")
        row = 0
        for operation in ["Upload", "Download"]:
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
