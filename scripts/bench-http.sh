#!/usr/bin/env bash
# HTTP transports against one nginx: wrk (the baseline), a bare hyper client
# loop (crates/systemperf/examples/bare_hyper.rs) and each systemperf
# transport test, at 1 and 8 connections / instances. Starts its own nginx
# (one worker, keep-alive, 127.0.0.1 only, a 16-byte static file, and
# `/upload` answering PUTs with 204) from a config in a temporary directory,
# and stops it on exit; the system's nginx config is not touched. Each
# measurement runs ROUNDS times, interleaved (a burst of load from other work
# hits every client alike), and the median is printed as a Markdown table
# with ratios to wrk and to the bare hyper loop at the same concurrency (the
# median over rounds of each round's ratio), and the client process's CPU
# time per request.
#
# On a machine shared with other work, nginx and every client run at nice
# BENCH_NICE (default -15, when allowed, i.e. as root) so that builds next
# to them disturb the figures less; BENCH_NICE=0 turns that off.
#
#   scripts/bench-http.sh [SECONDS] [ROUNDS]        (defaults: 5 s, 3 rounds)
#
# Needs nginx and wrk (Debian: apt-get install -y nginx wrk).
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-5}
rounds=${2:-3}
warmup=2
for tool in nginx wrk python3; do
  command -v "$tool" > /dev/null || { echo "error: $tool is missing (apt-get install -y nginx wrk)" >&2; exit 1; }
done

cargo build --release -q -p systemperf-tests --bin systemperf -p systemperf --example bare_hyper
priority=${BENCH_NICE:--15}
# `nice` runs the command even when it may not raise the priority: check.
[ "$(nice -n "$priority" nice 2> /dev/null)" = "$(( $(nice) + priority ))" ] || priority=0
run() { nice -n "$priority" "$@"; }
target=${CARGO_TARGET_DIR:-target}
bin=$target/release/systemperf
bare=$target/release/examples/bare_hyper

tmp=$(mktemp -d)
nginx_pid=""
stop_nginx() {
  if [ -n "$nginx_pid" ] && kill -0 "$nginx_pid" 2> /dev/null; then
    kill -QUIT "$nginx_pid"
    for _ in $(seq 100); do kill -0 "$nginx_pid" 2> /dev/null || break; sleep 0.1; done
    kill -0 "$nginx_pid" 2> /dev/null && kill -KILL "$nginx_pid"
  fi
  rm -rf "$tmp"
}
trap stop_nginx EXIT

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
mkdir -p "$tmp/www"
printf '0123456789abcdef' > "$tmp/www/index.html"
# The workers run as an unprivileged user: let them read the tree.
chmod -R a+rX "$tmp"
cat > "$tmp/nginx.conf" << CONF
worker_processes 1;
pid $tmp/nginx.pid;
error_log $tmp/error.log warn;
events { worker_connections 1024; }
http {
  access_log off;
  client_body_temp_path $tmp/client_body;
  proxy_temp_path $tmp/proxy;
  fastcgi_temp_path $tmp/fastcgi;
  uwsgi_temp_path $tmp/uwsgi;
  scgi_temp_path $tmp/scgi;
  default_type application/octet-stream;
  keepalive_timeout 65;
  keepalive_requests 100000000;
  server {
    listen 127.0.0.1:$port;
    root $tmp/www;
    location = /upload { client_max_body_size 0; return 204; }
  }
}
CONF
run nginx -e "$tmp/error.log" -p "$tmp" -c "$tmp/nginx.conf"
for _ in $(seq 50); do [ -s "$tmp/nginx.pid" ] && break; sleep 0.1; done
nginx_pid=$(cat "$tmp/nginx.pid")
url="http://127.0.0.1:$port/index.html"
upload_url="http://127.0.0.1:$port/upload"
upload_size=1024
python3 -c "import urllib.request,sys; assert urllib.request.urlopen(sys.argv[1]).read() == b'0123456789abcdef'" "$url"
python3 - "$tmp/put.lua" "$upload_size" << 'LUA'
import sys
open(sys.argv[1], "w").write('wrk.method = "PUT"\nwrk.body = string.rep("x", %d)\n' % int(sys.argv[2]))
LUA
results=$tmp/results.json

# Each measurement: a label, a concurrency, and the command (printed with
# the port as PORT). Each prints requests/s on its last line.
labels=(); concurrencies=(); commands=()
add() { labels+=("$1"); concurrencies+=("$2"); commands+=("$3"); }
for c in 1 8; do
  threads=$(( c < 2 ? 1 : 2 ))
  add "wrk (baseline)" "$c" "wrk -t $threads -c $c -d ${seconds}s $url"
  add "bare hyper loop" "$c" "$bare $c $seconds $url $warmup"
  add "bare hyper loop, 1 ms yield" "$c" "$bare $c $seconds $url $warmup 1"
  for test in HttpGetTest ReqwestGetTest "ReqwestGetTest --sync" "UreqGetTest --sync" \
              RawTcpGetTest "RawTcpGetTest --sync" AzureCoreGetTest; do
    add "$test" "$c" "$bin $test --url $url -d $seconds -w $warmup -p $c --processes 1"
  done
  add "HttpGetTest, default --processes" "$c" "$bin HttpGetTest --url $url -d $seconds -w $warmup -p $c"
  add "wrk PUT $upload_size B (baseline)" "$c" "wrk -t $threads -c $c -d ${seconds}s -s $tmp/put.lua $upload_url"
  add "HttpPutTest --size $upload_size" "$c" "$bin HttpPutTest --url $upload_url --size $upload_size -d $seconds -w $warmup -p $c --processes 1"
done

measure() { # runs one measurement; prints "requests/s client-CPU-µs-per-request"
  local command=$1
  case "$command" in
    wrk*) run $command | awk '/^Requests\/sec:/ {print $2, "nan"}' ;;
    "$bare"*) run $command | python3 -c 'import json,sys; r=json.loads(sys.stdin.read().strip().splitlines()[-1]); print(r["requests_per_second"], r["cpu_seconds"]*1e6/r["requests"])' ;;
    *) run $command --test-results "$results" > /dev/null
       python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); print(r["operations_per_second"], r["cpu_seconds"]*1e6/r["total_operations"])' "$results" ;;
  esac
}

declare -A samples cpu_samples
for round in $(seq "$rounds"); do
  for i in "${!commands[@]}"; do
    read -r rate cpu < <(measure "${commands[$i]}")
    samples[$i]+="$rate "
    cpu_samples[$i]+="$cpu "
  done
  echo "round $round of $rounds done" >&2
done

median() { tr ' ' '\n' | grep -v '^$' | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
declare -A medians cpu_medians
for i in "${!commands[@]}"; do
  medians[$i]=$(echo "${samples[$i]}" | median)
  cpu_medians[$i]=$(echo "${cpu_samples[$i]}" | median)
done

echo "nproc $(nproc); $(grep -m1 'model name' /proc/cpuinfo | sed 's/\s\+/ /g'); load average $(cut -d' ' -f1-3 /proc/loadavg); nice $priority; nginx $(nginx -v 2>&1 | sed 's/.*nginx\///'); $(wrk -v 2>&1 | head -1 | cut -d' ' -f1-2)"
echo
echo "| client | conc. | requests/s (median of $rounds) | all runs | vs wrk (median of per-round ratios) | vs bare hyper (same) | client CPU µs/request | command |"
echo "|---|---|---|---|---|---|---|---|"
for i in "${!commands[@]}"; do
  c=${concurrencies[$i]}
  # The baselines of the same concurrency (and method).
  wrk_index=""; bare_index=""
  for j in "${!commands[@]}"; do
    [ "${concurrencies[$j]}" = "$c" ] || continue
    case "${labels[$j]}" in
      "wrk (baseline)") [[ "${labels[$i]}" == *PUT* || "${labels[$i]}" == HttpPutTest* ]] || wrk_index=$j ;;
      "wrk PUT"*) [[ "${labels[$i]}" == *PUT* || "${labels[$i]}" == HttpPutTest* ]] && wrk_index=$j ;;
      "bare hyper loop") bare_index=$j ;;
    esac
  done
  # Each round's figure over the same round's baseline; the median of those.
  ratio() { python3 -c 'import statistics, sys; a, b = (list(map(float, x.split())) for x in sys.argv[1:]); print(f"{statistics.median(x / y for x, y in zip(a, b)):.2f}x")' "$1" "$2"; }
  vs_wrk=$(ratio "${samples[$i]}" "${samples[$wrk_index]}")
  vs_bare="-"
  if [[ "${labels[$i]}" != *PUT* && "${labels[$i]}" != HttpPutTest* ]]; then
    vs_bare=$(ratio "${samples[$i]}" "${samples[$bare_index]}")
  fi
  runs=$(echo "${samples[$i]}" | xargs printf '%.0f ' | sed 's/ $//')
  shown=${commands[$i]//$port/PORT}
  shown=${shown//$tmp/TMP}
  shown=${shown//$target\/release\/examples\/bare_hyper/bare_hyper}
  shown=${shown//$target\/release\/systemperf/systemperf}
  cpu="-"
  [ "${cpu_medians[$i]}" = nan ] || cpu=$(printf '%.1f' "${cpu_medians[$i]}")
  printf '| %s | %s | %.0f | %s | %s | %s | %s | `%s` |\n' "${labels[$i]}" "$c" "${medians[$i]}" "$runs" "$vs_wrk" "$vs_bare" "$cpu" "$shown"
done
