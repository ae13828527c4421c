#!/usr/bin/env bash
# Create .venv (if missing) and install glassnet into it; with "test", also the test extra
# (pytest, hypothesis, torch==2.13.0 -- the test oracle, never a runtime dependency -- and
# onnxruntime) and the onnx extra, so the ONNX export and import are tested too.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -x .venv/bin/python ]; then
    python3 -m venv .venv
fi
.venv/bin/python -m pip install --quiet --upgrade pip
if [ "${1:-}" = "test" ]; then
    .venv/bin/python -m pip install --quiet -e '.[test,distributed,onnx]'
else
    .venv/bin/python -m pip install --quiet -e .
fi
