"""Clinical reports: the right report, the right section and its quote, on hand-made notes
(real parser, real embedder, real Chroma)."""

from __future__ import annotations

from pathlib import Path

from rag.ask.clinical_terms import asked_subjects, expand
from rag.ingest.chunking import StructuredChunker
from rag.ingest.clinical_profile import naming_tokens
from rag.ingest.profiles import extract_profile
from rag.ingest.sections import find_sections
from rag.types import Page, ParsedDocument

OPERATIVE = """Surgery report: Inguinal Hernia Repair
DATE OF SERVICE: {date}
PREOPERATIVE DIAGNOSIS: Right inguinal hernia.
POSTOPERATIVE DIAGNOSIS: Right inguinal hernia.
PROCEDURE PERFORMED: Right inguinal hernia repair with mesh.
ANESTHESIA: {anesthesia}
INDICATIONS: The patient was counseled about the risks of the operation, including bleeding, infection, \
recurrence and other complications, and the possible complications of anesthesia, and wished to proceed.
DESCRIPTION OF PROCEDURE: The patient was placed supine. The inguinal canal was opened and the hernia sac \
was reduced. A mesh was sutured in place and the wound was closed in layers.
ESTIMATED BLOOD LOSS: {ebl}
COMPLICATIONS: None.
"""
CONSULT = """Surgery report: Inguinal Hernia Repair Consult
DATE OF SERVICE: 02/01/2019
HISTORY OF PRESENT ILLNESS: A 54-year-old man with a bulge in the right groin for six months, worse on lifting.
CURRENT MEDICATIONS: Lisinopril 10 mg p.o. daily.
ALLERGIES: NKDA.
IMPRESSION/PLAN: Right inguinal hernia. We discussed repair with mesh and its possible complications.
"""


def _write(tmp_path: Path) -> list[Path]:
    files = {
        "hernia-op-2019.txt": OPERATIVE.format(date="03/14/2019", anesthesia="General endotracheal.",
                                               ebl="Less than 5 mL."),
        "hernia-op-2020.txt": OPERATIVE.format(date="June 20, 2020", anesthesia="Spinal with sedation.",
                                               ebl="50 mL."),
        "hernia-consult.txt": CONSULT,
    }
    for name, text in files.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
    return [tmp_path / n for n in files]


def test_same_procedure_told_apart_by_type_and_date(tmp_path: Path, library) -> None:
    library.ingest(_write(tmp_path))
    top = library.search("What anesthesia was used in the operative note for the inguinal hernia repair of March 14, 2019?", 4)
    assert top[0].file == "hernia-op-2019.txt"
    assert "General endotracheal" in top[0].text
    top = library.search("Anesthesia in the inguinal hernia repair operative note of 06/20/2020?", 4)
    assert top[0].file == "hernia-op-2020.txt"
    assert "Spinal" in top[0].text
    top = library.search("What medications is the patient taking, in the inguinal hernia repair consult?", 4)
    assert top[0].file == "hernia-consult.txt"
    assert top[0].text.startswith("CURRENT MEDICATIONS")
    # The profile says what kind of report each is, and its date as written.
    profiles = {name: p for name, p in library.manifest.profiles().values()}
    assert profiles["hernia-op-2020.txt"].kind == "operative note"
    assert profiles["hernia-op-2020.txt"].dates == ("June 20, 2020",)
    assert profiles["hernia-consult.txt"].kind == "consult"


def test_a_title_held_whole_beats_its_numbered_namesakes(tmp_path: Path, library) -> None:
    """Five reports share "Inguinal Hernia Repair"; the one titled exactly that is "the
    Inguinal Hernia Repair report", and "Inguinal Hernia Repair - 3" is the third."""
    ebl = {"": "Less than 5 mL.", " - 1": "10 mL.", " - 2": "25 mL.", " - 3": "40 mL.", " - 4": "75 mL."}
    for suffix, loss in ebl.items():
        text = OPERATIVE.format(date="03/14/2019", anesthesia="General.", ebl=loss)
        text = text.replace("Inguinal Hernia Repair", f"Inguinal Hernia Repair{suffix}", 1)
        (tmp_path / f"Inguinal Hernia Repair{suffix}.txt").write_text(text, encoding="utf-8")
    library.ingest(sorted(tmp_path.glob("*.txt")))
    top = library.search("What was the estimated blood loss in the Inguinal Hernia Repair report?", 4)
    assert (top[0].file, "Less than 5 mL" in top[0].text) == ("Inguinal Hernia Repair.txt", True)
    top = library.search("What was the estimated blood loss in the Inguinal Hernia Repair - 3 report?", 4)
    assert (top[0].file, "40 mL" in top[0].text) == ("Inguinal Hernia Repair - 3.txt", True)
    # Another patient's report shows nothing, however alike its wording.
    assert {p.file for p in top} == {"Inguinal Hernia Repair - 3.txt"}


def test_complications_none_is_quoted_whole(tmp_path: Path, library) -> None:
    library.ingest(_write(tmp_path))
    q = "Were there any complications in the operative note for the inguinal hernia repair of 03/14/2019?"
    passages = library.search(q, 8)
    assert passages[0].text == "COMPLICATIONS: None."
    assert passages[0].where == "Operative note › Complications › line 10"
    quotes, _rel = library.quote(q, passages)
    # Not the consent paragraph that mentions complications twice: the section that answers.
    assert quotes[0].text == "COMPLICATIONS: None."
    assert quotes[0].passage.file == "hernia-op-2019.txt"
    q = "How much blood was lost in the operative note for the inguinal hernia repair of March 14, 2019?"
    quotes, _rel = library.quote(q, library.search(q, 8))
    assert quotes[0].text == "ESTIMATED BLOOD LOSS: Less than 5 mL."


def test_title_case_inline_header(tmp_path: Path, library) -> None:
    import docx

    d = docx.Document()
    d.add_paragraph("Orthopedics report: Trigger Finger Release")
    d.add_paragraph("Preoperative Diagnosis: Trigger finger, left ring finger.")
    d.add_paragraph("Anesthesia: Local with a digital block. Estimated Blood Loss: Minimal.")
    d.add_paragraph("Procedure in Detail: The A1 pulley was released through a transverse incision.")
    d.add_paragraph("Complications: None.")
    path = tmp_path / "trigger.docx"
    d.save(str(path))
    library.ingest([path])
    top = library.search("What was the estimated blood loss in the trigger finger release?", 4)
    assert top[0].heading == "Operative note > Anesthesia"  # title case, own paragraph
    assert "Estimated Blood Loss: Minimal." in top[0].text
    text = "Anesthesia: Local with a digital block. ESTIMATED BLOOD LOSS: Minimal.\nFindings: A thick pulley."
    labels = [(s.label, text[s.start : s.start + 10]) for s in find_sections(text)]
    # Capitals are a label even mid-line; title case only where a line starts.
    assert labels == [("Anesthesia", "Anesthesia"), ("Estimated blood loss", "ESTIMATED "),
                      ("Findings", "Findings: ")]
    chunks = StructuredChunker().chunk(ParsedDocument(pages=[Page(1, text)], kind="txt"))
    assert [c.heading for c in chunks] == ["Operative note > Anesthesia", "Operative note > Estimated blood loss",
                                           "Operative note > Findings"]


def test_abbreviation_found_both_ways(tmp_path: Path, library) -> None:
    (tmp_path / "short.txt").write_text(
        "Urology report: Cystoscopy\nPROCEDURE: Cystoscopy.\nANESTHESIA: Local.\nEBL: Minimal.\n", encoding="utf-8")
    (tmp_path / "long.txt").write_text(
        "Urology report: Vasectomy\nPROCEDURE: Vasectomy.\nANESTHESIA: Local.\n"
        "ESTIMATED BLOOD LOSS: Minimal.\nALLERGIES: No known drug allergies.\n", encoding="utf-8")
    library.ingest([tmp_path / "short.txt", tmp_path / "long.txt"])
    m = library.manifest

    def files(query: str) -> set[str]:
        ids = [c for c, _s in m.keyword_search(query, 10)]
        return {c.name for c in m.chunks_by_id(ids).values() if "blood" in c.text.lower() or "EBL" in c.text
                or "allergies" in c.text.lower()}

    assert files("estimated blood loss") == {"long.txt"}  # keyword search alone reads words
    assert files(expand("estimated blood loss")) == {"short.txt", "long.txt"}
    assert files(expand("EBL")) == {"short.txt", "long.txt"}
    assert "no known drug allergies" in expand("Is the patient NKDA?")
    assert library.search("What was the EBL in the vasectomy?", 2)[0].text == "ESTIMATED BLOOD LOSS: Minimal."
    assert [s.name for s in asked_subjects("What was the EBL?")] == ["Blood loss"]


def test_clinical_profile_and_naming_tokens() -> None:
    head = ("Bariatrics report: Laparoscopic Gastric Bypass Consult - 2\nPATIENT NAME: John Doe\nDOB: 01/02/1950\n"
            "MRN: 44-1234\nDATE OF SERVICE: 14/03/2019\nHISTORY OF PRESENT ILLNESS: Obesity.\nALLERGIES: Penicillin.\n")
    p = extract_profile([head], name="001 Laparoscopic Gastric Bypass Consult - 2.docx")
    assert (p.kind, p.specialty, p.title) == ("consult", "Bariatrics", "Laparoscopic Gastric Bypass Consult - 2")
    assert (p.patient, p.dob, p.record, p.dates) == ("John Doe", "01/02/1950", "44-1234", ("14/03/2019",))
    assert p.parties == ()  # a drug or a diagnosis is no party
    # The number and the day name the report, however they are written.
    assert naming_tokens("the gastric bypass consult #2 of March 14, 2019") == ["n2", "d20190314"]
    assert naming_tokens("Consult - 2, 14/03/2019") == ["n2", "d20190314"]
    assert naming_tokens("the gastric bypass consult 2") == ["n2"]  # as people type it
    assert naming_tokens("the operative report 2019") == []  # a year, not a number
