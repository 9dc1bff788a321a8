#!/usr/bin/env bash
# Refreshes per second: `POST /refresh` of examples/extended.rs, in one run, with refresh-token
# rotation off and on, on the memory store and on Redis, with wrk on 127.0.0.1 only:
#
#   off            rotation off, no revocation store (Flask-JWT-Extended's refresh)
#   memory         refresh_token_rotation on, the memory store
#   redis-off      rotation off, revocation on Redis (the refresh token's revocation check)
#   redis          refresh_token_rotation on, Redis: the check, then one script call
#
#   bash scripts/bench-refresh.sh            # 3 rounds of 5 s, 16 sessions in flight
#   ROUNDS=5 DURATION=10 SESSIONS=32 bash scripts/bench-refresh.sh
#
# Every contender is a release build of the example on its own port (pinned as in
# scripts/bench-common.sh: the server on CPU 0 with one worker, wrk on CPU 1), Redis a
# redis-server of this script's own on a free port (no persistence). Each session is a login;
# with rotation, each answer's refresh token replaces the one presented (scripts/bench-refresh.lua),
# so every request is a rotation and none a reuse. Rounds alternate the order of the contenders;
# each prints requests/s and non-2xx answers (which must be 0), then the medians and spread.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/bench-common.sh

rounds="${ROUNDS:-3}"
duration="${DURATION:-5}"
sessions="${SESSIONS:-16}"
base="${BENCH_PORT:-18380}"
pinning
secret="bench-secret-of-at-least-thirty-two-bytes"

declare -A port
example_servers

redis_port=$((base + 10))
redis-server --port "$redis_port" --bind 127.0.0.1 --save '' --appendonly no \
    --daemonize no >"$work/redis.log" 2>&1 &
pids+=($!)

contenders=(off memory redis-off redis)
redis_url="redis://127.0.0.1:$redis_port/"
start() { start_example "$@" JWT_SECRET_KEY="$secret"; }
start off $((base)) REDIS_URL=
start memory $((base + 1)) REDIS_URL= JWT_REFRESH_TOKEN_ROTATION=true
start redis-off $((base + 2)) REDIS_URL="$redis_url"
start redis $((base + 3)) REDIS_URL="$redis_url" JWT_REFRESH_TOKEN_ROTATION=true
wait_ready "${contenders[@]}"

# A fresh pool of sessions for each run (a rotated pool cannot be used twice), one more per wrk
# thread (see scripts/bench-refresh.lua).
tokens() {
    for _ in $(seq $((sessions + threads))); do
        curl -s -X POST "http://127.0.0.1:$1/login" -H 'Content-Type: application/json' \
            -d '{"username": "user1", "password": "abcxyz"}' |
            python3 -c 'import json, sys; print(json.load(sys.stdin)["refresh_token"])'
    done
}

declare -A results
run() {
    local name=$1 mode=plain
    case $name in memory | redis) mode=rotate ;; esac
    mapfile -t pool < <(tokens "${port[$name]}")
    local out
    out=$("${wrk_cmd[@]}" -t"$threads" -c"$sessions" -d"${duration}s" \
        -s scripts/bench-refresh.lua "http://127.0.0.1:${port[$name]}" -- "$mode" "$threads" "${pool[@]}")
    local rate errors
    rate=$(awk '/Requests\/sec/ {print $2}' <<<"$out")
    errors=$(awk '/Non-2xx/ {print $5}' <<<"$out")
    printf '  %-10s %10s req/s   non-2xx %s\n' "$name" "$rate" "${errors:-0}"
    results[$name]+="$rate "
}

echo "refreshes per second: $sessions sessions, ${duration}s per run, $rounds rounds, pinned=$pin"
for name in "${contenders[@]}"; do run "$name" >/dev/null; done # warm-up, not counted
results=()
for round in $(seq "$rounds"); do
    echo "round $round"
    order=("${contenders[@]}")
    if ((round % 2 == 0)); then
        order=(redis redis-off memory off)
    fi
    for name in "${order[@]}"; do run "$name"; done
done
echo "medians (min-max), and the ratio to off"
off_median=$(tr ' ' '\n' <<<"${results[off]}" | grep . | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')
for name in "${contenders[@]}"; do
    tr ' ' '\n' <<<"${results[$name]}" | grep . | sort -n |
        awk -v n="$name" -v off="$off_median" '{a[NR]=$1} END {
            m=a[int((NR+1)/2)]; printf "  %-10s %10.0f (%0.f-%0.f)  %.2fx\n", n, m, a[1], a[NR], m/off }'
done
