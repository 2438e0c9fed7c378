#!/usr/bin/env bash
# Set up on a fresh machine and run the demo: make the virtual environment,
# import the bundled sample archive into ./instance, and serve the search page.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export ARCHIVE_HOME="${ARCHIVE_HOME:-instance}"
# Importing again is harmless: unchanged articles are reported and left alone.
.venv/bin/python -m indexer import sample
exec .venv/bin/python -m archive serve --host "${HOST:-127.0.0.1}" --port "${PORT:-8000}"
