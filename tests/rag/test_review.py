"""The review grid on small hand-made contracts, with the real embedder, Chroma and an
encrypted manifest: cells stay inside their document, a contract without the clause says
not stated, cached cells are reused, the XLSX reads back, cancel keeps finished cells."""

from __future__ import annotations

from pathlib import Path

import pytest

from rag.ask.review.cells import FOUND, NOT_STATED, Cell
from rag.ask.review.columns import Column, kind_of
from rag.cancel import CancelToken
from rag.library import Library

SUPPLY = """SUPPLY AGREEMENT

This Supply Agreement is made between Acme Labs, Inc. ("Acme") and Widget Corp. ("Widget").

1. Products. Widget shall manufacture and deliver the Products listed in Schedule A to Acme.

2. Price and Payment. Acme shall pay each invoice within thirty (30) days of receipt.

3. Non-Competition. During the term of this Agreement and for two (2) years after it ends, Widget
shall not manufacture, sell or distribute any product that competes with the Products to any third party.

4. Governing Law. This Agreement shall be governed by and construed in accordance with the laws of
the State of Delaware, without regard to its conflict of laws principles.

5. Term. This Agreement begins on the Effective Date and expires on December 31, 2025.
"""

SERVICES = """CONSULTING SERVICES AGREEMENT

This Consulting Services Agreement is made between Orion Robotics LLC ("Client") and Jane Smith ("Consultant").

1. Services. Consultant shall provide engineering advice to Client as Client requests from time to time.

2. Fees. Client shall pay Consultant one hundred fifty dollars ($150) per hour, invoiced monthly.

3. Confidentiality. Consultant shall keep Client's information confidential and return it on request.

4. Governing Law. This Agreement shall be governed by the laws of the State of New York.
"""

NON_COMPETE = Column("Non-compete", "Is a party restricted from competing?")
LAW = Column("Governing law", "Which law governs this agreement?")


def _write(folder: Path, name: str, text: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture
def matter(library: Library, tmp_path: Path) -> dict[str, int]:
    library.ingest([_write(tmp_path / "docs", "supply.txt", SUPPLY), _write(tmp_path / "docs", "services.txt", SERVICES)])
    return {Path(d.name).name: d.id for d in library.documents()}


def test_columns_parse_and_kinds() -> None:
    assert Column.parse("Law=Which law governs?") == Column("Law", "Which law governs?")
    assert kind_of("Which state's law applies to the contract?").name == "governing law"  # type: ignore[union-attr]
    assert kind_of("Can either side walk away without cause?").name == "termination for convenience"  # type: ignore[union-attr]


def test_cells_stay_in_their_document_and_absence_says_not_stated(library: Library, matter: dict[str, int]) -> None:
    result = library.review([NON_COMPETE, LAW])
    supply, services = matter["supply.txt"], matter["services.txt"]
    found = result.cell(supply, "Non-compete")
    assert found is not None and found.status == FOUND
    assert "competes with the Products" in found.quotes[0].text
    assert all(q.passage.doc_id == supply for q in found.quotes)
    # The services contract has no non-compete: the supply contract's clause never fills it.
    absent = result.cell(services, "Non-compete")
    assert absent is not None and absent.status == NOT_STATED and absent.quotes == []
    assert result.cell(supply, "Governing law").answer == "Delaware"  # type: ignore[union-attr]
    assert result.cell(services, "Governing law").answer == "New York"  # type: ignore[union-attr]
    for cell in result.cells.values():
        assert all(q.passage.doc_id == cell.doc_id for q in cell.quotes)
    line = found.to_json("supply.txt")
    assert set(line) == {"file", "column", "status", "answer", "quotes"}
    assert set(line["quotes"][0]) == {"n", "file", "page", "location", "text", "start", "end"}  # type: ignore[index]


def test_search_and_ask_restricted_to_chosen_documents(library: Library, matter: dict[str, int]) -> None:
    services = matter["services.txt"]
    got = library.search("Which law governs this agreement?", 8, documents=[services])
    assert got and {p.doc_id for p in got} == {services}
    quotes = library.quotes_first("Is a party restricted from competing?", documents=[services])
    assert all(q.passage.doc_id == services for q in quotes)


def test_cache_reuse_after_adding_a_document(library: Library, matter: dict[str, int], tmp_path: Path) -> None:
    first = library.review([NON_COMPETE, LAW])
    assert first.computed == 4 and first.cached == 0
    library.ingest([_write(tmp_path / "more", "licence.txt", SUPPLY.replace("Widget", "Gizmo"))])
    seen: list[Cell] = []
    again = library.review([NON_COMPETE, LAW], on_cell=seen.append)
    assert again.computed == 2 and again.cached == 4  # only the new document's row
    assert len(seen) == 6
    # Editing a column's question recomputes that column only.
    edited = library.review([NON_COMPETE, Column("Governing law", "Which state's law applies?")])
    assert edited.computed == 3 and edited.cached == 3
    # Removing a document removes its row, and its cached quotes.
    library.remove([matter["services.txt"]])
    last = library.review([NON_COMPETE, LAW])
    assert last.computed == 0 and len(last.cells) == 4


def test_cancel_keeps_finished_cells(library: Library, matter: dict[str, int]) -> None:
    cancel = CancelToken()
    seen: list[Cell] = []

    def on_cell(cell: Cell) -> None:
        seen.append(cell)
        if len(seen) == 3:
            cancel.set()

    result = library.review([NON_COMPETE, LAW], on_cell=on_cell, cancel=cancel)
    assert result.cancelled and len(result.cells) == 3
    # They were kept: the next run reads them back and computes only the last one.
    rest = library.review([NON_COMPETE, LAW])
    assert rest.cached == 3 and rest.computed == 1


def test_xlsx_export_reads_back_with_marks(library: Library, matter: dict[str, int], tmp_path: Path) -> None:
    from openpyxl import load_workbook

    from rag.ask.review.export import write_csv, write_xlsx

    gid = library.save_grid("closing", [NON_COMPETE, LAW])
    result = library.review([NON_COMPETE, LAW])
    supply, services = matter["supply.txt"], matter["services.txt"]
    library.mark_cell(gid, supply, "Governing law", "verified")
    library.mark_cell(gid, services, "Non-compete", "flagged", note="check the side letter")
    library.mark_cell(gid, services, "Governing law", "overwritten", text="New York (amended)", note="see amendment")
    marks = library.marks(gid)
    assert marks[(supply, "Governing law")].mark == "verified"
    out = tmp_path / "grid.xlsx"
    write_xlsx(out, result, marks)
    wb = load_workbook(out)
    ws = wb["Review"]
    header = [c.value for c in ws[1]]
    assert header == ["Document", "Non-compete", "Non-compete: quote", "Governing law", "Governing law: quote"]
    rows = {Path(str(r[0].value)).name: r for r in ws.iter_rows(min_row=2)}
    assert rows["supply.txt"][3].value == "Delaware"
    law_cell = result.cell(supply, "Governing law")
    assert law_cell is not None
    assert "laws of" in rows["supply.txt"][4].value and law_cell.quotes[0].location in rows["supply.txt"][4].value
    assert rows["supply.txt"][3].fill.fgColor.rgb.endswith("C6EFCE")  # verified: green
    assert rows["services.txt"][1].value == "Not stated"
    assert "check the side letter" in rows["services.txt"][1].comment.text
    assert rows["services.txt"][3].value == "New York (amended)"
    assert "engine's answer: New York" in rows["services.txt"][3].comment.text
    sources = list(wb["Sources"].iter_rows(min_row=2, values_only=True))
    law = [r for r in sources if Path(str(r[0])).name == "supply.txt" and r[1] == "Governing law"]
    assert law and law[0][4] == "verified" and law[0][7] == 1 and "Delaware" in str(law[0][11])
    csv_out = tmp_path / "grid.csv"
    write_csv(csv_out, result, marks)
    assert "New York (amended)" in csv_out.read_text() and "flagged" in csv_out.read_text()
    # The marks are in the audit log (kinds and ids only).
    events = [e.event for e in library.audit.verify().entries]
    assert events.count("review cell marked") == 3


def test_kind_wordings_and_document_standing() -> None:
    """The cues and strong wordings of a few kinds, and a passage's standing among its
    document's passages (what the found / not-stated rules weigh)."""
    import re

    from rag.ask.review.cells import DecisionConfig, Rule
    from rag.ask.review.columns import strong_of
    from rag.ask.review.evidence import standing

    cap = kind_of("Is liability capped?")
    assert cap is not None and re.search(cap.cues, "Neither party shall be liable for any consequential "
                                         "or incidental damages.", re.I | re.S)
    assert strong_of(cap)[0].search("IN NO EVENT SHALL ITS AGGREGATE LIABILITY EXCEED THE FEES PAID")  # type: ignore[union-attr]
    tfc = kind_of("Can either side terminate without cause?")
    assert tfc is not None and re.search(tfc.cues, "Either party may terminate this Agreement upon thirty (30) "
                                         "days' written notice.", re.I | re.S)
    assert re.search(tfc.cues, "After the first year and upon ninety (90) days' written notice, either party "
                     "may terminate this Agreement.", re.I | re.S)
    assert strong_of(kind_of("Is consent needed to transfer the contract?"))[0].search(  # type: ignore[union-attr]
        "Neither party may assign this Agreement without the prior written consent of the other.")
    z, gap = standing(0.6, {1: 0.2, 2: 0.3, 3: 0.6, 4: 0.25})
    assert z > 1.5 and abs(gap) < 1e-6
    assert DecisionConfig().rule(None) == Rule("score", 0.35)
    assert DecisionConfig().rule(kind_of("Who indemnifies whom?")) == Rule("score", 0.2)


def test_term_answer_is_no_notice_period() -> None:
    """A term's short answer is how long the agreement lasts, never the notice a term
    clause also names ("sixty (60) days' written notice", "ninety (90) days prior to")."""
    from rag.ask.review.extract import short_answer

    assert short_answer("date", "This Agreement shall renew unless either party gives sixty (60) days' written "
                        "notice; it continues for a period of three (3) years.") == "three (3) years"
    assert short_answer("date", "It expires on December 31, 2025 unless notice is given at least ninety (90) "
                        "days prior to the expiration.") == "December 31, 2025"
    assert short_answer("date", "Either party may end it upon thirty (30) days notice.").startswith("Either party")
    # A termination's notice period is its answer.
    assert short_answer("duration", "Either party may end it upon thirty (30) days notice.") == "thirty (30) days"
