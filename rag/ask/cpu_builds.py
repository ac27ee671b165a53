"""The CPU builds of llama.cpp this app has, and the fastest one that really runs here.

llama_cpp's own library is, in an installed app, the portable AVX2 baseline and, in a
source checkout, the ``-march=native`` build pip compiled. CPU variants sit beside the
GPU builds (``cpu-amx``, ``cpu-avx512``, and ``cpu``: the baseline a source checkout
falls back to), each with a ``variant.json`` naming the processor features it needs
(``installer/build-llama-portable.sh``).

Feature flags are not enough: a virtual machine may report AMX and grant its permission,
then fault on the first tile instruction, killing the app at the model's warm-up. Each
build is therefore run in a helper process on a tiny quantized model
(:mod:`rag.ask.llama_probe`); one that dies, fails, or disagrees with the baseline's
numbers is skipped with its reason. The outcome is cached per machine and build.
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rag.ask.llama_probe import agree, probe_model, run_probe

CPU_PREFERENCE = ("cpu-amx", "cpu-avx512")  # fastest first; the baseline is the last resort
VARIANT_FILE = "variant.json"
CACHE_FILE = "llama-build-choice.json"
CACHE_VERSION = 2
PROBE_TIMEOUT_S = 60.0


class NoUsableBuild(RuntimeError):
    """No llama.cpp build docqa has runs on this processor (the reasons are in the message)."""


@dataclass
class Build:
    """A CPU build that may be tried: its folder (None: llama_cpp's own) and what it needs."""

    name: str
    path: Path | None
    label: str
    isa: str = ""  # "avx2" (the baseline), "avx512", "amx"; "" for a native build
    requires: list[str] = field(default_factory=list)


def own_library_folder() -> Path | None:
    import importlib.util

    spec = importlib.util.find_spec("llama_cpp")
    if spec is None or spec.origin is None:
        return None
    return Path(spec.origin).parent / "lib"


def _variant_info(folder: Path | None) -> dict[str, Any]:
    if folder is None:
        return {}
    try:
        data = json.loads((folder / VARIANT_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def cpu_builds(root: Path | None) -> list[Build]:
    """The CPU builds to try, fastest first; the baseline (the reference) last.
    ``DOCQA_LLAMA_OWN=0`` leaves llama_cpp's own library out: only the builds under
    ``root`` (support, and tests that need a known set)."""
    found = _builds_under(root)
    fast = [found.pop(n) for n in CPU_PREFERENCE if n in found]
    baseline = found.pop("cpu", None)
    rest = sorted(found.values(), key=lambda b: b.name)
    tail = [baseline] if baseline else []
    if os.environ.get("DOCQA_LLAMA_OWN") == "0":
        return [*fast, *rest, *tail]
    own_folder = own_library_folder()
    own_info = _variant_info(own_folder)
    isa = str(own_info.get("isa", ""))
    native = isa in ("", "native")  # a source install's build, compiled for the machine that built it
    own = Build("native" if native else "cpu", None, str(own_info.get("label") or ("CPU (native)" if native else "CPU")),
                isa, list(own_info.get("requires", [])))
    if native:  # the fastest when it runs
        return [own, *fast, *rest, *tail]
    return [*fast, *rest, own]  # an installed app: llama_cpp's own library is the baseline


def _builds_under(root: Path | None) -> dict[str, Build]:
    found: dict[str, Build] = {}
    if root is not None and root.is_dir():
        for d in sorted(root.iterdir()):
            if d.is_dir() and d.name.startswith("cpu") and _has_library(d):
                info = _variant_info(d)
                found[d.name] = Build(d.name, d, str(info.get("label") or d.name), str(info.get("isa", "")),
                                      list(info.get("requires", [])))
    return found


def _has_library(folder: Path) -> bool:
    return any((folder / n).exists() for n in ("libllama.so", "libllama.dylib", "llama.dll"))


def cpu_flags() -> set[str] | None:
    """The processor's feature flags as Linux names them; None where they cannot be read
    (the probe alone then decides)."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as f:
            for line in f:
                if line.startswith("flags"):
                    return set(line.split(":", 1)[1].split())
    except OSError:
        return None
    return None


def probe_cpu(build: Build, model: Path, timeout: float = PROBE_TIMEOUT_S) -> dict[str, Any] | str:
    """Run the probe model on a CPU build: its result, or why it cannot be used."""
    flags = cpu_flags()
    missing = [f for f in build.requires if flags is not None and f not in flags]
    if missing:
        return f"needs {', '.join(missing)}, which this processor lacks"
    result = run_probe(build.path, model, gpu=False, timeout=timeout)
    if isinstance(result, dict) and not result.get("finite", False):
        return "gives numbers that are not finite"
    return result


def cache_dir() -> Path:
    """Where the choice and the probe's model are kept: docqa's own (private) data folder,
    never a home-directory cache; ``DOCQA_CACHE_DIR`` overrides (tests share one)."""
    env = os.environ.get("DOCQA_CACHE_DIR")
    if env:
        return Path(env)
    from rag.paths import data_dir

    return data_dir() / "cache"


def _fingerprint(builds: list[Build]) -> str:
    """Machine and builds: a new processor (a VM moved to other hardware) or a rebuilt
    library probes again."""
    h = hashlib.sha256(f"{CACHE_VERSION}|{platform.machine()}|{sys.platform}".encode())
    h.update(" ".join(sorted(cpu_flags() or [])).encode())
    for b in builds:
        folder = b.path if b.path is not None else own_library_folder()
        h.update(f"|{b.name}:{folder}".encode())
        for f in sorted(folder.iterdir()) if folder is not None and folder.is_dir() else []:
            if "ggml" in f.name or "llama" in f.name:
                st = f.stat()
                h.update(f"{f.name}:{st.st_size}:{st.st_mtime_ns}".encode())
    return h.hexdigest()[:32]


def choose_cpu(root: Path | None) -> tuple[Build, list[str]]:
    """The fastest CPU build that runs the probe model here and agrees with the baseline,
    and why each faster one was skipped."""
    builds = cpu_builds(root)
    if not builds:
        raise NoUsableBuild("no llama.cpp CPU build is installed")
    cache = cache_dir() / CACHE_FILE
    key = _fingerprint(builds)
    try:
        cached = json.loads(cache.read_text(encoding="utf-8"))
        if cached.get("key") == key:
            by_name = {b.name: b for b in builds}
            if cached.get("name") in by_name:
                return by_name[cached["name"]], list(cached.get("skipped", []))
            raise NoUsableBuild(str(cached.get("error", "no llama.cpp build runs on this processor")))
    except (OSError, ValueError, AttributeError):
        pass
    model = probe_model(cache_dir())
    reference = builds[-1]
    ref = probe_cpu(reference, model)
    skipped: list[str] = []
    chosen: Build | None = None
    for b in builds:
        result = ref if b is reference else probe_cpu(b, model)
        if isinstance(result, dict) and isinstance(ref, dict) and b is not reference:
            differs = agree(result.get("top", []), ref.get("top", []))
            result = f"gives wrong results ({differs})" if differs else result
        if isinstance(result, dict):
            chosen = b
            break
        skipped.append(f"{b.label} build skipped: {result}")
    entry: dict[str, Any] = {"key": key, "skipped": skipped}
    if chosen is None:
        entry["error"] = "no llama.cpp build runs on this processor: " + "; ".join(skipped)
    else:
        entry["name"] = chosen.name
    try:
        cache.parent.mkdir(parents=True, exist_ok=True)
        tmp = cache.with_name(f".{cache.name}.{os.getpid()}")
        tmp.write_text(json.dumps(entry), encoding="utf-8")
        os.replace(tmp, cache)
    except OSError:
        pass  # a read-only home: probe again next time
    if chosen is None:
        raise NoUsableBuild(entry["error"])
    return chosen, skipped
