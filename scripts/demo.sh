#!/usr/bin/env bash
# Set up on a fresh machine and run the demo: install the runtime, import the
# bundled sample archive into ./instance, and serve the search page.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON="${PYTHON:-python3}"

"$PYTHON" -m pip install --quiet --disable-pip-version-check -r requirements.txt
export ARCHIVE_HOME="${ARCHIVE_HOME:-instance}"
# Importing again is harmless: unchanged articles are reported and left alone.
"$PYTHON" -m indexer import sample
exec "$PYTHON" -m archive serve --host "${HOST:-127.0.0.1}" --port "${PORT:-8000}"
