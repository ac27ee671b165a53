"""Make an N-document matter folder from the cuad-dev contracts (issue 11, scale).

    .venv/bin/python tests/bench/make_matter.py OUT_DIR [-n 2000] [--corpus ../shared/corpus/cuad-dev]

Each document is a window of 1-4 pages of one contract, with its parties, amounts and
dates varied, written as a PDF (45%), a DOCX (40%) or a plain-text e-mail (15%), spread
over client sub-folders like a real matter. The corpus is read where it lies (never
copied into the repository); its page text is cached under the system temp folder.
Deterministic for a given ``--seed``. About 25 passages per document on average, so
2,000 documents make the ~50,000-passage library the issue asks about.
"""

from __future__ import annotations

import argparse
import json
import random
import re
import sys
import tempfile
import textwrap
import time
from email.message import EmailMessage
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

from tests.helpers.pdfs import make_text_pdf  # noqa: E402

CORPUS = REPO.parent / "shared" / "corpus" / "cuad-dev"
CLIENTS = ["Abernathy Holdings", "Birchwood Medical", "Calder & Finch", "Dunmore Logistics",
           "Elmstead Pharma", "Fairhaven Clinics", "Greyfield Energy", "Harlow Biotech"]
FOLDERS = ["contracts", "correspondence", "drafts", "billing", "exhibits"]


def page_texts(corpus: Path) -> list[list[str]]:
    """Each contract's pages as text, read once with pypdfium2 and cached."""
    cache = Path(tempfile.gettempdir()) / f"docqa-bench-pages-{abs(hash(str(corpus.resolve())))}.json"
    if cache.exists():
        return list(json.loads(cache.read_text(encoding="utf-8")))
    import pypdfium2 as pdfium

    out: list[list[str]] = []
    for pdf in sorted((corpus / "pdf").glob("*.[pP][dD][fF]")):
        doc = pdfium.PdfDocument(str(pdf))
        pages = [doc[i].get_textpage().get_text_range() for i in range(len(doc))]
        doc.close()
        # Control characters (form feeds, stray NULs) are not allowed in DOCX XML.
        pages = [" ".join(_CONTROL.sub(" ", p).split()) for p in pages if len(p.split()) > 40]
        if pages:
            out.append(pages)
    cache.write_text(json.dumps(out), encoding="utf-8")
    return out


_CONTROL = re.compile(r"[\x00-\x1f\x7f\ufffe\uffff]")
_MONEY = re.compile(r"\$\s?[\d,]+(?:\.\d\d)?")
_YEAR = re.compile(r"\b(19|20)\d\d\b")


def vary(text: str, rng: random.Random, client: str, n: int) -> str:
    """The same contract language with this document's own client, amounts and years."""
    text = _MONEY.sub(lambda _m: f"${rng.randint(1, 900) * 250:,}", text)
    text = _YEAR.sub(lambda _m: str(rng.randint(2003, 2026)), text)
    return f"Matter {n:05d} for {client}. " + text


def write_pdf(path: Path, pages: list[str], title: str) -> None:
    # 60 wrapped lines of ~95 characters fill a page of the helper's 11 pt Helvetica.
    out: list[list[str]] = []
    for p in pages:
        lines = textwrap.wrap(p, 95)
        out += [lines[i : i + 55] for i in range(0, len(lines), 55)] or [[""]]
    make_text_pdf(path, out, title=title)


def write_docx(path: Path, pages: list[str], title: str) -> None:
    import docx

    d = docx.Document()
    d.add_heading(title, level=1)
    for i, p in enumerate(pages, 1):
        d.add_heading(f"Part {i}", level=2)
        for para in textwrap.wrap(p, 700):
            d.add_paragraph(para)
    d.save(str(path))


def write_eml(path: Path, pages: list[str], title: str, client: str, rng: random.Random) -> None:
    msg = EmailMessage()
    msg["From"] = f"counsel{rng.randint(1, 40)}@{client.split()[0].lower()}.example"
    msg["To"] = "matters@firm.example"
    msg["Subject"] = title
    msg["Date"] = f"Mon, {rng.randint(1, 28)} Mar {rng.randint(2015, 2026)} 10:{rng.randint(10, 59)}:00 +0000"
    msg.set_content("Please find the relevant terms below.\n\n" + "\n\n".join(textwrap.fill(p, 78) for p in pages))
    path.write_bytes(bytes(msg))


def make_matter(out: Path, n: int, corpus: Path = CORPUS, seed: int = 11) -> list[Path]:
    rng = random.Random(seed)
    contracts = page_texts(corpus)
    files: list[Path] = []
    for i in range(n):
        pages_all = contracts[rng.randrange(len(contracts))]
        span = rng.randint(1, 4)
        start = rng.randrange(max(1, len(pages_all) - span + 1))
        client = rng.choice(CLIENTS)
        pages = [vary(p, rng, client, i) for p in pages_all[start : start + span]]
        folder = out / client.split()[0].lower() / rng.choice(FOLDERS)
        folder.mkdir(parents=True, exist_ok=True)
        title = f"{client} matter {i:05d}"
        r = rng.random()
        if r < 0.45:
            path = folder / f"doc-{i:05d}.pdf"
            write_pdf(path, pages, title)
        elif r < 0.85:
            path = folder / f"doc-{i:05d}.docx"
            write_docx(path, pages, title)
        else:
            path = folder / f"mail-{i:05d}.eml"
            write_eml(path, pages, title, client, rng)
        files.append(path)
    return files


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("out", type=Path)
    ap.add_argument("-n", type=int, default=2000)
    ap.add_argument("--corpus", type=Path, default=CORPUS)
    ap.add_argument("--seed", type=int, default=11)
    args = ap.parse_args()
    t0 = time.perf_counter()
    files = make_matter(args.out, args.n, args.corpus, args.seed)
    kinds: dict[str, int] = {}
    for f in files:
        kinds[f.suffix] = kinds.get(f.suffix, 0) + 1
    size = sum(f.stat().st_size for f in files) / 1e6
    print(f"made {len(files)} documents {kinds} ({size:.1f} MB) in {args.out} in {time.perf_counter() - t0:.1f} s")


if __name__ == "__main__":
    main()
