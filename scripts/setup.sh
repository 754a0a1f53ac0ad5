#!/usr/bin/env bash
# Create .venv and install music2palette into it (idempotent).
# torch is pinned and installed first: letting pip resolve a bare "torch" pulls CUDA builds.
set -euo pipefail
cd "$(dirname "$0")/.."
extras="${1:-all}"
python=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
    "$python" -m venv .venv
fi
pip() {
    # The local package mirror's index prints one harmless warning per missing project: hide those.
    .venv/bin/python -m pip --disable-pip-version-check -q "$@" 2>&1 \
        | { grep -v "is ignored: it is neither a file nor a directory" || true; }
    return "${PIPESTATUS[0]}"
}
.venv/bin/python -c "import torch" 2>/dev/null || pip install "torch==2.13.0"
pip install -e ".[${extras}]"
.venv/bin/python -c "import m2p" 
