"""A team matter's vectors: read whole into memory and searched exactly (matters of up to
``PostgresStore.memory_vectors`` passages), or searched through pgvector's HNSW index
shared by every matter (larger ones)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

# (passage ids, their document ids, vectors, the vectors' norms), in the same order
MatterVectors = tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]


def vector_literal(v: np.ndarray) -> str:
    # str() of a list of Python floats made from float32 values is the shortest text that
    # reads back to the same float32: pgvector stores exactly what the embedder gave.
    return str(np.asarray(v, dtype=np.float32).tolist())


def matter_vectors(conn: Any, matter_id: int) -> MatterVectors:
    """Every passage's vector of the matter, as the transaction's user may read them."""
    # One row: the ids as text, the vectors as vector_send's binary forms (2-byte
    # dimension, 2 unused, then big-endian float4s) end to end, read by numpy at
    # once. Row by row, the driver took 40 ms for 2,000 passages.
    # The three lists come in the same (unsorted) order: one pass feeds all three
    # aggregates; nearest breaks ties by id itself. Sorting cost a third more.
    i_text, d_text, blob = conn.run(
        "SELECT string_agg(CAST(id AS text), ','), string_agg(CAST(doc_id AS text), ','),"
        " string_agg(vector_send(embedding), CAST('' AS bytea)) FROM passages WHERE matter_id=:m",
        m=matter_id)[0]
    ids = np.array(i_text.split(","), dtype=np.int64) if i_text else np.zeros(0, np.int64)
    docs = np.array(d_text.split(","), dtype=np.int64) if d_text else np.zeros(0, np.int64)
    if len(ids):
        flat = np.frombuffer(bytes(blob), dtype=">f4")
        vecs = flat.reshape(len(ids), -1)[:, 1:].astype(np.float32)
    else:
        vecs = np.zeros((0, 0), np.float32)
    # float32 products, summed as pgvector sums them (in float): no float64 copy of the matrix
    return (ids, docs, vecs, np.sqrt(np.einsum("ij,ij->i", vecs, vecs).astype(np.float64)))


def indexed_nearest(conn: Any, matter_id: int, vector: np.ndarray, k: int, doc_ids: Sequence[int] | None,
                    ef_search: int) -> list[tuple[int, float]]:
    """The ``k`` nearest through the HNSW index (a matter too large for memory)."""
    where = "p.matter_id=:m"
    args: dict[str, Any] = {"m": matter_id, "v": vector_literal(vector), "k": int(k)}
    if doc_ids is not None:
        where += " AND p.doc_id = ANY(CAST(:docs AS bigint[]))"
        args["docs"] = [int(d) for d in doc_ids]
    # A matter is a filter on one index shared by all matters: without iterative
    # scans HNSW returns its ef_search nearest of all matters, and the filter then
    # keeps only the few of this one. relaxed_order lets results come slightly out
    # of order, so they are sorted again after (pgvector's advice).
    conn.run("SET LOCAL hnsw.iterative_scan = relaxed_order")
    conn.run(f"SET LOCAL hnsw.ef_search = {max(ef_search, int(k))}")
    rows = conn.run(
        "WITH r AS MATERIALIZED (SELECT p.id, p.embedding <=> CAST(:v AS vector) AS dist"
        f" FROM passages p WHERE {where} ORDER BY p.embedding <=> CAST(:v AS vector) LIMIT :k)"
        " SELECT id, 1 - dist FROM r ORDER BY dist, id", **args)
    return [(int(r[0]), float(r[1])) for r in rows]


def nearest(mem: MatterVectors, vector: np.ndarray, k: int,
            doc_ids: Sequence[int] | None) -> list[tuple[int, float]]:
    """The exact ``k`` nearest by cosine, as pgvector's ``<=>`` orders them (distance, then
    id); what the HNSW graph approximates. Never more than a member could read: ``mem`` was
    read under row-level security."""
    ids, docs, vecs, norms = mem
    if doc_ids is not None:
        keep = np.isin(docs, np.asarray([int(d) for d in doc_ids], dtype=np.int64))
        ids, vecs, norms = ids[keep], vecs[keep], norms[keep]
    if not len(ids):
        return []
    q = np.asarray(vector, dtype=np.float32).reshape(-1)
    qn = float(np.linalg.norm(q.astype(np.float64)))
    with np.errstate(divide="ignore", invalid="ignore"):
        sims = np.clip((vecs @ q).astype(np.float64) / (norms * qn), -1.0, 1.0)
    dist = 1.0 - np.nan_to_num(sims, nan=0.0)
    # Every passage as near as the k-th: ties are broken by id, as ORDER BY dist, id does.
    top = np.nonzero(dist <= np.partition(dist, k - 1)[k - 1])[0] if k < len(dist) else np.arange(len(dist))
    order = top[np.lexsort((ids[top], dist[top]))][:k]
    return [(int(ids[i]), float(1.0 - dist[i])) for i in order]
