#!/usr/bin/env bash
# Load benchmark: a protected route against its unprotected twin in the same process, with wrk,
# on 127.0.0.1 only. See docs/performance.md for the method and the last results.
#
#   bash scripts/bench-load.sh                     # HS256 (seed), RS256 and ES256 (bench_server)
#   bash scripts/bench-load.sh --algs "HS256"      # a subset
#   bash scripts/bench-load.sh --distinct-tokens   # 60 s of distinct valid tokens: memory over time
#
# Options (or the environment variables in brackets):
#   --algs "HS256 RS256 ES256"  configurations to run [BENCH_ALGS]; HS256 is the seed example;
#                               EXT-HEADER and EXT-COOKIE are the Flask-JWT-Extended profile
#                               (bench_server, HS256): a Bearer header on GET, and the access
#                               cookie with its CSRF header on POST (against a bare POST route)
#                               (POST /auth for the token), the others the bench_server example
#                               (the resource-server configuration with a static key)
#   --rounds N                  alternating rounds per configuration, default 3 [BENCH_ROUNDS]
#   --duration S                seconds per wrk run, default 10 [BENCH_DURATION]
#   --revocation                instead: revocation on Redis, three servers of the extended profile
#                               side by side (bench_server, HS256, Bearer header): revocation off,
#                               on with the near-cache (warm), on without it (Redis read per
#                               request), each /protected against the first's /unprotected, in
#                               rotating order every round; starts a redis-server (pinned with wrk)
#   --interleave                instead: both routes in each wrk run, alternating every PHASE (2000)
#                               requests (scripts/bench-interleave.lua), so that the machine's
#                               speed, which drifts over seconds, weighs on both alike; the
#                               order alternates between runs, and each configuration also runs
#                               the bare route against itself (the method's own error, ratio 1).
#                               GET configurations only (not EXT-COOKIE)
#   --distinct-tokens           instead: DISTINCT_SECONDS (60) of DISTINCT_TOKENS (10000) distinct
#                               tokens per configuration; memory at the start, at 10 s, at the end
#   --cache on|off|both         the verified-token cache as configured by default (on), turned
#                               off with JWT_TOKEN_CACHE_ENTRIES=0 (off), or both, default both
#                               [BENCH_CACHE]
#   --port P                    server port, default 18080 [BENCH_PORT]
# Also: WRK_THREADS, WRK_CONNECTIONS (64), ROCKET_WORKERS, PIN=0 (no CPU pinning), PHASE (requests
# per phase of --interleave), BENCH_RETRIES (2: a run whose server stayed under 90 % CPU, i.e.
# other processes took its core, is retried).
#
# Besides requests/s and p99, each run reports the server's CPU time per request (from
# /proc/<pid>/stat): unlike requests/s, it barely moves when other processes share the machine.
#
# On a machine with 2+ CPUs (and taskset), the server is pinned to CPU 0 with one Rocket worker
# and wrk to CPU 1 with one thread, so the two do not compete for a core; PIN=0 turns that off
# (then the defaults are 2 wrk threads and Rocket's default workers).
#
# Installs wrk (and curl) with apt-get when missing. Every wrk run is bounded in time; the servers
# started here are stopped on exit.
set -euo pipefail
# The seed example reads its secret from the environment (a benchmark value, never a real one).
export JWT_SECRET_KEY="${JWT_SECRET_KEY:-bench-secret-bench-secret-bench-secret}"
cd "$(dirname "$0")/.."

algs="${BENCH_ALGS:-HS256 RS256 ES256}"
rounds="${BENCH_ROUNDS:-3}"
duration="${BENCH_DURATION:-10}"
port="${BENCH_PORT:-18080}"
distinct=0
revocation=0
interleave=0
phase="${PHASE:-2000}"
cache_modes="${BENCH_CACHE:-both}"
distinct_seconds="${DISTINCT_SECONDS:-60}"
distinct_tokens="${DISTINCT_TOKENS:-10000}"
connections="${WRK_CONNECTIONS:-64}"
retries="${BENCH_RETRIES:-2}"
warmup=3

while [ $# -gt 0 ]; do
    case "$1" in
        --algs) algs="$2"; shift 2 ;;
        --rounds) rounds="$2"; shift 2 ;;
        --duration) duration="$2"; shift 2 ;;
        --port) port="$2"; shift 2 ;;
        --cache) cache_modes="$2"; shift 2 ;;
        --distinct-tokens) distinct=1; shift ;;
        --revocation) revocation=1; shift ;;
        --interleave) interleave=1; shift ;;
        -h|--help) sed -n '2,47p' "$0"; exit 0 ;;
        *) echo "unknown argument: $1 (see --help)" >&2; exit 2 ;;
    esac
done
case "$cache_modes" in
    both) cache_modes="off on" ;;
    on|off) ;;
    *) echo "--cache: on, off or both" >&2; exit 2 ;;
esac

# ----- tools ---------------------------------------------------------------------------------------

missing=()
command -v wrk >/dev/null || missing+=(wrk)
command -v curl >/dev/null || missing+=(curl)
if [ ${#missing[@]} -gt 0 ]; then
    echo "Installing ${missing[*]} with apt-get"
    apt-get update -qq && apt-get install -y -qq "${missing[@]}" >/dev/null
fi

# shellcheck source=scripts/bench-common.sh
source scripts/bench-common.sh
pinning

echo "Building the examples (release)"
cargo build --release --quiet --example seed --example bench_server
target_dir=$(cargo metadata --format-version 1 --no-deps |
    python3 -c 'import json, sys; print(json.load(sys.stdin)["target_directory"])')
examples="$target_dir/release/examples"

# ----- servers -------------------------------------------------------------------------------------

work=$(mktemp -d)
server_pid=""
stop_server() {
    if [ -n "$server_pid" ] && kill -0 "$server_pid" 2>/dev/null; then
        kill "$server_pid" 2>/dev/null || true
        wait "$server_pid" 2>/dev/null || true
    fi
    server_pid=""
}
cleanup() {
    stop_server
    rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

base="http://127.0.0.1:$port"

# start_server ALG CACHE [VAR=VALUE...]: starts the server of that configuration in the
# background, with the verified-token cache on (its default) or off, and the extra environment.
start_server() {
    local alg="$1" cache="$2" binary cache_env=()
    shift 2
    if [ "$cache" = off ]; then cache_env=(JWT_TOKEN_CACHE_ENTRIES=0); fi
    if [ "$alg" = HS256 ] && [ "$distinct" = 0 ]; then binary="$examples/seed"; else binary="$examples/bench_server"; fi
    local profile_env=()
    case "$alg" in EXT-*) profile_env=(BENCH_PROFILE=extended); alg=HS256 ;; esac
    if curl -s -o /dev/null "$base/" 2>/dev/null; then
        echo "port $port is already in use: choose another with --port" >&2
        exit 1
    fi
    env ROCKET_ADDRESS=127.0.0.1 ROCKET_PORT="$port" ROCKET_LOG_LEVEL=off ROCKET_WORKERS="$workers" \
        BENCH_ALG="$alg" "${cache_env[@]}" "${profile_env[@]}" "$@" "${server_cmd[@]}" "$binary" >"$work/server.log" 2>&1 &
    server_pid=$!
    for _ in $(seq 1 100); do
        if curl -s -o /dev/null "$base/unprotected"; then return 0; fi
        if ! kill -0 "$server_pid" 2>/dev/null; then
            echo "the $alg server exited:" >&2
            cat "$work/server.log" >&2
            exit 1
        fi
        sleep 0.1
    done
    echo "the $alg server did not answer within 10 s" >&2
    exit 1
}

# memory FIELD: the server's VmHWM or VmRSS in MiB.
memory() {
    awk -v field="$1:" '$1 == field { printf "%.1f", $2 / 1024 }' "/proc/$server_pid/status"
}

# cpu_ticks: user + system clock ticks of the server so far.
cpu_ticks() {
    awk '{ print $14 + $15 }' "/proc/$server_pid/stat"
}

# scheme ALG: the Authorization scheme of that configuration.
scheme() { if [ "$1" = HS256 ]; then echo JWT; else echo Bearer; fi; }

# The CSRF value of the extended profile's minted token (bench_server's `CSRF`).
csrf="5b0f4f43-6a1d-4d1e-9c11-0b1a2c3d4e5f"

# request ALG TOKEN: sets `req` (the curl and wrk arguments that carry the token) and `method`.
request() {
    case "$1" in
        EXT-COOKIE) req=(-H "Cookie: access_token_cookie=$2" -H "X-CSRF-TOKEN: $csrf"); method=POST ;;
        *) req=(-H "Authorization: $(scheme "$1") $2"); method=GET ;;
    esac
}

# token ALG: a valid token for that configuration (from POST /auth for the seed example).
token() {
    if [ "$1" = HS256 ]; then
        curl -s -X POST "$base/auth" -H 'Content-Type: application/json' \
            -d '{"username": "user1", "password": "abcxyz"}' |
            sed -n 's/.*"access_token":"\([^"]*\)".*/\1/p'
    else
        case "$1" in
            EXT-*) BENCH_ALG=HS256 BENCH_PROFILE=extended "$examples/bench_server" mint ;;
            *) BENCH_ALG="$1" "$examples/bench_server" mint ;;
        esac
    fi
}

# to_ms VALUE: wrk's latency (e.g. 812.00us, 1.23ms, 1.01s) in milliseconds.
to_ms() {
    awk -v v="$1" 'BEGIN {
        if (v ~ /us$/) printf "%.3f", v / 1000;
        else if (v ~ /ms$/) printf "%.3f", v + 0;
        else if (v ~ /s$/) printf "%.3f", v * 1000;
        else printf "%s", v }'
}

# run_wrk ROUTE SECONDS [wrk args...]: one wrk run; sets rps, p99, requests, non2xx, cpu_us, util.
run_wrk() {
    local route="$1" seconds="$2" out="$work/wrk.out" before after
    shift 2
    before=$(cpu_ticks)
    if ! "${wrk_cmd[@]}" -t"$threads" -c"$connections" -d"${seconds}s" --timeout 5s --latency \
        "$base$route" "$@" >"$out" 2>&1; then
        echo "wrk on $route failed:" >&2
        cat "$out" >&2
        exit 1
    fi
    after=$(cpu_ticks)
    rps=$(awk '/^Requests\/sec:/ { printf "%.0f", $2 }' "$out")
    requests=$(awk '/requests in/ { print $1 }' "$out")
    non2xx=$(awk '/Non-2xx or 3xx responses:/ { print $5 }' "$out")
    non2xx=${non2xx:-0}
    p99=$(awk '$1 == "99%" { print $2 }' "$out")
    p99=$(to_ms "$p99")
    local hz
    hz=$(getconf CLK_TCK)
    cpu_us=$(awk -v t=$((after - before)) -v hz="$hz" -v n="$requests" 'BEGIN { printf "%.1f", t * 1e6 / hz / n }')
    util=$(awk -v t=$((after - before)) -v hz="$hz" -v s="$seconds" 'BEGIN { printf "%.0f", t / hz / s * 100 }')
    if [ -z "$rps" ] || [ "$non2xx" != 0 ]; then
        echo "wrk on $route: no result or non-2xx responses ($non2xx):" >&2
        cat "$out" >&2
        exit 1
    fi
}

median() { tr ' ' '\n' | grep -v '^$' | sort -g | awk '{ a[NR] = $1 } END { print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", a / b }'; }
# spread "V1 V2 ...": the median and the range, as "median (min–max)".
spread() { echo "$(echo "$1" | median | xargs printf '%.3f') ($(echo "$1" | tr ' ' '\n' | grep -v '^$' | sort -g | head -1)–$(echo "$1" | tr ' ' '\n' | grep -v '^$' | sort -g | tail -1))"; }

echo "Machine: $ncpu CPUs ($(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)), \
$(awk '/MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo); pinning: $([ "$pin" = 1 ] && echo "server CPU 0 ($workers worker), wrk CPU 1" || echo none)"
if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
    commit="$(git rev-parse --short HEAD)$(git diff --quiet HEAD -- jwt-runtime/src jwt-macros || echo ' + uncommitted library changes')"
else
    commit="? (not a git work tree)"
fi
if [ "$distinct" = 1 ]; then
    echo "wrk: -t$threads -c$connections, $distinct_seconds s of $distinct_tokens distinct tokens; cache: $cache_modes; commit $commit"
else
    echo "wrk: -t$threads -c$connections, ${duration} s per run, $rounds rounds; cache: $cache_modes; commit $commit"
fi

# ----- distinct tokens -----------------------------------------------------------------------------

if [ "$distinct" = 1 ]; then
    # Memory is sampled every second during the run. Every token has been seen (and the cache
    # filled) long before 10 s, so growth after 10 s is growth beyond the cache bound.
    printf '\n| alg | cache | tokens | seconds | load before | rps | p99 ms | server CPU µs/req | VmRSS start → 10 s → end (MiB) | VmHWM start → 10 s → end (MiB) | VmHWM growth after 10 s (MiB) |\n'
    printf '|---|---|---|---|---|---|---|---|---|---|---|\n'
    for alg in $algs; do
      BENCH_ALG="$alg" "$examples/bench_server" mint "$distinct_tokens" >"$work/tokens.txt"
      for cache in $cache_modes; do
        start_server "$alg" "$cache"
        load=$(cut -d' ' -f1 /proc/loadavg)
        # one request with the first token, so that the memory at the start includes a served request
        first=$(head -1 "$work/tokens.txt")
        curl -sf -o /dev/null "$base/protected" -H "Authorization: Bearer $first"
        rss0=$(memory VmRSS); hwm0=$(memory VmHWM)
        (
            for second in $(seq 1 "$distinct_seconds"); do
                sleep 1
                echo "$second $(memory VmRSS) $(memory VmHWM)"
            done
        ) >"$work/memory.txt" 2>/dev/null &
        sampler=$!
        run_wrk /protected "$distinct_seconds" -s scripts/bench-distinct.lua -- "$work/tokens.txt" Bearer
        kill "$sampler" 2>/dev/null || true
        wait "$sampler" 2>/dev/null || true
        p99=$(awk '$1 == "p99_ms" { print $2 }' "$work/wrk.out")
        rss1=$(memory VmRSS); hwm1=$(memory VmHWM)
        rss10=$(awk '$1 == 10 { print $2 }' "$work/memory.txt"); hwm10=$(awk '$1 == 10 { print $3 }' "$work/memory.txt")
        growth=$(awk -v a="$hwm10" -v b="$hwm1" 'BEGIN { printf "%.1f", b - a }')
        printf '| %s | %s | %s | %s | %s | %s | %s | %s | %s → %s → %s | %s → %s → %s | %s |\n' "$alg" "$cache" \
            "$distinct_tokens" "$distinct_seconds" "$load" "$rps" "$p99" "$cpu_us" \
            "$rss0" "$rss10" "$rss1" "$hwm0" "$hwm10" "$hwm1" "$growth"
        stop_server
      done
    done
    exit 0
fi

# ----- revocation on Redis -------------------------------------------------------------------------

if [ "$revocation" = 1 ]; then
    command -v redis-server >/dev/null || { apt-get update -qq && apt-get install -y -qq redis-server >/dev/null; }
    redis_port=$((port + 10))
    redis_cmd=(); [ "$pin" = 1 ] && redis_cmd=(taskset -c 1)
    "${redis_cmd[@]}" redis-server --port "$redis_port" --bind 127.0.0.1 --save '' --appendonly no \
        >"$work/redis.log" 2>&1 &
    redis_pid=$!
    trap 'kill "$redis_pid" 2>/dev/null || true; cleanup' EXIT
    redis_url="redis://127.0.0.1:$redis_port/"
    # Three servers on three ports, all pinned to the server's CPU; only one is loaded at a time.
    names=(off near direct)
    envs=("" "JWT_REDIS_URL=$redis_url" "JWT_REDIS_URL=$redis_url JWT_REVOCATION_NEAR_CACHE=false")
    pids=()
    base_port=$port
    cache=${cache_modes%% *}; [ "$cache_modes" = "off on" ] && cache=on
    for i in 0 1 2; do
        port=$((base_port + i)); base="http://127.0.0.1:$port"
        # shellcheck disable=SC2086 # the extra environment is words on purpose
        start_server EXT-HEADER "$cache" ${envs[$i]}
        pids+=("$server_pid"); server_pid=""
    done
    stop_all() { for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done; kill "$redis_pid" 2>/dev/null || true; cleanup; }
    trap stop_all EXIT
    tok=$(token EXT-HEADER)
    request EXT-HEADER "$tok"
    printf '\nverified-token cache %s; redis-server %s on CPU %s\n' "$cache" "$(redis-server --version | awk '{ print $3 }')" "$([ "$pin" = 1 ] && echo 1 || echo any)"
    printf '\n| round | server | route | load before | rps | p99 ms | server CPU µs/req | server CPU %% |\n|---|---|---|---|---|---|---|---|\n'
    declare -A got=() last=()
    runs=("off /unprotected" "off /protected" "near /protected" "direct /protected")
    for round in $(seq 0 "$rounds"); do
        # round 0 warms every server (and the near-cache) and is not kept
        for k in 0 1 2 3; do
            run="${runs[$(((k + round) % 4))]}"
            name=${run% *}; route=${run#* }
            for i in 0 1 2; do [ "${names[$i]}" = "$name" ] && server_pid=${pids[$i]} && port=$((base_port + i)); done
            base="http://127.0.0.1:$port"
            load=$(cut -d' ' -f1 /proc/loadavg)
            if [ "$round" = 0 ]; then run_wrk "$route" "$warmup" "${req[@]}"; continue; fi
            run_wrk "$route" "$duration" "${req[@]}"
            mark=""; [ "$util" -lt 90 ] && mark=" (contended)"
            printf '| %s | %s | %s | %s | %s | %s | %s | %s%s |\n' "$round" "$name" "$route" "$load" "$rps" "$p99" "$cpu_us" "$util" "$mark"
            got[$run.rps]+="$rps "; got[$run.cpu]+="$cpu_us "
            last[$run]=$rps
        done
        server_pid=""
        if [ "$round" != 0 ]; then
            got[near]+="$(ratio "${last[near /protected]}" "${last[off /protected]}") "
            got[direct]+="$(ratio "${last[direct /protected]}" "${last[off /protected]}") "
            got[off]+="$(ratio "${last[off /protected]}" "${last[off /unprotected]}") "
        fi
    done
    printf '\nMedians of %s rounds (per-round ratios: median (min–max)):\n\n' "$rounds"
    printf '| run | rps | server CPU µs/req | per-round ratio |\n|---|---|---|---|\n'
    for run in "${runs[@]}"; do
        case "$run" in
            "off /unprotected") r="1 (the bare route)" ;;
            "off /protected") r="$(spread "${got[off]}") of the bare route" ;;
            "near /protected") r="$(spread "${got[near]}") of revocation off" ;;
            "direct /protected") r="$(spread "${got[direct]}") of revocation off" ;;
        esac
        printf '| %s | %s | %s | %s |\n' "$run" "$(echo "${got[$run.rps]}" | median | xargs printf '%.0f')" "$(echo "${got[$run.cpu]}" | median)" "$r"
    done
    printf '\nRedis calls: %s\n' "$(redis-cli -p "$redis_port" INFO commandstats | grep -E 'cmdstat_(mget|get):' | cut -d, -f1 | tr '\r\n' '  ')"
    exit 0
fi

# ----- both routes in each run ---------------------------------------------------------------------

if [ "$interleave" = 1 ]; then
    [ "$threads" = 1 ] || { echo "--interleave needs one wrk thread (WRK_THREADS=1)" >&2; exit 2; }
    # interleaved SECONDS A B: one wrk run alternating between routes A and B; sets `ratio` (B's
    # requests/s over A's, from the timed middle of every phase) and `phases`.
    interleaved() {
        "${wrk_cmd[@]}" -t1 -c"$connections" -d"$1s" --timeout 5s \
            -s scripts/bench-interleave.lua "$base" -- "$phase" "${req[1]}" "$2" "$3" >"$work/wrk.out" 2>&1 ||
            { echo "wrk failed:" >&2; cat "$work/wrk.out" >&2; exit 1; }
        ratio=$(awk '$1 == "interleave" { rate[++n] = $3 / $4 }
            END { if (n == 2 && rate[1] > 0) printf "%.3f", rate[2] / rate[1] }' "$work/wrk.out")
        phases=$(awk '$1 == "phases" { print $2 }' "$work/wrk.out")
        [ -n "$ratio" ] || { echo "no result:" >&2; cat "$work/wrk.out" >&2; exit 1; }
    }
    summary=()
    printf '\n| alg | cache | run | routes | phases | ratio (second/first) | protected/bare |\n|---|---|---|---|---|---|---|\n'
    for alg in $algs; do
      [ "$alg" = EXT-COOKIE ] && { echo "--interleave: EXT-COOKIE skipped (POST)" >&2; continue; }
      for cache in $cache_modes; do
        start_server "$alg" "$cache"
        tok=$(token "$alg")
        [ -n "$tok" ] || { echo "no token for $alg" >&2; exit 1; }
        request "$alg" "$tok"
        interleaved "$warmup" /unprotected /protected
        ratios="" controls=""
        for run in $(seq 1 "$rounds"); do
            if [ $((run % 2)) = 1 ]; then
                interleaved "$duration" /unprotected /protected; protected=$ratio
            else
                interleaved "$duration" /protected /unprotected; protected=$(awk -v r="$ratio" 'BEGIN { printf "%.3f", 1 / r }')
            fi
            ratios+="$protected "
            printf '| %s | %s | %s | %s | %s | %s | %s |\n' "$alg" "$cache" "$run" \
                "$([ $((run % 2)) = 1 ] && echo 'bare, protected' || echo 'protected, bare')" "$phases" "$ratio" "$protected"
        done
        for run in 1 2; do
            interleaved "$duration" /unprotected /unprotected
            controls+="$ratio "
            printf '| %s | %s | control %s | bare, bare | %s | %s | |\n' "$alg" "$cache" "$run" "$phases" "$ratio"
        done
        summary+=("| $alg | $cache | $(spread "$ratios") | $(spread "$controls") |")
        stop_server
      done
    done
    printf '\nprotected/bare over %s runs of %s s, phases of %s requests (median (min–max)); the\ncontrol is the bare route against itself:\n\n' "$rounds" "$duration" "$phase"
    printf '| alg | cache | protected/bare | control |\n|---|---|---|---|\n'
    printf '%s\n' "${summary[@]}"
    exit 0
fi

# ----- protected against unprotected ---------------------------------------------------------------

summary=()
printf '\n| alg | cache | round | route | load before | rps | p99 ms | server CPU µs/req | server CPU %% |\n'
printf '|---|---|---|---|---|---|---|---|---|\n'
for alg in $algs; do
  for cache in $cache_modes; do
    start_server "$alg" "$cache"
    hwm_start=$(memory VmHWM)
    tok=$(token "$alg")
    if [ -z "$tok" ]; then echo "no token for $alg" >&2; exit 1; fi
    request "$alg" "$tok"
    wrk_method=(); [ "$method" = POST ] && wrk_method=(-s scripts/bench-post.lua)
    bare_body=$(curl -sf -X "$method" "$base/unprotected" "${req[@]}")
    protected_body=$(curl -sf -X "$method" "$base/protected" "${req[@]}")
    if [ "$bare_body" != "$protected_body" ]; then
        echo "$alg: /protected answered '$protected_body', /unprotected '$bare_body'" >&2
        exit 1
    fi
    run_wrk /unprotected "$warmup" "${req[@]}" "${wrk_method[@]}"
    run_wrk /protected "$warmup" "${req[@]}" "${wrk_method[@]}"
    declare -A got=() last=()
    for round in $(seq 1 "$rounds"); do
        if [ $((round % 2)) = 1 ]; then order="/unprotected /protected"; else order="/protected /unprotected"; fi
        for route in $order; do
            # A server below 90 % CPU was not saturated: other processes took its core (or wrk
            # could not keep up). Such a run is retried, then kept but marked.
            for attempt in $(seq 0 "$retries"); do
                load=$(cut -d' ' -f1 /proc/loadavg)
                run_wrk "$route" "$duration" "${req[@]}" "${wrk_method[@]}"
                if [ "$util" -ge 90 ]; then break; fi
                echo "  ($alg $cache $route: server at $util % CPU, load $load: contended$([ "$attempt" -lt "$retries" ] && echo ', retrying in 10 s'))" >&2
                [ "$attempt" -lt "$retries" ] && sleep 10
            done
            mark=""; [ "$util" -lt 90 ] && mark=" (contended)"
            printf '| %s | %s | %s | %s | %s | %s | %s | %s | %s%s |\n' "$alg" "$cache" "$round" "$route" "$load" "$rps" "$p99" "$cpu_us" "$util" "$mark"
            got[$route.rps]+="$rps "
            got[$route.p99]+="$p99 "
            got[$route.cpu]+="$cpu_us "
            last[$route]=$rps
        done
        # The round's own ratio: both routes measured back to back, so its spread shows the noise.
        got[ratios]+="$(ratio "${last[/protected]}" "${last[/unprotected]}") "
    done
    hwm_end=$(memory VmHWM)
    b_rps=$(echo "${got[/unprotected.rps]}" | median | xargs printf '%.0f')
    p_rps=$(echo "${got[/protected.rps]}" | median | xargs printf '%.0f')
    b_p99=$(echo "${got[/unprotected.p99]}" | median); p_p99=$(echo "${got[/protected.p99]}" | median)
    b_cpu=$(echo "${got[/unprotected.cpu]}" | median); p_cpu=$(echo "${got[/protected.cpu]}" | median)
    r_min=$(echo "${got[ratios]}" | tr ' ' '\n' | grep -v '^$' | sort -g | head -1)
    r_max=$(echo "${got[ratios]}" | tr ' ' '\n' | grep -v '^$' | sort -g | tail -1)
    r_med=$(echo "${got[ratios]}" | median | xargs printf '%.3f')
    summary+=("| $alg | $cache | $b_rps | $p_rps | $(ratio "$p_rps" "$b_rps") | $r_med ($r_min–$r_max) | $b_p99 | $p_p99 | $b_cpu | $p_cpu | $(awk -v a="$p_cpu" -v b="$b_cpu" 'BEGIN { printf "%.1f", a - b }') | $hwm_start → $hwm_end |")
    unset got last
    stop_server
  done
done

printf '\nMedians of %s rounds:\n\n' "$rounds"
printf '| alg | cache | bare rps | protected rps | protected/bare | per-round ratio: median (min–max) | bare p99 ms | protected p99 ms | bare CPU µs/req | protected CPU µs/req | guard CPU µs/req | VmHWM start → end (MiB) |\n'
printf '|---|---|---|---|---|---|---|---|---|---|---|---|\n'
printf '%s\n' "${summary[@]}"
