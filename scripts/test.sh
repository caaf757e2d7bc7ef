#!/usr/bin/env bash
# Lint (ruff) and run the whole test suite: creates .venv if needed. In CI (CI set), also
# installs from Debian what the cross-checks need (R with lme4, jsonlite,
# knitr and rmarkdown; Chromium; poppler; PostgreSQL and Java for the engine
# tests; npm and python3-venv for the Quarto
# installer, ../shared/quarto/install.sh, which the Quarto tests run) — on a
# user's machine those tests skip when the tools are missing, in CI they fail.
set -euo pipefail
source "$(dirname "$0")/bootstrap.sh"

# postgresql and openjdk-17-jre-headless: the database engine tests (a PostgreSQL server per test session; Spark's JVM).
DEBIAN_PACKAGES="r-base-core r-cran-lme4 r-cran-jsonlite r-cran-knitr r-cran-rmarkdown chromium poppler-utils python3-venv xz-utils postgresql openjdk-17-jre-headless"
if [ -n "${CI:-}" ]; then
    # npm (the Quarto installer, axe-core) from Debian only when no npm is there: a nodejs may bundle its own.
    command -v npm >/dev/null || DEBIAN_PACKAGES="$DEBIAN_PACKAGES npm"
    installed=$(dpkg-query -W -f='${Status} ${Package}\n' $DEBIAN_PACKAGES 2>/dev/null | grep -c "install ok installed" || true)
    if [ "$installed" -ne "$(echo $DEBIAN_PACKAGES | wc -w)" ]; then
        echo "test: installing $DEBIAN_PACKAGES from Debian" >&2
        SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
        $SUDO apt-get update -qq
        DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends $DEBIAN_PACKAGES >/dev/null
    fi
    # axe-core, injected into pages by the accessibility tests.
    if [ ! -f node_modules/axe-core/axe.min.js ]; then
        echo "test: installing axe-core (npm ci)" >&2
        npm ci --no-audit --no-fund --silent
    fi
fi

.venv/bin/ruff check --quiet .
.venv/bin/python -m pytest "$@"
