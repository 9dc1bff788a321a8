# Shared by the benchmark scripts (sourced, not run): CPU pinning and the keep-alive client.

# pinning: sets `server_cmd` and `wrk_cmd` (the commands' prefixes), `threads` (wrk's) and
# `workers` (Rocket's). With PIN=1 (the default) and two CPUs or more: the server on CPU 0 with
# one worker, wrk on CPU 1 with one thread, so the two do not compete for a core. PIN=0, or one
# CPU, or no taskset: no pinning, 2 wrk threads and Rocket's default workers. WRK_THREADS and
# ROCKET_WORKERS override either.
pinning() {
    # `ncpu` stays set: the scripts print it.
    ncpu=$(nproc)
    pin="${PIN:-1}"
    if [ "$pin" = 1 ] && { [ "$ncpu" -lt 2 ] || ! command -v taskset >/dev/null; }; then
        pin=0
    fi
    if [ "$pin" = 1 ]; then
        server_cmd=(taskset -c 0)
        wrk_cmd=(taskset -c 1 wrk)
        threads="${WRK_THREADS:-1}"
        workers="${ROCKET_WORKERS:-1}"
    else
        server_cmd=()
        wrk_cmd=(wrk)
        threads="${WRK_THREADS:-2}"
        workers="${ROCKET_WORKERS:-$ncpu}"
    fi
}

# keepalive_client FILE: writes the Python client that sends COUNT requests of GET PATH with
# HEADER (`name: value`, or empty) on one keep-alive connection, each answered 200:
#   python3 FILE PORT COUNT PATH HEADER
keepalive_client() {
    cat >"$1" <<'PY'
import http.client, sys
port, count, path, header = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], sys.argv[4]
headers = dict([header.split(": ", 1)]) if header else {}
connection = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
for _ in range(count):
    connection.request("GET", path, headers=headers)
    response = connection.getresponse()
    body = response.read()
    if response.status != 200:
        sys.exit(f"{path}: {response.status} {body!r}")
PY
}

# The servers of examples/extended.rs (release build), for the benchmarks of its routes:
# `example_servers` builds it and makes `work` (a directory removed on exit, with each server's
# log) and `pids` (killed on exit); `start_example NAME PORT [ENV=VALUE...]` starts one, pinned as
# `pinning` says, and records its port in `port[NAME]`; `wait_ready NAME...` waits until each
# answers. Call `pinning` and `declare -A port` first.
example_servers() {
    cargo build --release --example extended >/dev/null 2>&1
    example_binary="target/release/examples/extended"
    work=$(mktemp -d)
    pids=()
    trap 'kill "${pids[@]}" 2>/dev/null || true; rm -rf "$work"' EXIT
}

start_example() {
    local name=$1 p=$2
    shift 2
    env ROCKET_PORT="$p" ROCKET_WORKERS="$workers" ROCKET_LOG_LEVEL=off "$@" \
        "${server_cmd[@]}" "$example_binary" >"$work/$name.log" 2>&1 &
    pids+=($!)
    port[$name]=$p
}

wait_ready() {
    local name
    for name in "$@"; do
        for _ in $(seq 100); do
            curl -s -o /dev/null "http://127.0.0.1:${port[$name]}/optional" && break
            sleep 0.1
        done
    done
}
