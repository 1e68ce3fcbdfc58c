#!/usr/bin/env python3
"""Writes a results file and a 1-hour timeline at 1-second intervals (3600
intervals of the timed run, 60 of warm-up, with latency, two error groups,
CPU and RSS), as --test-results and --timeline would, for the HTML report's
size and build time in BENCHMARKS.md:

    python3 scripts/hour-timeline.py DIR [PROCESSES]
    systemperf report DIR/hour.json DIR/hour.jsonl -o DIR/hour.html

With PROCESSES (more than 1), each line also has process_operations (the
interval's operations spread over that many processes), as a run with
--processes PROCESSES writes it.
"""
import json
import math
import random
import sys
from pathlib import Path

directory = Path(sys.argv[1])
processes = int(sys.argv[2]) if len(sys.argv) > 2 else 1
directory.mkdir(parents=True, exist_ok=True)
random.seed(18)
lines = []
for phase, count in (("warmup", 60), ("run", 3600)):
    total = errors_total = 0
    for interval in range(count):
        operations = int(1000 + 50 * math.sin(interval / 60) + random.gauss(0, 20))
        errors = {"HTTP 503": random.randint(0, 3), "timeout": random.randint(0, 1)}
        errors = {key: value for key, value in errors.items() if value}
        total += operations
        errors_total += sum(errors.values())
        line = {
            "phase": phase, "interval": interval, "start_seconds": float(interval),
            "end_seconds": float(interval + 1), "final": interval == count - 1,
            "operations": operations, "total_operations": total,
            "operations_per_second": float(operations), "errors": errors,
            "total_errors": errors_total, "cpu_percent": 95 + random.random() * 10,
            "rss_bytes": 50_000_000 + interval * 1000,
        }
        if processes > 1:
            share, rest = divmod(operations, processes)
            line["process_operations"] = [share + (index < rest) for index in range(processes)]
        if phase == "run":
            p50 = 0.9 + random.random() * 0.1
            line["latency_ms"] = {"count": operations, "p50": p50, "p90": p50 * 1.5,
                                  "p99": p50 * 3, "max": p50 * 10}
        lines.append(line)
with open(directory / "hour.jsonl", "w") as out:
    for line in lines:
        out.write(json.dumps(line) + "\n")
run = [line for line in lines if line["phase"] == "run"]
operations = run[-1]["total_operations"]
latency = {
    "count": operations,
    "percentiles_ms": {"p50": 0.95, "p75": 1.2, "p90": 1.4, "p95": 1.7, "p99": 2.9, "p99.9": 6.0, "p100": 11.0},
    "spectrum_ms": [{"percentile": p, "ms": ms} for p, ms in (
        (50, 0.95), (75, 1.2), (90, 1.4), (95, 1.7), (99, 2.9), (99.5, 3.5), (99.9, 6.0),
        (99.95, 7.0), (99.99, 8.5), (99.995, 9.5), (99.999, 10.5), (100, 11.0))],
    "mean_ms": 1.0, "min_ms": 0.5, "max_ms": 11.0,
}
results = {
    "test_name": "HourTest", "operations_per_second": operations / 3600.0,
    "average_cpu_use": 100.0, "average_memory_use": 51_800_000, "total_operations": operations,
    "seconds_per_operation": 3600.0 / operations, "weighted_average_seconds": 3600.0,
    "cpu_seconds": 3600.0, "duration_seconds": 3600.0, "warmup_seconds": 60.0, "parallel": 8,
    "processes": processes, "sync": False, "test_options": [], "instances": [],
    "latency": latency, "perfstress_version": "0.1.0",
    "errors": {"total": run[-1]["total_errors"], "attempted": operations + run[-1]["total_errors"],
               "rate": run[-1]["total_errors"] / operations, "max_error_rate": 0.01,
               "within_limit": True, "groups": []},
    "memory_growth_bytes_per_minute": 60_000.0,
    "iterations": [{"operations_per_second": operations / 3600.0, "total_operations": operations,
                    "latency_ms": {"p50": 0.95, "p99": 2.9}}],
}
with open(directory / "hour.json", "w") as out:
    json.dump(results, out, indent=2)
