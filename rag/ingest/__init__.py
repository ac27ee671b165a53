"""Ingest: find files, parse them (``parsing/``), chunk them with their locations, read
their profiles, and keep the library in step with its folders (``sync``)."""
