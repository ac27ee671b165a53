"""``docqa``: the engine from a terminal (:mod:`rag.cli.main`)."""
