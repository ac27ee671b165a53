#!/usr/bin/env bash
# Build llama-cpp-python's llama.cpp libraries for any x86-64 CPU of the last decade and
# print the folder holding them (for installer/build.py --llama-lib).
#
# The source install compiles llama.cpp with -march=native: fast here, but an illegal
# instruction on an older CPU. The shipped build is GGML_NATIVE=OFF with the AVX2/FMA/F16C
# baseline (Intel Haswell 2013+, AMD Zen / Excavator 2015+). llama-cpp-python 0.3.x cannot
# load ggml's per-CPU dynamic backends (GGML_BACKEND_DL needs ggml_backend_load_all, which
# it never calls), so one portable build it is. Same version as the venv's, same sources,
# from the package registry; cached by version and flags (about 10 minutes on 2 cores once).
#   DOCQA_VENV   the virtualenv to read the version from and build with (default .venv)
#   DOCQA_BUILD_CACHE   where finished builds are kept (default ~/.cache/docqa-build)
#   LLAMA_EXTRA_CMAKE_ARGS   e.g. "-DGGML_CUDA=ON" for the CUDA variant (see installer/README.md)
set -euo pipefail
cd "$(dirname "$0")/.."
py="${DOCQA_VENV:-.venv}/bin/python"
version=$("$py" -c "import importlib.metadata as m; print(m.version('llama_cpp_python'))")
flags="-DGGML_NATIVE=OFF -DGGML_SSE42=ON -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_BMI2=ON -DGGML_FMA=ON -DGGML_F16C=ON -DLLAVA_BUILD=OFF ${LLAMA_EXTRA_CMAKE_ARGS:-}"
key=$(printf '%s %s' "$version" "$flags" | sha256sum | cut -c1-12)
out="${DOCQA_BUILD_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/docqa-build}/llama-cpp-python-$version-$key"
if [ ! -f "$out/lib/libllama.so" ] && [ ! -f "$out/lib/libllama.dylib" ] && [ ! -f "$out/lib/llama.dll" ]; then
    echo "build-llama-portable: compiling llama-cpp-python $version ($flags), about 10 minutes..." >&2
    tmp=$(mktemp -d)
    trap 'rm -rf "$tmp"' EXIT
    CMAKE_ARGS="$flags" CMAKE_BUILD_PARALLEL_LEVEL="${CMAKE_BUILD_PARALLEL_LEVEL:-$(nproc)}" \
        "$py" -m pip wheel -q --no-deps --no-binary llama-cpp-python "llama-cpp-python==$version" -w "$tmp" >&2
    rm -rf "$out.part" && mkdir -p "$out.part"
    "$py" - "$tmp" "$out.part" <<'PY'
import sys, zipfile, pathlib
wheel = next(pathlib.Path(sys.argv[1]).glob("llama_cpp_python-*.whl"))
with zipfile.ZipFile(wheel) as z:
    for name in z.namelist():
        if name.startswith("llama_cpp/lib/"):
            z.extract(name, sys.argv[2])
PY
    mv "$out.part/llama_cpp/lib" "$out.part/lib" && rmdir "$out.part/llama_cpp"
    rm -rf "$out" && mv "$out.part" "$out"
fi
echo "$out/lib"
