"""Choosing the llama.cpp build at start: real library folders, one that works here (but
finds no GPU, as on this machine) and one that is broken; the CPU build is the fallback."""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from rag.ask import llama_backend
from rag.ask.llama_backend import Choice, candidates, choose, library_file, probe

REPO = Path(__file__).resolve().parents[2]


def _installed_lib() -> Path:
    spec = importlib.util.find_spec("llama_cpp")
    assert spec is not None and spec.origin is not None
    return Path(spec.origin).parent / "lib"


@pytest.fixture(scope="module")
def variants(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("llama_libs")
    shutil.copytree(_installed_lib(), root / "cuda")  # loads, but there is no GPU here
    broken = root / "vulkan"
    shutil.copytree(_installed_lib(), broken)
    library_file(broken).write_bytes(b"\x7fELF not really a library")
    (root / "notes").mkdir()  # not a build: ignored
    return root


def test_candidates_in_preference_order(variants: Path) -> None:
    assert [n for n, _ in candidates(variants)] == ["cuda", "vulkan"]
    assert candidates(variants / "missing") == [] and candidates(None) == []


def test_probe_tells_a_working_build_without_gpu_from_a_broken_one(variants: Path) -> None:
    assert probe(variants / "cuda") == "no GPU found"
    assert probe(variants / "vulkan").startswith("does not load")


def test_falls_back_to_cpu_and_says_why(variants: Path) -> None:
    choice = choose(variants)
    assert (choice.name, choice.path, choice.label) == ("cpu", None, "CPU")
    assert choice.skipped[0] == "CUDA build skipped: no GPU found"
    assert choice.skipped[1].startswith("Vulkan build skipped: does not load")
    assert choose(variants, want_gpu=False).skipped == []  # "CPU only" in the settings: nothing tried


def test_first_build_that_works_wins(variants: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # As on a machine with a Vulkan GPU but no CUDA driver.
    monkeypatch.setattr(llama_backend, "probe", lambda folder: "" if folder.name == "vulkan" else "no GPU found")
    choice = choose(variants)
    assert choice == Choice("vulkan", variants / "vulkan", ["CUDA build skipped: no GPU found"])
    assert choice.label == "Vulkan"


def test_the_app_loads_llama_cpp_from_the_chosen_folder(variants: Path, tiny_gguf: Path, tmp_path: Path) -> None:
    """In a fresh process: the CPU copy under llama_libs/cpu is what llama_cpp loads, and the
    backend line says which GPU builds were skipped and why."""
    shutil.copytree(_installed_lib(), tmp_path / "libs" / "cpu")
    shutil.copytree(variants / "vulkan", tmp_path / "libs" / "vulkan")
    code = (
        "import json, os, sys; from pathlib import Path; from rag.ask.generation import LlamaGenerator;"
        f"g = LlamaGenerator(Path({str(tiny_gguf)!r}), context_size=128, threads=1); g.warm_up();"
        "import llama_cpp.llama_cpp as l;"
        "print(json.dumps({'backend': g.backend, 'lib': os.environ.get('LLAMA_CPP_LIB_PATH'), 'loaded': str(l._base_path)}))"
    )
    env = dict(os.environ, DOCQA_LLAMA_LIBS=str(tmp_path / "libs"), PYTHONPATH=str(REPO))
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, cwd=REPO, timeout=120)
    assert r.returncode == 0, r.stderr[-2000:]
    out = json.loads(r.stdout.strip().splitlines()[-1])
    assert out["lib"] == out["loaded"] == str(tmp_path / "libs" / "cpu")
    assert out["backend"].startswith("CPU (Vulkan build skipped: does not load")
