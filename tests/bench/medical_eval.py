"""Medical benchmark: the right report, the right section and its quote, however a clinician asks.

Run by hand (it is not part of the test suite)::

    DOCQA_PASSPHRASE=bench .venv/bin/python tests/bench/medical_eval.py [--reuse] [--phrasing all]

It ingests ``<corpus>/docx`` (medical-dev: 130 de-identified transcriptions, one section
per paragraph) with ``docqa ingest`` into ``/tmp/med-lib-<hash>`` (the hash covers what
decides the passages: ``rag/ingest/*.py`` but the profiles, read again when they change,
and ``rag/types.py``), and asks the
reviewer questions of ``<corpus>/tests.json`` the ways a clinician names a report:

- ``title``: by its title ("... in the Laparoscopic Gastric Bypass Consult - 2 report?");
- ``proc_type``: by the kind of report and its procedure ("In the consult for laparoscopic
  gastric bypass, ..."), only where that pair is unique among the reports;
- ``paraphrase``: in a clinician's own words and abbreviations ("What was the EBL for the
  umbilical hernia repair #1?");
- ``none``: no report named (doc-hit is then informative only).

``title`` and ``paraphrase`` are asked only where the report's title is unique (two reports
are both called "Hydrocelectomy": naming one by title is ambiguous by construction).

Per phrasing it prints span recall within 4,000 and 8,000 characters, recall at 8 and 32
passages and doc-hit@1 (the metric of ``cuad_eval.py``), and the quote hit rate: the share
of questions whose quotes (``Library.quote`` on the top 8 passages, as ``ask`` does) from
the right report cover at least half the answering section, overall and for the
complications and anesthesia questions. Under each, the same figures for the typical local
app of ``ingest_bench.py`` (the text paragraph by paragraph, LangChain's
RecursiveCharacterTextSplitter defaults of 1,000/20, the same MiniLM in fp32, cosine
similarity only) on the same questions, in the same run. It has no quotes.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from tests.bench.cuad_eval import docqa, gold_grams, grams, norm_file, score, score_budget
from tests.bench.ingest_bench import recursive_split

REPO = Path(__file__).resolve().parents[2]
DEFAULT_CORPUS = REPO / ".." / "shared" / "corpus" / "medical-dev"
PHRASINGS = ("title", "proc_type", "paraphrase", "none")
QUOTE_PASSAGES = 8

# A clinician's own words for each reviewer column ({doc} names the report).
_PARAPHRASE = {
    "Preoperative diagnosis": "What was the pre-op dx for the {doc}?",
    "Postoperative diagnosis": "What was the post-op diagnosis after the {doc}?",
    "Procedure": "What was actually done in the {doc}?",
    "Anesthesia": "How was the patient anesthetized for the {doc}?",
    "Blood loss": "What was the EBL for the {doc}?",
    "Complications": "Did the {doc} have any complications?",
    "Allergies": "Does the {doc} patient have any drug allergies?",
    "Medications": "What meds is the {doc} patient on?",
    "Specimens": "What was sent to pathology from the {doc}?",
}
# Words of a title that say what kind of report it is, and that kind in a clinician's words.
_KINDS = (
    (re.compile(r"\bconsult\b", re.I), "consult"),
    (re.compile(r"\b(?:follow-?up)\b", re.I), "follow-up note"),
    (re.compile(r"\b(?:ER|emergency) visit\b", re.I), "emergency department note"),
    (re.compile(r"\bHP\b"), "history and physical"),
    (re.compile(r"\b(?:discharge )?summary\b", re.I), "discharge summary"),
    (re.compile(r"\bultrasound\b", re.I), "ultrasound report"),
)
_OPERATIVE = re.compile(r"^(?:PRE-?OPERATIVE DIAGNOS|ANESTHESIA|PROCEDURES? PERFORMED|OPERATION|"
                        r"ESTIMATED BLOOD LOSS|COMPLICATIONS)", re.M)


# -- the reports and how they are named --------------------------------------------------------
def read_docx(path: Path) -> list[str]:
    import docx  # python-docx, through unstructured's dependencies

    return [p.text for p in docx.Document(str(path)).paragraphs if p.text.strip()]


def report_names(corpus: Path) -> dict[str, dict[str, str]]:
    """file -> {"title", "kind", "procedure", "doc"} read from the first line ("Urology report:
    Cystoscopy") and the sections (an operative note has an anesthesia section...)."""
    out = {}
    for f in sorted((corpus / "docx").glob("*.docx")):
        paras = read_docx(f)
        title = paras[0].split(":", 1)[1].strip() if ":" in paras[0] else f.stem
        kind, procedure = "", title
        for rx, name in _KINDS:
            if rx.search(title):
                kind, procedure = name, rx.sub(" ", title)
                break
        if not kind:
            kind = "operative note" if _OPERATIVE.search("\n".join(paras)) else "report"
        number = re.search(r"-\s*(\d+)\s*$", procedure)
        procedure = re.sub(r"-\s*\d+\s*$", "", procedure)
        procedure = " ".join(re.sub(r"\s{2,}", " and ", procedure.strip(" -")).split()).strip(" -")
        doc = procedure.lower().replace(" - ", " ") + (f" #{number.group(1)}" if number else "")
        if kind not in ("operative note", "report"):
            doc = f"{doc} {kind}"
        out[f.name] = {"title": title, "kind": kind, "procedure": procedure, "doc": doc}
    return out


def phrased(tests: list[dict[str, Any]], names: dict[str, dict[str, str]], phrasing: str) -> list[dict[str, Any]]:
    titles = [n["title"].lower() for n in names.values()]
    pairs = [(n["kind"], n["procedure"].lower()) for n in names.values()]
    out = []
    for t in tests:
        n = names[t["file"]]
        q = t["query"]
        if phrasing == "none":
            text = q
        elif phrasing == "title":
            if titles.count(n["title"].lower()) > 1:
                continue
            text = f"{q.rstrip('?')} in the {n['title']} report?"
        elif phrasing == "proc_type":
            if pairs.count((n["kind"], n["procedure"].lower())) > 1:
                continue
            text = f"In the {n['kind']} for {n['procedure'].lower()}, {q[0].lower()}{q[1:]}"
        else:
            if titles.count(n["title"].lower()) > 1:
                continue
            text = _PARAPHRASE[t["category"]].format(doc=n["doc"])
        out.append({**t, "query": text})
    return out


# -- docqa -------------------------------------------------------------------------------------
def index_hash() -> str:
    h = hashlib.sha1()
    # Profiles are left out: a library reads them again when their extractor changes.
    skip = {"profiles.py", "clinical_profile.py"}
    for f in [*sorted(f for f in (REPO / "rag" / "ingest").glob("*.py") if f.name not in skip), REPO / "rag" / "types.py"]:
        h.update(f.name.encode())
        h.update(f.read_bytes())
    return h.hexdigest()[:10]


def ensure_library(lib: Path, corpus: Path, reuse: bool) -> None:
    if reuse and (lib / "manifest.sqlite3").exists():
        print(f"reusing {lib}")
        return
    if lib.exists():
        shutil.rmtree(lib)
    t0 = time.perf_counter()
    subprocess.run(docqa("--library", str(lib), "ingest", str(corpus / "docx")), check=True,
                   stdout=subprocess.DEVNULL, cwd=REPO)
    print(f"ingested {corpus / 'docx'} into {lib} in {time.perf_counter() - t0:.0f} s")


def quote_hit(t: dict[str, Any], quotes: list[Any]) -> bool:
    want = norm_file(t["file"])
    have = set().union(*(grams(q.text) for q in quotes if norm_file(q.passage.file) == want)) if quotes else set()
    g = gold_grams(t)
    return bool(g) and len(g & have) >= 0.5 * len(g)


def run_docqa(library: Any, tests: list[dict[str, Any]], k: int) -> tuple[list[list[dict[str, Any]]], list[bool]]:
    results, hits = [], []
    for t in tests:
        ps = library.search(t["query"], k)
        results.append([p.to_json() for p in ps])
        quotes, _rel = library.quote(t["query"], ps[:QUOTE_PASSAGES])
        hits.append(quote_hit(t, quotes))
    return results, hits


# -- the typical app ---------------------------------------------------------------------------
class Typical:
    """The typical local app's defaults (see ``ingest_bench.py``), vectors in memory: Chroma's
    cosine ranking of 130 short reports is exact either way."""

    def __init__(self, corpus: Path) -> None:
        from sentence_transformers import SentenceTransformer

        from rag.models.defaults import default_embedder_path

        self.model = SentenceTransformer(str(default_embedder_path()), device="cpu", local_files_only=True)
        self.files: list[str] = []
        self.texts: list[str] = []
        for f in sorted((corpus / "docx").glob("*.docx")):
            for chunk in recursive_split("\n\n".join(read_docx(f))):
                self.files.append(f.name)
                self.texts.append(chunk)
        self.vecs = self.model.encode(self.texts, batch_size=32, normalize_embeddings=True)

    def search(self, tests: list[dict[str, Any]], k: int) -> list[list[dict[str, Any]]]:
        q = self.model.encode([t["query"] for t in tests], batch_size=32, normalize_embeddings=True)
        out = []
        for row in q @ self.vecs.T:
            top = row.argsort()[::-1][:k]
            out.append([{"file": self.files[i], "text": self.texts[i]} for i in top])
        return out


# -- the table ---------------------------------------------------------------------------------
def _rate(hits: list[bool], tests: list[dict[str, Any]], category: str = "") -> str:
    sel = [h for h, t in zip(hits, tests) if not category or t["category"] == category]
    return f"{sum(sel) / len(sel):8.3f}" if sel else f"{'-':>8}"


def line(name: str, tests: list[dict[str, Any]], res: list[list[dict[str, Any]]], hits: list[bool] | None) -> str:
    sc, sb = score(tests, res, (1, 8, 32)), score_budget(tests, res, (4000, 8000))
    quotes = (_rate(hits, tests) + _rate(hits, tests, "Complications") + _rate(hits, tests, "Anesthesia")
              if hits is not None else f"{'-':>8}" * 3)
    return (f"{name:18}{len(tests):5d}{sb[4000][0]:8.3f}{sb[8000][0]:8.3f}{sc[8][0]:8.3f}{sc[32][0]:8.3f}"
            f"{sc[1][1]:8.3f}{quotes}")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    ap.add_argument("--library", type=Path, help="default: /tmp/med-lib-<hash of rag/ingest>")
    ap.add_argument("--reuse", action="store_true", help="keep an existing library at that path")
    ap.add_argument("--phrasing", choices=[*PHRASINGS, "all"], default="all")
    ap.add_argument("--no-baseline", action="store_true", help="skip the typical app")
    ap.add_argument("--sample", type=int, default=1, metavar="N",
                    help="ask every N-th question only (the same ones in every run), for a busy machine")
    ap.add_argument("--misses", type=Path, help="write each question's quotes and hit here (JSONL)")
    args = ap.parse_args(argv)

    sys.path.insert(0, str(REPO))
    from rag.library import Library

    corpus = args.corpus.resolve()
    tests = json.loads((corpus / "tests.json").read_text(encoding="utf-8"))[:: args.sample]
    names = report_names(corpus)
    lib_dir = args.library or Path(tempfile.gettempdir()) / f"med-lib-{index_hash()}"
    ensure_library(lib_dir, corpus, args.reuse)
    typical = None if args.no_baseline else Typical(corpus)
    phrasings = PHRASINGS if args.phrasing == "all" else (args.phrasing,)
    print(f"{'phrasing':18}{'n':>5}{'<4000':>8}{'<8000':>8}{'R@8':>8}{'R@32':>8}{'doc@1':>8}"
          f"{'quote':>8}{'q-comp':>8}{'q-anes':>8}")
    misses = args.misses.open("w", encoding="utf-8") if args.misses else None
    with Library(lib_dir) as library:
        for ph in phrasings:
            pt = phrased(tests, names, ph)
            t0 = time.perf_counter()
            res, hits = run_docqa(library, pt, 32)
            print(line(ph, pt, res, hits) + f"   ({(time.perf_counter() - t0) / len(pt) * 1000:.0f} ms/q)", flush=True)
            if typical is not None:
                print(line("  typical app", pt, typical.search(pt, 32), None), flush=True)
            if misses is not None:
                for t, r, h in zip(pt, res, hits):
                    misses.write(json.dumps({"phrasing": ph, "hit": h, "file": t["file"], "category": t["category"],
                                             "query": t["query"], "gold": t["gold"],
                                             "top": [(x["file"], x["text"][:200]) for x in r[:3]]}) + "\n")
    if misses is not None:
        misses.close()
    print("doc@1 of 'none' is informative only: the question names no report")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
