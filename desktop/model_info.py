"""Read a GGUF file's header to check it before using it as the language model.

Only the key/value header is read (the ``gguf`` reader memory-maps the file and does not
load tensors), so this is quick even for multi-gigabyte models.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

GGUF_MAGIC = b"GGUF"

# llama.cpp's general.file_type values (enum llama_ftype), for the common ones.
FILE_TYPES = {
    0: "F32", 1: "F16", 2: "Q4_0", 3: "Q4_1", 7: "Q8_0", 8: "Q5_0", 9: "Q5_1",
    10: "Q2_K", 11: "Q3_K_S", 12: "Q3_K_M", 13: "Q3_K_L", 14: "Q4_K_S", 15: "Q4_K_M",
    16: "Q5_K_S", 17: "Q5_K_M", 18: "Q6_K", 19: "IQ2_XXS", 20: "IQ2_XS", 24: "IQ1_S",
    25: "IQ4_NL", 26: "IQ3_S", 27: "IQ3_M", 28: "IQ2_S", 29: "IQ2_M", 30: "IQ4_XS",
    32: "BF16",
}


class InvalidModel(ValueError):
    """The file is not a usable GGUF model; the message says why in plain words."""


@dataclass(frozen=True)
class ModelInfo:
    path: Path
    size: int
    name: str
    architecture: str
    file_type: str
    context_length: int
    licence: str

    def summary(self) -> str:
        gb = self.size / 1e9
        size = f"{gb:.2f} GB" if gb >= 0.1 else f"{self.size / 1e6:.1f} MB"
        return (
            f"{self.name or self.path.name} · {self.architecture} · {self.file_type} · "
            f"{size} · context {self.context_length or '?'} · licence {self.licence or 'not stated'}"
        )


def _field_value(reader: object, key: str) -> object:
    field = reader.fields.get(key)  # type: ignore[attr-defined]
    if field is None:
        return None
    try:
        return field.contents()
    except Exception:  # noqa: BLE001 (older gguf versions: decode by hand)
        part = field.parts[field.data[0]]
        try:
            return bytes(part).decode("utf-8", errors="replace")
        except TypeError:
            return part[0]


def read_model_info(path: Path) -> ModelInfo:
    path = Path(path)
    if not path.is_file():
        raise InvalidModel(f"{path} does not exist")
    with path.open("rb") as fh:
        if fh.read(4) != GGUF_MAGIC:
            raise InvalidModel(f"{path.name} is not a GGUF model file (llama.cpp needs .gguf)")
    try:
        from gguf import GGUFReader

        reader = GGUFReader(str(path), "r")
    except Exception as err:  # noqa: BLE001
        raise InvalidModel(f"{path.name} is a damaged GGUF file: {err}") from err
    arch = str(_field_value(reader, "general.architecture") or "")
    if not arch:
        raise InvalidModel(f"{path.name} does not say which model architecture it is")
    ftype = _field_value(reader, "general.file_type")
    ctx = _field_value(reader, f"{arch}.context_length")
    licence = _field_value(reader, "general.license") or _field_value(reader, "general.license.name")
    return ModelInfo(
        path=path,
        size=path.stat().st_size,
        name=str(_field_value(reader, "general.name") or ""),
        architecture=arch,
        file_type=FILE_TYPES.get(int(ftype), f"type {ftype}") if isinstance(ftype, int) else "unknown",
        context_length=int(ctx) if isinstance(ctx, int) else 0,
        licence=str(licence or ""),
    )
