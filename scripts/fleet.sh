#!/usr/bin/env bash
# One fleet behind one proxy, to try by hand: one Redis, the Flask-JWT-Extended 4.7.1 application
# tests/interop/fleet_flask_app.py, the extended example (examples/extended.rs) and nginx in front
# of both (tests/interop/fleet-nginx.conf: /py/ to Flask, /rs/ to Rust, the page /fleet.html),
# all on 127.0.0.1, with one secret. The same fleet as tests/system/fleet.rs. Prints the URLs;
# Ctrl-C stops everything.
#
#   scripts/fleet.sh [PORT]     nginx's port (default 8080; 0 picks a free one); the others are free
#
# Needs redis-server, nginx (Debian packages redis-server and nginx; nginx may be in /usr/sbin),
# python3 and cargo. The Python side runs in $FLASK_JWT_EXTENDED_PYTHON when set, else in the
# environment the tests make under the target directory, else in one this script makes there
# (pip install -r tests/interop/extended-requirements.txt). The secret is $JWT_SECRET_KEY when set,
# else a random one. Every file it writes is under <target>/fleet/ (the logs included).
set -euo pipefail
cd "$(dirname "$0")/.."

port=${1:-8080}
for program in redis-server python3 cargo; do
    command -v "$program" >/dev/null || { echo "fleet.sh: $program not found" >&2; exit 1; }
done
nginx=$(command -v nginx || true)
[[ -n $nginx ]] || { [[ -x /usr/sbin/nginx ]] && nginx=/usr/sbin/nginx; } ||
    { echo "fleet.sh: nginx not found (the Debian package nginx)" >&2; exit 1; }

target=${CARGO_TARGET_DIR:-target}
mkdir -p "$target/fleet"
fleet=$(cd "$target/fleet" && pwd)
target=$(cd "$target" && pwd)
logs=$fleet/logs
dir=$fleet/nginx
rm -rf "$logs" "$dir"
mkdir -p "$logs" "$dir"

free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
((port != 0)) || port=$(free_port)
redis_port=$(free_port)
py_port=$(free_port)
rs_port=$(free_port)
export JWT_SECRET_KEY=${JWT_SECRET_KEY:-$(python3 -c 'import secrets; print(secrets.token_urlsafe(32))')}
redis_url=redis://127.0.0.1:$redis_port/

# The Flask-JWT-Extended side's interpreter.
python=${FLASK_JWT_EXTENDED_PYTHON:-$target/tmp/python/flask-jwt-extended/bin/python}
if [[ ! -x $python ]]; then
    python=$fleet/python/bin/python
    if [[ ! -x $python ]]; then
        echo "Making the Python environment $fleet/python (tests/interop/extended-requirements.txt)"
        python3 -m venv "$fleet/python"
        "$python" -m pip install --quiet --disable-pip-version-check \
            -r tests/interop/extended-requirements.txt
    fi
fi

echo "Building the extended example (cargo build --example extended)"
cargo build --quiet --example extended

pids=()
stop() {
    trap - EXIT INT TERM
    echo
    echo "Stopping the fleet"
    ((${#pids[@]} == 0)) || kill -TERM "${pids[@]}" 2>/dev/null || true
    wait || true
}
trap stop EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# Waits until `name` listens on `port` of 127.0.0.1, or fails if its process `pid` ended.
wait_for() {
    local name=$1 port=$2 pid=$3 log=$4
    for _ in $(seq 300); do
        if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
            return
        fi
        if ! kill -0 "$pid" 2>/dev/null; then
            echo "fleet.sh: $name exited; see $log" >&2
            tail -n 20 "$log" >&2 || true
            exit 1
        fi
        sleep 0.1
    done
    echo "fleet.sh: $name does not listen on 127.0.0.1:$port; see $log" >&2
    exit 1
}

redis-server --port "$redis_port" --bind 127.0.0.1 --save '' --appendonly no \
    >"$logs/redis.log" 2>&1 &
pids+=($!)
wait_for redis-server "$redis_port" $! "$logs/redis.log"

REDIS_URL=$redis_url PYTHONDONTWRITEBYTECODE=1 \
    "$python" tests/interop/fleet_flask_app.py "$py_port" >"$logs/flask.log" 2>&1 &
pids+=($!)
wait_for "the Flask-JWT-Extended application" "$py_port" $! "$logs/flask.log"

# The Rust side shares the recipe's keys: a revoked token's jti alone.
REDIS_URL=$redis_url JWT_REVOCATION_KEY_LAYOUT=flask-jwt-extended \
    ROCKET_ADDRESS=127.0.0.1 ROCKET_PORT=$rs_port ROCKET_LOG_LEVEL=critical \
    "$target/debug/examples/extended" >"$logs/rust.log" 2>&1 &
pids+=($!)
wait_for "the extended example" "$rs_port" $! "$logs/rust.log"

if ((EUID == 0)); then
    # As root, nginx runs its workers as nobody, who may not reach the target directory.
    user='user root;'
else
    user=''
fi
sed -e "s|@DIR@|$dir|g" -e "s|@PORT@|$port|g" -e "s|@PY_PORT@|$py_port|g" \
    -e "s|@RS_PORT@|$rs_port|g" -e "s|@USER@|$user|g" \
    tests/interop/fleet-nginx.conf >"$dir/nginx.conf"
cp tests/interop/fleet.html "$dir/fleet.html"
"$nginx" -p "$dir" -c "$dir/nginx.conf" -e "$dir/error.log" -g 'daemon off;' \
    >"$logs/nginx.log" 2>&1 &
pids+=($!)
wait_for nginx "$port" $! "$dir/error.log"

origin=http://127.0.0.1:$port
cat <<EOF

The fleet is up, on one origin:
  $origin/fleet.html   the page: log in, call, refresh and log out on either side
  $origin/py/          Flask-JWT-Extended (tests/interop/fleet_flask_app.py on 127.0.0.1:$py_port)
  $origin/rs/          Rust (examples/extended.rs on 127.0.0.1:$rs_port)
  $redis_url   the blocklist both share
Users user1 and user2, password abcxyz. With tokens in headers:
  curl -s -X POST $origin/py/login -H 'Content-Type: application/json' \\
       -d '{"username": "user1", "password": "abcxyz"}'
  curl -s $origin/rs/protected -H "Authorization: Bearer <access_token>"
  curl -s -X DELETE $origin/rs/logout -H "Authorization: Bearer <access_token>"
Logs: $logs and $dir/error.log. Ctrl-C stops everything.
EOF

# Until Ctrl-C, or until one of them stops.
wait -n
echo "fleet.sh: a process of the fleet stopped; see $logs" >&2
exit 1
