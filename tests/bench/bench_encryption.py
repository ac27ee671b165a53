"""What encryption at rest costs: ingest and search time, encrypted vs plain, in one run.

    PYTHONPATH=$PWD python tests/bench/bench_encryption.py [--files 10] [--queries 100]

Ingests the same cuad-dev contracts into an encrypted library (SQLCipher manifest, the
normal path) and into a plain one (the same code with the manifest opened without a
key, which only this benchmark does), then runs the same questions against both,
alternating, and prints the medians and the ratios. Also the cost of the key itself
(scrypt for a passphrase) and of the keyword index alone, where SQLCipher's per-page
decryption shows most. Figures on a shared machine are noisy: read the ratios.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

import rag  # noqa: E402,F401  (offline switches first)
import rag.library as library_mod  # noqa: E402
from rag.store.keys import SCRYPT, _stretch  # noqa: E402
from rag.store.manifest import Manifest  # noqa: E402

CUAD = Path(os.environ.get("DOCQA_CUAD", REPO.parent / "shared" / "corpus" / "cuad-dev"))


class PlainManifest(Manifest):
    """The manifest without its key: the plaintext baseline (never used by docqa itself)."""

    def __init__(self, path: Path, key: bytes | None = None, progress: object = None) -> None:
        super().__init__(path, None)


def _ingest(root: Path, files: list[Path], embedder: object, plain: bool) -> tuple[float, object]:
    library_mod.Manifest = PlainManifest if plain else Manifest  # type: ignore[misc]
    try:
        t0 = time.perf_counter()
        lib = library_mod.Library(root, embedder)  # type: ignore[arg-type]
        lib.ingest(files)
        return time.perf_counter() - t0, lib
    finally:
        library_mod.Manifest = Manifest  # type: ignore[misc]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--files", type=int, default=10)
    ap.add_argument("--queries", type=int, default=100)
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()
    os.environ.setdefault("DOCQA_PASSPHRASE", "bench passphrase")
    from rag.models.embedder import SentenceTransformerEmbedder

    embedder = SentenceTransformerEmbedder()
    embedder.warm_up()
    files = sorted((CUAD / "pdf").iterdir())[: args.files]
    queries = [t["query"] for t in json.loads((CUAD / "tests.json").read_text())][: args.queries]
    t0 = time.perf_counter()
    _stretch("a passphrase", {"salt": "00" * 16, **SCRYPT})
    kdf = time.perf_counter() - t0

    with tempfile.TemporaryDirectory(prefix="docqa-bench-") as tmp:
        embedder.embed(["warm-up"])
        t_plain, plain = _ingest(Path(tmp) / "plain", files, embedder, plain=True)
        print(f"ingest plain: {t_plain:.1f} s", flush=True)
        t_enc, enc = _ingest(Path(tmp) / "enc", files, embedder, plain=False)
        print(f"ingest encrypted: {t_enc:.1f} s", flush=True)
        times: dict[str, list[float]] = {k: [] for k in ("plain", "enc", "kw plain", "kw enc", "audit")}
        # Interleaved question by question, so that the machine's other load hits both alike.
        for _ in range(args.repeats):
            for q in queries:
                for label, lib in (("plain", plain), ("enc", enc)):
                    t = time.perf_counter()
                    lib.search(q, 8)  # type: ignore[attr-defined]
                    times[label].append(time.perf_counter() - t)
                    t = time.perf_counter()
                    lib.manifest.keyword_search(q, 50)  # type: ignore[attr-defined]
                    times[f"kw {label}"].append(time.perf_counter() - t)
                t = time.perf_counter()
                enc.audit.record("search", q="0" * 32)  # type: ignore[attr-defined]
                times["audit"].append(time.perf_counter() - t)
        chunks = enc.manifest.count_chunks()  # type: ignore[attr-defined]
        plain.close()  # type: ignore[attr-defined]
        enc.close()  # type: ignore[attr-defined]
        sizes = {k: (Path(tmp) / k / "manifest.sqlite3").stat().st_size for k in ("plain", "enc")}

    med = {k: statistics.median(v) * 1000 for k, v in times.items()}
    print(f"{len(files)} cuad-dev contracts, {chunks} chunks; {len(queries)} questions x {args.repeats}")
    print(f"ingest:          plain {t_plain:7.1f} s   encrypted {t_enc:7.1f} s   ratio {t_enc / t_plain:.2f}")
    print(f"search (median): plain {med['plain']:7.1f} ms  encrypted {med['enc']:7.1f} ms  "
          f"ratio {med['enc'] / med['plain']:.2f}")
    print(f"keyword index:   plain {med['kw plain']:7.2f} ms  encrypted {med['kw enc']:7.2f} ms  "
          f"ratio {med['kw enc'] / med['kw plain']:.2f}")
    print(f"audit entry (fsync'd, both modes): {med['audit']:.2f} ms (part of each search above)")
    print(f"manifest size:   plain {sizes['plain'] / 1e6:.2f} MB  encrypted {sizes['enc'] / 1e6:.2f} MB")
    print(f"passphrase key (scrypt n={SCRYPT['n']}, r={SCRYPT['r']}): {kdf * 1000:.0f} ms per library open")


if __name__ == "__main__":
    main()
