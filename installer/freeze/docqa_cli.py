"""Frozen entry point of ``docqa`` (the CLI): helper roles first, then the command line."""

import sys

from rag.frozen import run_child_if_requested

run_child_if_requested()  # a parser worker or a llama.cpp probe started by the app itself

from rag.cli.main import main  # noqa: E402  (after the helper dispatch: a helper needs none of it)

sys.exit(main())
