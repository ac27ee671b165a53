"""Questions reach the audit log as the engine got them: text decoded from bytes that were
not UTF-8 (a terminal's argv, surrogate-escaped) is hashed and, when kept, sealed and read
back, never an exception (it used to be a 19-line traceback from question_hash)."""

from __future__ import annotations

from pathlib import Path

import pytest

from rag.library import Library


def test_a_question_that_was_not_utf8_is_hashed_and_kept(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                         embedder) -> None:
    monkeypatch.setenv("DOCQA_PASSPHRASE", "audit text test")
    lib = Library(tmp_path / "lib", embedder)
    try:
        bad = "\udcff\udcfe bad"
        assert lib.audit.question_hash(bad) == lib.audit.question_hash(bad)
        lib.set_logs_question_text(True)
        lib._record_question("question", bad)
        assert lib.audit.open_text(lib.audit.seal_text(bad)) == bad
        assert lib.audit.verify().ok
    finally:
        lib.close()
