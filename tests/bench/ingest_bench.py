"""Ingest benchmark: docqa against the default pipeline of a typical local RAG app.

Run by hand (not part of the test suite)::

    .venv/bin/python tests/bench/ingest_bench.py [--n 20] [--repeat 2] [--variant fp32:precision=fp32]

In one run, on the same first ``--n`` contracts of cuad-dev, it times
- **baseline**: pypdf text page by page, LangChain's RecursiveCharacterTextSplitter
  defaults of the tutorials (1,000 characters, 20 overlap; re-implemented here, its
  algorithm, so that the benchmark needs no LangChain), the same MiniLM in fp32 through
  ``SentenceTransformer.encode`` (one call per file), and a persistent Chroma collection;
- **docqa**: :meth:`rag.library.Library.ingest` into a fresh library, as the CLI does;
- each ``--variant NAME:key=value,...``: docqa again with its embedder's ``precision`` or
  ``device``, or the chunker's ``size``/``overlap``, set (to measure what a lever buys).

Every side runs in its own fresh process (the same imports and model load for all; the
model load is timed apart and not counted), sides alternate order between repeats, and
the ratio docqa / baseline is printed per repeat and as the median. Peak RSS of each
process is printed too. The machine is shared: compare ratios, not seconds.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
DEFAULT_PDFS = REPO / ".." / "shared" / "corpus" / "cuad-dev" / "pdf"


# -- the typical app ----------------------------------------------------------------------
def _split_keep(text: str, sep: str) -> list[str]:
    """LangChain's _split_text_with_regex with keep_separator=True: the separator starts
    the piece that follows it."""
    if not sep:
        return list(text)
    parts = re.split(f"({re.escape(sep)})", text)
    pieces = [parts[i] + parts[i + 1] for i in range(1, len(parts) - 1, 2)]
    if len(parts) % 2 == 0:
        pieces += parts[-1:]
    return [p for p in [parts[0], *pieces] if p]


def _merge(splits: list[str], size: int, overlap: int) -> list[str]:
    """LangChain's TextSplitter._merge_splits with an empty separator (keep_separator)."""
    docs: list[str] = []
    current: list[str] = []
    total = 0
    for d in splits:
        n = len(d)
        if total + n > size and current:
            doc = "".join(current).strip()
            if doc:
                docs.append(doc)
            while total > overlap or (total + n > size and total > 0):
                total -= len(current[0])
                current.pop(0)
        current.append(d)
        total += n
    doc = "".join(current).strip()
    if doc:
        docs.append(doc)
    return docs


def recursive_split(text: str, size: int = 1000, overlap: int = 20,
                    seps: tuple[str, ...] = ("\n\n", "\n", " ", "")) -> list[str]:
    """RecursiveCharacterTextSplitter(chunk_size=size, chunk_overlap=overlap).split_text."""
    sep, rest = seps[-1], ()
    for i, s in enumerate(seps):
        if s == "" or s in text:
            sep, rest = s, seps[i + 1:]
            break
    out: list[str] = []
    good: list[str] = []
    for piece in _split_keep(text, sep):
        if len(piece) < size:
            good.append(piece)
            continue
        if good:
            out.extend(_merge(good, size, overlap))
            good = []
        out.extend(recursive_split(piece, size, overlap, rest) if rest else [piece])
    if good:
        out.extend(_merge(good, size, overlap))
    return out


def run_baseline(pdfs: list[Path], work: Path) -> dict[str, Any]:
    import chromadb
    from pypdf import PdfReader
    from sentence_transformers import SentenceTransformer

    from rag.models.defaults import default_embedder_path

    t0 = time.perf_counter()
    model = SentenceTransformer(str(default_embedder_path()), device="cpu", local_files_only=True)
    model.encode(["warm up"])
    load = time.perf_counter() - t0
    t0 = time.perf_counter()
    client = chromadb.PersistentClient(path=str(work / "chroma"))
    col = client.get_or_create_collection("docs", metadata={"hnsw:space": "cosine"})
    passages = chars = pages = 0
    for f, pdf in enumerate(pdfs):
        texts, metas = [], []
        for p, page in enumerate(PdfReader(str(pdf)).pages):
            for chunk in recursive_split(page.extract_text() or ""):
                texts.append(chunk)
                metas.append({"source": pdf.name, "page": p + 1})
            pages += 1
        if not texts:
            continue
        vecs = model.encode(texts, batch_size=32, normalize_embeddings=True, convert_to_numpy=True)
        col.add(ids=[f"{f}-{i}" for i in range(len(texts))], embeddings=vecs.tolist(),
                documents=texts, metadatas=metas)  # type: ignore[arg-type]
        passages += len(texts)
        chars += sum(len(t) for t in texts)
    return {"seconds": time.perf_counter() - t0, "load": load, "passages": passages, "chars": chars,
            "pages": pages, "hardware": "CPU, float32"}


# -- docqa ----------------------------------------------------------------------------------
def run_docqa(pdfs: list[Path], work: Path, settings: dict[str, str]) -> dict[str, Any]:
    from rag.ingest.chunking import ChunkerConfig, StructuredChunker
    from rag.library import Library
    from rag.models.embedder import SentenceTransformerEmbedder

    t0 = time.perf_counter()
    cap = {"max_tokens": int(settings["max_tokens"]) or None} if "max_tokens" in settings else {}
    emb = SentenceTransformerEmbedder(device=settings.get("device"), precision=settings.get("precision"),
                                      **cap)  # type: ignore[arg-type]  # max_tokens=0: the model's own limit
    emb.embed(["warm up"])
    load = time.perf_counter() - t0
    cfg = ChunkerConfig(**{k: int(v) for k, v in settings.items() if k in ("size", "overlap", "min_size")})
    src = work / "pdf"
    src.mkdir()
    for p in pdfs:  # a folder of just these files, ingested as a user drops a folder
        os.symlink(p, src / p.name)
    t0 = time.perf_counter()
    with Library(work / "lib", emb, chunker=StructuredChunker(cfg)) as lib:
        report = lib.ingest([src])
        docs = lib.documents()
    secs = time.perf_counter() - t0
    failed = [r.name for r in report.failed]
    return {"seconds": secs, "load": load, "passages": sum(d.chunks for d in docs),
            "pages": sum(d.pages for d in docs), "failed": failed, "hardware": str(emb.hardware),
            "chars": None}


def child(args: argparse.Namespace) -> int:
    pdfs = sorted(p for p in args.pdfs.iterdir() if p.suffix.lower() == ".pdf")[: args.n]
    work = Path(tempfile.mkdtemp(prefix="ingest-bench-"))
    try:
        if args.side == "baseline":
            out = run_baseline(pdfs, work)
        else:
            settings = dict(kv.split("=", 1) for kv in args.settings.split(",") if kv)
            out = run_docqa(pdfs, work, settings)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    kids = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    out.update(peak_rss_mb=round(own), children_peak_rss_mb=round(kids))
    print("RESULT " + json.dumps(out), flush=True)
    return 0


# -- the run ---------------------------------------------------------------------------------
def run_side(args: argparse.Namespace, side: str, settings: str) -> dict[str, Any]:
    cmd = [sys.executable, __file__, "--child", side, "--settings", settings, "--n", str(args.n),
           "--pdfs", str(args.pdfs)]
    env = {**os.environ, "PYTHONPATH": str(REPO), "HF_HUB_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false"}
    env.setdefault("DOCQA_PASSPHRASE", "bench")  # a throwaway library: no keychain needed
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=REPO)
    for line in proc.stdout.splitlines():
        if line.startswith("RESULT "):
            return dict(json.loads(line[7:]))
    sys.exit(f"{side} failed:\n{proc.stderr[-3000:]}")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--pdfs", type=Path, default=DEFAULT_PDFS)
    ap.add_argument("--n", type=int, default=20, help="the first N files of the folder (by name)")
    ap.add_argument("--repeat", type=int, default=1)
    ap.add_argument("--variant", action="append", default=[], metavar="NAME:key=value,...",
                    help="also time docqa with these embedder/chunker settings")
    ap.add_argument("--child", choices=("baseline", "docqa"), help=argparse.SUPPRESS)
    ap.add_argument("--settings", default="", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    args.pdfs = args.pdfs.resolve()
    if args.child:
        args.side = args.child
        return child(args)
    sides = [("baseline", "baseline", ""), ("docqa", "docqa", "")]
    for v in args.variant:
        name, _, settings = v.partition(":")
        sides.append((name, "docqa", settings))
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs; {args.n} files of {args.pdfs}")
    times: dict[str, list[float]] = {name: [] for name, _s, _k in sides}
    for r in range(args.repeat):
        order = sides if r % 2 == 0 else sides[::-1]
        for name, side, settings in order:
            res = run_side(args, side, settings)
            times[name].append(res["seconds"])
            print(f"[{r + 1}] {name:10} {res['seconds']:7.1f} s  (model load {res['load']:.1f} s)  "
                  f"{res['passages']} passages, {res['pages']} pages, {res['hardware']}; peak RSS "
                  f"{res['peak_rss_mb']} MB (+ workers {res['children_peak_rss_mb']} MB)"
                  + (f"; FAILED {res['failed']}" if res.get("failed") else ""), flush=True)
        base = times["baseline"][-1]
        print(f"[{r + 1}] " + ", ".join(f"{n}/baseline {t[-1] / base:.2f}" for n, t in times.items()
                                        if n != "baseline") + f"   (load average {os.getloadavg()[0]:.1f})",
              flush=True)
    base_med = statistics.median(times["baseline"])
    for name, t in times.items():
        if name != "baseline":
            ratios = [x / b for x, b in zip(t, times["baseline"])]
            print(f"{name}: median {statistics.median(t):.1f} s vs baseline {base_med:.1f} s; "
                  f"ratio median {statistics.median(ratios):.2f} (per repeat {', '.join(f'{x:.2f}' for x in ratios)})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
