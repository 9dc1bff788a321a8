#!/usr/bin/env bash
# DPoP's cost, in one run, with wrk on 127.0.0.1 only (examples/bench_server.rs, release build,
# HS256 tokens, the verified-token cache on, pinned as in scripts/bench-common.sh):
#
#   bare          GET /unprotected: the same handler without the guard
#   bearer        GET /dpop (a route that allows DPoP) with a bearer token
#   dpop ES256    GET /dpop with a DPoP-bound token and a new ES256 proof on every request
#   dpop EdDSA    the same with EdDSA proofs
#   dpop ES256 redis   the same as `dpop ES256`, the replay store on Redis (when redis-server is
#                 installed): one SET NX per proof
#   protected     GET /protected: a route without DPoP, to compare with runs before DPoP existed
#
#   bash scripts/bench-dpop.sh              # 3 rounds of 5 s
#   ROUNDS=5 DURATION=10 PROOFS=300000 bash scripts/bench-dpop.sh
#
# Proofs are made before each run (PROOFS of them, default 150000; `mint-dpop`), outside the timed
# part; a run that uses them all replays proofs and shows non-2xx answers. Rounds alternate the
# order of the contenders; medians (min-max), ratios to bare, and the server's CPU time per
# request (from /proc/<pid>/stat) follow, then the in-memory replay store's memory per proof
# (the server's resident memory before and after the DPoP runs, over the proofs it accepted).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/bench-common.sh

rounds="${ROUNDS:-3}"
duration="${DURATION:-5}"
proofs="${PROOFS:-150000}"
connections="${WRK_CONNECTIONS:-16}"
base="${BENCH_PORT:-18580}"
pinning
export BENCH_ALG=HS256

cargo build --release --example bench_server >/dev/null 2>&1
binary=target/release/examples/bench_server
work=$(mktemp -d)
pids=()
trap 'kill "${pids[@]}" 2>/dev/null || true; rm -rf "$work"' EXIT

declare -A port pid
start() { # name port env...
    local name=$1 p=$2
    shift 2
    env ROCKET_PORT="$p" ROCKET_WORKERS="$workers" ROCKET_LOG_LEVEL=off "$@" \
        "${server_cmd[@]}" "$binary" >"$work/$name.log" 2>&1 &
    pids+=($!)
    pid[$name]=$!
    port[$name]=$p
    for _ in $(seq 100); do
        curl -s -o /dev/null "http://127.0.0.1:$p/unprotected" && return
        sleep 0.1
    done
}
start memory "$base"
redis=0
if command -v redis-server >/dev/null; then
    redis_port=$((base + 9))
    "${wrk_cmd[@]:0:${#wrk_cmd[@]}-1}" redis-server --port "$redis_port" --save '' --appendonly no \
        >"$work/redis.log" 2>&1 &
    pids+=($!)
    sleep 0.5
    start redis $((base + 1)) JWT_REDIS_URL="redis://127.0.0.1:$redis_port/"
    redis=1
fi

bearer=$("$binary" mint)
ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
rss_kb() { awk '/VmRSS/ {print $2}' "/proc/$1/status"; }

declare -A rate cpu
accepted=0
after_url=() # the wrk script's arguments, after the URL
measure() { # label server path extra-wrk-args...
    local label=$1 server=$2 path=$3
    shift 3
    local out before after requests r errors
    before=$(ticks "${pid[$server]}")
    out=$("${wrk_cmd[@]}" -t"$threads" -c"$connections" -d"${duration}s" "$@" \
        "http://127.0.0.1:${port[$server]}$path" "${after_url[@]}")
    after=$(ticks "${pid[$server]}")
    r=$(awk '/Requests\/sec/ {print $2}' <<<"$out")
    requests=$(awk '/requests in/ {print $1}' <<<"$out")
    errors=$(awk '/Non-2xx/ {print $5}' <<<"$out")
    local us
    us=$(awk -v t=$((after - before)) -v n="$requests" -v hz="$(getconf CLK_TCK)" \
        'BEGIN {printf "%.1f", t / hz * 1e6 / n}')
    printf '  %-20s %10s req/s  %7s us CPU/request  non-2xx %s\n' "$label" "$r" "$us" "${errors:-0}"
    rate[$label]+="$r "
    cpu[$label]+="$us "
    if [ "$server" = memory ] && [[ "$label" == dpop* ]]; then
        accepted=$((accepted + requests - ${errors:-0}))
    fi
}
dpop_run() { # label server alg
    local file="$work/proofs.txt"
    "$binary" mint-dpop "$proofs" "$3" "http://127.0.0.1:${port[$2]}" >"$file"
    after_url=(-- "$file")
    measure "$1" "$2" /dpop -s scripts/bench-dpop.lua
    after_url=()
}
contenders=(bare bearer "dpop ES256" "dpop EdDSA" protected)
if [ "$redis" = 1 ]; then contenders+=("dpop ES256 redis"); fi
run() {
    case "$1" in
        bare) measure bare memory /unprotected ;;
        bearer) measure bearer memory /dpop -H "Authorization: Bearer $bearer" ;;
        protected) measure protected memory /protected -H "Authorization: Bearer $bearer" ;;
        "dpop ES256") dpop_run "dpop ES256" memory ES256 ;;
        "dpop EdDSA") dpop_run "dpop EdDSA" memory EdDSA ;;
        "dpop ES256 redis") dpop_run "dpop ES256 redis" redis ES256 ;;
    esac
}

echo "dpop: $connections connections, ${duration}s per run, $rounds rounds, pinned=$pin, HS256 tokens, cache on"
rss_before=$(rss_kb "${pid[memory]}")
for contender in "${contenders[@]}"; do run "$contender" >/dev/null; done # warm-up, not counted
rate=()
cpu=()
for round in $(seq "$rounds"); do
    echo "round $round"
    if ((round % 2 == 1)); then
        for contender in "${contenders[@]}"; do run "$contender"; done
    else
        for ((i = ${#contenders[@]} - 1; i >= 0; i--)); do run "${contenders[$i]}"; done
    fi
done
rss_after=$(rss_kb "${pid[memory]}")

median() { tr ' ' '\n' <<<"$1" | grep . | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
spread() { tr ' ' '\n' <<<"$1" | grep . | sort -n | awk '{a[NR]=$1} END {printf "%s-%s", a[1], a[NR]}'; }
bare_rate=$(median "${rate[bare]}")
bare_cpu=$(median "${cpu[bare]}")
echo "medians (min-max); ratio to bare; CPU us/request over bare"
for contender in "${contenders[@]}"; do
    r=$(median "${rate[$contender]}")
    c=$(median "${cpu[$contender]}")
    awk -v l="$contender" -v r="$r" -v s="$(spread "${rate[$contender]}")" -v b="$bare_rate" \
        -v c="$c" -v bc="$bare_cpu" \
        'BEGIN {printf "  %-20s %8.0f req/s (%s)  %.2fx  %+.1f us\n", l, r, s, r / b, c - bc}'
done
awk -v before="$rss_before" -v after="$rss_after" -v n="$accepted" \
    'BEGIN {printf "replay store (memory): %d proofs accepted (warm-up included), resident memory %+d KiB: %.0f bytes per proof\n", n, after - before, (after - before) * 1024 / n}'
