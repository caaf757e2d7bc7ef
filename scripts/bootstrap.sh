# Create .venv and install ketareport with its test tools into it.
# Sourced by scripts/demo.sh and scripts/test.sh; safe to run again (a no-op when up to date).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

if [ ! -x .venv/bin/python ]; then
    echo "bootstrap: creating .venv with $(python3 --version)" >&2
    python3 -m venv .venv
fi
if [ ! -x .venv/bin/uv ]; then
    echo "bootstrap: installing uv into .venv" >&2
    .venv/bin/python -m pip install --quiet --disable-pip-version-check uv
fi
echo "bootstrap: installing ketareport and its dependencies" >&2
.venv/bin/uv pip install --quiet --python .venv/bin/python -e ".[test]"
