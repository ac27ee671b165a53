"""Non-PDF formats (Word, PowerPoint, HTML, e-mail, Markdown) through ``unstructured``.

Two offline traps are closed here rather than hoped away:

* ``import unstructured`` pings an analytics URL unless DO_NOT_TRACK / SCARF_NO_ANALYTICS
  are set; :mod:`rag.offline` sets them before this module can be imported.
* unstructured >= 0.21 downloads spaCy's ``en_core_web_sm`` the first time it classifies
  text (DOCX, HTML, EML). We need its text, not its part-of-speech tags, so we give it a
  blank English pipeline with a rule-based sentencizer (shipped inside spaCy itself) and
  make the installer raise instead of fetching anything.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

from rag.protocols import ParseError
from rag.types import Page, ParsedDocument

_patch_lock = threading.Lock()
_patched = False


def _offline_nlp() -> Any:
    import spacy

    nlp = spacy.blank("en")
    nlp.add_pipe("sentencizer")
    return nlp


def _refuse_download() -> None:
    raise RuntimeError("docqa never downloads models; spaCy model install blocked")


def patch_unstructured_nlp() -> None:
    """Point unstructured's tokenizer at a local blank spaCy pipeline (idempotent)."""
    global _patched
    with _patch_lock:
        if _patched:
            return
        from unstructured.nlp import tokenize

        nlp = _offline_nlp()
        mod: Any = tokenize  # patched on purpose: see the module docstring
        mod._get_nlp = lambda: nlp
        mod._install_spacy_model = _refuse_download
        mod._download_with_timeout = lambda *a, **k: _refuse_download()
        _patched = True


_KINDS: tuple[str, ...] = ("docx", "pptx", "html", "htm", "eml", "msg", "md", "txt", "text", "xml")


class OfficeParser:
    kinds: tuple[str, ...] = _KINDS

    def parse(self, path: Path) -> ParsedDocument:
        kind = path.suffix.lower().lstrip(".")
        if kind in ("txt", "text", "md"):
            return self._plain(path, kind)
        patch_unstructured_nlp()
        try:
            from unstructured.partition.auto import partition

            elements = partition(filename=str(path))
        except ParseError:
            raise
        except Exception as err:  # noqa: BLE001 (unstructured raises many types)
            raise ParseError(f"could not read this {kind.upper()} file: {_short(err)}") from err
        pages: dict[int, list[str]] = {}
        title = ""
        for el in elements:
            text = str(el).strip()
            if not text:
                continue
            meta = getattr(el, "metadata", None)
            number = getattr(meta, "page_number", None) or 1
            if not title and type(el).__name__ == "Title":
                title = text
            pages.setdefault(int(number), []).append(text)
        out = [Page(n, "\n\n".join(parts)) for n, parts in sorted(pages.items())]
        if not out:
            raise ParseError("the file contains no text")
        return ParsedDocument(pages=out, kind=kind, title=title)

    def _plain(self, path: Path, kind: str) -> ParsedDocument:
        raw = path.read_bytes()
        if b"\x00" in raw[:4096]:
            raise ParseError("this looks like a binary file, not text")
        text = raw.decode("utf-8", errors="replace").replace("\r\n", "\n").strip()
        if not text:
            raise ParseError("the file contains no text")
        return ParsedDocument(pages=[Page(1, text)], kind=kind, title=path.stem)


def _short(err: Exception) -> str:
    msg = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
    return msg[:160]
