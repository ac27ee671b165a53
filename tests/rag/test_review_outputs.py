"""What a filled review grid turns into: the model's short answers per found cell, each
sentence checked (and marked when unverified), and the DOCX memo with footnoted quotes,
read back with python-docx."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from rag.ask.review.cells import FOUND, NOT_STATED
from rag.ask.review.columns import Column
from rag.ask.review.engine import ReviewResult
from rag.cancel import CancelToken
from rag.library import Library
from rag.types import Support
from tests.rag.test_review import LAW, NON_COMPETE, SERVICES, SUPPLY, _write

TERM = Column("Term", "When does the agreement expire?")


@pytest.fixture
def matter(library: Library, tmp_path: Path) -> dict[str, int]:
    library.ingest([_write(tmp_path / "docs", "supply.txt", SUPPLY), _write(tmp_path / "docs", "services.txt", SERVICES)])
    return {Path(d.name).name: d.id for d in library.documents()}


class Scripted:
    """A generator that answers each question with a set text (the checker, not the model, is tested)."""

    backend = "scripted"
    context_size = 4096

    def __init__(self, replies: dict[str, str], fail: bool = False, cancel_after: int = 0,
                 cancel: CancelToken | None = None) -> None:
        self.replies, self.fail, self.calls = replies, fail, 0
        self.prompts: list[str] = []
        self.cancel_after, self.cancel = cancel_after, cancel

    def count_tokens(self, text: str) -> int:
        return len(text) // 4 + 1

    def stream(self, system: str, user: str, max_tokens: int, cancel: CancelToken) -> Iterator[str]:
        self.calls += 1
        self.prompts.append(user)
        if self.fail:
            raise RuntimeError("the model crashed")
        question = user.rsplit("Question: ", 1)[1]
        yield from self.replies.get(question, "").split(" ")[:1]
        yield from (" " + w for w in self.replies.get(question, "").split(" ")[1:])
        if self.cancel is not None and self.calls >= self.cancel_after:
            self.cancel.set()


def test_written_answers_are_checked_and_unverified_ones_marked(library: Library, matter: dict[str, int]) -> None:
    gen = Scripted({LAW.question: "The agreement is governed by the laws of the State of Delaware [1].",
                    NON_COMPETE.question: "Widget may not sell competing products for five years after it ends [1]."})
    seen: list[object] = []
    result = library.review([NON_COMPETE, LAW], answers=gen, on_answer=seen.append)
    supply, services = matter["supply.txt"], matter["services.txt"]
    assert len(seen) == 4 and not result.cancelled
    # Found cells only, one prompt each: the cell's own quotes, numbered from 1.
    assert gen.calls == 3 and all(p.startswith("Quotes:\n[1] \u201c") for p in gen.prompts)
    law = result.cell(supply, "Governing law")
    assert law is not None and law.written is not None
    assert law.written.verified and law.answer == "Delaware"  # the extractive answer stays beside it
    assert json.loads(json.dumps(law.to_json("supply.txt")))["written"]["verified"] is True
    # "five years" where the clause says "two (2) years": contradicted, and marked as ask marks it.
    nc = result.cell(supply, "Non-compete")
    assert nc is not None and nc.written is not None and not nc.written.verified
    assert nc.written.checks[0].verdict is Support.CONTRADICTED
    assert re.search(r"\[contradicted: \[1\] says .*two", nc.written.marked())
    from rag.ask.review.export import shown_answer

    # The grid shows a verified answer as written; an unverified one after the extractive answer.
    assert shown_answer(law, None) == law.written.text
    assert shown_answer(nc, None) == f"{nc.answer} \u00b7 model: {nc.written.marked()}"
    absent = result.cell(services, "Non-compete")
    assert absent is not None and absent.status == NOT_STATED and absent.written is None
    assert "written" not in absent.to_json("services.txt")
    assert [e.event for e in library.audit.verify().entries].count("review answers") == 1


def test_a_failing_model_leaves_the_extractive_answers(library: Library, matter: dict[str, int]) -> None:
    gen = Scripted({}, fail=True)
    result = library.review([NON_COMPETE, LAW, TERM], answers=gen)
    found = [c for c in result.cells.values() if c.status == FOUND]
    assert len(found) >= 4 and all(c.written is None and c.answer for c in found)
    assert gen.calls == 3  # three failures in a row: the model is given up on
    assert sum(1 for c in found if c.error.startswith("answer not written")) == 3
    # A bare "Yes." (or the question repeated) is no answer: the extractive one stays.
    bare = library.review([LAW], documents=[matter["supply.txt"]], answers=Scripted({LAW.question: "Yes."}))
    cell = bare.cell(matter["supply.txt"], "Governing law")
    assert cell is not None and cell.written is None and cell.answer == "Delaware" and not cell.error


def test_cancel_stops_the_answers_and_keeps_those_written(library: Library, matter: dict[str, int]) -> None:
    cancel = CancelToken()
    gen = Scripted({LAW.question: "The laws of the State of Delaware govern it [1].",
                    NON_COMPETE.question: "Widget may not sell competing products [1]."}, cancel_after=1, cancel=cancel)
    result = library.review([NON_COMPETE, LAW], answers=gen, cancel=cancel)
    assert result.cancelled and len(result.cells) == 4  # the grid itself was complete
    assert gen.calls == 1
    assert sum(1 for c in result.cells.values() if c.written is not None) == 0  # the cancelled one is dropped
    assert all(c.answer for c in result.cells.values() if c.status == FOUND)


def test_tiny_model_writes_answers_end_to_end(library: Library, matter: dict[str, int], tiny_gguf: Path) -> None:
    """The real llama.cpp path with a random model: whatever it writes is short and checked."""
    from rag.ask.generation import LlamaGenerator

    gen = LlamaGenerator(tiny_gguf, context_size=2048)
    try:
        result = library.review([LAW], answers=gen)
    finally:
        gen.close()
    for cell in result.cells.values():
        assert cell.status == FOUND and cell.answer
        if cell.written is not None:
            assert len(cell.written.text.split()) <= 40
            assert all(c.verdict in Support for c in cell.written.checks)


def _footnotes(path: Path) -> dict[int, str]:
    from docx import Document
    from lxml import etree

    doc = Document(str(path))
    part = next(p for p in doc.part.package.iter_parts() if str(p.partname) == "/word/footnotes.xml")
    root = etree.fromstring(part.blob)
    ns = {"w": "http://schemas.openxmlformats.org/wordprocessingml/2006/main"}
    out = {}
    for fn in root.findall("w:footnote", ns):
        n = int(fn.get(f"{{{ns['w']}}}id"))
        if n > 0:
            out[n] = "".join(t.text or "" for t in fn.iter(f"{{{ns['w']}}}t")).strip()
    return out


def test_docx_memo_reads_back(library: Library, matter: dict[str, int], tmp_path: Path) -> None:
    from docx import Document

    from rag.ask.review.export import write_docx_memo

    gid = library.save_grid("closing", [NON_COMPETE, LAW])
    result: ReviewResult = library.review([NON_COMPETE, LAW])
    supply, services = matter["supply.txt"], matter["services.txt"]
    library.mark_cell(gid, supply, "Governing law", "verified")
    library.mark_cell(gid, services, "Non-compete", "flagged", note="check the side letter")
    library.mark_cell(gid, services, "Governing law", "overwritten", text="New York (amended)", note="see amendment")
    out = tmp_path / "memo.docx"
    write_docx_memo(out, result, library.marks(gid), title="Closing review")
    doc = Document(str(out))
    assert doc.paragraphs[0].text == "Closing review"
    table = doc.tables[0]
    assert [c.text for c in table.rows[0].cells] == ["Document", "Non-compete", "Governing law"]
    rows = {Path(r.cells[0].text).name: [c.text for c in r.cells] for r in table.rows[1:]}
    assert rows["supply.txt"][2].startswith("Delaware") and "\u2713 verified" in rows["supply.txt"][2]
    assert rows["services.txt"][1].startswith("Not stated") and "\u2691 flagged" in rows["services.txt"][1]
    assert rows["services.txt"][2].startswith("New York (amended)") and "overwritten" in rows["services.txt"][2]
    notes = _footnotes(out)
    # Every quote of every found cell is a footnote: the quote, its file, page and location.
    quotes = [(c, q) for c in result.cells.values() for q in c.quotes]
    assert len(notes) == len(quotes) + 2  # and the two reviewer's notes
    law = result.cell(supply, "Governing law")
    assert law is not None
    law_note = next(t for t in notes.values() if "laws of the State of Delaware" in t)
    assert "supply.txt" in law_note and law.quotes[0].location in law_note and "page 1" in law_note
    assert any("Reviewer (flagged): check the side letter" in t for t in notes.values())
    assert any("engine's answer: New York" in t for t in notes.values())
    # The footnote references are in the table's cells, in reading order.
    xml = table._tbl.xml
    assert xml.count("w:footnoteReference") == len(notes)


def test_cli_answers_and_docx(tmp_path: Path, tiny_gguf: Path) -> None:
    """``docqa review --answers`` prints each cell once, after its answer; a model that
    cannot load leaves the extractive answers (exit 3); ``--docx`` writes the memo."""
    from tests.rag.test_cli import docqa

    lib = tmp_path / "lib"
    docs = [_write(tmp_path / "docs", "supply.txt", SUPPLY), _write(tmp_path / "docs", "services.txt", SERVICES)]
    assert docqa(lib, "ingest", *map(str, docs)).returncode == 0
    cols = ["--column", f"Governing law={LAW.question}", "--column", f"Non-compete={NON_COMPETE.question}"]
    r = docqa(lib, "review", *cols, "--json", "--answers", "--model", str(tiny_gguf))
    assert r.returncode == 0, r.stderr
    lines = [json.loads(x) for x in r.stdout.splitlines()]
    assert len(lines) == 4 and {x["status"] for x in lines} == {"found", "not_stated"}
    assert all(x["answer"] for x in lines if x["status"] == "found")
    assert all(set(x.get("written", {})) <= {"answer", "verified", "backend", "sentences"} for x in lines)
    broken = tmp_path / "broken.gguf"
    broken.write_bytes(b"GGUF" + b"\0" * 64)
    r = docqa(lib, "review", *cols, "--json", "--answers", "--model", str(broken))
    assert r.returncode == 3 and "keep their extractive answers" in r.stderr and "Traceback" not in r.stderr
    lines = [json.loads(x) for x in r.stdout.splitlines()]
    assert len(lines) == 4 and not any("written" in x for x in lines)
    memo = tmp_path / "memo.docx"
    r = docqa(lib, "review", *cols, "--docx", str(memo))
    assert r.returncode == 0, r.stderr
    from docx import Document

    table = Document(str(memo)).tables[0]
    assert [c.text for c in table.rows[0].cells] == ["Document", "Governing law", "Non-compete"]
    assert any("Delaware" in c.text for r_ in table.rows for c in r_.cells)
