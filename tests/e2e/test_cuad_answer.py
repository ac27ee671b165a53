"""Three real contracts in, a real question out: the top citation is the gold clause's page."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from rag.ask.generation import LlamaGenerator
from rag.library import Library

_W = re.compile(r"[a-z0-9]+")


def _words(s: str) -> str:
    return " ".join(_W.findall(s.lower()))


@pytest.mark.slow
def test_three_contracts_governing_law(tmp_path: Path, cuad: Path, cuad_tests: list[dict], embedder, tiny_gguf: Path) -> None:
    case = next(t for t in cuad_tests if t["file"].startswith("WESTERN COPPER") and t["category"] == "Governing Law")
    others = [p for p in sorted((cuad / "pdf").iterdir()) if p.name != case["file"]][:2]
    with Library(tmp_path / "lib", embedder) as lib:
        report = lib.ingest([cuad / "pdf" / case["file"], *others])
        assert not report.failed
        gen = LlamaGenerator(tiny_gguf, context_size=2048)
        ans = lib.ask(case["query"], gen, k=8)
        top = ans.citations[0].passage
        assert top.file == case["file"]
        page = lib.page_text(top.doc_id, top.page)
        gold = _words(case["gold"][0])
        # The cited page holds the clause (compared on words: PDF line breaks differ).
        assert gold[:60] in _words(page)
