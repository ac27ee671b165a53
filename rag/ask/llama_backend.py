"""Pick the llama.cpp build that runs best on this machine: Metal, CUDA or Vulkan, else the
fastest CPU build that really runs here (:mod:`rag.ask.cpu_builds`).

Builds other than llama_cpp's own live in folders under a root (``<bundle>/llama_libs/``,
``DOCQA_LLAMA_LIBS`` or the virtualenv's ``llama_libs/``): GPU builds (``cuda``,
``vulkan``, ``metal``) and CPU variants (``cpu-*``). Each GPU build is tried in a helper
process (a library that needs a missing driver, or finds no device, must not take the app
down, and a loaded-but-unused copy of ``libllama`` would shadow the one chosen); then the
CPU builds are, by running a model (:mod:`rag.ask.llama_probe`). ``llama_cpp`` loads one
library per process, so the choice is made before it is imported, and the reasons builds
were skipped are kept for the backend line.
"""

from __future__ import annotations

import json
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path

from rag.ask.cpu_builds import NoUsableBuild, choose_cpu, cpu_builds, own_library_folder, probe_cpu
from rag.ask.llama_probe import probe_model, run_probe
from rag.frozen import bundle_dir

VARIANTS_DIR = "llama_libs"
PREFERENCE = ("metal", "cuda", "vulkan")  # a GPU variant not named here is tried after these
PROBE_TIMEOUT_S = 60.0
LABELS = {"metal": "Metal", "cuda": "CUDA", "vulkan": "Vulkan", "hip": "ROCm", "cpu": "CPU"}


@dataclass
class Choice:
    name: str  # "cpu" (llama_cpp's own), a CPU variant ("cpu-avx512") or a GPU variant's folder
    path: Path | None  # the folder given to llama_cpp; None: llama_cpp's own library
    skipped: list[str] = field(default_factory=list)  # "CUDA: no GPU found", ...
    title: str = ""  # "CPU (AVX-512)"; empty: from LABELS

    @property
    def label(self) -> str:
        return self.title or LABELS.get(self.name, self.name)

    def note(self) -> str:
        """Why the faster builds were not used, for the backend line ("" when none was skipped)."""
        return "; ".join(self.skipped)


def library_file(folder: Path) -> Path:
    if sys.platform == "win32":
        return folder / "llama.dll"
    if sys.platform == "darwin" and (folder / "libllama.dylib").exists():
        return folder / "libllama.dylib"
    return folder / "libllama.so"


def variants_root() -> Path | None:
    env = os.environ.get("DOCQA_LLAMA_LIBS")
    if env:
        return Path(env)
    root = bundle_dir()
    if root is not None:
        return root / VARIANTS_DIR
    venv = Path(sys.prefix) / VARIANTS_DIR  # a source checkout's fallback builds (setup-venv.sh)
    return venv if venv.is_dir() else None


def candidates(root: Path | None) -> list[tuple[str, Path]]:
    """The GPU builds under ``root`` in the order to try them."""
    if root is None or not root.is_dir():
        return []
    found = {d.name: d for d in root.iterdir()
             if d.is_dir() and library_file(d).exists() and not d.name.startswith("cpu")}
    order = [n for n in PREFERENCE if n in found] + sorted(n for n in found if n not in PREFERENCE)
    return [(n, found[n]) for n in order]


def probe(folder: Path, timeout: float = PROBE_TIMEOUT_S) -> str:
    """"" when the GPU build in ``folder`` loads and offloads to a GPU here, else why not."""
    result = run_probe(folder, None, gpu=True, timeout=timeout)
    if isinstance(result, str):
        return result
    return "" if result.get("gpu") else "no GPU found"


def choose(root: Path | None, *, want_gpu: bool = True) -> Choice:
    """The first GPU build under ``root`` that works here, else the best CPU build."""
    skipped: list[str] = []
    if want_gpu:
        for name, folder in candidates(root):
            reason = probe(folder)
            if not reason:
                return Choice(name, folder, skipped)
            skipped.append(f"{LABELS.get(name, name)} build skipped: {reason}")
    try:
        cpu, cpu_skipped = choose_cpu(root)
    except NoUsableBuild as err:
        raise NoUsableBuild("; ".join([*skipped, str(err)])) from None
    return Choice(cpu.name, cpu.path, skipped + cpu_skipped, cpu.label)


_chosen: Choice | None = None  # llama_cpp loads one library per process; this records which


def select(*, want_gpu: bool = True) -> Choice:
    """Choose once per process, before ``llama_cpp`` is imported, and tell llama_cpp."""
    global _chosen
    if _chosen is not None:
        return _chosen
    if "llama_cpp" in sys.modules:  # too late to switch: report what was loaded
        path = os.environ.get("LLAMA_CPP_LIB_PATH")
        _chosen = Choice(Path(path).name if path else "cpu", Path(path) if path else None)
        return _chosen
    choice = choose(variants_root(), want_gpu=want_gpu)
    if choice.path is not None:
        os.environ["LLAMA_CPP_LIB_PATH"] = str(choice.path)
    else:
        os.environ.pop("LLAMA_CPP_LIB_PATH", None)
    _chosen = choice
    return choice


def main(argv: list[str] | None = None) -> int:
    """``python -m rag.ask.llama_backend [--cpu] [--json]``: which build this machine uses, and
    why; ``--own``: whether llama_cpp's own library runs here (installer/setup-venv.sh asks,
    to know whether the portable builds are needed)."""
    args = sys.argv[1:] if argv is None else argv
    if "--own" in args:  # only llama_cpp's own library: does it run here?
        from rag.ask.cpu_builds import cache_dir

        own = cpu_builds(None)[0]
        result = probe_cpu(own, probe_model(cache_dir()))
        if isinstance(result, str):
            print(f"llama.cpp: the installed build ({own_library_folder()}) {result}")
            return 1
        print(f"llama.cpp: the installed build runs here ({result.get('tokens_per_s', 0):.0f} tokens/s on the probe)")
        return 0
    try:
        choice = choose(variants_root(), want_gpu="--cpu" not in args)
    except NoUsableBuild as err:
        print(json.dumps({"error": str(err)}) if "--json" in args else f"llama.cpp: {err}")
        return 1
    info = {"name": choice.name, "label": choice.label, "path": str(choice.path or own_library_folder()),
            "skipped": choice.skipped}
    print(json.dumps(info) if "--json" in args else
          f"llama.cpp: {choice.label} ({info['path']})" + (f"; {choice.note()}" if choice.skipped else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
