#!/usr/bin/env bash
# Set up (if needed) and run the whole test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh "test,all"
export MPLBACKEND=Agg
exec .venv/bin/python -m pytest -q "$@"
