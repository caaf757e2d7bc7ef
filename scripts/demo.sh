#!/usr/bin/env bash
# Render the demo report: creates .venv if needed, then writes reports/demo/.
set -euo pipefail
source "$(dirname "$0")/bootstrap.sh"
.venv/bin/ketareport render data/demo --out reports/demo "$@"
