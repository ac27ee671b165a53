"""Sync: bring a library in line with the folders and files it was built from.

The library remembers what was ingested (its *roots*: folders and single files, a meta
key of the manifest). A sync walks them and compares each file with what the manifest
knows, cheapest test first: size and modification time, then the content hash.

* new files are ingested; changed ones are re-ingested, and the manifest swaps the old
  document for the new one in one transaction (a kill leaves one or the other, whole);
* a file that disappeared while a new file with its exact content appeared was moved
  or renamed: only its path changes, nothing is parsed or embedded again;
* other files that disappeared are removed from the library (never from disk), except
  under a root folder that is itself missing (an unplugged drive is not a deletion);
* files the user removed from the library stay out until they are added again.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from rag.cancel import CancelToken
from rag.ingest.parsing.registry import ParserRegistry
from rag.ingest.pipeline import IngestPipeline, ProgressCallback, Target, file_sha256, scan
from rag.protocols import VectorIndex
from rag.store.manifest import FileState, Manifest
from rag.types import FileResult, IngestReport, Outcome, Progress

ROOTS_KEY = "sync_roots"
EXCLUDED_KEY = "sync_excluded"


@dataclass
class SyncReport:
    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    moved: list[tuple[str, str]] = field(default_factory=list)  # (old name, new name)
    failed: list[FileResult] = field(default_factory=list)
    unchanged: int = 0
    missing_roots: list[str] = field(default_factory=list)
    cancelled: bool = False
    seconds: float = 0.0

    def summary(self) -> str:
        """The one line the CLI prints and the desktop shows."""
        line = (f"added {len(self.added)}, updated {len(self.updated)}, removed {len(self.removed)}, "
                f"moved {len(self.moved)}, failed {len(self.failed)}")
        if self.unchanged:
            line += f" ({self.unchanged} unchanged)"
        if self.missing_roots:
            line += f"; not found, documents kept: {', '.join(self.missing_roots)}"
        if self.cancelled:
            line += "; stopped before the end"
        return line

    def to_json(self) -> dict[str, object]:
        return {"added": self.added, "updated": self.updated, "removed": self.removed,
                "moved": [{"from": a, "to": b} for a, b in self.moved],
                "failed": [{"file": r.name, "reason": r.reason} for r in self.failed],
                "unchanged": self.unchanged, "missing_roots": self.missing_roots,
                "cancelled": self.cancelled, "seconds": round(self.seconds, 2)}


# -- roots and exclusions (meta keys: no schema change) ------------------------------------
def _load(manifest: Manifest, key: str) -> list[str]:
    raw = manifest.get_meta(key)
    return [str(x) for x in json.loads(raw)] if raw else []


def _under(path: str, root: str) -> bool:
    return path == root or path.startswith(root.rstrip(os.sep) + os.sep)


def roots(manifest: Manifest) -> list[str]:
    """The folders and files this library follows. A library from before sync has none
    recorded: they are read back from its documents, whose name is their path relative
    to the parent of the folder that was ingested (a single file's name is its own)."""
    raw = manifest.get_meta(ROOTS_KEY)
    if raw is not None:
        return [str(x) for x in json.loads(raw)]
    found: list[str] = []
    for st in manifest.file_states():
        parts = Path(st.name).parts
        p = Path(st.path)
        root = p.parents[len(parts) - 2] if len(parts) > 1 and len(p.parents) >= len(parts) - 1 else p
        found.append(str(root))
    return _minimal(found)


def _minimal(paths: Sequence[str]) -> list[str]:
    """Drop paths inside another one of them; keep the order."""
    out: list[str] = []
    for p in sorted(dict.fromkeys(paths), key=len):
        if not any(_under(p, r) for r in out):
            out.append(p)
    return sorted(out)


def remember(manifest: Manifest, paths: Sequence[str | Path]) -> None:
    """Record what was just ingested as roots to follow; files added by hand again are
    no longer excluded."""
    new = [str(Path(p).expanduser().resolve()) for p in paths if Path(p).expanduser().exists()]
    if not new:
        return
    manifest.set_meta(ROOTS_KEY, json.dumps(_minimal(roots(manifest) + new)))
    excluded = _load(manifest, EXCLUDED_KEY)
    kept = [e for e in excluded if not any(_under(e, n) for n in new)]
    if kept != excluded:
        manifest.set_meta(EXCLUDED_KEY, json.dumps(kept))


def exclude(manifest: Manifest, paths: Sequence[str]) -> None:
    """Files the user removed from the library: a sync must not bring them back."""
    followed = roots(manifest)
    add = [p for p in paths if any(_under(p, r) for r in followed)]
    if add:
        manifest.set_meta(EXCLUDED_KEY, json.dumps(sorted(set(_load(manifest, EXCLUDED_KEY) + add))))


# -- the sync itself ------------------------------------------------------------------------
def _stat(path: str) -> tuple[int, float] | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return st.st_size, st.st_mtime


def _hash(path: str) -> str:
    try:
        return file_sha256(Path(path))
    except OSError:
        return ""


class Syncer:
    def __init__(self, manifest: Manifest, index: VectorIndex, registry: ParserRegistry,
                 pipeline: IngestPipeline) -> None:
        self.manifest = manifest
        self.index = index
        self.registry = registry
        self.pipeline = pipeline

    def run(
        self,
        paths: Sequence[str | Path] | None = None,
        progress: ProgressCallback | None = None,
        cancel: CancelToken | None = None,
    ) -> SyncReport:
        """Sync the library's roots, or only ``paths`` (which become roots too)."""
        t0 = time.monotonic()
        emit = progress or (lambda _e: None)
        cancel = cancel or CancelToken()
        if paths:
            remember(self.manifest, paths)
            scope = _minimal([str(Path(p).expanduser().resolve()) for p in paths])
        else:
            scope = roots(self.manifest)
        report = SyncReport()
        present = [r for r in scope if Path(r).exists()]
        report.missing_roots = [r for r in scope if not Path(r).exists() and not Path(r).suffix]
        emit(Progress("scan", 0, 0, message="comparing the library with its folders"))
        targets, _problems = scan(present, self.registry)
        excluded = set(_load(self.manifest, EXCLUDED_KEY))
        on_disk = {str(t.path): t for t in targets if str(t.path) not in excluded}
        known = {s.path: s for s in self.manifest.file_states()
                 if paths is None or any(_under(s.path, r) for r in scope)}

        new: list[Target] = []
        changed: list[Target] = []
        for path, t in on_disk.items():
            k = known.get(path)
            stat = _stat(path)
            if k is None:
                new.append(t)
            elif stat is not None and stat == (k.size, k.mtime):
                report.unchanged += 1
            elif k.status == "ready" and stat is not None and _hash(path) == k.sha256:
                self.manifest.set_stat(k.id, *stat)  # touched, not changed
                report.unchanged += 1
            else:
                changed.append(t)
        gone = [k for path, k in known.items() if path not in on_disk and not self._kept(path, scope)]

        new, moved = self._moves(new, gone, report)
        for k in gone:
            if k.id not in moved:
                self.manifest.delete_document(k.id)
                self.index.delete_document(k.id)
                report.removed.append(k.name)
        if new or changed:
            ingest = self.pipeline.run_targets(new + changed, (), progress, cancel)
            self._count(ingest, {str(t.path) for t in changed}, report)
        report.seconds = time.monotonic() - t0
        return report

    @staticmethod
    def _kept(path: str, scope: Sequence[str]) -> bool:
        """A vanished file stays listed while the folder it came from is missing."""
        if os.path.exists(path):  # still there, only not read by the scan (hidden, unsupported)
            return True
        root = next((r for r in scope if _under(path, r) and r != path), None)
        return root is not None and not os.path.exists(root)

    def _moves(
        self, new: list[Target], gone: list[FileState], report: SyncReport
    ) -> tuple[list[Target], set[int]]:
        """Pair vanished documents with new files of the same content: a move or rename."""
        ready = [g for g in gone if g.status == "ready" and g.sha256]
        sizes = {g.size for g in ready}
        rest: list[Target] = []
        moved: set[int] = set()
        for t in new:
            stat = _stat(str(t.path))
            # Only a file of a vanished document's exact size can be it: hash only those.
            match = None
            if stat is not None and stat[0] in sizes:
                sha = _hash(str(t.path))
                match = next((g for g in ready if g.sha256 == sha and g.size == stat[0]), None)
            if match is None or stat is None:
                rest.append(t)
                continue
            ready.remove(match)
            self.manifest.move_document(match.id, path=str(t.path), name=t.name, mtime=stat[1])
            report.moved.append((match.name, t.name))
            moved.add(match.id)
        return rest, moved

    @staticmethod
    def _count(ingest: IngestReport, changed: set[str], report: SyncReport) -> None:
        for r in ingest.results:
            if r.outcome is Outcome.FAILED:
                report.failed.append(r)
            elif r.outcome in (Outcome.INDEXED, Outcome.REPLACED):
                (report.updated if r.path in changed else report.added).append(r.name)
            elif r.outcome is Outcome.UNCHANGED:
                report.unchanged += 1
        report.cancelled = ingest.cancelled
