#!/usr/bin/env bash
# Set up (if needed) and turn the bundled example track into a palette and a palette track.
set -euo pipefail
cd "$(dirname "$0")/.."
song="${1:-examples/savino_caribbean_excerpt.ogg}"
if [ ! -x .venv/bin/m2p ]; then
    echo "demo: first run: creating .venv and installing music2palette with all extras" \
         "(torch first; a few minutes, more on a slow connection)..." >&2
else
    echo "demo: checking .venv is up to date..." >&2
fi
bash scripts/setup.sh all
echo "demo: palette of $song (the model loads first, a few seconds):" >&2
mkdir -p out
.venv/bin/m2p palette "$song"
echo "demo: palette track of $song -> out/track.json and out/timeline.png:" >&2
.venv/bin/m2p track "$song" -o out/track.json --png out/timeline.png
