"""Where the repository's own files (templates/, _quarto.yml) are.

In a checkout (and an editable install) they sit beside the package; a
regular install copies them to ``<prefix>/share/ketareport`` (pyproject's
data-files), where they are looked up next.
"""

from __future__ import annotations

import sys
from pathlib import Path

CHECKOUT = Path(__file__).resolve().parent.parent
INSTALLED = Path(sys.prefix) / "share" / "ketareport"


def repository_file(relative: str) -> Path:
    """The path of ``relative`` (e.g. ``templates``) in the checkout, else in the installed copy."""
    for root in (CHECKOUT, INSTALLED):
        if (root / relative).exists():
            return root / relative
    raise FileNotFoundError(
        f"{relative} is neither in {CHECKOUT} nor in {INSTALLED}: reinstall ketareport (pip install .) or run from a checkout"
    )
