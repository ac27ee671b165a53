#!/usr/bin/env bash
# Install (if needed) and start docqa on the bundled default models.
set -euo pipefail
cd "$(dirname "$0")/.."
installer/setup-venv.sh
if [ -f desktop/app.py ]; then
    exec .venv/bin/docqa-desktop "$@"
fi
# Until the desktop app exists: the CLI on a sample document.
lib="${DOCQA_LIBRARY:-$(mktemp -d)/sample-library}"
.venv/bin/docqa --library "$lib" ingest assets/samples
exec .venv/bin/docqa --library "$lib" ask "${1:-What is the notice period for termination?}"
