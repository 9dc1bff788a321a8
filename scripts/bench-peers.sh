#!/usr/bin/env bash
# Peers benchmark: the same protected route behind other Rocket 0.5 JWT guards and ours, side by
# side in one run, with wrk on 127.0.0.1 only. The servers are the binaries of benches/peers (a
# package outside the workspace, with its own Cargo.lock):
#
#   bare            no guard at all: its protected/unprotected ratio is the method's own error
#   rocket-jwt      rocket-jwt 0.5.2 as its README shows it (`#[jwt(SECRET_KEY)]` on the claims
#                   struct, the struct as the handler's guard); HS256 only, so not in RS256's table
#   handwritten     an afternoon's guard on jsonwebtoken 11.1 (aws_lc_rs): `Bearer` header,
#                   `decode::<Claims>` with `Validation::new(alg)`, the `DecodingKey` in managed state
#   ours-cache-on   this library (`#[jwt_required]`, `current_identity!()`), Flask-JWT profile,
#   ours-cache-off  the verified-token cache on (default) / off (`JWT_TOKEN_CACHE_ENTRIES=0`)
#
# Every server answers `GET /protected` (the guard, then `Caller(sub='bench-user')`) and its twin
# `GET /unprotected` (the same body, no guard), and accepts the same token (`mint`: claims `sub`,
# `identity`, `iat`, `nbf`, `exp`, and `user`, where rocket-jwt reads its struct), sent as
# `Authorization: Bearer <token>`. HS256 uses one secret, RS256, ES256 and EdDSA the repository's
# test key pairs (testdata/keys/rsa_*.pem, ec_*.pem, ed_*.pem).
#
#   bash scripts/bench-peers.sh                       # HS256 and RS256, 3 rounds of 5 s
#   BENCH_ALGS="ES256 EdDSA" bash scripts/bench-peers.sh   # the other asymmetric algorithms
#   ROUNDS=5 DURATION=10 bash scripts/bench-peers.sh
#   LAUNCHES=3 ROUNDS=3 bash scripts/bench-peers.sh  # three launches of the servers, pooled
#   INSTRUCTIONS=1 bash scripts/bench-peers.sh        # also instructions per request (callgrind)
#   INSTRUCTIONS=only bash scripts/bench-peers.sh     # instructions per request alone
#   INSTRUCTIONS=only CACHE_SIM=1 bash scripts/bench-peers.sh   # and the guard's simulated
#                                                     # L1 misses and branch mispredictions
#
# Environment: BENCH_ALGS ("HS256 RS256"; "ES256" and "EdDSA" too), CONTENDERS (all five above),
# ROUNDS (3), LAUNCHES (1: how many times the servers are started, ROUNDS rounds each, the rounds
# of all launches pooled), DURATION (5 s per wrk run), BENCH_PORT (18280: the servers take that port and the
# next ones), WRK_THREADS, WRK_CONNECTIONS (64), ROCKET_WORKERS, PIN=0 (no CPU pinning),
# BENCH_RETRIES (2: a run whose server stayed under 90 % CPU, i.e. other processes took its core,
# is retried), and for INSTRUCTIONS: REQUESTS (2000) per route and round, IR_ROUNDS (2), KEEP=DIR
# (callgrind's dumps), CACHE_SIM=1 (callgrind's cache and branch simulation: the guard's level-1
# instruction and data cache misses and mispredicted branches per request, beside its
# instructions; what a request costs on a real CPU, where every request finds the caches cold
# after the kernel's network path, follows them more closely than the instructions alone).
#
# For every algorithm, all its servers are started at once (pinned to the same CPU, one loaded at
# a time), warmed up, then measured in ROUNDS rounds whose order of contenders alternates (forward,
# then backward), each contender's two routes back to back (the order of the two alternating too).
# Each run reports requests/s and the server's CPU time per request (utime + stime of
# /proc/<pid>/stat before and after, over the requests), and its user part alone; a contender's
# figures are its /protected against its own /unprotected of the same round: the ratio of
# requests/s and the CPU µs per request over the bare route, total and user.
#
# Why the user part: a guard makes no system calls, yet a slower route costs more system time per
# request. On loopback the server's write also runs the client's receive path and wakes wrk's
# thread on the other CPU (`tcp_sendmsg` ... `sock_def_readable`), which costs most when wrk is
# idle waiting, i.e. when the server is the slower side: a profile (`perf record -g -e cpu-clock`)
# of a guarded route put a fifth of the server's time there. Both figures are printed.
#
# Why launches: one start of the servers can sit better or worse than another (where the kernel
# and the allocator place them); a contender's figure moves by up to 3 µs between launches, more
# than within one. Several launches, alternating in the same way, pool that out. With INSTRUCTIONS, each server then runs alone under callgrind as in
# scripts/bench-server-instructions.sh (instrumentation toggled with callgrind_control, a Python
# client sending REQUESTS requests on one keep-alive connection): instructions per request of
# /protected, and the guard's share (protected − unprotected).
#
# On a machine with 2+ CPUs (and taskset), the servers are pinned to CPU 0 with one Rocket worker
# and wrk to CPU 1 with one thread, so the two do not compete for a core; PIN=0 turns that off
# (then the defaults are 2 wrk threads and Rocket's default workers).
#
# Installs wrk (and curl) with apt-get when missing. Every wrk run is bounded in time; the servers
# started here are stopped on exit.
set -euo pipefail
# The peers' secret is in their code; a JWT_* variable in the environment would override ours'.
unset JWT_SECRET_KEY
cd "$(dirname "$0")/.."

algs="${BENCH_ALGS:-HS256 RS256}"
contenders="${CONTENDERS:-bare rocket-jwt handwritten ours-cache-on ours-cache-off}"
rounds="${ROUNDS:-3}"
duration="${DURATION:-5}"
port="${BENCH_PORT:-18280}"
instructions="${INSTRUCTIONS:-0}"
ir_requests="${REQUESTS:-2000}"
ir_rounds="${IR_ROUNDS:-2}"
cache_sim="${CACHE_SIM:-0}"
connections="${WRK_CONNECTIONS:-64}"
retries="${BENCH_RETRIES:-2}"
warmup=3

case "${1:-}" in
    -h|--help) sed -n '2,66p' "$0"; exit 0 ;;
    "") ;;
    *) echo "unknown argument: $1 (see --help)" >&2; exit 2 ;;
esac
case "$instructions" in
    0|1|only) ;;
    *) echo "INSTRUCTIONS: 0, 1 or only" >&2; exit 2 ;;
esac

# ----- tools ---------------------------------------------------------------------------------------

missing=()
if [ "$instructions" != only ]; then command -v wrk >/dev/null || missing+=(wrk); fi
command -v curl >/dev/null || missing+=(curl)
if [ ${#missing[@]} -gt 0 ]; then
    echo "Installing ${missing[*]} with apt-get"
    apt-get update -qq && apt-get install -y -qq "${missing[@]}" >/dev/null
fi
if [ "$instructions" != 0 ]; then
    command -v valgrind >/dev/null || { echo "valgrind is needed (apt-get install valgrind)" >&2; exit 1; }
fi

# shellcheck source=scripts/bench-common.sh
source scripts/bench-common.sh
pinning

echo "Building benches/peers (release)"
manifest=benches/peers/Cargo.toml
cargo build --release --quiet --manifest-path "$manifest"
bin="$(cargo metadata --format-version 1 --no-deps --manifest-path "$manifest" |
    python3 -c 'import json, sys; print(json.load(sys.stdin)["target_directory"])')/release"

# ----- servers -------------------------------------------------------------------------------------

work=$(mktemp -d)
declare -A pids=() ports=()
stop_servers() {
    local name
    for name in "${!pids[@]}"; do
        kill "${pids[$name]}" 2>/dev/null || true
        wait "${pids[$name]}" 2>/dev/null || true
        unset "pids[$name]"
    done
}
cleanup() {
    stop_servers
    if [ -n "${KEEP:-}" ]; then mkdir -p "$KEEP" && cp "$work"/*.out.* "$KEEP"/ 2>/dev/null || true; fi
    rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# binary CONTENDER, env CONTENDER: the contender's server and its extra environment.
binary() {
    case "$1" in
        bare) echo "$bin/bare_peer" ;;
        rocket-jwt) echo "$bin/rocket_jwt_peer" ;;
        handwritten) echo "$bin/handwritten_peer" ;;
        ours-cache-on|ours-cache-off) echo "$bin/ours_peer" ;;
        *) echo "unknown contender $1" >&2; exit 2 ;;
    esac
}
extra_env() { if [ "$1" = ours-cache-off ]; then echo JWT_TOKEN_CACHE_ENTRIES=0; else echo JWT_TOKEN_CACHE_ENTRIES=4096; fi; }

# supports ALG CONTENDER: whether the contender verifies that algorithm.
supports() { [ "$2" != rocket-jwt ] || [ "$1" = HS256 ]; }

# wait_for NAME PORT PID SECONDS: until the server answers /unprotected.
wait_for() {
    local i
    for i in $(seq 1 $(($4 * 10))); do
        if curl -s -o /dev/null "http://127.0.0.1:$2/unprotected"; then return 0; fi
        if ! kill -0 "$3" 2>/dev/null; then
            echo "the $1 server exited:" >&2
            cat "$work/$1.log" >&2
            exit 1
        fi
        sleep 0.1
    done
    echo "the $1 server did not answer within $4 s" >&2
    exit 1
}

# start ALG CONTENDER PORT [wrapper...]: starts the contender's server in the background on PORT,
# under the wrapper (taskset, valgrind); sets pids[CONTENDER] and ports[CONTENDER].
start() {
    local alg="$1" name="$2" p="$3"
    shift 3
    if curl -s -o /dev/null "http://127.0.0.1:$p/" 2>/dev/null; then
        echo "port $p is already in use: choose another with BENCH_PORT" >&2
        exit 1
    fi
    env ROCKET_ADDRESS=127.0.0.1 ROCKET_PORT="$p" ROCKET_LOG_LEVEL=off ROCKET_WORKERS="$workers" \
        BENCH_ALG="$alg" "$(extra_env "$name")" "$@" "$(binary "$name")" >"$work/$name.log" 2>&1 &
    pids[$name]=$!
    ports[$name]=$p
}

# check ALG CONTENDER TOKEN: both routes answer the same body with the token, and /protected
# refuses a request without one (except the bare server's).
check() {
    local base="http://127.0.0.1:${ports[$2]}" bare protected refused
    bare=$(curl -sf "$base/unprotected" -H "Authorization: Bearer $3")
    protected=$(curl -sf "$base/protected" -H "Authorization: Bearer $3") ||
        { echo "$1 $2: /protected refused the token" >&2; exit 1; }
    if [ "$bare" != "$protected" ]; then
        echo "$1 $2: /protected answered '$protected', /unprotected '$bare'" >&2
        exit 1
    fi
    refused=$(curl -s -o /dev/null -w '%{http_code}' "$base/protected")
    if [ "$2" != bare ] && [ "$refused" != 401 ]; then
        echo "$1 $2: /protected without a token answered $refused, not 401" >&2
        exit 1
    fi
}

# cpu_ticks PID: "user system" clock ticks of the process so far.
cpu_ticks() { awk '{ print $14, $15 }' "/proc/$1/stat"; }

# run_wrk CONTENDER ROUTE SECONDS TOKEN: one wrk run; sets rps, requests, cpu_us, user_us, util.
run_wrk() {
    local pid="${pids[$1]}" route="$2" seconds="$3" out="$work/wrk.out" before after hz non2xx
    read -r -a before <<<"$(cpu_ticks "$pid")"
    if ! "${wrk_cmd[@]}" -t"$threads" -c"$connections" -d"${seconds}s" --timeout 5s \
        "http://127.0.0.1:${ports[$1]}$route" -H "Authorization: Bearer $4" >"$out" 2>&1; then
        echo "wrk on $1 $route failed:" >&2
        cat "$out" >&2
        exit 1
    fi
    read -r -a after <<<"$(cpu_ticks "$pid")"
    rps=$(awk '/^Requests\/sec:/ { printf "%.0f", $2 }' "$out")
    requests=$(awk '/requests in/ { print $1 }' "$out")
    non2xx=$(awk '/Non-2xx or 3xx responses:/ { print $5 }' "$out")
    non2xx=${non2xx:-0}
    if [ -z "$rps" ] || [ "$non2xx" != 0 ]; then
        echo "wrk on $1 $route: no result or non-2xx responses ($non2xx):" >&2
        cat "$out" >&2
        exit 1
    fi
    hz=$(getconf CLK_TCK)
    local user=$((after[0] - before[0])) total=$((after[0] + after[1] - before[0] - before[1]))
    cpu_us=$(awk -v t=$total -v hz="$hz" -v n="$requests" 'BEGIN { printf "%.2f", t * 1e6 / hz / n }')
    user_us=$(awk -v t=$user -v hz="$hz" -v n="$requests" 'BEGIN { printf "%.2f", t * 1e6 / hz / n }')
    util=$(awk -v t=$total -v hz="$hz" -v s="$seconds" 'BEGIN { printf "%.0f", t / hz / s * 100 }')
}

median() { tr ' ' '\n' | grep -v '^$' | sort -g | awk '{ a[NR] = $1 } END { print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }
# spread FORMAT "V1 V2 ...": the median and the range, as "median (min–max)".
spread() {
    local sorted
    sorted=$(echo "$2" | tr ' ' '\n' | grep -v '^$' | sort -g)
    printf "$1 ($1–$1)" "$(echo "$sorted" | median)" "$(echo "$sorted" | head -1)" "$(echo "$sorted" | tail -1)"
}

# ----- instructions per request (callgrind) --------------------------------------------------------

# The client: COUNT requests of PATH with HEADER (name: value, or empty) on one keep-alive
# connection, each answered 200 (scripts/bench-server-instructions.sh's).
keepalive_client "$work/client.py"

# measure NAME ROUTE HEADER: instructions per request of REQUESTS requests (uses $alg); with
# CACHE_SIM=1 also level-1 instruction misses, data misses (reads and writes) and mispredicted
# branches (conditional and indirect), space-separated.
measure() {
    local pid="${pids[$1]}" file
    callgrind_control --instr=on "$pid" >/dev/null 2>&1
    callgrind_control --zero "$pid" >/dev/null 2>&1
    python3 "$work/client.py" "${ports[$1]}" "$ir_requests" "$2" "$3"
    callgrind_control --dump="$1 $2" "$pid" >/dev/null 2>&1
    file=$(ls -t "$work/$alg-$1.out".* | head -1)
    awk -v n="$ir_requests" '
        /^events:/ { for (i = 2; i <= NF; i++) at[$i] = i }
        /^summary:|^totals:/ {
            printf "%.0f", $(at["Ir"]) / n
            if ("I1mr" in at) printf " %.0f %.0f %.0f", $(at["I1mr"]) / n, ($(at["D1mr"]) + $(at["D1mw"])) / n, ($(at["Bcm"]) + $(at["Bim"])) / n
            exit
        }' "$file"
}

# instructions ALG TOKEN: every contender alone under callgrind; sets ir[ALG CONTENDER.*].
declare -A ir=()
instructions() {
    local alg="$1" header="Authorization: Bearer $2" name round bare protected
    for name in $contenders; do
        supports "$alg" "$name" || continue
        start "$alg" "$name" "$port" valgrind --tool=callgrind --instr-atstart=no \
            $([ "$cache_sim" = 1 ] && echo --cache-sim=yes --branch-sim=yes) \
            --callgrind-out-file="$work/$alg-$name.out"
        wait_for "$name" "$port" "${pids[$name]}" 60
        check "$alg" "$name" "$2"
        # Warm-up, instrumentation off: the connection, the verified-token cache.
        python3 "$work/client.py" "$port" 200 /unprotected "$header"
        python3 "$work/client.py" "$port" 200 /protected "$header"
        for round in $(seq 1 "$ir_rounds"); do
            if [ $((round % 2)) = 1 ]; then
                bare=$(measure "$name" /unprotected "$header"); protected=$(measure "$name" /protected "$header")
            else
                protected=$(measure "$name" /protected "$header"); bare=$(measure "$name" /unprotected "$header")
            fi
            read -r -a b <<<"$bare"
            read -r -a p <<<"$protected"
            bare=${b[0]} protected=${p[0]} misses=""
            if [ "$cache_sim" = 1 ]; then
                misses=" | $((p[1] - b[1])) | $((p[2] - b[2])) | $((p[3] - b[3]))"
                ir[$alg:$name.i1]+="$((p[1] - b[1])) "
                ir[$alg:$name.d1]+="$((p[2] - b[2])) "
                ir[$alg:$name.br]+="$((p[3] - b[3])) "
            fi
            printf '| %s | %s | %s | %s | %s | %s%s |\n' "$alg" "$name" "$round" "$bare" "$protected" "$((protected - bare))" "$misses"
            ir[$alg:$name.bare]+="$bare "
            ir[$alg:$name.protected]+="$protected "
            ir[$alg:$name.guard]+="$((protected - bare)) "
        done
        stop_servers
    done
}

# ----- the runs ------------------------------------------------------------------------------------

echo "Machine: $ncpu CPUs ($(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)), \
$(awk '/MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo); pinning: $([ "$pin" = 1 ] && echo "servers CPU 0 ($workers worker), wrk CPU 1" || echo none)"
if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
    commit="$(git rev-parse --short HEAD)$(git diff --quiet HEAD -- jwt-runtime/src jwt-macros src || echo ' + uncommitted library changes')"
else
    commit="? (not a git work tree)"
fi
if [ "$instructions" != only ]; then
    echo "wrk: -t$threads -c$connections, ${duration} s per run, $rounds rounds"
fi
if [ "$instructions" != 0 ]; then
    echo "callgrind: $ir_requests requests per route and round, $ir_rounds rounds, one keep-alive connection"
fi
echo "commit $commit; contenders: $contenders"
launches="${LAUNCHES:-1}"

declare -A got=()
for alg in $algs; do
    token=$(BENCH_ALG="$alg" "$bin/mint")
    names=()
    for name in $contenders; do supports "$alg" "$name" && names+=("$name"); done
    if [ "$instructions" != only ]; then
        printf '\n%s, wrk:\n\n| launch.round | contender | route | load before | rps | server CPU µs/req | user µs/req | server CPU %% |\n' "$alg"
        printf '|---|---|---|---|---|---|---|---|\n'
    fi
    for launch in $(seq 1 "$launches"); do
        [ "$instructions" != only ] || break
        i=0
        for name in "${names[@]}"; do
            start "$alg" "$name" $((port + i)) "${server_cmd[@]}"
            i=$((i + 1))
        done
        for name in "${names[@]}"; do
            wait_for "$name" "${ports[$name]}" "${pids[$name]}" 10
            check "$alg" "$name" "$token"
            run_wrk "$name" /unprotected "$warmup" "$token"
            run_wrk "$name" /protected "$warmup" "$token"
        done
        for round in $(seq 1 "$rounds"); do
            order=("${names[@]}")
            if [ $((round % 2)) = 0 ]; then
                order=()
                for ((k = ${#names[@]} - 1; k >= 0; k--)); do order+=("${names[$k]}"); done
            fi
            if [ $((round % 2)) = 1 ]; then routes="/unprotected /protected"; else routes="/protected /unprotected"; fi
            for name in "${order[@]}"; do
                declare -A last=()
                for route in $routes; do
                    # A server below 90 % CPU was not saturated: other processes took its core
                    # (or wrk could not keep up). Such a run is retried, then kept but marked.
                    for attempt in $(seq 0 "$retries"); do
                        load=$(cut -d' ' -f1 /proc/loadavg)
                        run_wrk "$name" "$route" "$duration" "$token"
                        if [ "$util" -ge 90 ]; then break; fi
                        echo "  ($alg $name $route: server at $util % CPU, load $load: contended$([ "$attempt" -lt "$retries" ] && echo ', retrying in 10 s'))" >&2
                        if [ "$attempt" -lt "$retries" ]; then sleep 10; fi
                    done
                    mark=""; [ "$util" -lt 90 ] && mark=" (contended)"
                    printf '| %s | %s | %s | %s | %s | %s | %s | %s%s |\n' "$launch.$round" "$name" "$route" "$load" "$rps" "$cpu_us" "$user_us" "$util" "$mark"
                    last[$route.rps]=$rps
                    last[$route.cpu]=$cpu_us
                    last[$route.user]=$user_us
                done
                got[$alg:$name.prps]+="${last[/protected.rps]} "
                got[$alg:$name.urps]+="${last[/unprotected.rps]} "
                got[$alg:$name.pcpu]+="${last[/protected.cpu]} "
                got[$alg:$name.ratio]+="$(awk -v p="${last[/protected.rps]}" -v u="${last[/unprotected.rps]}" 'BEGIN { printf "%.3f", p / u }') "
                got[$alg:$name.over]+="$(awk -v p="${last[/protected.cpu]}" -v u="${last[/unprotected.cpu]}" 'BEGIN { printf "%.2f", p - u }') "
                got[$alg:$name.userover]+="$(awk -v p="${last[/protected.user]}" -v u="${last[/unprotected.user]}" 'BEGIN { printf "%.2f", p - u }') "
                unset last
            done
        done
        stop_servers
    done
    if [ "$instructions" != 0 ]; then
        if [ "$cache_sim" = 1 ]; then
            printf '\n%s, callgrind:\n\n| alg | contender | round | unprotected Ir/req | protected Ir/req | guard Ir/req | guard L1i misses | guard L1d misses | guard mispredicted branches |\n' "$alg"
            printf '|---|---|---|---|---|---|---|---|---|\n'
        else
            printf '\n%s, callgrind:\n\n| alg | contender | round | unprotected Ir/req | protected Ir/req | guard Ir/req |\n' "$alg"
            printf '|---|---|---|---|---|---|\n'
        fi
        instructions "$alg" "$token"
    fi
done

# ----- tables --------------------------------------------------------------------------------------

for alg in $algs; do
    printf '\n### %s\n\n' "$alg"
    if [ "$instructions" != only ]; then printf 'Medians of %s rounds of %s s (%s launch(es) of %s rounds); per-round values as median (min–max). "over bare": /protected minus the same server'"'"'s /unprotected in the same round; "user": the user part of the CPU time alone.\n' "$((rounds * launches))" "$duration" "$launches" "$rounds"; fi
    if [ "$instructions" != 0 ]; then printf 'Instructions: callgrind, %s requests per route, median of %s rounds; guard = protected − unprotected.\n' "$ir_requests" "$ir_rounds"; fi
    extra="" rule=""
    if [ "$cache_sim" = 1 ]; then extra=" guard L1i misses | guard L1d misses | guard mispredicted branches |" rule="---|---|---|"; fi
    printf '\n| contender | protected rps | unprotected rps | protected/unprotected rps | protected CPU µs/req | CPU µs/req over bare | user CPU µs/req over bare | protected Ir/req | guard Ir/req |%s\n' "$extra"
    printf '|---|---|---|---|---|---|---|---|---|%s\n' "$rule"
    for name in $contenders; do
        if ! supports "$alg" "$name"; then
            printf '| %s | n/a: HS256 only | | | | | | | |%s\n' "$name" "${rule//---/ }"
            continue
        fi
        if [ "$instructions" != only ]; then
            cells="$(echo "${got[$alg:$name.prps]}" | median | xargs printf '%.0f') | $(echo "${got[$alg:$name.urps]}" | median | xargs printf '%.0f') | $(spread '%.3f' "${got[$alg:$name.ratio]}") | $(echo "${got[$alg:$name.pcpu]}" | median | xargs printf '%.2f') | $(spread '%.2f' "${got[$alg:$name.over]}") | $(spread '%.2f' "${got[$alg:$name.userover]}")"
        else
            cells="– | – | – | – | – | –"
        fi
        if [ "$instructions" != 0 ]; then
            cells+=" | $(echo "${ir[$alg:$name.protected]}" | median | xargs printf '%.0f') | $(echo "${ir[$alg:$name.guard]}" | median | xargs printf '%.0f')"
            if [ "$cache_sim" = 1 ]; then
                for event in i1 d1 br; do cells+=" | $(echo "${ir[$alg:$name.$event]}" | median | xargs printf '%.0f')"; done
            fi
        else
            cells+=" | – | –"
        fi
        printf '| %s | %s |\n' "$name" "$cells"
    done
done
