-- Team mode (issue 21): many matters in one PostgreSQL database, each readable only by its
-- members. Access is enforced twice: in docqa-server, and here by row-level security, so a
-- bug in the application's SQL still cannot read another matter's rows.
--
-- Conventions shared with docqa-server (its users, tokens, audit and roles live in its own
-- schema file):
--   * the application connects as a role that is neither the tables' owner, a superuser,
--     nor BYPASSRLS; it is granted what rag.store.postgres.schema.grant_app gives;
--   * every transaction starts with  SELECT set_config('docqa.user_id', '<user id>', true)
--     (SET LOCAL: it ends with the transaction, so a pooled connection never carries one
--     user's identity into another's request);
--   * matters and memberships are written by an administrative connection (a superuser or a
--     BYPASSRLS maintenance role: FORCE holds even the tables' owner to the policies), never
--     by the application role, which may only read its own.
-- Idempotent: installing it again changes nothing.

CREATE EXTENSION IF NOT EXISTS vector;  -- pgvector >= 0.8 (iterative index scans)

-- The user of the current transaction, or NULL: current_setting(..., true) is NULL when never
-- set in the session and '' after a SET LOCAL ended; neither names a member.
CREATE OR REPLACE FUNCTION docqa_user() RETURNS bigint
    LANGUAGE sql STABLE PARALLEL SAFE
    AS $$ SELECT NULLIF(current_setting('docqa.user_id', true), '')::bigint $$;

CREATE TABLE IF NOT EXISTS matters(
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name text NOT NULL UNIQUE
);

CREATE TABLE IF NOT EXISTS matter_members(
    matter_id bigint NOT NULL REFERENCES matters(id) ON DELETE CASCADE,
    user_id bigint NOT NULL,          -- docqa-server's users(id)
    role text NOT NULL DEFAULT 'member',
    PRIMARY KEY (matter_id, user_id)
);
CREATE INDEX IF NOT EXISTS matter_members_by_user ON matter_members(user_id, matter_id);

-- A counter per matter bumped by every write to its documents: caches of what searches
-- read (document profiles, word counts) check it, as the SQLite manifest's change marker.
CREATE TABLE IF NOT EXISTS matter_state(
    matter_id bigint PRIMARY KEY REFERENCES matters(id) ON DELETE CASCADE,
    generation bigint NOT NULL DEFAULT 0
);

CREATE TABLE IF NOT EXISTS documents(
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    matter_id bigint NOT NULL REFERENCES matters(id) ON DELETE CASCADE,
    path text NOT NULL,               -- the identity of a document within its matter
    name text NOT NULL,               -- what the user sees
    kind text NOT NULL,
    sha256 text NOT NULL DEFAULT '',
    size bigint NOT NULL DEFAULT 0,
    title text NOT NULL DEFAULT '',
    profile text,                     -- DocProfile JSON (rag/ingest/profiles.py)
    status text NOT NULL,             -- ready | failed (a document is written whole, in one transaction)
    error text NOT NULL DEFAULT '',
    pages integer NOT NULL DEFAULT 0,
    parent_id bigint,                 -- the e-mail this is an attachment of
    mtime double precision NOT NULL DEFAULT 0,
    added_at double precision NOT NULL,
    updated_at double precision NOT NULL,
    UNIQUE (matter_id, path),
    UNIQUE (matter_id, id),           -- target of the (matter_id, doc_id) foreign keys below
    FOREIGN KEY (matter_id, parent_id) REFERENCES documents(matter_id, id) ON DELETE CASCADE
);

-- Child rows name their matter and reference (matter_id, doc_id) together: a page or a
-- passage can never sit in another matter than its document.
CREATE TABLE IF NOT EXISTS pages(
    matter_id bigint NOT NULL,
    doc_id bigint NOT NULL,
    number integer NOT NULL,
    text text NOT NULL,
    ocr_confidence real,
    PRIMARY KEY (doc_id, number),
    FOREIGN KEY (matter_id, doc_id) REFERENCES documents(matter_id, id) ON DELETE CASCADE
);

CREATE TABLE IF NOT EXISTS passages(
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    matter_id bigint NOT NULL,
    doc_id bigint NOT NULL,
    ordinal integer NOT NULL,
    page integer NOT NULL,
    start integer NOT NULL,
    "end" integer NOT NULL,
    heading text NOT NULL DEFAULT '',
    text text NOT NULL,
    location text NOT NULL DEFAULT '',
    embedding vector(384) NOT NULL,   -- the bundled embedder's, unit length
    -- Keyword search: headings weigh more than text (label A against D), as the SQLite
    -- index's bm25(chunks_fts, 2.0, 1.0). Porter-style English stemming, as FTS5's porter.
    tsv tsvector GENERATED ALWAYS AS (
        setweight(to_tsvector('english', heading), 'A') || setweight(to_tsvector('english', text), 'D')
    ) STORED,
    FOREIGN KEY (matter_id, doc_id) REFERENCES documents(matter_id, id) ON DELETE CASCADE
);
CREATE INDEX IF NOT EXISTS passages_by_doc ON passages(doc_id, ordinal);
CREATE INDEX IF NOT EXISTS passages_by_matter ON passages(matter_id);
CREATE INDEX IF NOT EXISTS passages_tsv ON passages USING gin(tsv);
-- One HNSW graph for all matters: a matter's search is a filtered search, which needs
-- hnsw.iterative_scan (set per transaction by the store) to still return k results.
CREATE INDEX IF NOT EXISTS passages_embedding ON passages USING hnsw (embedding vector_cosine_ops);

-- Row-level security: ENABLEd and FORCEd (the tables' owner is held to it too) on every
-- table that holds a matter's data. A row is visible and writable only inside a matter the
-- transaction's user is a member of; with no user set, nothing is.
ALTER TABLE matter_members ENABLE ROW LEVEL SECURITY;
ALTER TABLE matter_members FORCE ROW LEVEL SECURITY;
DROP POLICY IF EXISTS own_memberships ON matter_members;
CREATE POLICY own_memberships ON matter_members FOR SELECT USING (user_id = docqa_user());

DO $$
DECLARE t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['matters', 'matter_state', 'documents', 'pages', 'passages'] LOOP
        EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', t);
        EXECUTE format('ALTER TABLE %I FORCE ROW LEVEL SECURITY', t);
        EXECUTE format('DROP POLICY IF EXISTS members_only ON %I', t);
        -- matter_members' own policy applies inside the subquery: the user's own rows only.
        EXECUTE format(
            'CREATE POLICY members_only ON %I USING (%I IN (SELECT m.matter_id FROM matter_members m'
            ' WHERE m.user_id = docqa_user())) WITH CHECK (%I IN (SELECT m.matter_id FROM matter_members m'
            ' WHERE m.user_id = docqa_user()))',
            t, CASE WHEN t = 'matters' THEN 'id' ELSE 'matter_id' END,
            CASE WHEN t = 'matters' THEN 'id' ELSE 'matter_id' END);
    END LOOP;
END $$;
