"""Pick the llama.cpp build that runs best on this machine: Metal, CUDA, Vulkan, else CPU.

An installed app carries llama-cpp-python's portable CPU library in its usual place and
GPU builds side by side in ``<bundle>/llama_libs/<name>/`` (``cuda``, ``vulkan``,
``metal``). Before ``llama_cpp`` is first imported we try each GPU build in a helper
process (a library that needs a missing driver, or finds no device, must not take the
app down, and a loaded-but-unused copy of ``libllama`` would shadow the one chosen) and
point ``LLAMA_CPP_LIB_PATH`` at the first that loads and sees a GPU. Nothing usable: the
CPU build, and the reason the GPU builds were skipped is kept for the status line.
``DOCQA_LLAMA_LIBS`` names such a folder for a source checkout.
"""

from __future__ import annotations

import ctypes
import json
import os
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

from rag.frozen import NO_WINDOW, bundle_dir, child_command

VARIANTS_DIR = "llama_libs"
PREFERENCE = ("metal", "cuda", "vulkan")  # a variant not named here is tried after these
PROBE_TIMEOUT_S = 30.0
LABELS = {"metal": "Metal", "cuda": "CUDA", "vulkan": "Vulkan", "hip": "ROCm", "cpu": "CPU"}


@dataclass
class Choice:
    name: str  # "cpu" or a variant folder's name
    path: Path | None  # the folder given to llama_cpp; None: llama_cpp's own library
    skipped: list[str] = field(default_factory=list)  # "CUDA: no GPU found", ...

    @property
    def label(self) -> str:
        return LABELS.get(self.name, self.name)

    def note(self) -> str:
        """Why a GPU build was not used, for the backend line ("" when none was skipped)."""
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
    return root / VARIANTS_DIR if root is not None else None


def candidates(root: Path | None) -> list[tuple[str, Path]]:
    """The GPU builds under ``root`` in the order to try them."""
    if root is None or not root.is_dir():
        return []
    found = {d.name: d for d in root.iterdir() if d.is_dir() and library_file(d).exists() and d.name != "cpu"}
    order = [n for n in PREFERENCE if n in found] + sorted(n for n in found if n not in PREFERENCE)
    return [(n, found[n]) for n in order]


def probe(folder: Path, timeout: float = PROBE_TIMEOUT_S) -> str:
    """"" when the build in ``folder`` loads and offloads to a GPU here, else why not."""
    cmd, extra = child_command("llama-probe", str(folder))
    try:
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, creationflags=NO_WINDOW,
                           env=dict(os.environ, **extra), stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired:
        return f"did not load within {timeout:.0f} s"
    except OSError as err:
        return f"could not be tried ({err})"
    try:
        result = json.loads(r.stdout.strip().splitlines()[-1])
    except (ValueError, IndexError):
        tail = (r.stderr.strip().splitlines() or [f"exit code {r.returncode}"])[-1]
        return f"does not load ({tail[:120]})"
    if not isinstance(result, dict):
        return "gave no answer"
    if result.get("error"):
        return f"does not load ({str(result['error'])[:120]})"
    if not result.get("gpu"):
        return "no GPU found"
    return ""


def probe_main() -> None:
    """In the helper: load the library in ``argv[1]`` and say whether it sees a GPU."""
    folder = Path(sys.argv[1])
    try:
        lib = ctypes.CDLL(str(library_file(folder)))
        lib.llama_backend_init()
        lib.llama_supports_gpu_offload.restype = ctypes.c_bool
        gpu = bool(lib.llama_supports_gpu_offload())
    except Exception as err:  # noqa: BLE001 (the answer is the error itself)
        print(json.dumps({"error": str(err) or type(err).__name__}))
        return
    print(json.dumps({"gpu": gpu}))


def choose(root: Path | None, *, want_gpu: bool = True) -> Choice:
    """The first GPU build under ``root`` that works here, else the CPU build."""
    skipped: list[str] = []
    if want_gpu:
        for name, folder in candidates(root):
            reason = probe(folder)
            if not reason:
                return Choice(name, folder, skipped)
            skipped.append(f"{LABELS.get(name, name)} build skipped: {reason}")
    cpu = root / "cpu" if root is not None and library_file(root / "cpu").exists() else None
    return Choice("cpu", cpu, skipped)


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
    _chosen = choice
    return choice


if __name__ == "__main__":
    probe_main()
