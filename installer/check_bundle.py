"""Check a frozen docqa folder before it is packaged (run by installer/build.py and CI).

    python installer/check_bundle.py dist/docqa

Fails (exit 1, one line per problem) when the bundle carries a CUDA build of torch or
any CUDA runtime library (the app is CPU torch; GPU offload is llama.cpp's, in
llama_libs/), test suites or test data, or lacks the models, their manifest or the
llama.cpp library; and when a shipped llama.cpp CPU library holds instructions beyond the
baseline its ``variant.json`` declares: disassembled with objdump, the AVX2 baseline may
use no AVX-512 (``zmm`` registers, mask registers, the upper 16 vector registers) and no
AMX tile instructions, the AVX-512 variant no AMX. (``-march=native`` output and pip's
wheel cache have both shipped the build machine's CPU before.) Prints the size and the
ten largest folders either way.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

CUDA_MARKERS = ("libcudart", "libcublas", "libcudnn", "libnccl", "libtorch_cuda", "libc10_cuda",
                "cudart64", "cublas64", "cudnn64", "libcufft", "libcusparse", "libcurand", "libnvrtc")
TEST_DIRS = {"test", "tests", "testing_data", "test_data", "testdata"}
# Sample documents have no place in an app (python-docx/pptx's blank templates aside).
DOC_SUFFIXES = {".pdf", ".docx", ".pptx", ".eml", ".msg"}

# What each declared baseline must not contain, as objdump (AT&T syntax) prints it.
AVX512 = re.compile(r"%zmm\d|%k[1-7]\b|\{%k[0-7]\}|%[xy]mm(?:1[6-9]|2\d|3[01])\b")
AMX = re.compile(r"\t(?:tile\w*|tdp\w*|ldtilecfg|sttilecfg)\b")
FORBIDDEN = {"avx2": ("AVX-512", "AMX"), "avx512": ("AMX",), "amx": ()}


def instruction_counts(lib: Path) -> dict[str, int]:
    """How many AVX-512 and AMX instructions ``lib`` holds (objdump -d)."""
    out = subprocess.run(["objdump", "-d", "--no-show-raw-insn", str(lib)], capture_output=True, text=True,
                         check=True).stdout
    lines = out.splitlines()
    return {"AVX-512": sum(1 for ln in lines if AVX512.search(ln)),
            "AMX": sum(1 for ln in lines if AMX.search(ln))}


def cpu_library_problems(internal: Path) -> list[str]:
    """Each CPU build of llama.cpp checked against the instruction set it declares."""
    out: list[str] = []
    folders = [internal / "llama_cpp" / "lib"]
    libs_root = internal / "llama_libs"
    if libs_root.is_dir():
        folders += sorted(d for d in libs_root.iterdir() if d.name.startswith("cpu"))
    if not sys.platform.startswith("linux"):
        return out  # objdump reads ELF here; other platforms' builds are checked on their build machines
    if shutil.which("objdump") is None:
        return ["objdump is needed to check the llama.cpp CPU libraries (apt-get install binutils)"]
    # A copy at the top of _internal is on the bootloader's LD_LIBRARY_PATH and would be
    # loaded by every build in place of its own.
    out += [f"{p.name} at the top of the bundle would shadow each llama.cpp build's own copy"
            for p in sorted(internal.glob("lib*.so*")) if p.name.startswith(("libggml", "libllama", "libmtmd"))]
    for folder in folders:
        try:
            info = json.loads((folder / "variant.json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            out.append(f"{folder.relative_to(internal)}: no variant.json saying which processors it is built for")
            continue
        isa = str(info.get("isa", ""))
        if isa not in FORBIDDEN:
            out.append(f"{folder.relative_to(internal)}: unknown instruction set {isa!r} in variant.json")
            continue
        for lib in sorted(folder.glob("lib*.so*")):
            counts = instruction_counts(lib)
            for name in FORBIDDEN[isa]:
                if counts[name]:
                    out.append(f"{lib.relative_to(internal)} holds {counts[name]} {name} instructions, "
                               f"beyond its declared {isa} baseline")
            print(f"check_bundle: {lib.relative_to(internal)} ({isa}): "
                  f"{counts['AVX-512']} AVX-512, {counts['AMX']} AMX instructions")
    return out


def internal_dir(bundle: Path) -> Path:
    for cand in (bundle / "_internal", bundle / "Contents" / "Frameworks", bundle):
        if (cand / "models").is_dir():
            return cand
    return bundle / "_internal"


def problems(bundle: Path) -> list[str]:
    out: list[str] = []
    internal = internal_dir(bundle)
    for p in bundle.rglob("*"):
        rel = p.relative_to(bundle)
        low = p.name.lower()
        # llama_libs/cuda is the point of the GPU variants; a CUDA runtime anywhere else is torch's.
        if any(m in low for m in CUDA_MARKERS) and "llama_libs" not in rel.parts:
            out.append(f"CUDA library in the bundle: {rel}")
        if any(part.endswith(".dist-info") for part in rel.parts):
            continue  # licence texts of vendored code, some in folders named test
        if p.is_dir() and low in TEST_DIRS:
            out.append(f"test folder in the bundle: {rel}")
        if p.is_file() and p.suffix.lower() in DOC_SUFFIXES and "templates" not in rel.parts:
            out.append(f"document file (test data?) in the bundle: {rel}")
    version = internal / "torch" / "version.py"
    if version.exists() and not re.search(r"^cuda\s*(:[^=]*)?=\s*None", version.read_text(encoding="utf-8"), re.M):
        out.append("torch in the bundle is a CUDA build (torch/version.py names a CUDA version)")
    manifest = internal / "models" / "models.json"
    if not manifest.is_file():
        out.append("no models/models.json (the model hashes)")
    else:
        data = json.loads(manifest.read_text(encoding="utf-8"))
        for rel_name in (data["embedder"], data["llm"]):
            if not (internal / "models" / rel_name).exists():
                out.append(f"model missing from the bundle: models/{rel_name}")
    libs = internal / "llama_cpp" / "lib"
    if not any(libs.glob("*llama.*")):
        out.append("no llama.cpp library in llama_cpp/lib")
    else:
        out += cpu_library_problems(internal)
    return out


def size_report(bundle: Path) -> str:
    def size(p: Path) -> int:
        return sum(f.stat().st_size for f in p.rglob("*") if f.is_file() and not f.is_symlink()) if p.is_dir() \
            else p.stat().st_size
    internal = internal_dir(bundle)
    total = size(bundle)
    tops = sorted(((size(p), p.name) for p in internal.iterdir()), reverse=True)[:12]
    lines = [f"bundle {bundle}: {total / 1e6:.0f} MB"]
    lines += [f"  {s / 1e6:8.1f} MB  {name}" for s, name in tops]
    return "\n".join(lines)


def main() -> int:
    bundle = Path(sys.argv[1] if len(sys.argv) > 1 else "dist/docqa")
    if not bundle.is_dir():
        print(f"check_bundle: {bundle} is not a folder", file=sys.stderr)
        return 1
    print(size_report(bundle))
    found = problems(bundle)
    for line in found:
        print(f"check_bundle: {line}", file=sys.stderr)
    if not found:
        print("check_bundle: ok (CPU torch, no CUDA runtime, no tests or test data, models and llama.cpp present, "
              "each llama.cpp CPU library within its declared instruction set)")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
