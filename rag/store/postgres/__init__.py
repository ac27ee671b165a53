"""Team mode's store: one matter's documents, pages and passages in PostgreSQL (pgvector for
vectors, tsvector for keywords), behind row-level security."""
