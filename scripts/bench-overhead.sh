#!/usr/bin/env bash
# Framework overhead: NoOpTest through perfstress vs. a bare loop calling the
# same no-op and polling a stop flag (crates/systemperf/examples/bare_loop.rs),
# interleaved in the same run. Prints CPU nanoseconds per operation (process
# CPU time / operations) and the ratio, median of ROUNDS runs.
#
#   scripts/bench-overhead.sh [SECONDS] [ROUNDS]
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-5}
rounds=${2:-3}
cargo build --release -q -p systemperf-tests --bin systemperf -p systemperf --example bare_loop
bin=target/release/systemperf
bare=target/release/examples/bare_loop
results=$(mktemp)
trap 'rm -f "$results"' EXIT

median() { sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

echo "| mode | -p | bare loop ns/op | NoOpTest ns/op | ratio | NoOpTest ops/s |"
echo "|---|---|---|---|---|---|"
for mode in sync async; do
  for parallel in 1 2; do
    bare_ns=(); framework_ns=(); framework_ops=()
    for _ in $(seq "$rounds"); do
      line=$("$bare" "$parallel" "$seconds" "$mode")
      bare_ns+=("$(python3 -c 'import json,sys; r=json.loads(sys.argv[1]); print(r["cpu_seconds"]*1e9/r["operations"])' "$line")")
      flag=""; [ "$mode" = sync ] && flag="--sync"
      "$bin" NoOpTest -d "$seconds" -w 1 -p "$parallel" $flag --test-results "$results" > /dev/null
      framework_ns+=("$(python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); print(r["cpu_seconds"]*1e9/r["total_operations"])' "$results")")
      framework_ops+=("$(python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); print(r["operations_per_second"])' "$results")")
    done
    b=$(printf '%s\n' "${bare_ns[@]}" | median)
    f=$(printf '%s\n' "${framework_ns[@]}" | median)
    o=$(printf '%s\n' "${framework_ops[@]}" | median)
    printf '| %s | %s | %.3f | %.3f | %.2fx | %.3g |\n' "$mode" "$parallel" "$b" "$f" "$(python3 -c "print($f/$b)")" "$o"
  done
done
