"""The frozen app in dist/docqa (after installer/build.py or installer/build-deb.sh): its own
checks, its bundled models found with no network and an empty HOME, and a damaged model
reported in one line. Skipped when no bundle has been built (the default developer run)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
BUNDLE = Path(os.environ.get("DOCQA_BUNDLE", REPO / "dist" / "docqa"))
SAMPLE = REPO / "assets" / "samples" / "sample-mutual-nda.pdf"

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not (BUNDLE / "docqa").exists(), reason=f"no frozen bundle at {BUNDLE}"),
]


def _isolated(cmd: list[str], home: Path) -> list[str]:
    # An empty session has no keychain: the library key comes from a passphrase.
    env = ["env", "-i", "PATH=/usr/bin:/bin", f"HOME={home}", "LANG=C.UTF-8", "QT_QPA_PLATFORM=offscreen",
           "DOCQA_PASSPHRASE=frozen test passphrase"]
    if shutil.which("unshare") and subprocess.run(["unshare", "-rn", "true"], capture_output=True).returncode == 0:
        return ["unshare", "-rn", *env, *cmd]
    return [*env, *cmd]


def test_bundle_passes_its_own_checks() -> None:
    r = subprocess.run([sys.executable, str(REPO / "installer" / "check_bundle.py"), str(BUNDLE)],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr


def test_frozen_cli_indexes_and_searches_offline_with_an_empty_home(tmp_path: Path) -> None:
    import docx

    home = tmp_path / "home"
    home.mkdir()
    lib = home / "lib"
    # A Word file too: unstructured and spaCy in the frozen parser worker, not only pdfium.
    word = docx.Document()
    word.add_paragraph("The supplier shall deliver the goods within fourteen (14) days of the order.")
    word.save(str(tmp_path / "supply.docx"))
    r = subprocess.run(_isolated([str(BUNDLE / "docqa"), "--library", str(lib), "ingest", str(SAMPLE),
                                  str(tmp_path / "supply.docx")], home),
                       capture_output=True, text=True, timeout=600, cwd=home)
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-3000:]
    r = subprocess.run(_isolated([str(BUNDLE / "docqa"), "--library", str(lib), "search", "termination", "--json"],
                                 home), capture_output=True, text=True, timeout=600, cwd=home)
    assert r.returncode == 0, r.stderr[-3000:]
    hits = json.loads(r.stdout)
    assert hits and hits[0]["file"].endswith("sample-mutual-nda.pdf")
    assert (lib / "index").is_dir()  # a real Chroma collection, written by the frozen app
    assert not (home / ".cache").exists(), "the frozen app created a home-directory cache"


def test_a_damaged_bundled_model_is_one_line_not_a_traceback(tmp_path: Path) -> None:
    # A copy of the bundle made of links, with a real executable and one damaged model file.
    copy = tmp_path / "docqa"
    subprocess.run(["cp", "-as", str(BUNDLE.resolve()), str(copy)], check=True)
    for exe in ("docqa", "docqa-desktop"):
        (copy / exe).unlink()
        shutil.copy2(BUNDLE / exe, copy / exe)
    models = json.loads((BUNDLE / "_internal" / "models" / "models.json").read_text())
    gguf = copy / "_internal" / "models" / models["llm"]
    data = bytearray((BUNDLE / "_internal" / "models" / models["llm"]).read_bytes())
    data[len(data) // 2] ^= 0xFF
    gguf.unlink()
    gguf.write_bytes(bytes(data))
    home = tmp_path / "home"
    home.mkdir()
    r = subprocess.run(_isolated([str(copy / "docqa"), "--library", str(home / "lib"), "ask", "What is this?"], home),
                       capture_output=True, text=True, timeout=600, cwd=home)
    assert r.returncode == 1
    assert "The installed language model is damaged" in r.stderr and "reinstall docqa" in r.stderr
    assert "Traceback" not in r.stderr


def test_each_llama_build_in_the_bundle_loads_its_own_ggml(tmp_path: Path) -> None:
    """The frozen app's probe helper, pointed at each CPU build, loads that build's own CPU
    backend (LD_DEBUG shows the file): a copy at the top of _internal, on the bootloader's
    LD_LIBRARY_PATH, once made every build run the baseline's under its own name."""
    from rag.ask.llama_probe import probe_model

    model = probe_model(tmp_path)
    internal = BUNDLE / "_internal"
    folders = [internal / "llama_cpp" / "lib", *sorted((internal / "llama_libs").glob("cpu*"))]
    assert len(folders) >= 2, folders
    for folder in folders:
        env = {k: v for k, v in os.environ.items() if k != "LLAMA_CPP_LIB_PATH"}
        env.update(DOCQA_CHILD="llama-probe", LD_DEBUG="libs")
        arg = "" if folder.parent.name == "llama_cpp" else str(folder)
        r = subprocess.run([str(BUNDLE / "docqa"), arg, str(model)], capture_output=True, text=True, env=env,
                           timeout=300)
        loaded = [line.split("calling init: ", 1)[1].strip() for line in r.stderr.splitlines()
                  if "calling init: " in line and "libggml-cpu" in line]
        assert loaded == [str(folder / "libggml-cpu.so.0")], (folder, loaded, r.returncode)
