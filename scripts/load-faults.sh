#!/usr/bin/env bash
# Fault load test: the seed example (release build) on 127.0.0.1 under wrk with a mix of valid,
# expired, tampered, garbage and oversized tokens on GET /protected and malformed bodies on
# POST /auth (scripts/load-faults.lua). Fails unless
#   - no response is a 5xx, every status is one of 200, 400, 401, and each in proportion to the
#     requests of the mix that must get it (valid tokens and the valid login 200, the rest 4xx);
#   - wrk reports no socket error (connect, read, write, timeout all 0);
#   - afterwards the server still answers correctly: a valid token → 200 `User(id='1')`, no
#     token → 401 with Flask-JWT's JSON body and challenge.
#
#   bash scripts/load-faults.sh                       # 60 s
#   LOAD_FAULTS_DURATION=5 bash scripts/load-faults.sh  # a quick run
#
# Environment: LOAD_FAULTS_DURATION (seconds, default 60), LOAD_FAULTS_PORT (default 18731),
# WRK_THREADS (2), WRK_CONNECTIONS (32). Installs wrk and curl with apt-get when missing; uses
# python3 to make the forged tokens. Only loopback traffic; the server is stopped on exit.
set -euo pipefail
cd "$(dirname "$0")/.."

duration="${LOAD_FAULTS_DURATION:-60}"
port="${LOAD_FAULTS_PORT:-18731}"
threads="${WRK_THREADS:-2}"
connections="${WRK_CONNECTIONS:-32}"
base="http://127.0.0.1:${port}"
# The seed example reads its secret from the environment (a test value, never a real one).
secret="load-faults-secret-load-faults-secret"
export JWT_SECRET_KEY="$secret"

fail() {
    echo "load-faults: FAIL: $*" >&2
    exit 1
}

# ----- tools -----------------------------------------------------------------------------------------

missing=()
command -v wrk >/dev/null || missing+=(wrk)
command -v curl >/dev/null || missing+=(curl)
if [ ${#missing[@]} -gt 0 ]; then
    echo "Installing ${missing[*]} with apt-get"
    apt-get update -qq && apt-get install -y -qq "${missing[@]}" >/dev/null
fi
command -v python3 >/dev/null || fail "python3 is needed to make the forged tokens"

# ----- the server ------------------------------------------------------------------------------------

echo "Building the seed example (release)"
cargo build --release --example seed --quiet
binary="target/release/examples/seed"

if curl -s -o /dev/null --max-time 1 "$base/"; then
    fail "something already listens on 127.0.0.1:${port} (set LOAD_FAULTS_PORT)"
fi

log="$(mktemp)"
server_pid=""
cleanup() {
    if [ -n "$server_pid" ] && kill -0 "$server_pid" 2>/dev/null; then
        kill "$server_pid" 2>/dev/null || true
        wait "$server_pid" 2>/dev/null || true
    fi
    rm -f "$log"
}
trap cleanup EXIT

# A clean environment: no JWT_* or ROCKET_* variable of the caller's changes the server.
env -i PATH="$PATH" HOME="${HOME:-/tmp}" \
    ROCKET_ADDRESS=127.0.0.1 ROCKET_PORT="$port" ROCKET_LOG_LEVEL=off \
    "$binary" >"$log" 2>&1 &
server_pid=$!

for _ in $(seq 1 100); do
    if curl -s -o /dev/null --max-time 1 "$base/protected"; then
        break
    fi
    kill -0 "$server_pid" 2>/dev/null || { cat "$log" >&2; fail "the server exited at start-up"; }
    sleep 0.1
done
curl -s -o /dev/null --max-time 1 "$base/protected" || fail "the server does not answer on $base"
echo "Server up on $base (pid $server_pid)"

# ----- tokens ----------------------------------------------------------------------------------------

login() {
    curl -s --max-time 5 -X POST "$base/auth" -H 'Content-Type: application/json' \
        -d '{"username": "user1", "password": "abcxyz"}' |
        python3 -c 'import json, sys; print(json.load(sys.stdin)["access_token"])'
}

valid="$(login)" || fail "no token from POST /auth"
[ -n "$valid" ] || fail "empty token from POST /auth"

# expired, tampered (identity 2, signature kept), foreign (another secret), alg none.
read -r expired tampered foreign none < <(
    VALID="$valid" SECRET="$secret" python3 - <<'PY'
import base64, hashlib, hmac, json, os, time

def b64(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()

def sign(claims, secret, header=None):
    header = header or {"typ": "JWT", "alg": "HS256"}
    message = b64(json.dumps(header).encode()) + "." + b64(json.dumps(claims).encode())
    mac = hmac.new(secret.encode(), message.encode(), hashlib.sha256).digest()
    return message + "." + b64(mac)

now = int(time.time())
secret, valid = os.environ["SECRET"], os.environ["VALID"]
expired = sign({"identity": 1, "iat": now - 4000, "nbf": now - 4000, "exp": now - 3600}, secret)
h, _, s = valid.split(".")
tampered = ".".join([h, b64(json.dumps({"identity": 2, "iat": now, "nbf": now, "exp": now + 300}).encode()), s])
foreign = sign({"identity": 1, "iat": now, "nbf": now, "exp": now + 300}, "another-secret")
none = b64(b'{"typ":"JWT","alg":"none"}') + "." + valid.split(".")[1] + "."
print(expired, tampered, foreign, none)
PY
)
for token in "$expired" "$tampered" "$foreign" "$none"; do
    [ -n "$token" ] || fail "the forged tokens could not be made"
done

# ----- load ------------------------------------------------------------------------------------------

echo "wrk: ${duration} s, ${threads} threads, ${connections} connections"
output="$(
    LF_VALID="$valid" LF_EXPIRED="$expired" LF_TAMPERED="$tampered" LF_FOREIGN="$foreign" \
        LF_NONE="$none" \
        wrk -t"$threads" -c"$connections" -d"${duration}s" --timeout 5s \
        -s scripts/load-faults.lua "$base"
)" || { echo "$output"; fail "wrk failed"; }
echo "$output"

value() { # the number after `$1` on the LOADFAULTS lines
    echo "$output" | awk -v key="$1" '$1 == "LOADFAULTS" && $2 == key { print $3 }' | head -n1
}

echo "$output" | grep -q '^LOADFAULTS requests' || fail "the Lua done() report is missing"
for class in 1xx 3xx 5xx; do
    n="$(echo "$output" | awk -v c="$class" '$1 == "LOADFAULTS" && $2 == "class" && $3 == c { print $4 }')"
    [ "${n:-0}" -eq 0 ] || fail "$n responses in class $class"
done
ok="$(echo "$output" | awk '$1 == "LOADFAULTS" && $2 == "class" && $3 == "2xx" { print $4 }')"
client_errors="$(echo "$output" | awk '$1 == "LOADFAULTS" && $2 == "class" && $3 == "4xx" { print $4 }')"
[ "${ok:-0}" -gt 0 ] || fail "no 2xx response: valid tokens were refused"
[ "${client_errors:-0}" -gt 0 ] || fail "no 4xx response: bad tokens were accepted"
unexpected="$(echo "$output" | awk '$1 == "LOADFAULTS" && $2 == "status" && $3 != 200 && $3 != 400 && $3 != 401 { print $3 "×" $4 }')"
[ -z "$unexpected" ] || fail "unexpected statuses: $unexpected"
for status in 200 400 401; do
    n="$(echo "$output" | awk -v s="$status" '$1 == "LOADFAULTS" && $2 == "status" && $3 == s { print $4 }')"
    [ "${n:-0}" -gt 0 ] || fail "no $status response"
done

# Each status in proportion to the requests that must get it (valid tokens 200, the rest 4xx).
echo "$output" | grep -q '^LOADFAULTS expected' || fail "no expected-status report"
mismatch="$(echo "$output" | grep '^LOADFAULTS expected' | grep -v ' ok$' || true)"
[ -z "$mismatch" ] || fail "statuses out of proportion with the request mix: $mismatch"

socket="$(echo "$output" | grep '^LOADFAULTS socket' || true)"
[ "$socket" = "LOADFAULTS socket connect=0 read=0 write=0 timeout=0" ] || fail "socket errors: $socket"
if echo "$output" | grep -q 'Socket errors:'; then
    fail "wrk reports $(echo "$output" | grep 'Socket errors:')"
fi

# ----- the server still answers correctly -------------------------------------------------------------

kill -0 "$server_pid" 2>/dev/null || fail "the server died under load"
fresh="$(login)" || fail "no token from POST /auth after the load"
body="$(curl -s --max-time 5 -H "Authorization: JWT $fresh" "$base/protected")"
[ "$body" = "User(id='1')" ] || fail "a valid token now gets: $body"
headers="$(mktemp)"
body="$(curl -s --max-time 5 -D "$headers" -o - "$base/protected")"
status="$(head -n1 "$headers" | awk '{ print $2 }')"
challenge="$(grep -i '^www-authenticate:' "$headers" | tr -d '\r' || true)"
rm -f "$headers"
[ "$status" = 401 ] || fail "no token now gets status $status"
expected='{"status_code":401,"error":"Authorization Required","description":"Request does not contain an access token"}'
[ "$body" = "$expected" ] || fail "no token now gets: $body"
[ "${challenge,,}" = 'www-authenticate: jwt realm="login required"' ] || fail "challenge: $challenge"

echo "load-faults: OK: $(value requests) requests in ${duration} s; 2xx=${ok} 4xx=${client_errors} 5xx=0; no socket errors; the server still answers correctly"
