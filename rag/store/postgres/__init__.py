"""Team mode's store: one matter's documents, pages and passages in PostgreSQL (pgvector for
vectors, tsvector for keywords), behind row-level security.

For docqa-server::

    admin = pg8000.native.Connection(...)          # superuser or BYPASSRLS maintenance role
    install_schema(admin); grant_app(admin, "docqa_app")
    matter = create_matter(admin, "Acme v. Widget"); add_member(admin, matter, user_id)

    conn = pg8000.native.Connection(user="docqa_app", ...)   # not owner/superuser/BYPASSRLS
    store = PostgresStore(conn, matter, user_id)   # every call: its own transaction, with
    retriever = HybridRetriever(store, embedder)   # SET LOCAL docqa.user_id for the policies

A store keeps per-matter word counts for keyword ranking, and the vectors of a matter of up
to ``memory_vectors`` passages (searched in memory, exactly), until the matter changes: keep
one per matter and user rather than one per request where latency matters. docqa-server runs
a store's calls inside the request's own transaction, already set to the user
(``with store.within(conn): ...``).
"""
