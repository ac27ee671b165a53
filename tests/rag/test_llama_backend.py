"""Choosing the llama.cpp build at start, with real library folders: GPU builds that load
but find no GPU (as on this machine) or are broken; CPU builds that run, and one that
executes an illegal instruction as soon as it is loaded, as an AVX-512 or AMX build does
on a processor (or a virtual machine) that cannot run it. The probe must reject it in a
helper process, and the fallback must take over without the app noticing."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from rag.ask import cpu_builds, llama_backend
from rag.ask.cpu_builds import Build, NoUsableBuild, choose_cpu, probe_cpu
from rag.ask.llama_backend import Choice, candidates, choose, library_file, probe
from rag.ask.llama_probe import agree, probe_model

REPO = Path(__file__).resolve().parents[2]
TRAP_C = r"""
/* Dies the way a build for a newer processor dies on an older one: an illegal
   instruction (ud2), here as soon as the library is loaded. */
__attribute__((constructor)) static void docqa_trap(void) { __builtin_trap(); }
int llama_backend_init(void) { return 0; }
"""


@pytest.fixture(scope="module")
def working_build(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the CPU build this machine runs (the venv's own, or the portable fallback
    installer/setup-venv.sh built where the native one traps), as the baseline."""
    cache = tmp_path_factory.mktemp("probe-cache")
    r = subprocess.run([sys.executable, "-m", "rag.ask.llama_backend", "--cpu", "--json"], capture_output=True,
                       text=True, cwd=REPO, timeout=300, env=dict(os.environ, DOCQA_CACHE_DIR=str(cache)))
    assert r.returncode == 0, r.stdout + r.stderr
    folder = Path(json.loads(r.stdout.strip().splitlines()[-1])["path"])
    dest = tmp_path_factory.mktemp("working") / "cpu"
    shutil.copytree(folder, dest)
    (dest / "variant.json").write_text(json.dumps({"name": "cpu", "label": "CPU (AVX2)", "isa": "avx2",
                                                   "requires": []}))
    return dest


@pytest.fixture(scope="module")
def trapping_build(tmp_path_factory: pytest.TempPathFactory) -> Path:
    cc = shutil.which("cc") or shutil.which("gcc")
    if cc is None:
        pytest.skip("no C compiler to build the trapping library")
    folder = tmp_path_factory.mktemp("trap") / "cpu-amx"
    folder.mkdir()
    src = folder.parent / "trap.c"
    src.write_text(TRAP_C)
    subprocess.run([cc, "-shared", "-fPIC", "-o", str(library_file(folder)), str(src)], check=True)
    (folder / "variant.json").write_text(json.dumps({"name": "cpu-amx", "label": "CPU (AVX-512 + AMX)",
                                                     "isa": "amx", "requires": []}))
    return folder


@pytest.fixture(scope="module")
def variants(tmp_path_factory: pytest.TempPathFactory, working_build: Path) -> Path:
    root = tmp_path_factory.mktemp("llama_libs")
    shutil.copytree(working_build, root / "cuda")  # loads, but there is no GPU here
    broken = root / "vulkan"
    shutil.copytree(working_build, broken)
    library_file(broken).write_bytes(b"\x7fELF not really a library")
    (root / "notes").mkdir()  # not a build: ignored
    shutil.copytree(working_build, root / "cpu")
    return root


@pytest.fixture
def only_listed_builds(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """The builds under the root and nothing else (not the venv's own), a fresh cache."""
    monkeypatch.setenv("DOCQA_LLAMA_OWN", "0")
    monkeypatch.setenv("DOCQA_CACHE_DIR", str(tmp_path / "cache"))


def test_candidates_in_preference_order(variants: Path) -> None:
    assert [n for n, _ in candidates(variants)] == ["cuda", "vulkan"]  # CPU variants are not GPU builds
    assert candidates(variants / "missing") == [] and candidates(None) == []


def test_probe_tells_a_working_build_without_gpu_from_a_broken_one(variants: Path) -> None:
    assert probe(variants / "cuda") == "no GPU found"
    assert probe(variants / "vulkan").startswith("does not load")


@pytest.mark.usefixtures("only_listed_builds")
def test_falls_back_to_cpu_and_says_why(variants: Path) -> None:
    choice = choose(variants)
    assert (choice.name, choice.path, choice.label) == ("cpu", variants / "cpu", "CPU (AVX2)")
    assert choice.skipped[0] == "CUDA build skipped: no GPU found"
    assert choice.skipped[1].startswith("Vulkan build skipped: does not load")
    assert choose(variants, want_gpu=False).skipped == []  # "CPU only" in the settings: no GPU tried


@pytest.mark.usefixtures("only_listed_builds")
def test_first_build_that_works_wins(variants: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # As on a machine with a Vulkan GPU but no CUDA driver.
    monkeypatch.setattr(llama_backend, "probe", lambda folder: "" if folder.name == "vulkan" else "no GPU found")
    choice = choose(variants)
    assert choice == Choice("vulkan", variants / "vulkan", ["CUDA build skipped: no GPU found"])
    assert choice.label == "Vulkan"


def test_the_probe_runs_a_quantized_model_and_rejects_a_build_that_traps(
        working_build: Path, trapping_build: Path, tmp_path: Path) -> None:
    model = probe_model(tmp_path)
    good = probe_cpu(Build("cpu", working_build, "CPU"), model)
    assert isinstance(good, dict) and good["finite"] and good["tokens_per_s"] > 0, good
    assert len(good["top"]) == 8
    bad = probe_cpu(Build("cpu-amx", trapping_build, "CPU (AVX-512 + AMX)"), model)
    assert bad == "stops with an illegal instruction (SIGILL) on this processor"


def test_a_build_needing_features_this_processor_lacks_is_not_even_tried(working_build: Path, tmp_path: Path) -> None:
    if cpu_builds.cpu_flags() is None:
        pytest.skip("no /proc/cpuinfo here")
    reason = probe_cpu(Build("cpu-x", working_build, "CPU (future)", requires=["avx2", "avx10_9"]),
                       probe_model(tmp_path))
    assert reason == "needs avx10_9, which this processor lacks"


@pytest.mark.usefixtures("only_listed_builds")
def test_fallback_takes_over_from_a_trapping_build_and_the_choice_is_cached(
        working_build: Path, trapping_build: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = tmp_path / "libs"
    shutil.copytree(working_build, root / "cpu")
    shutil.copytree(trapping_build, root / "cpu-amx")
    build, skipped = choose_cpu(root)
    assert (build.name, build.path) == ("cpu", root / "cpu")
    assert skipped == ["CPU (AVX-512 + AMX) build skipped: stops with an illegal instruction (SIGILL) on this processor"]
    # Cached per machine and build: no helper process the second time.
    monkeypatch.setattr(cpu_builds, "run_probe", lambda *a, **k: pytest.fail("probed again"))
    assert choose_cpu(root) == (build, skipped)
    # A rebuilt library probes again.
    (root / "cpu-amx" / "variant.json").touch()
    (root / "cpu-amx" / library_file(root / "cpu-amx").name).write_bytes(library_file(trapping_build).read_bytes())
    os.utime(library_file(root / "cpu-amx"), ns=(1, 1))
    with pytest.raises(pytest.fail.Exception):
        choose_cpu(root)


@pytest.mark.usefixtures("only_listed_builds")
def test_no_build_runs_is_a_clear_error(trapping_build: Path, tmp_path: Path) -> None:
    root = tmp_path / "libs"
    shutil.copytree(trapping_build, root / "cpu")
    with pytest.raises(NoUsableBuild, match="no llama.cpp build runs on this processor: .*illegal instruction"):
        choose_cpu(root)


def test_outputs_that_disagree_with_the_baseline_are_caught() -> None:
    base = [[5, 10.0], [7, 9.0], [1, 2.0]]
    assert agree([[5, 10.1], [7, 8.9], [1, 2.05]], base) == ""
    assert agree([[7, 10.0], [5, 9.0]], base) == "picks token 7 where the baseline picks 5"
    assert agree([[5, 13.0], [7, 9.0]], base).startswith("gives numbers 3 away")
    assert agree([], base) == "gave no output"


def test_the_app_loads_the_fallback_and_says_why(working_build: Path, trapping_build: Path, tiny_gguf: Path,
                                                 tmp_path: Path) -> None:
    """In a fresh process, as the app starts: the AMX build traps in the probe, the baseline
    is what llama_cpp loads, and the backend line says which build runs and what was skipped."""
    libs = tmp_path / "libs"
    shutil.copytree(working_build, libs / "cpu")
    shutil.copytree(trapping_build, libs / "cpu-amx")
    code = (
        "import json, os, sys; from pathlib import Path; from rag.ask.generation import LlamaGenerator;"
        f"g = LlamaGenerator(Path({str(tiny_gguf)!r}), context_size=128, threads=1); g.warm_up();"
        "import llama_cpp.llama_cpp as l;"
        "print(json.dumps({'backend': g.backend, 'lib': os.environ.get('LLAMA_CPP_LIB_PATH'), 'loaded': str(l._base_path)}))"
    )
    env = dict(os.environ, DOCQA_LLAMA_LIBS=str(libs), DOCQA_LLAMA_OWN="0", DOCQA_CACHE_DIR=str(tmp_path / "cache"),
               PYTHONPATH=str(REPO))
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, cwd=REPO, timeout=300)
    assert r.returncode == 0, r.stderr[-2000:]
    out = json.loads(r.stdout.strip().splitlines()[-1])
    assert out["lib"] == out["loaded"] == str(libs / "cpu")
    assert out["backend"] == ("CPU (AVX2) (CPU (AVX-512 + AMX) build skipped: stops with an illegal instruction "
                              "(SIGILL) on this processor)")


def test_no_usable_build_leaves_the_quotes(trapping_build: Path, tiny_gguf: Path, tmp_path: Path) -> None:
    """Where nothing runs, loading the model fails with one line (the CLI has already shown
    the quotes, which need no model); no crash."""
    libs = tmp_path / "libs"
    shutil.copytree(trapping_build, libs / "cpu")
    code = (
        "from pathlib import Path; from rag.ask.generation import LlamaGenerator, ModelLoadError\n"
        f"g = LlamaGenerator(Path({str(tiny_gguf)!r}), context_size=128, threads=1)\n"
        "try:\n    g.warm_up()\nexcept ModelLoadError as e:\n    print('refused:', e)\n"
    )
    env = dict(os.environ, DOCQA_LLAMA_LIBS=str(libs), DOCQA_LLAMA_OWN="0", DOCQA_CACHE_DIR=str(tmp_path / "cache"),
               PYTHONPATH=str(REPO))
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, cwd=REPO, timeout=300)
    assert r.returncode == 0, r.stderr[-2000:]
    assert r.stdout.startswith("refused: this computer cannot run the language model (no llama.cpp build runs")
