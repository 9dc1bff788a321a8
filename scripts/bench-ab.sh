#!/usr/bin/env bash
# A/B of two server builds: the same route of two peers-benchmark servers (benches/peers, or any
# Rocket server answering ROUTE with BENCH_ALG's token) side by side, in alternating rounds, with
# wrk on 127.0.0.1 only. For one change at a time: build the servers of the two commits, then
#
#   bash scripts/bench-ab.sh /tmp/before/ours_peer /tmp/after/ours_peer          # /protected
#   bash scripts/bench-ab.sh /tmp/after/ours_peer benches/peers/target/release/rocket_jwt_peer
#
# (`cargo build --release --manifest-path benches/peers/Cargo.toml` in each work tree; copy the
# binaries out, since each build replaces them.)
#
# Both servers run at once, pinned to CPU 0 with one Rocket worker, wrk to CPU 1 (one thread, 64
# connections); after a warm-up, ROUNDS (6) rounds of DURATION (4) s each, A then B, then B then A.
# Each run's figure is the server's total CPU per request (utime + stime of /proc/<pid>/stat over
# the requests), split into user and system time; the medians and ranges are printed per server.
# The total, not the difference to a bare route, is what this compares: the same route on both.
#
# Environment: ROUNDS, DURATION, ROUTE (/protected), BENCH_ALG (HS256), ENVS (the servers' extra
# environment, default JWT_TOKEN_CACHE_ENTRIES=0: the verified-token cache off), BENCH_PORT (18500;
# the two servers take it and the next). Needs wrk, taskset and two CPUs.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ $# -ne 2 ]; then
    sed -n '2,21p' "$0"
    exit 2
fi
rounds="${ROUNDS:-6}"
duration="${DURATION:-4}"
route="${ROUTE:-/protected}"
alg="${BENCH_ALG:-HS256}"
port="${BENCH_PORT:-18500}"
read -r -a extra <<<"${ENVS:-JWT_TOKEN_CACHE_ENTRIES=0}"
for tool in wrk taskset curl; do
    command -v "$tool" >/dev/null || { echo "$tool is needed" >&2; exit 1; }
done
[ "$(nproc)" -ge 2 ] || { echo "two CPUs are needed (server and wrk pinned apart)" >&2; exit 1; }

mint=benches/peers/target/release/mint
[ -x "$mint" ] || cargo build --release --quiet --manifest-path benches/peers/Cargo.toml --bin mint
token=$(BENCH_ALG="$alg" "$mint")

binaries=("$1" "$2")
pids=()
trap 'kill "${pids[@]}" 2>/dev/null || true' EXIT
for i in 0 1; do
    env ROCKET_ADDRESS=127.0.0.1 ROCKET_PORT=$((port + i)) ROCKET_LOG_LEVEL=off ROCKET_WORKERS=1 \
        BENCH_ALG="$alg" "${extra[@]}" taskset -c 0 "${binaries[$i]}" >/dev/null 2>&1 &
    pids+=($!)
done
for i in 0 1; do
    for _ in $(seq 100); do
        curl -s -o /dev/null "http://127.0.0.1:$((port + i))/unprotected" && break
        sleep 0.1
    done
done

# run I SECONDS: one wrk run on server I; prints "total/user/system" µs of CPU per request.
run() {
    local pid=${pids[$1]} before after requests
    read -r -a before < <(awk '{ print $14, $15 }' "/proc/$pid/stat")
    requests=$(taskset -c 1 wrk -t1 -c64 -d"$2"s --timeout 5s "http://127.0.0.1:$((port + $1))$route" \
        -H "Authorization: Bearer $token" | awk '/requests in/ { print $1 }')
    read -r -a after < <(awk '{ print $14, $15 }' "/proc/$pid/stat")
    awk -v u=$((after[0] - before[0])) -v s=$((after[1] - before[1])) -v n="$requests" \
        -v hz="$(getconf CLK_TCK)" 'BEGIN { printf "%.2f/%.2f/%.2f", (u + s) * 1e6 / hz / n, u * 1e6 / hz / n, s * 1e6 / hz / n }'
}

for i in 0 1; do run "$i" 2 >/dev/null; done
results=("" "")
for round in $(seq 1 "$rounds"); do
    order="0 1"
    [ $((round % 2)) = 0 ] && order="1 0"
    for i in $order; do results[i]+="$(run "$i" "$duration") "; done
done

for i in 0 1; do
    echo "${binaries[$i]}: ${results[$i]}"
    python3 - "${results[$i]}" <<'PY'
import statistics, sys
runs = [tuple(map(float, run.split("/"))) for run in sys.argv[1].split()]
total, user, system = (sorted(column) for column in zip(*runs))
print(f"  CPU µs per request: total {statistics.median(total):.2f} ({total[0]:.2f}–{total[-1]:.2f}), "
      f"user {statistics.median(user):.2f}, system {statistics.median(system):.2f}")
PY
done
