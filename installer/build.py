"""Freeze docqa into dist/docqa/ (one folder, two executables) on Linux, Windows or macOS.

    python installer/build.py [--gguf FILE.gguf] [--embedder DIR] [--llama-lib DIR]
                              [--variant cuda=DIR ...] [--no-tesseract]

Stages into build/stage/: the models (with models/models.json, the SHA-256 of every model
file, checked by the app before first use), llama.cpp's portable CPU libraries and any GPU
builds, Tesseract when present, then runs PyInstaller on installer/docqa.spec and checks
the result with installer/check_bundle.py. Run with the Python of the environment to
freeze (the one that has docqa and pyinstaller installed).
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))


def _soname(path: Path) -> str:
    try:
        out = subprocess.run(["readelf", "-d", str(path)], capture_output=True, text=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError):
        return ""
    for line in out.splitlines():
        if "(SONAME)" in line and "[" in line:
            return line.split("[", 1)[1].rstrip("]").strip()
    return ""


def stage_llama(src: Path, dest: Path) -> None:
    """Copy a llama_cpp/lib folder. Wheels cannot hold symlinks, so libggml.so, .so.0 and
    .so.0.25.3 arrive as three copies: keep what is loaded (libllama.so by llama_cpp, the
    others by their SONAME), a third of the size."""
    dest.mkdir(parents=True, exist_ok=True)
    files = sorted(p for p in src.iterdir() if p.is_file() and not p.name.endswith((".a", ".lib", ".pc")))
    wanted = {p.name for p in files}
    if sys.platform.startswith("linux"):
        sonames = {s for s in (_soname(p) for p in files) if s}
        if sonames:
            wanted = {n for n in wanted if n in sonames or n == "libllama.so"}
    wanted.add("variant.json")  # which processors the build is for (check_bundle.py, the app's probe)
    for p in files:
        if p.name in wanted:
            shutil.copy2(p.resolve(), dest / p.name)


def stage_models(stage: Path, gguf: Path, embedder: Path) -> None:
    from rag.models.bundle import write_manifest

    models = stage / "models"
    # The embedder keeps the folder name it has in a source install, so libraries indexed
    # by either are recognised as built with the same model.
    emb_name = embedder.parent.name if embedder.name == "model" else embedder.name
    emb_rel = f"{emb_name}/model" if embedder.name == "model" else emb_name
    shutil.copytree(embedder, models / emb_rel, ignore=shutil.ignore_patterns(".git*", "*.md"))
    shutil.copy2(gguf, models / gguf.name)
    data = write_manifest(models, emb_rel, gguf.name)
    print(f"build: {len(data['files'])} model files hashed into models/models.json")  # type: ignore[arg-type]


def stage_tesseract(dest: Path) -> bool:
    exe = shutil.which("tesseract")
    data = next((p for p in (Path("/usr/share/tesseract-ocr/5/tessdata"), Path("/usr/share/tesseract-ocr/4.00/tessdata"),
                             Path("/usr/share/tessdata"), Path("/opt/homebrew/share/tessdata"))
                 if (p / "eng.traineddata").exists()), None)
    if exe is None or data is None:
        return False
    (dest / "bin").mkdir(parents=True, exist_ok=True)
    (dest / "tessdata").mkdir(parents=True, exist_ok=True)
    shutil.copy2(exe, dest / "bin" / Path(exe).name)
    for name in ("eng.traineddata", "osd.traineddata"):
        if (data / name).exists():
            shutil.copy2(data / name, dest / "tessdata" / name)
    return True


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--gguf", type=Path, help="the language model to ship (default: the bundled Gemma 3 270M)")
    ap.add_argument("--gguf-sha256", metavar="HEX", help="refuse to build unless the GGUF has this SHA-256 (the published one)")
    ap.add_argument("--embedder", type=Path, help="sentence-transformers folder (default: all-MiniLM-L6-v2 package)")
    ap.add_argument("--llama-lib", type=Path,
                    help="llama.cpp CPU libraries (a portable GGML_NATIVE=OFF build; default: the installed llama_cpp/lib)")
    ap.add_argument("--variant", action="append", default=[], metavar="NAME=DIR",
                    help="another build of llama_cpp/lib to ship beside the baseline CPU one: a GPU build "
                         "(cuda=..., vulkan=..., metal=...) or a faster CPU one (cpu-avx512=..., cpu-amx=...)")
    ap.add_argument("--no-tesseract", action="store_true", help="do not ship Tesseract even if installed")
    ap.add_argument("--dist", type=Path, default=REPO / "dist")
    ap.add_argument("--work", type=Path, default=REPO / "build")
    args = ap.parse_args()
    started = time.monotonic()

    import rag  # noqa: F401  (offline switches)
    from rag.models.defaults import default_embedder_path, default_llm_path

    stage = args.work / "stage"
    shutil.rmtree(stage, ignore_errors=True)
    stage.mkdir(parents=True)
    gguf = args.gguf or default_llm_path(args.work / "gemma")
    if args.gguf_sha256:
        from rag.models.bundle import sha256_file

        actual = sha256_file(gguf)
        if actual != args.gguf_sha256.lower():
            print(f"build: {gguf} has SHA-256 {actual}, not the expected {args.gguf_sha256}: "
                  "a damaged or different download; not building", file=sys.stderr)
            return 1
    stage_models(stage, gguf.resolve(), (args.embedder or default_embedder_path()).resolve())

    if args.llama_lib is None:
        import importlib.util

        spec = importlib.util.find_spec("llama_cpp")
        assert spec is not None and spec.origin is not None
        args.llama_lib = Path(spec.origin).parent / "lib"
        print("build: warning: shipping the installed llama.cpp (may be built for this CPU only); "
              "pass --llama-lib with a GGML_NATIVE=OFF build", file=sys.stderr)
    stage_llama(args.llama_lib, stage / "llama" / "cpu")
    for item in args.variant:
        name, _, folder = item.partition("=")
        stage_llama(Path(folder), stage / "llama_libs" / name)
    if not args.no_tesseract and stage_tesseract(stage / "tesseract"):
        print("build: shipping Tesseract and its English data")

    env = dict(os.environ, DOCQA_STAGE=str(stage))
    cmd = [sys.executable, "-m", "PyInstaller", str(REPO / "installer" / "docqa.spec"), "--noconfirm",
           "--log-level", "WARN", "--distpath", str(args.dist), "--workpath", str(args.work / "pyinstaller")]
    subprocess.run(cmd, check=True, env=env, cwd=REPO)
    bundle = args.dist / ("docqa.app/Contents/Frameworks" if sys.platform == "darwin" else "docqa")
    subprocess.run([sys.executable, str(REPO / "installer" / "check_bundle.py"), str(args.dist / "docqa")], check=True)
    print(f"build: {bundle} in {time.monotonic() - started:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
