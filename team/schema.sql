-- docqa-server's own tables: accounts, sign-in tokens and the hash-chained audit trail.
-- Applied by `docqa-server init` as the owner role, after the store's schema
-- (rag/store/postgres/schema.sql). Idempotent: every statement can run again.
-- The application role gets only what the server needs (granted by team/admin.py):
-- it can add audit rows but never change or remove them.

CREATE TABLE IF NOT EXISTS team_users (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name          text NOT NULL UNIQUE CHECK (name ~ '^[A-Za-z0-9._@-]{1,64}$'),
    password_hash text NOT NULL,            -- Argon2id, encoded with its parameters and salt
    auditor       boolean NOT NULL DEFAULT false,  -- may read the audit of matters they belong to
    disabled      boolean NOT NULL DEFAULT false,
    created_at    timestamptz NOT NULL DEFAULT now()
);

-- A token is a random secret the client keeps; only its SHA-256 is stored, so a copy
-- of this table signs no one in.
CREATE TABLE IF NOT EXISTS team_tokens (
    token_hash  bytea PRIMARY KEY,
    user_id     bigint NOT NULL REFERENCES team_users(id) ON DELETE CASCADE,
    created_at  timestamptz NOT NULL DEFAULT now(),
    expires_at  timestamptz NOT NULL,       -- absolute end, whatever the use
    last_used   timestamptz NOT NULL DEFAULT now()  -- idle logout counts from here
);
CREATE INDEX IF NOT EXISTS team_tokens_user ON team_tokens(user_id);

-- Every retrieval, quote, page view, export, admin change and denied attempt. Each row
-- holds the hash of the one before it (prev_hash) and its own hash over its fields and
-- prev_hash: editing, removing or reordering a row breaks the chain from there on
-- (`docqa-server audit verify`). team_audit_head keeps the last hash, so cutting rows
-- off the end shows too.
CREATE TABLE IF NOT EXISTS team_audit (
    id          bigint PRIMARY KEY,         -- 1, 2, 3 ... with no gaps: set under the chain lock
    at          timestamptz NOT NULL,
    user_name   text NOT NULL,              -- the name, not only the id: the record outlives the account
    matter      text NOT NULL DEFAULT '',   -- matter name ('' for sign-in and server-wide changes)
    action      text NOT NULL,              -- 'search', 'quotes', 'page', 'export', 'login', 'member add', ...
    outcome     text NOT NULL,              -- 'ok', 'denied', 'failed'
    passage_ids bigint[] NOT NULL DEFAULT '{}',
    detail      text NOT NULL DEFAULT '{}', -- JSON with sorted keys, hashed as written
    prev_hash   text NOT NULL,
    hash        text NOT NULL
);
CREATE INDEX IF NOT EXISTS team_audit_matter ON team_audit(matter, id);

CREATE TABLE IF NOT EXISTS team_audit_head (
    one     boolean PRIMARY KEY DEFAULT true CHECK (one),
    last_id bigint NOT NULL,
    hash    text NOT NULL
);
INSERT INTO team_audit_head (one, last_id, hash) VALUES (true, 0, repeat('0', 64)) ON CONFLICT DO NOTHING;
