"""``docqa-desktop``: parse the command line, then start the app or its offscreen self-test.

Kept apart from :mod:`desktop.app` so that the self-test (:mod:`desktop.smoke`), which
builds the app, and the app do not import each other."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path

import rag  # noqa: F401, I001  (offline switches first)
from desktop.app import STARTUP_TRACE, DesktopApp, FirstExpose, make_qapplication
from desktop.settings import Settings
from desktop.theme import apply_theme
from desktop.ui_state import UiState


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="docqa-desktop", description="Private document Q&A on this computer.")
    p.add_argument("--smoke", nargs=2, metavar=("FILE", "QUESTION"),
                   help="offscreen self-test: ingest FILE, ask QUESTION, open the first citation")
    p.add_argument("--screenshot", type=Path, help="with --smoke: where to save a PNG of the window")
    p.add_argument("--model", type=Path, help="a GGUF model to use instead of the configured one")
    p.add_argument("--timeout", type=float, default=300.0, help="with --smoke: give up after this many seconds")
    p.add_argument("--threads", type=int, help="CPU threads for the model (default: the settings)")
    p.add_argument("--dark", action="store_true", help="force the dark colour scheme")
    return p.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    if args.smoke:
        from desktop.smoke import run_smoke

        return run_smoke(args)
    app = make_qapplication(sys.argv[:1])
    desktop = DesktopApp(app, ui_state=UiState())
    if args.model:
        desktop.apply_settings(Settings(**{**vars(desktop.settings), "model_path": str(args.model)}))
    if args.dark or os.environ.get("DOCQA_THEME") == "dark":
        apply_theme(app, "dark")
    trace = os.environ.get(STARTUP_TRACE, "")
    if trace:
        tracer = FirstExpose(app, trace == "quit")
        desktop.window.installEventFilter(tracer)
    desktop.start()
    return app.exec()



if __name__ == "__main__":
    sys.exit(main())
