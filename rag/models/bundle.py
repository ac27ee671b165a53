"""The models an installer ships, and the check that they arrived whole.

An installed app carries its models in ``<bundle>/models`` with ``models.json``: which
folder is the embedder, which file is the language model, and the SHA-256 and size of
every file, written at build time (``python -m rag.models.bundle write DIR``). Before a
model is first loaded its files are hashed and compared; a mismatch is a
:class:`ModelDamaged` with a sentence a user can act on. Verified files are remembered
by path, size and modification time in the user's data folder, so later starts skip the
hashing (a few seconds for a multi-GB model) unless a file changed.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
import threading
from dataclasses import dataclass
from pathlib import Path

MANIFEST = "models.json"
CACHE_FILE = "verified-models.json"
_CHUNK = 4 * 1024 * 1024

# One check at a time: the embedder and the language model warm up on different threads,
# and the second caller then finds the first one's result in the cache.
_lock = threading.Lock()


class ModelMissing(RuntimeError):
    """A model file is not where it should be (the message says what to do)."""


class ModelDamaged(ModelMissing):
    """A bundled model file is missing or does not match the hash recorded at build time."""


@dataclass(frozen=True)
class BundledModels:
    root: Path
    embedder: Path
    llm: Path
    files: dict[str, dict[str, object]]  # path relative to root -> {"sha256", "size"}


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(_CHUNK):
            h.update(chunk)
    return h.hexdigest()


def load(root: Path) -> BundledModels | None:
    """The bundle's model manifest, or None when ``root`` has none (a source checkout)."""
    path = root / MANIFEST
    if not path.is_file():
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return BundledModels(root, root / str(data["embedder"]), root / str(data["llm"]), dict(data["files"]))
    except (OSError, ValueError, KeyError, TypeError) as err:
        raise ModelDamaged(f"the list of installed models ({path}) is damaged; reinstall docqa") from err


def write_manifest(root: Path, embedder: str, llm: str) -> dict[str, object]:
    """Hash every file under ``root`` into ``root/models.json`` (run by the build)."""
    files: dict[str, dict[str, object]] = {}
    for f in sorted(p for p in root.rglob("*") if p.is_file() and p.name != MANIFEST):
        files[f.relative_to(root).as_posix()] = {"sha256": sha256_file(f), "size": f.stat().st_size}
    for name in (embedder, llm):
        if not (root / name).exists():
            raise FileNotFoundError(f"{root / name} does not exist")
    data: dict[str, object] = {"version": 1, "embedder": embedder, "llm": llm, "files": files}
    (root / MANIFEST).write_text(json.dumps(data, indent=1) + "\n", encoding="utf-8")
    return data


def _read_cache(cache: Path) -> dict[str, list[int]]:
    try:
        data = json.loads(cache.read_text(encoding="utf-8"))
        return {str(k): [int(x) for x in v] for k, v in data.items()}
    except (OSError, ValueError, TypeError, AttributeError):
        return {}


def _write_cache(cache: Path, data: dict[str, list[int]]) -> None:
    # Written aside and renamed: a kill mid-write leaves the old cache, never half a file.
    try:
        cache.parent.mkdir(parents=True, exist_ok=True)
        tmp = cache.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text(json.dumps(data), encoding="utf-8")
        tmp.replace(cache)
    except OSError:
        pass  # an unwritable cache only costs the hashing again next start


def verify(models: BundledModels, target: Path, cache: Path | None) -> int:
    """Check the manifest's files at or under ``target``; returns how many were hashed now.

    Raises :class:`ModelDamaged` naming the first file that is missing, of the wrong size
    or of the wrong hash. Only files that pass are recorded in ``cache`` (None: no cache).
    """
    target = Path(target).resolve()
    root = models.root.resolve()
    hashed = 0
    with _lock:
        seen = _read_cache(cache) if cache is not None else {}
        changed = False
        for rel, rec in models.files.items():
            path = root / rel
            if path != target and target not in path.parents:
                continue
            what = _describe(models, path)
            try:
                st = path.stat()
            except OSError:
                raise ModelDamaged(f"{what} is missing from the installation ({path.name}); reinstall docqa") from None
            key = str(path)
            stamp = [st.st_size, st.st_mtime_ns]
            if seen.get(key) == stamp:
                continue
            if st.st_size != rec.get("size") or sha256_file(path) != rec.get("sha256"):
                if cache is not None and seen.pop(key, None) is not None:
                    _write_cache(cache, seen)
                raise ModelDamaged(
                    f"{what} is damaged: {path.name} does not match the copy docqa was built with "
                    "(a disk error or an incomplete copy); reinstall docqa"
                )
            hashed += 1
            seen[key] = stamp
            changed = True
        if changed and cache is not None:
            _write_cache(cache, seen)
    return hashed


def _describe(models: BundledModels, path: Path) -> str:
    if path == models.llm.resolve() or models.llm.resolve() in path.parents:
        return "The installed language model"
    return "The installed search (embedding) model"


def main(argv: list[str] | None = None) -> int:
    """``python -m rag.models.bundle write DIR EMBEDDER LLM`` | ``verify DIR``."""
    args = sys.argv[1:] if argv is None else argv
    if len(args) == 4 and args[0] == "write":
        data = write_manifest(Path(args[1]), args[2], args[3])
        print(f"{len(data['files'])} model files hashed into {Path(args[1]) / MANIFEST}")  # type: ignore[arg-type]
        return 0
    if len(args) == 2 and args[0] == "verify":
        models = load(Path(args[1]))
        if models is None:
            print(f"no {MANIFEST} in {args[1]}", file=sys.stderr)
            return 1
        try:
            verify(models, models.root, None)
        except ModelDamaged as err:
            print(f"error: {err}", file=sys.stderr)
            return 1
        print(f"{len(models.files)} model files match {MANIFEST}")
        return 0
    print(main.__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
