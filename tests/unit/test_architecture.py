"""The architecture's rules, read from the code: no import loop (scripts/module_graph.py), no module over
450 lines, no function over about 80 lines without a reason in its docstring (docs/architecture.md)."""

from __future__ import annotations

import functools
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


def test_the_documented_graph_is_the_code_s():
    """docs/architecture.md draws the graph of today's imports."""
    module_graph = _module_graph()
    assert module_graph.documented_diagram(REPO) == module_graph.diagram(REPO), (
        "docs/architecture.md's module graph is out of date: run python scripts/module_graph.py --write "
        "(and say in its paragraphs what a new module owns)")


MODULE_LINES = 450
FUNCTION_LINES = 80
KEPT_WHOLE = "Kept whole:"
"""How a function over FUNCTION_LINES says, in its docstring, why it is not split."""
BEING_SPLIT: dict[str, str] = {}
"""Over a limit today, with the issue that splits them; remove an entry once it is done."""


@functools.cache
def _sizes() -> tuple[dict[str, int], dict[str, tuple[int, str | None]]]:
    """Lines per module, and (lines, docstring) per function, named ``path:function``."""
    import ast

    modules, functions = {}, {}
    for path in sorted((REPO / "ketareport").rglob("*.py")):
        name = path.relative_to(REPO).as_posix()
        text = path.read_text(encoding="utf-8")
        modules[name] = len(text.splitlines())
        for node in ast.walk(ast.parse(text)):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                functions[f"{name}:{node.name}"] = (node.end_lineno - node.lineno + 1, ast.get_docstring(node))
    return modules, functions


def test_no_module_over_the_limit():
    modules, _ = _sizes()
    over = {name: lines for name, lines in modules.items() if lines > MODULE_LINES and name not in BEING_SPLIT}
    assert not over, f"modules over {MODULE_LINES} lines (split them by what each part owns): {over}"


def test_no_function_over_the_limit_without_a_reason():
    _, functions = _sizes()
    over = {name: lines for name, (lines, doc) in functions.items()
            if lines > FUNCTION_LINES and KEPT_WHOLE not in (doc or "") and name not in BEING_SPLIT}
    assert not over, (f"functions over {FUNCTION_LINES} lines: split them, or say why not in the docstring "
                      f"({KEPT_WHOLE!r} ...): {over}")


def test_what_is_being_split_is_still_over_the_limit():
    """An entry of BEING_SPLIT goes once its module or function is within the limits (it would excuse a regrowth)."""
    modules, functions = _sizes()
    done = [name for name in BEING_SPLIT
            if modules.get(name, 0) <= MODULE_LINES and functions.get(name, (0, None))[0] <= FUNCTION_LINES]
    assert not done, f"within the limits now: remove {done} from BEING_SPLIT"
