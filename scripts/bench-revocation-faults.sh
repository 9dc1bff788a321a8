#!/usr/bin/env bash
# Redis killed and restarted under wrk load: the release build of examples/extended.rs with
# revocation on a local redis-server (fail closed, the default; `revocation_timeout` 0.3 s), wrk
# sending one valid access token to `GET /protected` the whole time, Redis killed after UP seconds
# and restarted (empty) DOWN seconds later. Prints the answers' statuses per second and per phase:
# nothing but 200 and 503 is expected, 200 while Redis is up, 503 while it is down, 200 again
# after the restart without restarting the application. On 127.0.0.1 only.
#
#   bash scripts/bench-revocation-faults.sh          # UP=3 DOWN=3 AFTER=4 seconds
#   FAIL_OPEN=1 bash scripts/bench-revocation-faults.sh   # revocation_fail_open: 200 throughout
set -euo pipefail
# The extended example reads its secret from the environment (a benchmark value, never a real one).
export JWT_SECRET_KEY="${JWT_SECRET_KEY:-bench-secret-bench-secret-bench-secret}"
cd "$(dirname "$0")/.."
up="${UP:-3}" down="${DOWN:-3}" after="${AFTER:-4}"
port="${PORT:-18280}" redis_port=$((${PORT:-18280} + 1))
for tool in wrk redis-server curl; do
    command -v "$tool" >/dev/null || { echo "$tool is needed (apt-get install $tool)" >&2; exit 1; }
done
pin_server=() pin_client=()
if [ "$(nproc)" -ge 2 ] && command -v taskset >/dev/null; then
    pin_server=(taskset -c 0) pin_client=(taskset -c 1)
fi

cargo build --release --quiet --example extended
binary="$(cargo metadata --format-version 1 --no-deps |
    python3 -c 'import json, sys; print(json.load(sys.stdin)["target_directory"])')/release/examples/extended"

work=$(mktemp -d)
server_pid="" redis_pid=""
start_redis() {
    "${pin_client[@]}" redis-server --port "$redis_port" --bind 127.0.0.1 --save '' --appendonly no \
        >>"$work/redis.log" 2>&1 &
    redis_pid=$!
    for _ in $(seq 1 50); do
        redis-cli -p "$redis_port" ping >/dev/null 2>&1 && return 0
        sleep 0.1
    done
    echo "redis-server did not start" >&2
    exit 1
}
cleanup() {
    [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null
    [ -n "$redis_pid" ] && kill "$redis_pid" 2>/dev/null
    wait 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT

start_redis
fail_open=false; [ "${FAIL_OPEN:-0}" = 1 ] && fail_open=true
env ROCKET_ADDRESS=127.0.0.1 ROCKET_PORT="$port" ROCKET_LOG_LEVEL=critical ROCKET_WORKERS=2 \
    REDIS_URL="redis://127.0.0.1:$redis_port/" JWT_REVOCATION_TIMEOUT=0.3 \
    JWT_REVOCATION_FAIL_OPEN="$fail_open" "${pin_server[@]}" "$binary" >"$work/server.log" 2>&1 &
server_pid=$!
for _ in $(seq 1 100); do
    curl -s -o /dev/null "http://127.0.0.1:$port/" && break
    sleep 0.1
done
token=$(curl -s -X POST "http://127.0.0.1:$port/login" -H 'Content-Type: application/json' \
    -d '{"username": "user1", "password": "abcxyz"}' | sed -n 's/.*"access_token":"\([^"]*\)".*/\1/p')
[ -n "$token" ] || { echo "no token from POST /login" >&2; cat "$work/server.log" >&2; exit 1; }

# Start on a second boundary, so that the phases are whole seconds of wrk's tally.
sleep "$(awk -v n="$(date +%N)" 'BEGIN { printf "%.3f", 1 - n / 1e9 }')"
start=$(date +%s)
"${pin_client[@]}" wrk -t1 -c16 -d"$((up + down + after))s" --timeout 5s -s scripts/status-per-second.lua \
    "http://127.0.0.1:$port/protected" -H "Authorization: Bearer $token" >"$work/wrk.out" 2>&1 &
wrk_pid=$!
sleep "$up"
killed=$(date +%s.%N)
kill -9 "$redis_pid"; wait "$redis_pid" 2>/dev/null || true; redis_pid=""
sleep "$down"
restarted=$(date +%s.%N)
start_redis
wait "$wrk_pid"

echo "revocation_fail_open = $fail_open; Redis killed at +$(awk -v a="$killed" -v s="$start" 'BEGIN { printf "%.2f", a - s }') s, restarted (empty) at +$(awk -v a="$restarted" -v s="$start" 'BEGIN { printf "%.2f", a - s }') s"
echo
echo "| second | phase | answers |"
echo "|---|---|---|"
grep -E '^[0-9]+ [0-9]+ [0-9]+$' "$work/wrk.out" | sort -n -k1,1 -k2,2 |
    awk -v s="$start" -v k="$killed" -v r="$restarted" '
        { key = $1 - s; counts[key] = counts[key] sep[key] $2 " × " $3; sep[key] = ", "; if (key > last) last = key }
        END {
            for (t = 0; t <= last; t++) {
                if (!(t in counts)) continue
                if (t + 1 <= k - s) phase = "up"
                else if (t < k - s) phase = "killed during this second"
                else if (t + 1 <= r - s) phase = "down"
                else if (t < r - s) phase = "restarted during this second"
                else phase = "after the restart"
                printf "| +%d s | %s | %s |\n", t, phase, counts[t]
            }
        }'
echo
grep -E "Requests/sec|Non-2xx|requests in" "$work/wrk.out"
