"""The module graph's rules, read from the code's imports (scripts/module_graph.py): no import loop."""

from __future__ import annotations

import importlib.util
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]

def _module_graph():
    spec = importlib.util.spec_from_file_location("module_graph", REPO / "scripts" / "module_graph.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_no_import_loop():
    """No module imports, even inside a function, a module that imports it back (docs/architecture.md)."""
    module_graph = _module_graph()
    looped = module_graph.in_loops(module_graph.graph(REPO))
    assert not looped, f"modules in an import loop: {sorted(looped)}"
