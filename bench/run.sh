#!/usr/bin/env bash
# ketareport against its R peers (bench/peer/), alternating in one run: prints one table.
# Usage: bash bench/run.sh [--repeat K] [PATIENTS ...]   (default 49 3000 30000 100000)
set -euo pipefail
cd "$(dirname "$0")/.."
[ -x .venv/bin/python ] || bash scripts/bootstrap.sh >&2
# Measure what an installed ketareport runs: its bytecode current (where PYTHONDONTWRITEBYTECODE is set,
# an edited module would otherwise be compiled again on every run).
.venv/bin/python -m compileall -q ketareport >/dev/null
exec .venv/bin/python bench/run.py "$@"
