"""Documents written straight into the team schema (as the superuser), for tests and the
bench that need many passages fast: the same rows the store writes, without parsing."""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

import numpy as np


def vector_text(v: np.ndarray) -> str:
    return "[" + ",".join(f"{x:.6f}" for x in np.asarray(v, dtype=np.float32)) + "]"


def add_document(db: Any, matter_id: int, name: str, passages: Sequence[str], vectors: np.ndarray,
                 per_page: int = 4) -> tuple[int, list[int]]:
    """One ready document whose pages are its passages joined, ``per_page`` to a page;
    returns (doc id, passage ids)."""
    now = time.time()
    pages = [list(passages[i:i + per_page]) for i in range(0, len(passages), per_page)]
    doc_id = int(db.run("INSERT INTO documents (matter_id, path, name, kind, status, pages, added_at, updated_at) "
                        "VALUES (:m, :p, :n, 'txt', 'ready', :pages, :now, :now) RETURNING id",
                        m=matter_id, p=name, n=name, pages=len(pages), now=now)[0][0])
    ids: list[int] = []
    ordinal = 0
    for number, texts in enumerate(pages, start=1):
        page_text = "\n\n".join(texts)
        db.run("INSERT INTO pages (matter_id, doc_id, number, text) VALUES (:m, :d, :n, :t)",
               m=matter_id, d=doc_id, n=number, t=page_text)
        start = 0
        for text in texts:
            end = start + len(text)
            ids.append(int(db.run(
                'INSERT INTO passages (matter_id, doc_id, ordinal, page, start, "end", text, embedding) '
                "VALUES (:m, :d, :o, :pg, :s, :e, :t, CAST(:v AS vector)) RETURNING id",
                m=matter_id, d=doc_id, o=ordinal, pg=number, s=start, e=end, t=text,
                v=vector_text(vectors[ordinal]))[0][0]))
            ordinal += 1
            start = end + 2
    db.run("INSERT INTO matter_state (matter_id, generation) VALUES (:m, 1) ON CONFLICT (matter_id) "
           "DO UPDATE SET generation = matter_state.generation + 1", m=matter_id)
    return doc_id, ids
