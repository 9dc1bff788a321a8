#!/usr/bin/env bash
# Runs every test of the workspace: unit, integration (Rocket's local client), UI (trybuild),
# doc tests, the examples' tests, and the interop tests against the real Flask-JWT 0.3.2, whose
# Python environment is created in .venv on first use.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! .venv/bin/python -c 'import importlib.metadata as m; m.version("Flask-JWT")' >/dev/null 2>&1; then
    echo "Setting up .venv with Flask-JWT 0.3.2 for the interop tests"
    python3 -m venv .venv
    .venv/bin/pip install --quiet --disable-pip-version-check -r tests/interop/requirements.txt
fi
export FLASK_JWT_PYTHON="$PWD/.venv/bin/python"

cargo test --workspace --all-features "$@"
