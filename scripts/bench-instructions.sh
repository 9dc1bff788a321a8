#!/usr/bin/env bash
# Instructions per request of the extended profile's paths against their bare twins, counted by
# callgrind through Rocket's in-process client (jwt-benches/benches/extended_path.rs; the Flask-JWT
# profile's path: flask_path.rs, run the same way with SCENARIO=bare_get|jwt_get). Counts do
# not depend on what else the machine runs, so they compare commits on a busy machine; the load
# benchmark (scripts/bench-load.sh, EXT-HEADER and EXT-COOKIE) measures time on a quiet one.
#
#   bash scripts/bench-instructions.sh            # ITERS=2000 requests per scenario
set -euo pipefail
cd "$(dirname "$0")/.."
command -v valgrind >/dev/null || { echo "valgrind is needed (apt-get install valgrind)" >&2; exit 1; }
iters="${ITERS:-2000}"
cargo bench -p jwt-benches --bench extended_path --no-run --quiet
bin=$(cargo bench -p jwt-benches --bench extended_path --no-run --message-format=json 2>/dev/null |
    python3 -c 'import json, sys
for line in sys.stdin:
    m = json.loads(line)
    if m.get("reason") == "compiler-artifact" and m.get("executable"):
        print(m["executable"])' | tail -1)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
declare -A per
for scenario in bare_get header_get bare_post cookie_post; do
    SCENARIO=$scenario ITERS=$iters valgrind --tool=callgrind --callgrind-out-file="$work/$scenario.out" \
        --toggle-collect='*extended_path*scenario*' "$bin" >/dev/null 2>&1
    total=$(awk '/^summary:/ { print $2 }' "$work/$scenario.out")
    per[$scenario]=$((total / (iters + 50)))   # the 50 warm-up requests are counted too
done
printf '| path | bare Ir/req | protected Ir/req | guard Ir/req | bare/protected |\n|---|---|---|---|---|\n'
for pair in "header_get bare_get GET, Authorization: Bearer" "cookie_post bare_post POST, access cookie + X-CSRF-TOKEN"; do
    set -- $pair
    protected=${per[$1]} bare=${per[$2]}; shift 2
    printf '| %s | %s | %s | %s | %s |\n' "$*" "$bare" "$protected" "$((protected - bare))" \
        "$(awk -v b="$bare" -v p="$protected" 'BEGIN { printf "%.3f", b / p }')"
done
