#!/usr/bin/env bash
# Where the server's CPU time goes under load: perf samples of the example server while wrk drives
# one route, grouped by component (crypto, JSON, the JWT code, Rocket/hyper/tokio, allocator,
# kernel). Loopback only; every run bounded in time; the server started here is stopped on exit.
#
#   bash scripts/bench-profile.sh HS256 on /protected      # ALG CACHE ROUTE [SECONDS]
#   bash scripts/bench-profile.sh RS256 off /unprotected
#
# ALG HS256 runs the seed example (token from POST /auth), the others the bench_server example.
# CACHE is on (the default configuration) or off (JWT_TOKEN_CACHE_ENTRIES=0). Needs perf (the
# linux-perf / linux-tools package) and wrk; run scripts/bench-load.sh once first to build the
# examples in release mode and install wrk. See docs/performance.md.
set -euo pipefail
# The seed example reads its secret from the environment (a benchmark value, never a real one).
export JWT_SECRET_KEY="${JWT_SECRET_KEY:-bench-secret-bench-secret-bench-secret}"
cd "$(dirname "$0")/.."

alg="${1:?ALG}"
cache="${2:?CACHE (on or off)}"
route="${3:?ROUTE (/protected or /unprotected)}"
seconds="${4:-8}"
port="${BENCH_PORT:-18090}"
base="http://127.0.0.1:$port"

command -v perf >/dev/null || { echo "perf is needed (apt-get install linux-perf)" >&2; exit 1; }
command -v wrk >/dev/null || { echo "wrk is needed: run scripts/bench-load.sh once" >&2; exit 1; }
target_dir=$(cargo metadata --format-version 1 --no-deps |
    python3 -c 'import json, sys; print(json.load(sys.stdin)["target_directory"])')
examples="$target_dir/release/examples"
if [ "$alg" = HS256 ]; then binary="$examples/seed"; scheme=JWT; else binary="$examples/bench_server"; scheme=Bearer; fi
[ -x "$binary" ] || { echo "$binary is missing: run scripts/bench-load.sh once" >&2; exit 1; }

work=$(mktemp -d)
server_pid=""
cleanup() {
    if [ -n "$server_pid" ]; then kill "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true; fi
    rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

cache_env=()
if [ "$cache" = off ]; then cache_env=(JWT_TOKEN_CACHE_ENTRIES=0); fi
env ROCKET_ADDRESS=127.0.0.1 ROCKET_PORT="$port" ROCKET_LOG_LEVEL=off ROCKET_WORKERS=1 \
    BENCH_ALG="$alg" "${cache_env[@]}" taskset -c 0 "$binary" >"$work/server.log" 2>&1 &
server_pid=$!
for _ in $(seq 1 100); do
    curl -s -o /dev/null "$base/unprotected" && break
    sleep 0.1
done
if [ "$alg" = HS256 ]; then
    token=$(curl -s -X POST "$base/auth" -H 'Content-Type: application/json' \
        -d '{"username": "user1", "password": "abcxyz"}' | sed -n 's/.*"access_token":"\([^"]*\)".*/\1/p')
else
    token=$(BENCH_ALG="$alg" "$binary" mint)
fi
curl -sf -o /dev/null "$base$route" -H "Authorization: $scheme $token"

taskset -c 1 wrk -t1 -c64 -d"$((seconds + 2))s" -H "Authorization: $scheme $token" "$base$route" \
    >"$work/wrk.out" 2>&1 &
wrk_pid=$!
sleep 1
perf record -q -F 1999 -p "$server_pid" -o "$work/perf.data" -- sleep "$seconds" 2>/dev/null
wait "$wrk_pid"
echo "$alg cache=$cache $route: $(awk '/^Requests\/sec:/ { print $2 }' "$work/wrk.out") requests/s (under perf)"

# perf 6.1 does not resolve this binary's symbols itself: they are looked up in `nm` output here.
nm -n -C --defined-only "$binary" 2>/dev/null | awk '$2 ~ /^[tTwW]$/' >"$work/symbols.txt"
perf report -i "$work/perf.data" --no-children --sort dso,sym --stdio 2>/dev/null |
    python3 -c '
import bisect, os, re, sys
binary, symbols_path, limit = sys.argv[1], sys.argv[2], int(sys.argv[3])
addresses, names = [], []
with open(symbols_path) as f:
    for line in f:
        parts = line.rstrip("\n").split(" ", 2)
        if len(parts) == 3:
            addresses.append(int(parts[0], 16))
            names.append(parts[2])
def resolve(sym):
    if not sym.startswith("0x") or not addresses:
        return sym
    i = bisect.bisect_right(addresses, int(sym, 16)) - 1
    return names[i] if i >= 0 else sym
rules = [
    ("crypto (aws-lc)", r"aws_lc|sha256_block|sha256|bn_|ecp_nistz|p256|ec_GFp|rsa|RSA|BN_|EVP_|ed25519|fiat|CRYPTO|HMAC|hmac|OPENSSL|md32|digest"),
    ("JSON (serde_json)", r"serde_json|serde::"),
    ("base64", r"base64"),
    ("JWT code (jsonwebtoken, rocket_flask_jwt_runtime, quick_cache)", r"jsonwebtoken|rocket_flask_jwt_runtime|rocket_flask_jwt|quick_cache|jwt_required|seed::|bench_server::"),
    ("allocator (malloc/free)", r"malloc|free|_int_|realloc|tcache|alloc::alloc|__rust_alloc|__rust_dealloc"),
    ("Rocket / hyper / tokio", r"rocket|hyper|tokio|http::|h2::|mio|futures|state::|pear|figment|cookie|time::|bytes::"),
    ("kernel", r"^\[k\]"),
]
groups, by_symbol = {}, {}
for line in sys.stdin:
    m = re.match(r"\s+([\d.]+)%\s+(\S+)\s+(\[.\])\s+(.*)", line)
    if not m:
        continue
    pct, dso, kind, sym = float(m.group(1)), m.group(2), m.group(3), m.group(4).strip()
    if dso == os.path.basename(binary):
        sym = resolve(sym)
    text = f"{kind} {sym}"
    group = next((name for name, rx in rules if re.search(rx, text)), "other (libc, std, ...)")
    groups[group] = groups.get(group, 0) + pct
    key = (sym[:120], dso)
    by_symbol[key] = by_symbol.get(key, 0) + pct
print("share of samples by component:")
for name, pct in sorted(groups.items(), key=lambda kv: -kv[1]):
    print(f"  {pct:5.1f}%  {name}")
print("top symbols:")
for (sym, dso), pct in sorted(by_symbol.items(), key=lambda kv: -kv[1])[:limit]:
    print(f"  {pct:5.2f}%  {sym}  ({dso})")
' "$binary" "$work/symbols.txt" "${TOP:-25}"
