"""The distribution functions of the statistics: scipy.special's own ufuncs, without scipy.special's package import.

``import scipy.special`` runs the package's ``__init__``, which sets up
scipy's array-API layer: it copies numpy's whole namespace, and with it
imports numpy.f2py, numpy.testing (and unittest), numpy.polynomial and
more. That costs about 0.2 s of CPU on every run (0.26 s against 0.03 s,
measured on the project's machine), as much as the whole analysis of the
demo. The functions themselves live in the compiled module
``scipy.special._ufuncs``, which needs none of it.

So that module is imported as a submodule of a bare stand-in for the
package, and the stand-in is removed at once. Anything that later imports
scipy.special (scipy.stats, statsmodels in the tests) runs the real
``__init__``, which finds the same compiled module already imported: the
functions here *are* the objects scipy.special exports, bit for bit
(tests/unit/test_special.py checks the identity). Where scipy.special is
imported already, or the stand-in does not work with the installed scipy,
the ordinary import.
"""

from __future__ import annotations

import importlib
import sys
import types
from pathlib import Path

PACKAGE = "scipy.special"


def _ufuncs() -> types.ModuleType:
    """``scipy.special._ufuncs``, or scipy.special itself when it is (or has to be) imported whole."""
    if PACKAGE not in sys.modules:
        import scipy

        stand_in = types.ModuleType(PACKAGE)
        stand_in.__path__ = [str(Path(scipy.__file__).parent / "special")]
        sys.modules[PACKAGE] = stand_in
        try:
            return importlib.import_module(f"{PACKAGE}._ufuncs")
        except ImportError:
            pass  # a scipy laid out otherwise: the ordinary import below
        finally:
            if sys.modules.get(PACKAGE) is stand_in:
                del sys.modules[PACKAGE]
    return importlib.import_module(PACKAGE)


_source = _ufuncs()
betaincinv = _source.betaincinv
ndtr = _source.ndtr
ndtri = _source.ndtri
stdtr = _source.stdtr
stdtrit = _source.stdtrit
