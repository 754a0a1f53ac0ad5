#!/usr/bin/env bash
# Set up (if needed) and turn the bundled example track into a palette and a palette track.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh all
song="${1:-examples/savino_caribbean_excerpt.ogg}"
mkdir -p out
.venv/bin/m2p palette "$song"
.venv/bin/m2p track "$song" -o out/track.json --png out/timeline.png
