#!/usr/bin/env bash
# Install (if needed) and run every check CI runs: ruff, mypy, then the test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
installer/setup-venv.sh test
export QT_QPA_PLATFORM=offscreen
.venv/bin/ruff check rag desktop team tests
.venv/bin/mypy rag desktop team
exec .venv/bin/python -m pytest "$@"
