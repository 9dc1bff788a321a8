#!/usr/bin/env bash
# Issuing and publishing with the key ring, in one run, with wrk on 127.0.0.1 only
# (examples/extended.rs, release build, pinned as in scripts/bench-common.sh):
#
#   login      POST /login (an access and a refresh token per request): HS256 with a secret,
#              ES256 from a static private key, and a key ring of one ES256 key, of one EdDSA key
#   jwks       GET /.well-known/jwks.json of a ring of three keys
#   protected  GET /protected with the verified-token cache off (every request verifies the
#              signature): a static ES256 public key against a ring of three ES256 keys (the
#              token signed by the current one)
#
#   bash scripts/bench-keys.sh              # 3 rounds of 5 s
#   ROUNDS=5 DURATION=10 bash scripts/bench-keys.sh
#
# Rounds alternate the order of the contenders; the medians (min-max) and ratios follow.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/bench-common.sh

rounds="${ROUNDS:-3}"
duration="${DURATION:-5}"
connections="${WRK_CONNECTIONS:-16}"
base="${BENCH_PORT:-18480}"
pinning
secret="bench-secret-of-at-least-thirty-two-bytes"

declare -A port
example_servers

ring() { # dir keys...: key files signing one after the other, the last one current
    local dir="$work/$1" from=1
    shift
    mkdir -p "$dir"
    for key in "$@"; do
        { echo "signs-from: $from"; cat "testdata/keys/ring/$key.pem"; } >"$dir/$key.pem"
        from=$((from + 1))
    done
    echo "$dir"
}

start() { start_example "$@" JWT_TOKEN_CACHE_ENTRIES=0 REDIS_URL=; }
start hs256 $((base)) JWT_SECRET_KEY="$secret"
start static-es256 $((base + 1)) JWT_ALGORITHM=ES256 \
    JWT_PRIVATE_KEY_FILE=testdata/keys/ec_private.pem JWT_PUBLIC_KEY_FILE=testdata/keys/ec_public.pem
start ring-es256 $((base + 2)) JWT_SIGNING_KEYS_DIR="$(ring es256 ec_a)"
start ring-eddsa $((base + 3)) JWT_SIGNING_KEYS_DIR="$(ring eddsa ed_a)"
start ring3-es256 $((base + 4)) JWT_SIGNING_KEYS_DIR="$(ring ring3 ec_a ec_b ec_c)"
wait_ready "${!port[@]}"

body='{"username": "user1", "password": "abcxyz"}'
printf 'wrk.method = "POST"\nwrk.body = %s\nwrk.headers["Content-Type"] = "application/json"\n' \
    "'$body'" >"$work/login.lua"
token_of() {
    curl -s -X POST "http://127.0.0.1:$1/login" -H 'Content-Type: application/json' -d "$body" |
        python3 -c 'import json, sys; print(json.load(sys.stdin)["access_token"])'
}
declare -A token
token[static-es256]=$(token_of "${port[static-es256]}")
token[ring3-es256]=$(token_of "${port[ring3-es256]}")

declare -A results
measure() { # label url wrk-args...
    local label=$1 url=$2
    shift 2
    local out rate errors
    out=$("${wrk_cmd[@]}" -t"$threads" -c"$connections" -d"${duration}s" "$@" "$url")
    rate=$(awk '/Requests\/sec/ {print $2}' <<<"$out")
    errors=$(awk '/Non-2xx/ {print $5}' <<<"$out")
    printf '  %-28s %10s req/s   non-2xx %s\n' "$label" "$rate" "${errors:-0}"
    results[$label]+="$rate "
}
runs=(
    "login hs256|http://127.0.0.1:${port[hs256]}/login|-s|$work/login.lua"
    "login static-es256|http://127.0.0.1:${port[static-es256]}/login|-s|$work/login.lua"
    "login ring-es256|http://127.0.0.1:${port[ring-es256]}/login|-s|$work/login.lua"
    "login ring-eddsa|http://127.0.0.1:${port[ring-eddsa]}/login|-s|$work/login.lua"
    "jwks ring3|http://127.0.0.1:${port[ring3-es256]}/.well-known/jwks.json"
    "protected static-es256|http://127.0.0.1:${port[static-es256]}/protected|-H|Authorization: Bearer ${token[static-es256]}"
    "protected ring3-es256|http://127.0.0.1:${port[ring3-es256]}/protected|-H|Authorization: Bearer ${token[ring3-es256]}"
)
run() {
    local label url
    IFS='|' read -r label url rest <<<"$1"
    local -a extra=()
    if [ -n "${rest:-}" ]; then IFS='|' read -r -a extra <<<"$rest"; fi
    measure "$label" "$url" "${extra[@]}"
}
echo "keys: $connections connections, ${duration}s per run, $rounds rounds, pinned=$pin, token cache off"
for entry in "${runs[@]}"; do run "$entry" >/dev/null; done # warm-up, not counted
results=()
for round in $(seq "$rounds"); do
    echo "round $round"
    if ((round % 2 == 1)); then
        for entry in "${runs[@]}"; do run "$entry"; done
    else
        for ((i = ${#runs[@]} - 1; i >= 0; i--)); do run "${runs[$i]}"; done
    fi
done
median() { tr ' ' '\n' <<<"${results[$1]}" | grep . | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
spread() { tr ' ' '\n' <<<"${results[$1]}" | grep . | sort -n | awk '{a[NR]=$1} END {printf "%.0f-%.0f", a[1], a[NR]}'; }
echo "medians (min-max)"
for entry in "${runs[@]}"; do
    label=${entry%%|*}
    printf '  %-28s %10.0f (%s)\n' "$label" "$(median "$label")" "$(spread "$label")"
done
awk -v a="$(median 'login ring-es256')" -v b="$(median 'login hs256')" \
    'BEGIN {printf "  login ES256 ring / HS256: %.2fx\n", a/b}'
awk -v a="$(median 'login ring-eddsa')" -v b="$(median 'login hs256')" \
    'BEGIN {printf "  login EdDSA ring / HS256: %.2fx\n", a/b}'
awk -v a="$(median 'protected ring3-es256')" -v b="$(median 'protected static-es256')" \
    'BEGIN {printf "  protected, ring of three / one static key: %.2fx\n", a/b}'
