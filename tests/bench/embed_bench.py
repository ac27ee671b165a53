"""Embedder benchmark: fp32 against bfloat16 autocast on the CPU, same passages, same process.

Run by hand (not part of the test suite)::

    .venv/bin/python tests/bench/embed_bench.py --library DIR [--n 256] [--repeat 2] [--batch 32]

It samples ``--n`` passages (heading path and text, as ingest embeds them) from a library's
manifest (opened read-only), embeds them alternately in fp32 and under bfloat16 autocast,
and prints passages per second, the speed-up, and the cosine of each bfloat16 vector to
its fp32 one (mean and min). ``--weights`` also tries casting the weights to bfloat16.
"""

from __future__ import annotations

import argparse
import random
import sqlite3
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--library", type=Path, required=True)
    ap.add_argument("--n", type=int, default=256)
    ap.add_argument("--repeat", type=int, default=2)
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--weights", action="store_true", help="also time model.to(torch.bfloat16)")
    args = ap.parse_args(argv)

    import torch

    from rag.models.embedder import SentenceTransformerEmbedder, cpu_bf16_feature

    db = sqlite3.connect(f"file:{args.library / 'manifest.sqlite3'}?mode=ro", uri=True)
    rows = db.execute("SELECT heading, text FROM chunks ORDER BY id").fetchall()
    rows = random.Random(1).sample(rows, min(args.n, len(rows)))
    texts = [f"{h}\n{t}" if h else t for h, t in rows]
    fp32 = SentenceTransformerEmbedder(precision="fp32", batch_size=args.batch)
    bf16 = SentenceTransformerEmbedder(precision="bf16", batch_size=args.batch)
    fp32.embed(texts[:8])
    bf16.embed(texts[:8])
    print(f"{len(texts)} passages, batch {args.batch}, torch {torch.__version__}, {torch.get_num_threads()} threads, "
          f"CPU bfloat16: {cpu_bf16_feature() or 'none'}")
    for r in range(args.repeat):
        t0 = time.perf_counter()
        a = fp32.embed(texts)
        t1 = time.perf_counter()
        b = bf16.embed(texts)
        t2 = time.perf_counter()
        cos = (a * b).sum(axis=1)
        print(f"[{r + 1}] fp32 {len(texts) / (t1 - t0):.1f}/s, bf16 autocast {len(texts) / (t2 - t1):.1f}/s: "
              f"x{(t1 - t0) / (t2 - t1):.2f}; cosine to fp32 mean {cos.mean():.6f}, min {cos.min():.6f}", flush=True)
    if args.weights:
        fp32.warm_up()
        model = fp32._model.to(torch.bfloat16)
        t0 = time.perf_counter()
        c = np.asarray(model.encode(texts, batch_size=args.batch, normalize_embeddings=True), dtype=np.float32)
        dt = time.perf_counter() - t0
        c /= np.linalg.norm(c, axis=1, keepdims=True)
        cos = (a * c).sum(axis=1)
        print(f"bf16 weights {len(texts) / dt:.1f}/s; cosine to fp32 mean {cos.mean():.6f}, min {cos.min():.6f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
