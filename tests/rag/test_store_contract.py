"""The Store contract (rag/protocols.py), run against every store: the single-user SQLCipher
manifest with its Chroma index, and a team matter in a real PostgreSQL with pgvector (the
``postgres`` fixture), read as the application role under row-level security. Passages are
embedded by the real bundled embedder."""

from __future__ import annotations

import itertools
import os
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from rag.protocols import Store
from rag.types import Chunk, Page, ParsedDocument

USER, OTHER_USER = 1, 2
APP_ROLE = "docqa_app"  # as docqa-server's: not the owner, no superuser, no BYPASSRLS
_db_names = itertools.count()

CONTRACT = [
    ("Services Agreement", "services.pdf", [
        "SERVICES AGREEMENT between Acme Corp and Widget LLC.",
        "The term of this agreement is three years. Either side may terminate on ninety days notice.",
        "This agreement is governed by the laws of the State of Delaware.",
    ]),
    ("Office Lease", "lease.pdf", [
        "OFFICE LEASE between Globex Inc and Initech.",
        "The tenant pays monthly rent of ten thousand dollars, due on the first day of each month.",
        "The landlord maintains the roof and the elevators; the tenant keeps the premises clean.",
    ]),
    ("Supply Agreement", "supply.pdf", [
        "SUPPLY AGREEMENT between Hooli and Pied Piper.",
        "Supplier indemnifies Buyer against claims of patent infringement.",
        "Confidential information stays confidential for five years after termination.",
    ]),
]


def _document(title: str, pages: list[str]) -> tuple[ParsedDocument, list[Chunk]]:
    parsed = ParsedDocument(pages=[Page(i + 1, t) for i, t in enumerate(pages)], kind="pdf", title=title)
    heading = "Recitals"
    chunks = [Chunk(page=i + 1, start=0, end=len(t), text=t, heading=heading if i == 0 else "", ordinal=i)
              for i, t in enumerate(pages)]
    return parsed, chunks


def add(store: Store, embedder, title: str, name: str, pages: list[str], **kw) -> tuple[int, list[int]]:
    parsed, chunks = _document(title, pages)
    vecs = embedder.embed([c.indexed_text for c in chunks])
    return store.add_document(path=f"/matter/{name}", name=name, sha256="0" * 64, size=100, parsed=parsed,
                              chunks=chunks, vectors=vecs, **kw)


def pg_app_setup(postgres) -> tuple[str, object]:
    """A fresh database with the team schema, the application role granted, and its admin
    connection (superuser: writes matters and members)."""
    from rag.store.postgres.schema import grant_app, install_schema

    db = postgres.create_database(f"contract_{os.getpid()}_{next(_db_names)}")
    admin = postgres.connect(database=db)
    install_schema(admin)
    if not admin.run("SELECT 1 FROM pg_roles WHERE rolname=:r", r=APP_ROLE):
        admin.run(f"CREATE ROLE {APP_ROLE} LOGIN NOSUPERUSER NOBYPASSRLS")
    grant_app(admin, APP_ROLE)
    return db, admin


@pytest.fixture(params=["sqlite", "postgres"])
def store(request, tmp_path: Path) -> Iterator[Store]:
    if request.param == "sqlite":
        from rag.store.manifest import Manifest
        from rag.store.sqlite_store import SqlCipherStore
        from rag.store.vectors import ChromaIndex

        manifest = Manifest(tmp_path / "manifest.sqlite3", key=os.urandom(32))
        index = ChromaIndex(tmp_path / "index")
        yield SqlCipherStore(manifest, index)
        index.close()
        manifest.close()
        return
    from rag.store.postgres.schema import add_member, create_matter
    from rag.store.postgres.store import PostgresStore

    postgres = request.getfixturevalue("postgres")
    db, admin = pg_app_setup(postgres)
    other = create_matter(admin, "another matter")  # present, never visible through the store
    matter = create_matter(admin, "the matter")
    add_member(admin, matter, USER)
    add_member(admin, other, OTHER_USER)
    conn = postgres.connect(user=APP_ROLE, database=db)
    outsider = PostgresStore(conn, other, OTHER_USER)
    parsed, chunks = _document("Unrelated", ["Delaware law governs this unrelated contract."])
    outsider.add_document(path="/other/x.pdf", name="x.pdf", sha256="", size=1, parsed=parsed, chunks=chunks,
                          vectors=np.eye(1, 384, dtype=np.float32))
    yield PostgresStore(conn, matter, USER)
    conn.close()
    admin.close()


@pytest.fixture
def filled(store: Store, embedder) -> dict[str, tuple[int, list[int]]]:
    return {name: add(store, embedder, title, name, pages) for title, name, pages in CONTRACT}


def test_documents_pages_and_passages(store: Store, filled) -> None:
    doc_id, ids = filled["lease.pdf"]
    docs = {d.name: d for d in store.documents()}
    assert set(docs) == {"services.pdf", "lease.pdf", "supply.pdf"}  # not another matter's
    assert docs["lease.pdf"].pages == 3 and docs["lease.pdf"].chunks == 3 and docs["lease.pdf"].id == doc_id
    assert store.find_document("/matter/lease.pdf") == (doc_id, "0" * 64, "ready")
    assert store.find_document("/matter/none.pdf") is None
    assert store.page_text(doc_id, 2).startswith("The tenant pays monthly rent")
    assert store.page_text(doc_id, 9) == ""
    assert store.first_text(doc_id, 12) == "OFFICE LEASE"
    assert store.first_texts([doc_id, 99999], 12) == {doc_id: "OFFICE LEASE", 99999: ""}
    assert sorted(store.chunk_ids(doc_id)) == sorted(ids)
    assert store.count_chunks() == 9
    got = store.chunks_by_id(ids)
    assert [got[i].ordinal for i in ids] == [0, 1, 2]  # ids come back in the chunks' order
    first = got[ids[0]]
    assert (first.doc_id, first.page, first.start, first.name, first.path, first.heading) == (
        doc_id, 1, 0, "lease.pdf", "/matter/lease.pdf", "Recitals")
    assert "Recitals" in store.distinct_headings()


def test_embeddings_are_kept_exactly(store: Store, embedder, filled) -> None:
    doc_id, ids = filled["supply.pdf"]
    parsed, chunks = _document(*CONTRACT[2][::2])
    want = embedder.embed([c.indexed_text for c in chunks])
    (got_ids, got_docs, vecs), = list(store.embeddings(doc_id))
    order = np.argsort(got_ids)
    assert [got_ids[i] for i in order] == ids and set(got_docs) == {doc_id}
    np.testing.assert_array_equal(vecs[order], want)
    assert sum(len(b[0]) for b in store.embeddings()) == 9


def test_replace_and_delete(store: Store, embedder, filled) -> None:
    old_id, old_ids = filled["services.pdf"]
    marker = store.change_marker()
    new_id, new_ids = add(store, embedder, "Services Agreement", "services.pdf",
                          ["SERVICES AGREEMENT, amended.", "The term is five years."])
    assert store.change_marker() != marker
    assert new_id != old_id and store.chunks_by_id(old_ids) == {} and store.page_text(old_id, 1) == ""
    assert len(store.chunks_by_id(new_ids)) == 2
    # An e-mail's attachment is a document of its own, and goes with its message.
    mail_id, _ = add(store, embedder, "Re: lease", "mail.eml", ["Please see the attached lease."])
    att_id, att_ids = add(store, embedder, "Lease", "mail.eml::lease.pdf", ["Attached lease text."],
                          parent_id=mail_id)
    assert {d.id: d.parent for d in store.documents()}[att_id] == mail_id
    store.delete_document(mail_id)
    names = {d.name for d in store.documents()}
    assert "mail.eml" not in names and "mail.eml::lease.pdf" not in names
    assert store.chunks_by_id(att_ids) == {} and store.page_text(att_id, 1) == ""
    assert store.vector_search(np.asarray(store_vector(embedder, "Attached lease text.")), 3, [att_id]) == []


def test_failures_notes_and_unknown_words(store: Store, embedder, filled) -> None:
    lease, _ = filled["lease.pdf"]
    failed = store.record_failure(path="/matter/scan.pdf", name="scan.pdf", kind="pdf", reason="no text",
                                  size=5)
    docs = {d.id: d for d in store.documents()}
    assert docs[failed].status.value == "failed" and docs[failed].error == "no text"
    assert failed not in store.profiles()
    # A failed new version of a ready document leaves the good one searchable.
    assert store.record_failure(path="/matter/lease.pdf", name="lease.pdf", kind="pdf", reason="broken",
                                size=5) == lease
    assert {d.id: d.error for d in store.documents()}[lease] == "broken"
    assert store.keyword_search("monthly rent", 3)
    store.set_note(lease, "page 3 could not be read")
    assert {d.id: d.error for d in store.documents()}[lease] == "page 3 could not be read"
    assert store.unknown_words(["rent", "metformin", "elevators"]) == ["metformin"]


def store_vector(embedder, text: str) -> np.ndarray:
    return embedder.embed([text])[0]


def test_keyword_search(store: Store, filled) -> None:
    lease, lease_ids = filled["lease.pdf"]
    supply, supply_ids = filled["supply.pdf"]
    hits = store.keyword_search("who pays the monthly rent?", 5)
    assert hits and hits[0][0] == lease_ids[1]
    assert [s for _, s in hits] == sorted((s for _, s in hits), reverse=True)
    # Stemming as the SQLite index's porter: "indemnification" meets "indemnifies".
    assert store.keyword_search("indemnifies", 3)[0][0] == supply_ids[1]
    # With documents, only theirs: "termination" is in the services and supply agreements.
    inside = store.keyword_search("termination", 5, doc_ids=[supply])
    assert inside and {i for i, _ in inside} <= set(supply_ids)
    assert store.keyword_search("termination", 5, doc_ids=[lease]) == []
    assert store.keyword_search("the of and", 5) == []  # stop words only
    assert store.keyword_search("Delaware's \"law\" (AND) OR NOT; --", 5)  # punctuation is no syntax


def test_vector_search(store: Store, embedder, filled) -> None:
    lease, lease_ids = filled["lease.pdf"]
    q = embedder.embed_query("how much is the rent each month?")
    hits = store.vector_search(q, 4)
    assert hits[0][0] == lease_ids[1] and len(hits) == 4
    assert [s for _, s in hits] == sorted((s for _, s in hits), reverse=True)
    assert -1.0 <= hits[-1][1] <= hits[0][1] <= 1.0
    inside = store.vector_search(q, 10, doc_ids=[lease])
    assert sorted(i for i, _ in inside) == sorted(lease_ids)  # k capped by what the document holds


def test_profiles_and_document_frequency(store: Store, filled) -> None:
    profiles = store.profiles()
    lease = filled["lease.pdf"][0]
    name, profile = profiles[lease]
    assert name == "lease.pdf" and profile.title
    assert len(profiles) == 3
    assert store.document_frequency("termination") == 2  # "terminate" and "termination" stem alike
    assert store.document_frequency("elevators") == 1
    assert store.document_frequency("zebra") == 0


def test_filtered_vector_search_still_returns_k(store: Store, embedder) -> None:
    """Many documents, a search inside one: still k results. For a team matter, the store's
    matter is itself a filter on one HNSW graph shared with every other matter (below)."""
    rng = np.random.default_rng(7)
    docs = []
    for d in range(12):
        vecs = rng.normal(size=(40, 384)).astype(np.float32)
        vecs /= np.linalg.norm(vecs, axis=1, keepdims=True)
        parsed = ParsedDocument(pages=[Page(1, "x" * 40)], kind="txt", title=f"Doc {d}")
        chunks = [Chunk(page=1, start=i, end=i + 1, text="x", ordinal=i) for i in range(40)]
        docs.append(store.add_document(path=f"/m/{d}.txt", name=f"{d}.txt", sha256="", size=1, parsed=parsed,
                                       chunks=chunks, vectors=vecs)[0])
    q = rng.normal(size=384).astype(np.float32)
    assert len(store.vector_search(q / np.linalg.norm(q), 30, doc_ids=[docs[5]])) == 30


def _fill_matters(postgres, matters: int, per_matter: int):
    """A database of ``matters`` matters of ``per_matter`` random unit vectors each (random:
    the index's filtering is what is measured, not the embedder)."""
    from rag.store.postgres.schema import add_member, create_matter
    from rag.store.postgres.store import PostgresStore

    db, admin = pg_app_setup(postgres)
    conn = postgres.connect(user=APP_ROLE, database=db)
    rng = np.random.default_rng(3)
    ids = []
    for m in range(matters):
        mid = create_matter(admin, f"matter {m}")
        add_member(admin, mid, 100)  # the clerk who loads every matter
        ids.append(mid)
        vecs = rng.normal(size=(per_matter, 384)).astype(np.float32)
        vecs /= np.linalg.norm(vecs, axis=1, keepdims=True)
        parsed = ParsedDocument(pages=[Page(1, "x")], kind="txt", title="t")
        chunks = [Chunk(page=1, start=0, end=1, text="x", ordinal=i) for i in range(per_matter)]
        PostgresStore(conn, mid, 100).add_document(path="/a.txt", name="a.txt", sha256="", size=1,
                                                   parsed=parsed, chunks=chunks, vectors=vecs)
    return db, admin, conn, ids, rng


@pytest.mark.slow
def test_one_matter_among_many_returns_k(postgres) -> None:
    from rag.store.postgres.schema import add_member
    from rag.store.postgres.store import PostgresStore

    db, admin, conn, matters, rng = _fill_matters(postgres, matters=30, per_matter=80)
    add_member(admin, matters[17], USER)
    store = PostgresStore(conn, matters[17], USER, ef_search=40, memory_vectors=0)  # the index, not memory
    # The plan a large matter gets: the HNSW graph walked in distance order. At this size the
    # planner would rather sort the matter's few rows by distance, which is exact anyway.
    for setting in ("enable_seqscan", "enable_bitmapscan", "enable_sort"):
        conn.run(f"SET {setting} = off")
    q = rng.normal(size=384).astype(np.float32)
    q /= np.linalg.norm(q)
    hits = store.vector_search(q, 60)
    assert len(hits) == 60 and set(store.chunks_by_id(i for i, _ in hits)) == {i for i, _ in hits}
    # Without iterative scans the same search finds a few: the graph's 40 nearest of all
    # 2,400 vectors, of which this matter holds about 1 in 30.
    sql = ("SELECT id FROM passages WHERE matter_id=:m ORDER BY embedding <=> CAST(:v AS vector) LIMIT 60")
    conn.run("BEGIN")
    conn.run("SELECT set_config('docqa.user_id', :u, true)", u=str(USER))
    conn.run("SET LOCAL hnsw.ef_search = 40")
    plan = "\n".join(r[0] for r in conn.run("EXPLAIN " + sql, m=matters[17], v=str(q.tolist())))
    few = conn.run(sql, m=matters[17], v=str(q.tolist()))
    conn.run("ROLLBACK")
    assert "passages_embedding" in plan, plan
    assert len(few) < 60
    conn.close()
    admin.close()


def test_vectors_searched_in_memory_match_the_database(postgres) -> None:
    """A matter small enough is searched in memory: the same ids, in the same order, as
    PostgreSQL's exact scan; only its member's rows, and reread when the matter changes."""
    from rag.store.postgres.schema import add_member
    from rag.store.postgres.store import PostgresStore

    db, admin, conn, matters, rng = _fill_matters(postgres, matters=3, per_matter=300)
    add_member(admin, matters[1], USER)
    in_memory, in_db = PostgresStore(conn, matters[1], USER), PostgresStore(conn, matters[1], USER, memory_vectors=0)
    docs = list(in_memory.profiles())
    for _ in range(3):
        q = rng.normal(size=384).astype(np.float32)
        for k, only in ((60, None), (5, None), (40, docs)):
            got, want = in_memory.vector_search(q, k, only), in_db.vector_search(q, k, only)
            assert [i for i, _ in got] == [i for i, _ in want]
            assert max(abs(a - b) for (_, a), (_, b) in zip(got, want)) < 1e-6
    assert PostgresStore(conn, matters[1], OTHER_USER).vector_search(q, 5) == []
    # A document added later is found at once: the change marker says the matter changed.
    vec = q / np.linalg.norm(q)
    parsed = ParsedDocument(pages=[Page(1, "x")], kind="txt", title="t")
    _doc, (new_id,) = in_memory.add_document(path="/b.txt", name="b.txt", sha256="", size=1, parsed=parsed,
                                             chunks=[Chunk(page=1, start=0, end=1, text="x", ordinal=0)],
                                             vectors=vec[None, :])
    assert in_memory.vector_search(q, 1)[0][0] == new_id
    conn.close()
    admin.close()


def test_keywords_ranked_from_the_cache_match_the_database(postgres) -> None:
    """A search whose words the store already ranked is scored from its cache: the same ids,
    in the same order, with the same scores (to the bit) as PostgreSQL's one query; a word
    first seen is ranked by the database, and a change to the matter starts again."""
    import random

    from rag.store.postgres.keywords import keyword_candidates
    from rag.store.postgres.schema import add_member, create_matter
    from rag.store.postgres.store import PostgresStore

    db, admin = pg_app_setup(postgres)
    conn = postgres.connect(user=APP_ROLE, database=db)
    mid = create_matter(admin, "words")
    add_member(admin, mid, USER)
    store = PostgresStore(conn, mid, USER)
    rng = random.Random(5)
    vocab = ("notice termination rent landlord tenant supplier buyer patent indemnity confidential "
             "delaware arbitration invoice payment warranty liability assignment consent audit").split()
    docs = []
    for d in range(6):
        texts = [" ".join(rng.choice(vocab) for _ in range(rng.randint(5, 30))) for _ in range(25)]
        parsed = ParsedDocument(pages=[Page(1, "\n".join(texts))], kind="txt", title=f"Doc {d}")
        chunks = [Chunk(page=1, start=0, end=len(t), text=t, heading="Terms" if i % 7 == 0 else "", ordinal=i)
                  for i, t in enumerate(texts)]
        docs.append(store.add_document(path=f"/m/{d}.txt", name=f"{d}.txt", sha256="", size=1, parsed=parsed,
                                       chunks=chunks, vectors=np.ones((len(texts), 384), np.float32))[0])
    questions = ["who pays the rent and the invoice?", "termination notice", "patent indemnity for the buyer",
                 "is consent needed for assignment?", "audit", "warranty liability delaware arbitration"]

    def both(q: str, k: int, only, share: float):
        conn.run("BEGIN")
        conn.run("SELECT set_config('docqa.user_id', :u, true)", u=str(USER))
        try:
            with store.within(conn):
                cached = store.keyword_search(q, k, only, common_share=share)
                cache = store._word_cache(conn)
                sql = keyword_candidates(conn, mid, q, k, only, share, cache, store.ranking, in_sql=True)
        finally:
            conn.run("ROLLBACK")
        return cached, sql

    for q in questions:
        for k, only, share in ((60, None, 1.0), (8, None, 0.2), (20, docs[1:3], 1.0), (5, [docs[4]], 0.2)):
            cached, sql = both(q, k, only, share)
            assert cached == sql and cached, (q, k, only)
    # Ranked from the cache now: the database is asked nothing but the change marker.
    ran: list[str] = []
    original = conn.run
    conn.run = lambda sql, **kw: (ran.append(sql), original(sql, **kw))[1]
    assert store.keyword_search(questions[0], 8)
    conn.run = original
    assert not any("ts_rank_cd" in s or "count(" in s for s in ran), ran
    # A passage added later is found at once.
    parsed = ParsedDocument(pages=[Page(1, "zebra rent")], kind="txt", title="new")
    _doc, (new_id,) = store.add_document(path="/m/new.txt", name="new.txt", sha256="", size=1, parsed=parsed,
                                         chunks=[Chunk(page=1, start=0, end=10, text="zebra rent", ordinal=0)],
                                         vectors=np.ones((1, 384), np.float32))
    assert store.keyword_search("zebra", 3)[0][0] == new_id
    assert PostgresStore(conn, mid, OTHER_USER).keyword_search("rent", 5) == []
    conn.close()
    admin.close()


def _as(conn, user: str | None, sql: str, **params):
    """``sql`` in a transaction of ``user`` (None: no user set), rolled back."""
    conn.run("BEGIN")
    try:
        if user is not None:
            conn.run("SELECT set_config('docqa.user_id', :u, true)", u=user)
        return conn.run(sql, **params)
    finally:
        conn.run("ROLLBACK")


def test_row_level_security_denies_non_members(postgres, embedder) -> None:
    import pg8000

    from rag.store.postgres.schema import DATA_TABLES, add_member, create_matter
    from rag.store.postgres.store import PostgresStore

    db, admin = pg_app_setup(postgres)
    matter = create_matter(admin, "walled")
    add_member(admin, matter, USER)
    add_member(admin, create_matter(admin, "elsewhere"), OTHER_USER)
    conn = postgres.connect(user=APP_ROLE, database=db)
    store = PostgresStore(conn, matter, USER)
    filled = {name: add(store, embedder, title, name, pages) for title, name, pages in CONTRACT}
    doc_id, ids = filled["lease.pdf"]
    (sup, bypass), = admin.run("SELECT rolsuper, rolbypassrls FROM pg_roles WHERE rolname=:r", r=APP_ROLE)
    assert not sup and not bypass
    assert not admin.run("SELECT 1 FROM pg_tables WHERE tableowner=:r", r=APP_ROLE)
    assert all(admin.run("SELECT relrowsecurity AND relforcerowsecurity FROM pg_class WHERE relname=:t",
                         t=t)[0][0] for t in DATA_TABLES)

    # Through the store, a member of another matter (and a stranger) sees nothing of it.
    for user in (OTHER_USER, 99):
        outsider = PostgresStore(conn, matter, user)
        assert outsider.documents() == [] and outsider.profiles() == {} and outsider.count_chunks() == 0
        assert outsider.chunks_by_id(ids) == {} and outsider.page_text(doc_id, 1) == ""
        assert outsider.first_text(doc_id) == "" and outsider.find_document("/matter/lease.pdf") is None
        assert outsider.keyword_search("monthly rent", 5) == []
        assert outsider.vector_search(embedder.embed_query("monthly rent"), 5) == []
        assert list(outsider.embeddings()) == [] and outsider.distinct_headings() == []
        assert outsider.document_frequency("rent") == 0 and outsider.change_marker() == ""
    # In plain SQL, whatever the query forgets: every table reads empty to a non-member, to
    # no user at all, and once the transaction that set the user has ended.
    store.documents()  # a transaction of USER on this very connection, now committed
    for user in ("99", "", None):
        for t in DATA_TABLES:
            assert _as(conn, user, f"SELECT count(*) FROM {t}") == [[0]], (user, t)
    assert _as(conn, str(USER), "SELECT count(*) FROM passages") == [[9]]  # a member's are there

    # The application role cannot turn the policies off, nor write its way in.
    for sql in ("SET row_security = off; SELECT * FROM passages",  # errors rather than bypass
                "ALTER TABLE passages DISABLE ROW LEVEL SECURITY",
                "ALTER TABLE passages NO FORCE ROW LEVEL SECURITY",
                "DROP POLICY members_only ON passages",
                "SET ROLE postgres",
                f"INSERT INTO matter_members(matter_id, user_id) VALUES ({matter}, 99)",
                f"INSERT INTO documents(matter_id, path, name, kind, status, added_at, updated_at)"
                f" VALUES ({matter}, '/x', 'x', 'txt', 'ready', 0, 0)"):
        with pytest.raises(pg8000.DatabaseError):
            _as(conn, "99", sql)
    # A member cannot move a document into a matter of which they are not a member.
    with pytest.raises(pg8000.DatabaseError):
        _as(conn, str(USER), "UPDATE documents SET matter_id = :o WHERE id = :d",
            o=matter + 1, d=doc_id)
    assert _as(conn, "99", "DELETE FROM passages RETURNING id") == []
    assert store.count_chunks() == 9
    conn.close()
    admin.close()
