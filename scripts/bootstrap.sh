# Create .venv and install ketareport with its test tools into it.
# Sourced by scripts/demo.sh and scripts/test.sh; safe to run again (a no-op when up to date).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

if [ ! -x .venv/bin/python ]; then
    echo "bootstrap: creating .venv with $(python3 --version)" >&2
    python3 -m venv .venv
fi
# uv installs the stack in seconds (pip takes ~30 s): a uv on PATH, else one in .venv.
UV=$(command -v uv || true)
if [ -z "$UV" ]; then
    if [ ! -x .venv/bin/uv ]; then
        echo "bootstrap: installing uv into .venv" >&2
        # A .venv made by uv has no pip of its own: ensurepip supplies one.
        .venv/bin/python -m pip --version >/dev/null 2>&1 || .venv/bin/python -m ensurepip >/dev/null
        .venv/bin/python -m pip install --quiet --disable-pip-version-check uv
    fi
    UV=.venv/bin/uv
fi
echo "bootstrap: installing ketareport and its dependencies" >&2
# Bytecode is compiled at install time: uv does not do it by default, and where
# PYTHONDONTWRITEBYTECODE is set (as on the project's CI machines) Python would
# otherwise compile pandas, scipy and WeasyPrint from source on every run, which
# more than doubles the time of a demo render (12 s instead of 6 s, measured).
"$UV" pip install --quiet --compile-bytecode --python .venv/bin/python -e ".[test]"
.venv/bin/python -m compileall -q ketareport >/dev/null
