#!/usr/bin/env bash
# Build llama.cpp's CPU libraries for any x86-64 CPU of the last decade, plus faster
# variants for newer ones, and print the folder holding them:
#   <out>/cpu/          the baseline: every library (GGML_NATIVE=OFF, AVX2/FMA/F16C/BMI2:
#                       Intel Haswell 2013+, AMD Zen / Excavator 2015+)
#   <out>/cpu-avx512/   the same with ggml's CPU backend for AVX-512 (F/BW/DQ/VL/VNNI/VBMI:
#                       Intel Ice Lake and later Xeons, AMD Zen 4+)
#   <out>/cpu-amx/      the same for AVX-512 with AMX tiles (Intel Sapphire Rapids+)
# Each folder has a variant.json saying what it needs. The app probes the variants in a
# helper process and keeps the fastest that really runs (rag/ask/llama_backend.py): a CPU
# or a virtual machine that claims AMX but traps on it falls back, with the reason shown.
#
# pip's wheel cache is keyed by the package, not by CMAKE_ARGS, so a plain `pip wheel`
# after the source install returns that install's -march=native build, byte for byte.
# Everything here is built with --no-cache-dir from the sdist of the venv's version.
# Only ggml's CPU backend depends on the instruction set; the variants reuse the
# baseline's other libraries and rebuild just that one (a few minutes each on 2 cores).
#   DOCQA_VENV   the virtualenv to read the version from and build with (default .venv)
#   DOCQA_BUILD_CACHE   where finished builds are kept (default ~/.cache/docqa-build)
#   DOCQA_LLAMA_VARIANTS   which faster variants to build (default "avx512 amx"; "" for none)
#   LLAMA_EXTRA_CMAKE_ARGS   e.g. "-DGGML_CUDA=ON" for the CUDA variant (see installer/README.md)
set -euo pipefail
cd "$(dirname "$0")/.."
py="${DOCQA_VENV:-.venv}/bin/python"
version=$("$py" -c "import importlib.metadata as m; print(m.version('llama_cpp_python'))")
base="-DGGML_NATIVE=OFF -DGGML_SSE42=ON -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_BMI2=ON -DGGML_FMA=ON -DGGML_F16C=ON"
common="-DLLAVA_BUILD=OFF ${LLAMA_EXTRA_CMAKE_ARGS:-}"
flags_avx512="$base -DGGML_AVX512=ON -DGGML_AVX512_VBMI=ON -DGGML_AVX512_VNNI=ON"
flags_amx="$flags_avx512 -DGGML_AVX512_BF16=ON -DGGML_AMX_TILE=ON -DGGML_AMX_INT8=ON -DGGML_AMX_BF16=ON"
# /proc/cpuinfo flag names each variant needs (checked before a variant is even probed).
needs_cpu='"avx2", "fma", "f16c", "bmi2"'
needs_avx512="$needs_cpu, \"avx512f\", \"avx512bw\", \"avx512dq\", \"avx512vl\", \"avx512_vnni\", \"avx512vbmi\""
needs_amx="$needs_avx512, \"avx512_bf16\", \"amx_tile\", \"amx_int8\", \"amx_bf16\""
variants="${DOCQA_LLAMA_VARIANTS-avx512 amx}"
key=$(printf '%s|%s|%s|%s|%s|3' "$version" "$base $common" "$flags_avx512" "$flags_amx" "$variants" | sha256sum | cut -c1-12)
out="${DOCQA_BUILD_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/docqa-build}/llama-cpp-python-$version-$key"
jobs="${CMAKE_BUILD_PARALLEL_LEVEL:-$(nproc 2>/dev/null || echo 2)}"

variant_json() {  # name label isa needs
    printf '{"name": "%s", "label": "%s", "isa": "%s", "requires": [%s], "llama_cpp_python": "%s"}\n' \
        "$1" "$2" "$3" "$4" "$version"
}

if [ ! -f "$out/.complete" ]; then
    echo "build-llama-portable: compiling llama-cpp-python $version for any x86-64 CPU (+ $variants), a few minutes..." >&2
    tmp=$(mktemp -d)
    trap 'rm -rf "$tmp"' EXIT
    "$py" -m pip download -q --no-deps --no-binary :all: --no-cache-dir "llama-cpp-python==$version" -d "$tmp/sdist" >&2
    sdist=$(ls "$tmp"/sdist/llama_cpp_python-*.tar.gz)
    CMAKE_ARGS="$base $common" CMAKE_BUILD_PARALLEL_LEVEL="$jobs" \
        "$py" -m pip wheel -q --no-deps --no-cache-dir "$sdist" -w "$tmp/wheel" >&2
    rm -rf "$out.part" && mkdir -p "$out.part"
    "$py" - "$tmp/wheel" "$out.part" <<'PY'
import sys, zipfile, pathlib
wheel = next(pathlib.Path(sys.argv[1]).glob("llama_cpp_python-*.whl"))
with zipfile.ZipFile(wheel) as z:
    for name in z.namelist():
        if name.startswith("llama_cpp/lib/"):
            z.extract(name, sys.argv[2])
PY
    mv "$out.part/llama_cpp/lib" "$out.part/cpu" && rmdir "$out.part/llama_cpp"
    variant_json cpu "CPU (AVX2)" avx2 "$needs_cpu" > "$out.part/cpu/variant.json"
    if [ -n "$variants" ]; then
        mkdir -p "$tmp/src" && tar xzf "$sdist" -C "$tmp/src"
        src=$(ls -d "$tmp"/src/llama_cpp_python-*/vendor/llama.cpp)
    fi
    for v in $variants; do
        case $v in
            avx512) flags=$flags_avx512; label="CPU (AVX-512)"; needs=$needs_avx512 ;;
            amx) flags=$flags_amx; label="CPU (AVX-512 + AMX)"; needs=$needs_amx ;;
            *) echo "build-llama-portable: unknown variant $v" >&2; exit 1 ;;
        esac
        # shellcheck disable=SC2086  # the flags are words on purpose
        cmake -S "$src" -B "$tmp/build-$v" -DCMAKE_BUILD_TYPE=Release -DBUILD_SHARED_LIBS=ON $flags \
            -DLLAMA_CURL=OFF -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF -DLLAMA_BUILD_TOOLS=OFF \
            -DLLAMA_BUILD_SERVER=OFF -DCMAKE_BUILD_WITH_INSTALL_RPATH=ON "-DCMAKE_INSTALL_RPATH=\$ORIGIN" \
            > "$tmp/build-$v.log" 2>&1 || { tail -30 "$tmp/build-$v.log" >&2; exit 1; }
        cmake --build "$tmp/build-$v" --target ggml-cpu -j "$jobs" >> "$tmp/build-$v.log" 2>&1 \
            || { tail -30 "$tmp/build-$v.log" >&2; exit 1; }
        built=$(find "$tmp/build-$v" -name 'libggml-cpu.so' -print -quit)
        [ -n "$built" ] || { echo "build-llama-portable: no libggml-cpu.so for $v" >&2; exit 1; }
        mkdir -p "$out.part/cpu-$v"
        cp "$out.part/cpu/"* "$out.part/cpu-$v/"
        for f in "$out.part/cpu-$v"/libggml-cpu.so*; do
            cp -L "$built" "$f"  # the wheel holds .so, .so.0 and .so.0.x.y as copies: replace each
        done
        variant_json "cpu-$v" "$label" "$v" "$needs" > "$out.part/cpu-$v/variant.json"
    done
    touch "$out.part/.complete"
    rm -rf "$out" && mv "$out.part" "$out"
fi
echo "$out"
