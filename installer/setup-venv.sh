#!/usr/bin/env bash
# Create .venv/ in the repository and install docqa into it (idempotent, quick when done).
#   installer/setup-venv.sh        the app and its bundled models
#   installer/setup-venv.sh test   plus the test tools
set -euo pipefail
cd "$(dirname "$0")/.."
extra=${1:-}
PY=${PYTHON:-$(command -v python3.11 || command -v python3)}
if [ ! -x .venv/bin/python ]; then
    "$PY" -m venv .venv
fi
want="$(cat pyproject.toml installer/setup-venv.sh | sha256sum | cut -c1-16)-$extra"
stamp=.venv/.docqa-installed
have="$(cat "$stamp" 2>/dev/null || true)"
# The test install is the app plus test tools: after run-tests.sh, run-app.sh has all it needs.
if [ "$have" = "$want" ] || { [ -z "$extra" ] && [ "$have" = "${want}test" ]; }; then
    exit 0
fi
echo "Installing docqa into .venv/ (the first time compiles llama.cpp: about 10 minutes)..." >&2
.venv/bin/python -m pip install -q --upgrade pip
# CPU torch first (a local file on our machines); otherwise pip resolves a CUDA build of several GB.
.venv/bin/python -m pip install -q "torch==2.13.0"
export CMAKE_BUILD_PARALLEL_LEVEL="${CMAKE_BUILD_PARALLEL_LEVEL:-$(nproc 2>/dev/null || echo 2)}"
target="."
[ -n "$extra" ] && target=".[$extra]"
.venv/bin/python -m pip install -q -e "$target"
echo "$want" > "$stamp"
