#!/usr/bin/env bash
# Coordination cost of runs across hosts (issue 19): join time, barrier
# time and clock offset uncertainty of 3 hosts on loopback (127.0.0.2-4)
# and, as root, in a network namespace joined by a veth pair with 5 ms of
# netem delay (created and removed here); where netem is missing (a kernel
# without sch_netem), on loopback through scripts/delay-relay.py, which
# delays each byte 5 ms each way (a round trip gains 10 ms, netem's 5 ms on
# one side of the veth adds 5); and NoOpTest's CPU ns/op over
# 3 hosts x 1 process against one process, same run, interleaved rounds.
# With openssl, also 3 hosts on loopback over TLS (--tls-cert, --tls-ca;
# a self-signed certificate made here) against the same run in clear.
#
#   bash scripts/bench-hosts.sh [ROUNDS]
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-3}
target=${CARGO_TARGET_DIR:-target}
# SYSTEMPERF=path uses that binary instead of building the release one.
bin=${SYSTEMPERF:-}
if [ -z "$bin" ]; then
    cargo build --release -q -p systemperf-tests --bin systemperf --no-default-features --features perfstress/tls
    bin="$target/release/systemperf"
fi
work=$(mktemp -d)
namespace=pshosts-bench
relay=
cleanup() {
    [ -n "$relay" ] && kill "$relay" 2>/dev/null || true
    ip netns del "$namespace" 2>/dev/null || true
    ip link del pshosts-a 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
export PERFSTRESS_JOIN_TOKEN="bench-$RANDOM-$RANDOM"

port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# run_hosts NAME LISTEN CONNECT [PREFIX...]: NoOpTest -p 3 over 3 hosts of
# one process each; hosts run under PREFIX (e.g. `ip netns exec NS`). The
# coordinator gets $COORDINATOR_TLS, the hosts $HOST_TLS (TLS options).
run_hosts() {
    local name=$1 listen=$2 connect=$3
    shift 3
    # shellcheck disable=SC2086
    "$bin" NoOpTest -p 3 -d 5 -w 1 --listen "$listen" --hosts 3 ${COORDINATOR_TLS:-} \
        --test-results "$work/$name.json" >"$work/$name.out" 2>&1 &
    local coordinator=$!
    sleep 0.2
    local hosts=()
    for n in 1 2 3; do
        # shellcheck disable=SC2086
        "$@" "$bin" --join "$connect" --host-id "h$n" --processes 1 ${HOST_TLS:-} >/dev/null 2>&1 &
        hosts+=($!)
    done
    wait "$coordinator"
    wait "${hosts[@]}"
}

figures() {
    python3 - "$1" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
c = d.get("coordination_seconds", {})
ns = d["cpu_seconds"] * 1e9 / d["total_operations"]
print(f'{ns:.3f} {c.get("join", 0)*1e3:.2f} {c.get("barrier_post_setup", 0)*1e3:.3f} '
      f'{c.get("barrier_pre_cleanup", 0)*1e3:.3f} {c.get("clock_offset_uncertainty_max", 0)*1e3:.4f} '
      f'{d["operations_per_second"]:.3e}')
PY
}

netem=yes
if ip netns add "$namespace" 2>/dev/null; then
    ip link add pshosts-a type veth peer name pshosts-b
    ip link set pshosts-b netns "$namespace"
    ip addr add 10.231.0.1/24 dev pshosts-a
    ip link set pshosts-a up
    ip netns exec "$namespace" ip addr add 10.231.0.2/24 dev pshosts-b
    ip netns exec "$namespace" ip link set pshosts-b up
    ip netns exec "$namespace" ip link set lo up
    if ! tc qdisc add dev pshosts-a root netem delay 5ms 2>"$work/netem.err"; then
        netem="unavailable ($(cat "$work/netem.err"))"
    fi
else
    netem="no namespace (not root?)"
fi
tls=no
if command -v openssl >/dev/null; then
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 1 \
        -subj /CN=coordinator -addext "subjectAltName=IP:127.0.0.1" \
        -addext "basicConstraints=critical,CA:FALSE" \
        -keyout "$work/key.pem" -out "$work/cert.pem" 2>/dev/null && tls=yes
fi
echo "uptime: $(uptime)"
echo "netem 5 ms: $netem"
echo "| round | run | CPU ns/op | join ms | barrier post setup ms | barrier pre cleanup ms | worst offset uncertainty ms | ops/s |"
echo "|---|---|---|---|---|---|---|---|"
for round in $(seq "$rounds"); do
    "$bin" NoOpTest -p 3 -d 5 -w 1 --processes 1 --test-results "$work/one.json" >/dev/null 2>&1
    echo "| $round | 1 process | $(figures "$work/one.json" | awk '{print $1" | - | - | - | - | "$6}') |"
    p=$(port)
    run_hosts loopback "127.0.0.1:$p" "127.0.0.1:$p"
    echo "| $round | 3 hosts, loopback | $(figures "$work/loopback.json" | tr ' ' '|' | sed 's/|/ | /g') |"
    if [ "$tls" = yes ]; then
        p=$(port)
        COORDINATOR_TLS="--tls-cert $work/cert.pem --tls-key $work/key.pem" HOST_TLS="--tls-ca $work/cert.pem" \
            run_hosts tls "127.0.0.1:$p" "127.0.0.1:$p"
        echo "| $round | 3 hosts, loopback, TLS | $(figures "$work/tls.json" | tr ' ' '|' | sed 's/|/ | /g') |"
    fi
    if ip netns list | grep -q "$namespace"; then
        p=$(port)
        run_hosts netns "10.231.0.1:$p" "10.231.0.1:$p" ip netns exec "$namespace"
        echo "| $round | 3 hosts, namespace + veth$([ "$netem" = yes ] && echo ' + netem 5 ms') | $(figures "$work/netns.json" | tr ' ' '|' | sed 's/|/ | /g') |"
    fi
    if [ "$netem" != yes ]; then
        p=$(port)
        q=$(port)
        python3 scripts/delay-relay.py "$q" "127.0.0.1:$p" 5 >"$work/relay.out" &
        relay=$!
        until grep -q ready "$work/relay.out" 2>/dev/null; do sleep 0.05; done
        run_hosts relay "127.0.0.1:$p" "127.0.0.1:$q"
        kill "$relay"; wait "$relay" 2>/dev/null || true; relay=
        echo "| $round | 3 hosts, loopback + relay 5 ms each way | $(figures "$work/relay.json" | tr ' ' '|' | sed 's/|/ | /g') |"
    fi
done
