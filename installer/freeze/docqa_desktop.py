"""Frozen entry point of ``docqa-desktop``: helper roles first, then the Qt app."""

import sys

from rag.frozen import run_child_if_requested

run_child_if_requested()  # a parser worker or a llama.cpp probe started by the app itself

from desktop.entry import main  # noqa: E402  (after the helper dispatch: a helper needs no Qt)

sys.exit(main())
