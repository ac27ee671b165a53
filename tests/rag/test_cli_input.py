"""Issue 18: no input to the command line ends in a traceback. Questions that are not
text, broken batch files, out-of-range numbers and file names that hold control
characters each get one clear line, and leave the library as it was."""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from rag.cli import main as cli
from rag.cli.text import EMPTY, NOT_UTF8, place, shown
from rag.store.lock import BUSY, WAITING, WriteLock
from tests.helpers.matter import make_eml
from tests.helpers.pdfs import make_text_pdf

REPO = Path(__file__).resolve().parents[2]
NEWLINE_NAME = "notes\nfake.txt"
BIDI_NAME = "invoice\u202etxt.md"
ESCAPE_NAME = "bell\x1b[31mred.txt"


def _docqa(lib: Path, *args: str | bytes) -> subprocess.CompletedProcess[bytes]:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    return subprocess.run([sys.executable, "-m", "rag.cli", "--library", str(lib), *args],
                          capture_output=True, timeout=300, cwd=REPO, env=env)


@pytest.fixture(scope="module")
def lib_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small library made by ``docqa ingest``, whose stderr is kept for the progress test."""
    docs = tmp_path_factory.mktemp("docs") / "matter"
    docs.mkdir()
    (docs / NEWLINE_NAME).write_text("Meeting notes. The lease ends on 30 June 2026.\n")
    (docs / BIDI_NAME).write_text("# Fees\nThe retainer fee is 2,000 euros per month.\n")
    (docs / ESCAPE_NAME).write_text("The hearing is in the district court of Leiden.\n")
    pdf = make_text_pdf(docs.parent / "sponsorship.pdf",
                        [["Sponsorship agreement.", "The sponsor pays a fee of 5,000 euros within thirty days."]])
    make_eml(docs / "retainer.eml", [pdf])
    lib = tmp_path_factory.mktemp("cli-input") / "library"
    r = _docqa(lib, "ingest", str(docs))
    assert r.returncode == 0, r.stderr.decode()
    (lib.parent / "ingest.stderr").write_bytes(r.stderr)
    return lib


@pytest.fixture(autouse=True)
def _shared_embedder(monkeypatch: pytest.MonkeyPatch, embedder) -> None:
    """In-process commands share the session's (real) embedder instead of loading their own."""
    monkeypatch.setattr("rag.library.SentenceTransformerEmbedder", lambda: embedder)


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    """``docqa argv`` in this process: (exit code, stdout, stderr); argparse's exits included."""
    try:
        rc = cli.main(list(argv))
    except SystemExit as stop:
        rc = stop.code if isinstance(stop.code, int) else 1
    out, err = capsys.readouterr()
    return rc, out, err


def _documents(capsys: pytest.CaptureFixture[str], lib: Path) -> list[dict[str, object]]:
    rc, out, _ = run(capsys, "--library", str(lib), "list", "--json")
    assert rc == 0
    return list(json.loads(out))


# -- questions that are not text ----------------------------------------------------------

def test_a_question_that_is_not_utf8_is_one_line_from_a_real_terminal(lib_dir: Path) -> None:
    # argv is decoded at start-up (surrogateescape), so only a real process shows it.
    for command in ("search", "ask"):
        r = _docqa(lib_dir, command, b"\xff\xfe bad")
        assert r.returncode == 1
        assert r.stderr.decode().splitlines() == [f"error: {NOT_UTF8}"]
        assert r.stdout == b""


@pytest.mark.parametrize("question", ["", "   ", "\t\n", "\x00", " \x00 "])
def test_empty_questions_are_refused(capsys: pytest.CaptureFixture[str], lib_dir: Path, question: str) -> None:
    for command in ("search", "ask"):
        rc, out, err = run(capsys, "--library", str(lib_dir), command, question)
        assert (rc, out, err) == (1, "", f"error: {EMPTY}\n")


def test_a_too_long_question_is_refused(capsys: pytest.CaptureFixture[str], lib_dir: Path) -> None:
    rc, _, err = run(capsys, "--library", str(lib_dir), "search", "fee " * 25_000)
    assert rc == 1 and err == "error: the question is too long (100,000 characters; at most 10,000)\n"


# -- search --batch -----------------------------------------------------------------------

def test_batch_reports_each_bad_line_and_answers_the_others(
    capsys: pytest.CaptureFixture[str], lib_dir: Path, tmp_path: Path
) -> None:
    lines = [
        b'\xef\xbb\xbf{"query": "What is the retainer fee?"}',  # a byte-order mark first
        b'{"query": "fee"',
        b'{"q": "fee"}',
        b'["fee"]',
        b'{"query": 3}',
        b'{"query": ""}',
        b'{"query": "\xff\xfe bad"}',
        b'{"query": "\\ud800 lone"}',
        b"",
        b"[" * 100_000,
        b'{"query": "What do the meeting notes say about when the lease ends?", "id": 7}',
    ]
    f = tmp_path / "q.jsonl"
    f.write_bytes(b"\n".join(lines) + b"\n")
    for extra in ([], ["--json"]):
        rc, out, err = run(capsys, "--library", str(lib_dir), "search", "--batch", str(f), "-k", "2", *extra)
        assert rc == 3
        rows = [json.loads(x) for x in out.splitlines()]
        assert len(rows) == 10  # one per non-blank line: answers stay aligned with their questions
        assert rows[0]["query"] == "What is the retainer fee?" and len(rows[0]["results"]) == 2
        assert rows[-1]["query"] == "What do the meeting notes say about when the lease ends?" and rows[-1]["results"]
        assert "30 June" in rows[-1]["results"][0]["text"]
        bad = rows[1:-1]
        assert [r["line"] for r in bad] == [2, 3, 4, 5, 6, 7, 8, 10]
        assert all(r["query"] is None and r["results"] == [] and r["error"] for r in bad)
        assert err.splitlines() == [
            'line 2 skipped: not valid JSON (Expecting \',\' delimiter, column 16); expected {"query": "…"}',
            'line 3 skipped: no "query"; expected {"query": "…"}',
            'line 4 skipped: no "query"; expected {"query": "…"}',
            'line 5 skipped: "query" is not text; expected {"query": "…"}',
            f"line 6 skipped: {EMPTY}",
            f"line 7 skipped: {NOT_UTF8}",
            f"line 8 skipped: {NOT_UTF8}",
            'line 10 skipped: not valid JSON (nested too deeply); expected {"query": "…"}',
        ]


def test_a_good_batch_exits_0_and_a_missing_one_is_one_line(
    capsys: pytest.CaptureFixture[str], lib_dir: Path, tmp_path: Path
) -> None:
    f = tmp_path / "q.jsonl"
    f.write_text('{"query": "fee"}\n\n{"query": "court"}\n')
    rc, out, err = run(capsys, "--library", str(lib_dir), "search", "--batch", str(f), "-k", "1")
    assert (rc, err, len(out.splitlines())) == (0, "", 2)
    rc, out, err = run(capsys, "--library", str(lib_dir), "search", "--batch", str(tmp_path / "nothere.jsonl"))
    assert (rc, out) == (1, "") and err == f"error: no such file: {tmp_path / 'nothere.jsonl'}\n"


# -- numbers ------------------------------------------------------------------------------

@pytest.mark.parametrize("k", ["-1", "0", "1001", "abc", "1.5", "", "9" * 5000, "nan"])
def test_k_is_a_whole_number_from_1_to_1000(capsys: pytest.CaptureFixture[str], lib_dir: Path, k: str) -> None:
    for command in ("search", "ask"):
        rc, out, err = run(capsys, "--library", str(lib_dir), command, "fee", "-k", k)
        assert rc == 2 and out == ""  # 2, like every other usage error argparse reports
        assert err.splitlines()[-1].startswith(f"docqa {command}: error: argument -k: give a whole number "
                                               "from 1 to 1,000, not '")


def test_k_at_its_bounds(capsys: pytest.CaptureFixture[str], lib_dir: Path) -> None:
    rc, out, _ = run(capsys, "--library", str(lib_dir), "search", "fee", "-k", "1", "--json")
    assert rc == 0 and len(json.loads(out)) == 1
    rc, out, _ = run(capsys, "--library", str(lib_dir), "search", "fee", "-k", "1000", "--json")
    assert rc == 0 and len(json.loads(out)) == 5  # every passage of the library, no more


def test_other_usage_errors_exit_2_too(capsys: pytest.CaptureFixture[str], lib_dir: Path) -> None:
    for argv in (["--wait", "nan", "list"], ["--wait", "-1", "list"], ["frobnicate"],
                 ["ask", "fee", "--ctx", "0"], ["ask", "fee", "--max-tokens", "-5"], ["ask", "fee", "--threads", "0"]):
        rc, out, err = run(capsys, "--library", str(lib_dir), *argv)
        assert rc == 2 and out == "" and "error: " in err.splitlines()[-1], argv


# -- names with control characters ----------------------------------------------------------

def test_shown_escapes_what_would_split_or_rewrite_a_line() -> None:
    assert shown("notes\nfake.txt") == "notes\\nfake.txt"
    assert shown("bell\x1b[31mred") == "bell\\x1b[31mred"
    assert shown("invoice\u202etxt.md") == "invoice\\u202etxt.md"
    assert shown("a\u2028b\x85c\x7fd\te\r") == "a\\u2028b\\x85c\\x7fd\\te\\r"
    assert shown("caf\udce9.txt") == "caf\\xe9.txt"  # a name that was not UTF-8: its byte
    assert shown("Café › Überweisung, § 3 – ¶ 2.pdf") == "Café › Überweisung, § 3 – ¶ 2.pdf"


def test_list_and_progress_show_one_line_per_file(capsys: pytest.CaptureFixture[str], lib_dir: Path) -> None:
    rc, out, _ = run(capsys, "--library", str(lib_dir), "list")
    assert rc == 0 and len(out.splitlines()) == 5
    assert "matter/notes\\nfake.txt" in out and "matter/invoice\\u202etxt.md" in out
    assert "matter/bell\\x1b[31mred.txt" in out and "\x1b" not in out and "\u202e" not in out
    names = {d["file"] for d in _documents(capsys, lib_dir)}  # JSON keeps the real names
    assert {f"matter/{NEWLINE_NAME}", f"matter/{BIDI_NAME}", f"matter/{ESCAPE_NAME}"} <= names
    progress = (lib_dir.parent / "ingest.stderr").read_text()
    assert "matter/notes\\nfake.txt" in progress and "\nfake.txt" not in progress


def test_search_headers_and_errors_escape_names(capsys: pytest.CaptureFixture[str], lib_dir: Path) -> None:
    rc, out, _ = run(capsys, "--library", str(lib_dir), "search", "What do the meeting notes say about when the lease ends?", "-k", "1")
    assert rc == 0 and out.splitlines()[0].startswith("[1] matter/notes\\nfake.txt, line 1  (score ")
    rc, out, err = run(capsys, "--library", str(lib_dir), "remove", "ghost\nname.pdf")
    assert (rc, out, err) == (3, "", "not in the library: ghost\\nname.pdf\n")


# -- an attachment's location ---------------------------------------------------------------

def test_an_attachment_is_named_once(capsys: pytest.CaptureFixture[str], lib_dir: Path) -> None:
    rc, out, _ = run(capsys, "--library", str(lib_dir), "search", "sponsor fee 5,000 euros", "-k", "1")
    assert rc == 0 and out.splitlines()[0].startswith("[1] matter/retainer.eml › sponsorship.pdf, page 1  (")
    rc, out, _ = run(capsys, "--library", str(lib_dir), "search", "sponsor fee 5,000 euros", "-k", "1", "--json")
    hit = json.loads(out)[0]  # the JSON is as it was: the file, and the location in its own words
    assert (hit["file"], hit["location"]) == ("matter/retainer.eml › sponsorship.pdf",
                                              "retainer.eml › sponsorship.pdf, page 1")


def test_place_joins_file_and_location() -> None:
    assert place("m/mail.eml › lease.pdf", "mail.eml › lease.pdf, page 1") == "m/mail.eml › lease.pdf, page 1"
    assert place("m\\mail.eml › memo.txt", "mail.eml › memo.txt") == "m\\mail.eml › memo.txt"
    assert place("mail.eml › memo.docx", "mail.eml › memo.docx › 13 Fees › ¶ 1") == \
        "mail.eml › memo.docx › 13 Fees › ¶ 1"
    assert place("nda.pdf", "page 2 › 3.2 Termination") == "nda.pdf, page 2 › 3.2 Termination"
    assert place("sheet", "sheet Invoices, rows 2–4") == "sheet, sheet Invoices, rows 2–4"
    assert place("a\nb.pdf", "page 1") == "a\\nb.pdf, page 1"


# -- a second writer ------------------------------------------------------------------------

def test_a_second_process_making_the_library_says_at_once_that_it_waits(tmp_path: Path, embedder) -> None:
    from rag.library import Library

    root = tmp_path / "new"
    root.mkdir()
    other = WriteLock(root)  # another docqa making this library (flock: per open file)
    assert other.try_acquire()
    heard: list[tuple[str, float]] = []
    t0 = time.monotonic()

    def on_wait(message: str) -> None:
        heard.append((message, time.monotonic() - t0))
        threading.Timer(0.3, other.release).start()  # the other one finishes a little later

    lib = Library(root, embedder, lock_timeout=30, on_wait=on_wait)
    lib.close()
    assert len(heard) == 1 and heard[0][0] == WAITING and heard[0][1] < 0.5


def test_the_cli_says_it_waits_then_gives_up_after_wait(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    root = tmp_path / "new"
    root.mkdir()
    other = WriteLock(root)
    assert other.try_acquire()
    try:
        t0 = time.monotonic()
        rc, out, err = run(capsys, "--library", str(root), "--wait", "0.5", "list")
        assert time.monotonic() - t0 < 5  # --wait, not the 600 s default
    finally:
        other.release()
    assert (rc, out) == (1, "") and err.splitlines() == [WAITING, f"error: {BUSY}"]


# -- hostile arguments ------------------------------------------------------------------------

HOSTILE = ["", " ", "\x00", "\udcff\udcfe", "a\udc80b", "\x1b[2J\x1b[H", "\u202egnp.exe", "\x7f\x08\x08",
           "-1", "fee\nfee", "’“”…", "x" * 100_000, "fee " * 2_000, "9" * 5000, "1e309", "nan", "--", "-"]
_ALPHABET = ["fee", " ", "\n", "\x00", "\x1b", "\u202e", "\udcff", "\ud800", "\u2028", "\t", "é", "€", "{", "\"",
             "\\", "%s", "*", "?", "OR", "NEAR", "(", ")", "'", ":", "-", "^", "\ufeff", "🙂"]


def _fuzz(n: int, seed: int = 18) -> list[str]:
    rng = random.Random(seed)  # fixed: a failure here is the same failure on every run
    return ["".join(rng.choice(_ALPHABET) for _ in range(rng.randint(1, 30))) for _ in range(n)]


def test_hostile_arguments_end_in_one_line_and_leave_the_library_as_it_was(
    capsys: pytest.CaptureFixture[str], lib_dir: Path, tmp_path: Path
) -> None:
    before = _documents(capsys, lib_dir)
    lib = ["--library", str(lib_dir)]
    argvs = [[*lib, "search", v] for v in [*HOSTILE, *_fuzz(15)]]
    argvs += [[*lib, "search", "fee", "-k", v] for v in HOSTILE]
    argvs += [[*lib, "--wait", v, "list"] for v in HOSTILE]
    argvs += [[*lib, "remove", v] for v in HOSTILE[:10]]
    # ask stops before its model here: the model file does not exist
    argvs += [[*lib, "ask", v, "--model", str(tmp_path / "none.gguf")] for v in HOSTILE[:12]]
    for argv in argvs:
        rc, out, err = run(capsys, *argv)
        assert "Traceback" not in err, argv
        assert rc in (0, 1, 2, 3), argv
        lines = err.splitlines()
        if rc == 1:
            assert len(lines) == 1 and lines[0].startswith("error: "), (argv, err)
        elif rc == 2:
            assert lines[-1].startswith("docqa") and ": error: " in lines[-1], (argv, err)
        elif rc == 3:
            assert all(x.startswith("not in the library: ") for x in lines), (argv, err)
        else:
            assert json.dumps(out) and "\x1b" not in out and "\u202e" not in out, argv
    assert _documents(capsys, lib_dir) == before
