#!/usr/bin/env bash
# Micro-benchmarks of the request path (jwt-benches/benches/request_path.rs, criterion), then the
# ratios: our decode against bare jsonwebtoken::decode, and our encode against bare
# jsonwebtoken::encode, per algorithm. See docs/performance.md.
#
#   bash scripts/bench-micro.sh                 # 1 s warm-up, 3 s measurement per benchmark (~6 min)
#   bash scripts/bench-micro.sh --report-only   # only print the tables of the last run
#   BENCH_MEASUREMENT=10 bash scripts/bench-micro.sh 'request_path/HS256'   # a filter, longer
#
# Arguments other than --report-only are criterion filters. Numbers are criterion's median point
# estimates (target/criterion/<group>/<benchmark>/new/estimates.json).
set -euo pipefail
cd "$(dirname "$0")/.."

report_only=0
filters=()
for arg in "$@"; do
    if [ "$arg" = --report-only ]; then report_only=1; else filters+=("$arg"); fi
done

target_dir=$(cargo metadata --format-version 1 --no-deps |
    python3 -c 'import json, sys; print(json.load(sys.stdin)["target_directory"])')
log="$target_dir/criterion/request_path.log"

if [ "$report_only" = 0 ]; then
    mkdir -p "$target_dir/criterion"
    echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
    cargo bench -p jwt-benches --bench request_path -- \
        --warm-up-time "${BENCH_WARMUP:-1}" --measurement-time "${BENCH_MEASUREMENT:-3}" \
        --noplot "${filters[@]}" | tee "$log"
    echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
fi

python3 - "$target_dir/criterion" "$log" <<'EOF'
import json
import os
import sys

root = sys.argv[1]
allocations = {}
try:
    with open(sys.argv[2]) as f:
        for line in f:
            if line.startswith("allocations "):
                _, bench, count, size = line.split()
                allocations[bench] = (float(count), int(size))
except FileNotFoundError:
    pass
algs = ["HS256", "RS256", "PS256", "ES256", "EdDSA"]


def ns(group, bench):
    path = os.path.join(root, f"{group}_{bench.split('/')[0]}", bench.split('/')[1], "new", "estimates.json")
    try:
        with open(path) as f:
            return json.load(f)["median"]["point_estimate"]
    except FileNotFoundError:
        return None


def fmt(v):
    if v is None:
        return "–"
    if v >= 1_000_000:
        return f"{v / 1_000_000:.2f} ms"
    return f"{v / 1000:.2f} µs" if v >= 1000 else f"{v:.0f} ns"


def ratio(a, b):
    return "–" if a is None or b is None else f"{a / b:.2f}×"


def table(title, header, rows):
    print(f"\n{title}\n")
    print("| " + " | ".join(header) + " |")
    print("|" + "---|" * len(header))
    for row in rows:
        print("| " + " | ".join(row) + " |")


rows = []
for alg in algs:
    g = lambda b: ns("request_path", f"{alg}/{b}")
    a, b, bc, c, d, dc = (g(x) for x in ["a_jsonwebtoken_decode", "b_codec_decode", "b_codec_decode_cached",
                                         "c_header_then_decode", "d_guard", "d_guard_cached"])
    if a is None:
        continue
    rows.append([alg, fmt(a), fmt(b), ratio(b, a), fmt(c), fmt(d), ratio(d, a), fmt(bc), fmt(dc)])
table("Request path (median per call; cache off unless marked)",
      ["alg", "(a) jsonwebtoken::decode", "(b) TokenCodec::decode", "(b)/(a)", "(c) header + decode",
       "(d) guard", "(d)/(a)", "(b) cache hit", "(d) cache hit"], rows)

rows = []
for alg in algs:
    g = lambda b: ns("parts", f"{alg}/{b}")
    vals = [g(x) for x in ["parse", "crypto_verify", "prepared_verify", "claims_map", "claims_struct",
                           "payload_clone", "identity_arc"]]
    if vals[0] is None:
        continue
    rows.append([alg] + [fmt(v) for v in vals] + [fmt(max(vals[1] - vals[2], 0)) if vals[2] else "–"])
table("Parts of (b)",
      ["alg", "parse", "crypto::verify", "prepared verify", "claims → Map", "claims → struct", "Map clone",
       "Identity Arc", "verifier setup per call"], rows)

rows = []
for alg in algs:
    g = lambda b: ns("dispatch", f"{alg}/{b}")
    u, p, pc = g("unprotected"), g("protected"), g("protected_cached")
    if u is None:
        continue
    rows.append([alg, fmt(u), fmt(p), ratio(u, p), fmt(pc), ratio(u, pc)])
table("In-process dispatch (Rocket local client; protected/bare = throughput ratio, bare time ÷ protected time)",
      ["alg", "/unprotected", "/protected", "protected/bare", "/protected (cache hit)", "protected/bare (hit)"],
      rows)

rows = []
for alg in algs:
    g = lambda b: ns("issue", f"{alg}/{b}")
    a, b = g("a_jsonwebtoken_encode"), g("b_codec_encode")
    if a is None:
        continue
    rows.append([alg, fmt(a), fmt(b), ratio(b, a)])
table("Issuing a token (median per call)",
      ["alg", "(a) jsonwebtoken::encode", "(b) TokenCodec::encode", "(b)/(a)"], rows)


def allocs(bench):
    got = allocations.get(bench)
    return "–" if got is None else f"{got[0]:.0f} / {got[1]} B"


rows = []
for alg in algs:
    names = [f"request_path/{alg}/{b}" for b in ["a_jsonwebtoken_decode", "b_codec_decode",
                                                   "b_codec_decode_cached", "d_guard", "d_guard_cached"]]
    names += [f"dispatch/{alg}/{b}" for b in ["unprotected", "protected", "protected_cached"]]
    if not any(n in allocations for n in names):
        continue
    rows.append([alg] + [allocs(n) for n in names])
if rows:
    table("Heap allocations per call (count / bytes requested)",
          ["alg", "(a)", "(b)", "(b) hit", "(d)", "(d) hit", "dispatch bare", "dispatch protected",
           "dispatch protected (hit)"], rows)

EOF
