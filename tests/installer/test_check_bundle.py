"""check_bundle.py's disassembly check on real shared libraries, compiled here: a library
that declares the AVX2 baseline but holds AVX-512 (zmm) or AMX (tile) instructions fails
the build, as the .deb's once did (pip's wheel cache shipped the build machine's
-march=native library, 191 AMX instructions, under the portable build's name)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "installer"))

import check_bundle  # noqa: E402

AVX512_C = """#include <immintrin.h>
void add16(float *a, const float *b) { _mm512_storeu_ps(a, _mm512_add_ps(_mm512_loadu_ps(a), _mm512_loadu_ps(b))); }
"""
AMX_C = """#include <immintrin.h>
void zero_tile(void) { _tile_zero(0); }
"""
PLAIN_C = "int add(int a, int b) { return a + b; }\n"

pytestmark = pytest.mark.skipif(
    not (sys.platform.startswith("linux") and shutil.which("gcc") and shutil.which("objdump")),
    reason="needs gcc and objdump on Linux")


def _lib(folder: Path, name: str, source: str, *flags: str) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    src = folder / f"{name}.c"
    src.write_text(source)
    subprocess.run(["gcc", "-O2", "-shared", "-fPIC", *flags, "-o", str(folder / name), str(src)], check=True)
    src.unlink()


def _bundle(tmp_path: Path, baseline: tuple[str, ...], amx_isa: str = "amx") -> Path:
    internal = tmp_path / "_internal"
    own = internal / "llama_cpp" / "lib"
    _lib(own, "libggml-cpu.so", AVX512_C if "-mavx512f" in baseline else PLAIN_C, *baseline)
    _lib(own, "libllama.so", PLAIN_C)
    (own / "variant.json").write_text(json.dumps({"isa": "avx2"}))
    amx = internal / "llama_libs" / "cpu-amx"
    _lib(amx, "libggml-cpu.so", AMX_C, "-mamx-tile")
    (amx / "variant.json").write_text(json.dumps({"isa": amx_isa}))
    return internal


def test_each_library_within_its_declared_instruction_set_passes(tmp_path: Path) -> None:
    internal = _bundle(tmp_path, ())
    assert check_bundle.cpu_library_problems(internal) == []


def test_avx512_in_the_baseline_fails_the_build(tmp_path: Path) -> None:
    internal = _bundle(tmp_path, ("-mavx512f",))
    problems = check_bundle.cpu_library_problems(internal)
    assert len(problems) == 1 and problems[0].startswith("llama_cpp/lib/libggml-cpu.so holds")
    assert "AVX-512 instructions, beyond its declared avx2 baseline" in problems[0]


def test_amx_in_an_avx512_build_fails_the_build(tmp_path: Path) -> None:
    internal = _bundle(tmp_path, (), amx_isa="avx512")
    assert check_bundle.cpu_library_problems(internal) == [
        "llama_libs/cpu-amx/libggml-cpu.so holds 1 AMX instructions, beyond its declared avx512 baseline"]


def test_a_build_without_variant_json_fails(tmp_path: Path) -> None:
    internal = _bundle(tmp_path, ())
    (internal / "llama_libs" / "cpu-amx" / "variant.json").unlink()
    assert check_bundle.cpu_library_problems(internal) == [
        "llama_libs/cpu-amx: no variant.json saying which processors it is built for"]
