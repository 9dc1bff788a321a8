#!/usr/bin/env bash
# Instructions per request of the whole server (hyper, Tokio, Rocket, the guard), counted by
# callgrind in the release server itself while a client on one keep-alive connection sends a fixed
# number of requests: a protected route against its unprotected twin, in the same process. Unlike
# wrk's requests/s, the counts do not depend on what else the machine runs; unlike them too, they
# leave out the kernel's share of a request (the TCP stack, system calls), which is the same for
# both routes, so the ratio bare/protected is lower (more pessimistic) than a throughput ratio.
#
#   bash scripts/bench-server-instructions.sh              # every configuration below
#   CONFIGS="seed-on seed-off" bash scripts/bench-server-instructions.sh
#
# Configurations: seed-on / seed-off (the seed example, Flask-JWT profile, HS256, the verified-token
# cache on / off); seed-on-metrics / seed-off-metrics (the same with `metrics` on); ext-off /
# ext-near / ext-direct (bench_server, Flask-JWT-Extended profile, HS256
# Bearer header: revocation off; on Redis with the near-cache warm; on Redis without the near-cache,
# one Redis lookup per request); ext-cookie (the same as ext-off, the token in the access cookie of
# a GET, which needs no CSRF value). The ext-near/ext-direct configurations start a redis-server on a
# free loopback port. REQUESTS (default 2000) per route and round, ROUNDS (default 2), PORT (18180).
# KEEP=DIR keeps callgrind's dumps there, for callgrind_annotate --inclusive=yes.
set -euo pipefail
# The seed example reads its secret from the environment (a benchmark value, never a real one).
export JWT_SECRET_KEY="${JWT_SECRET_KEY:-bench-secret-bench-secret-bench-secret}"
cd "$(dirname "$0")/.."
configs="${CONFIGS:-seed-on seed-off ext-off ext-cookie ext-near ext-direct}"
requests="${REQUESTS:-2000}"
rounds="${ROUNDS:-2}"
port="${PORT:-18180}"
redis_port=$((port + 1))

cargo build --release --quiet --example seed --example bench_server
examples="$(cargo metadata --format-version 1 --no-deps |
    python3 -c 'import json, sys; print(json.load(sys.stdin)["target_directory"])')/release/examples"

work=$(mktemp -d)
server_pid="" redis_pid=""
cleanup() {
    [ -n "${KEEP:-}" ] && mkdir -p "$KEEP" && cp "$work"/*.out.* "$KEEP"/ 2>/dev/null
    [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null
    [ -n "$redis_pid" ] && kill "$redis_pid" 2>/dev/null && wait "$redis_pid" 2>/dev/null
    rm -rf "$work"
}
trap cleanup EXIT

# The client: COUNT requests of METHOD PATH with HEADER (name: value, or empty) on one keep-alive
# connection, each answered 200.
# shellcheck source=scripts/bench-common.sh
source scripts/bench-common.sh
keepalive_client "$work/client.py"

if [[ " $configs " == *" ext-near "* || " $configs " == *" ext-direct "* ]]; then
    command -v redis-server >/dev/null || { echo "redis-server is needed for ext-near/ext-direct" >&2; exit 1; }
    redis-server --port "$redis_port" --bind 127.0.0.1 --save '' --appendonly no >"$work/redis.log" 2>&1 &
    redis_pid=$!
fi

# start CONFIG: the server of that configuration under callgrind, instrumentation off until asked.
start() {
    local binary envs=()
    case "$1" in
        seed-*) binary="$examples/seed" ;;
        ext-*) binary="$examples/bench_server"; envs=(BENCH_ALG=HS256 BENCH_PROFILE=extended) ;;
    esac
    case "$1" in
        *-metrics) envs+=(JWT_METRICS=true) ;;
    esac
    case "$1" in
        seed-off | seed-off-metrics) envs+=(JWT_TOKEN_CACHE_ENTRIES=0) ;;
        ext-near) envs+=("JWT_REDIS_URL=redis://127.0.0.1:$redis_port/") ;;
        ext-direct) envs+=("JWT_REDIS_URL=redis://127.0.0.1:$redis_port/" JWT_REVOCATION_NEAR_CACHE=false) ;;
    esac
    env ROCKET_ADDRESS=127.0.0.1 ROCKET_PORT="$port" ROCKET_LOG_LEVEL=off ROCKET_WORKERS=1 "${envs[@]}" \
        valgrind --tool=callgrind --instr-atstart=no --callgrind-out-file="$work/$1.out" \
        "$binary" >"$work/server.log" 2>&1 &
    server_pid=$!
    for _ in $(seq 1 600); do
        curl -s -o /dev/null "http://127.0.0.1:$port/unprotected" && return 0
        kill -0 "$server_pid" 2>/dev/null || { cat "$work/server.log" >&2; exit 1; }
        sleep 0.1
    done
    echo "$1: no answer within 60 s" >&2
    exit 1
}

# token CONFIG: the header that carries a valid token for that configuration.
token() {
    case "$1" in
        seed-*)
            echo "Authorization: JWT $(curl -s -X POST "http://127.0.0.1:$port/auth" \
                -H 'Content-Type: application/json' -d '{"username": "user1", "password": "abcxyz"}' |
                sed -n 's/.*"access_token":"\([^"]*\)".*/\1/p')" ;;
        ext-cookie) echo "Cookie: access_token_cookie=$(BENCH_ALG=HS256 BENCH_PROFILE=extended "$examples/bench_server" mint)" ;;
        ext-*) echo "Authorization: Bearer $(BENCH_ALG=HS256 BENCH_PROFILE=extended "$examples/bench_server" mint)" ;;
    esac
}

# measure CONFIG ROUTE HEADER: instructions per request of REQUESTS requests.
measure() {
    callgrind_control --instr=on "$server_pid" >/dev/null 2>&1
    callgrind_control --zero "$server_pid" >/dev/null 2>&1
    python3 "$work/client.py" "$port" "$requests" "$2" "$3"
    callgrind_control --dump="$1 $2" "$server_pid" >/dev/null 2>&1
    local file
    file=$(ls -t "$work/$1.out".* | head -1)
    awk -v n="$requests" '/^summary:|^totals:/ { printf "%.0f", $2 / n; exit }' "$file"
}

printf '| configuration | round | bare Ir/req | protected Ir/req | guard Ir/req | bare/protected |\n|---|---|---|---|---|---|\n'
for config in $configs; do
    start "$config"
    header=$(token "$config")
    # Warm-up, instrumentation off: connections, caches (the verified-token cache, the near-cache).
    python3 "$work/client.py" "$port" 200 /unprotected "$header"
    python3 "$work/client.py" "$port" 200 /protected "$header"
    for round in $(seq 1 "$rounds"); do
        if [ $((round % 2)) = 1 ]; then
            bare=$(measure "$config" /unprotected "$header"); protected=$(measure "$config" /protected "$header")
        else
            protected=$(measure "$config" /protected "$header"); bare=$(measure "$config" /unprotected "$header")
        fi
        printf '| %s | %s | %s | %s | %s | %s |\n' "$config" "$round" "$bare" "$protected" \
            "$((protected - bare))" "$(awk -v b="$bare" -v p="$protected" 'BEGIN { printf "%.3f", b / p }')"
    done
    kill "$server_pid" 2>/dev/null; wait "$server_pid" 2>/dev/null || true
    server_pid=""
done
