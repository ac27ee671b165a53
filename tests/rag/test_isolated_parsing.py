"""Parsing in a worker process: a file that hangs or crashes its parser fails alone,
the worker is replaced, and Cancel stops even a parse that never returns."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from rag.cancel import Cancelled, CancelToken
from rag.ingest.parsing.isolated import IsolatedParser
from rag.ingest.parsing.registry import ParserRegistry
from rag.library import Library
from rag.protocols import ParseError
from rag.types import DocStatus, Outcome
from tests.helpers.hostile_parsers import CrashingParser, GreedyParser, HangingParser, TextParser


def _files(tmp_path: Path) -> dict[str, Path]:
    out = {}
    for name, text in (("good.txt", "The notice period is ninety days."), ("stuck.hang", "x"), ("boom.crash", "x")):
        out[name] = tmp_path / name
        out[name].write_text(text)
    return out


@pytest.fixture()
def hostile_registry() -> ParserRegistry:
    return ParserRegistry([TextParser(), HangingParser(), CrashingParser()])


def test_real_parsers_give_the_same_document_in_the_worker(sample_pdf: Path) -> None:
    with IsolatedParser() as isolated:
        assert isolated.parse(sample_pdf) == ParserRegistry().parse(sample_pdf)


def test_cheap_refusals_and_parser_errors_keep_their_reason(tmp_path: Path) -> None:
    empty = tmp_path / "empty.pdf"
    empty.write_bytes(b"")
    fake = tmp_path / "fake.pdf"
    fake.write_text("not a pdf at all")
    with IsolatedParser() as isolated:
        with pytest.raises(ParseError, match="empty"):
            isolated.parse(empty)
        assert not isolated.running  # refused without starting a worker
        with pytest.raises(ParseError) as err:
            isolated.parse(fake)
        assert str(err.value) == _reason(fake)


def _reason(path: Path) -> str:
    try:
        ParserRegistry().parse(path)
    except ParseError as err:
        return str(err)
    raise AssertionError("expected a ParseError")


def test_hanging_parser_times_out_and_the_next_file_still_parses(tmp_path: Path, hostile_registry) -> None:
    files = _files(tmp_path)
    with IsolatedParser(hostile_registry, timeout=3) as isolated:
        t0 = time.monotonic()
        with pytest.raises(ParseError, match="took longer than 3 s"):
            isolated.parse(files["stuck.hang"])
        assert time.monotonic() - t0 < 15
        assert "ninety days" in isolated.parse(files["good.txt"]).pages[0].text


def test_crashing_parser_fails_alone(tmp_path: Path, hostile_registry) -> None:
    files = _files(tmp_path)
    with IsolatedParser(hostile_registry, timeout=30) as isolated:
        with pytest.raises(ParseError, match="crashed"):
            isolated.parse(files["boom.crash"])
        assert "ninety days" in isolated.parse(files["good.txt"]).pages[0].text


def test_memory_bomb_hits_the_cap_not_the_machine(tmp_path: Path) -> None:
    bomb = tmp_path / "huge.bomb"
    bomb.write_text("x")
    good = tmp_path / "good.txt"
    good.write_text("still fine")
    with IsolatedParser(ParserRegistry([GreedyParser(), TextParser()]), timeout=60) as isolated:
        with pytest.raises(ParseError, match="too large to read in memory|crashed"):
            isolated.parse(bomb)
        assert isolated.parse(good).pages[0].text == "still fine"


def test_office_parsing_works_under_the_worker_memory_cap(tmp_path: Path) -> None:
    import docx

    d = docx.Document()
    d.add_paragraph("Either side may end this engagement with 14 days notice.")
    f = tmp_path / "engagement.docx"
    d.save(str(f))
    with IsolatedParser() as isolated:
        assert "14 days notice" in isolated.parse(f).pages[0].text


def test_cancel_stops_a_parse_that_never_returns(tmp_path: Path, hostile_registry) -> None:
    files = _files(tmp_path)
    token = CancelToken()
    with IsolatedParser(hostile_registry, timeout=600) as isolated:
        isolated.parse(files["good.txt"])  # the worker is up: time only the cancel
        threading.Timer(0.5, token.set).start()
        t0 = time.monotonic()
        with pytest.raises(Cancelled):
            isolated.parse(files["stuck.hang"], token)
        assert time.monotonic() - t0 < 3
        assert not isolated.running  # the stuck worker is gone


def test_hostile_files_fail_alone_in_a_library_batch(tmp_path: Path, embedder, hostile_registry, monkeypatch) -> None:
    monkeypatch.setattr("rag.ingest.parsing.isolated.BASE_TIMEOUT_S", 3.0)
    lib = Library(tmp_path / "lib", embedder)
    lib.registry = hostile_registry
    try:
        files = _files(tmp_path)
        report = lib.ingest(list(files.values()))
        outcome = {r.name: (r.outcome, r.reason) for r in report.results}
        assert outcome["good.txt"][0] is Outcome.INDEXED
        assert outcome["stuck.hang"][0] is Outcome.FAILED and "took longer" in outcome["stuck.hang"][1]
        assert outcome["boom.crash"][0] is Outcome.FAILED and "crashed" in outcome["boom.crash"][1]
        status = {d.name: d.status for d in lib.documents()}
        assert status == {"good.txt": DocStatus.READY, "stuck.hang": DocStatus.FAILED, "boom.crash": DocStatus.FAILED}
        assert lib.search("notice period", k=1)[0].file == "good.txt"
    finally:
        lib.close()


def test_a_stuck_worker_leaves_when_the_app_is_killed(tmp_path: Path) -> None:
    """SIGKILL the app mid-parse: the worker, stuck in its parser, must not linger."""
    import os
    import signal
    import subprocess
    import sys

    stuck = tmp_path / "stuck.hang"
    stuck.write_text("x")
    script = (
        "import sys\n"
        "from pathlib import Path\n"
        "from rag.ingest.parsing.isolated import IsolatedParser\n"
        "from rag.ingest.parsing.registry import ParserRegistry\n"
        "from tests.helpers.hostile_parsers import HangingParser\n"
        "p = IsolatedParser(ParserRegistry([HangingParser()]), timeout=600)\n"
        "p._start()\n"
        "print(p._worker.proc.pid, flush=True)\n"
        f"p.parse(Path({str(stuck)!r}))\n"
    )
    repo = Path(__file__).resolve().parents[2]
    app = subprocess.Popen([sys.executable, "-c", script], cwd=repo, stdout=subprocess.PIPE, text=True)
    assert app.stdout is not None
    worker = int(app.stdout.readline())
    time.sleep(1.0)
    os.kill(app.pid, signal.SIGKILL)
    app.wait()
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            os.kill(worker, 0)
        except ProcessLookupError:
            return
        # A zombie (exited, not yet reaped by init) counts as gone.
        stat = Path(f"/proc/{worker}/stat")
        if stat.exists() and stat.read_text().split(") ")[-1].startswith("Z"):
            return
        time.sleep(0.2)
    os.kill(worker, signal.SIGKILL)
    raise AssertionError("the parser worker outlived the app")


def test_zip_bomb_and_hostile_attachments_fail_alone(tmp_path: Path, embedder, monkeypatch) -> None:
    """A zip bomb named .docx, and an e-mail whose attachments hang, crash and bomb: each
    fails alone with its reason; the message, its good attachment and the rest are indexed."""
    from rag.ingest.parsing.mail import MailParser
    from rag.ingest.parsing.office import OfficeParser
    from rag.ingest.parsing.pdf import PdfParser
    from tests.helpers.matter import make_eml, make_zip_bomb_docx
    from tests.helpers.pdfs import make_text_pdf

    monkeypatch.setattr("rag.ingest.parsing.isolated.BASE_TIMEOUT_S", 3.0)
    monkeypatch.setattr("rag.ingest.parsing.ocr.BUDGET_S", 0.0)
    parts = tmp_path / "parts"
    parts.mkdir()
    files = _files(parts)
    bomb = make_zip_bomb_docx(tmp_path / "contract.docx")
    permit = make_text_pdf(parts / "permit.pdf", [["The parking permit costs 40 EUR a month."]])
    mail = make_eml(tmp_path / "hostile.eml", [bomb, files["stuck.hang"], files["boom.crash"], permit],
                    subject="Documents", body="The site visit is on Friday at noon.")
    good = tmp_path / "good.txt"
    good.write_text("The notice period is ninety days.")
    lib = Library(tmp_path / "lib", embedder)
    lib.registry = ParserRegistry([TextParser(), HangingParser(), CrashingParser(), MailParser(),
                                   OfficeParser(), PdfParser()])
    try:
        report = lib.ingest([good, bomb, mail])
        outcome = {r.name: (r.outcome, r.reason) for r in report.results}
        assert outcome["good.txt"][0] is Outcome.INDEXED
        assert outcome["contract.docx"][0] is Outcome.FAILED and "zip bomb" in outcome["contract.docx"][1]
        assert outcome["hostile.eml"][0] is Outcome.INDEXED
        assert outcome["hostile.eml › permit.pdf"][0] is Outcome.INDEXED
        assert "zip bomb" in outcome["hostile.eml › contract.docx"][1]
        assert "took longer" in outcome["hostile.eml › stuck.hang"][1]
        assert "crashed" in outcome["hostile.eml › boom.crash"][1]
        assert lib.search("parking permit cost", k=1)[0].file == "hostile.eml › permit.pdf"
        assert lib.search("site visit Friday", k=1)[0].file == "hostile.eml"
        assert lib.search("notice period", k=1)[0].file == "good.txt"
    finally:
        lib.close()
