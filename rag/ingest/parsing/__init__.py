"""File parsers: one per family of formats, chosen by suffix in :mod:`rag.ingest.parsing.registry`."""
