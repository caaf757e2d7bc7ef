"""Print ketareport's module graph from its actual imports, as the text diagram of docs/architecture.md.

Usage (from the repository root; reads ketareport/, runs nothing):

    python scripts/module_graph.py           # print the diagram
    python scripts/module_graph.py --write   # put it into docs/architecture.md (a test holds them equal)

One line per module (the sources/ package counts as one),
on floors: a module stands above everything it imports, floor 1 imports no
other module of ketareport. Imports made only for type hints (under
``if TYPE_CHECKING:``) are not dependencies and are left out; imports inside
a function (made lazily, for start-up time) are. A module that is part of an
import loop is marked with ``*``.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

PACKAGES = ("sources",)
"""Drawn as one node each: a package whose files only make sense together."""


def node_of(module: str) -> str:
    """``ketareport.sources.rules`` -> ``sources/``; ``ketareport.present.build`` -> ``present/build``."""
    parts = module.split(".")[1:]
    if not parts:
        return ""
    return f"{parts[0]}/" if parts[0] in PACKAGES else "/".join(parts)


def _type_checking_only(tree: ast.Module) -> set[int]:
    """Line numbers of the imports under ``if TYPE_CHECKING:``."""
    lines = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            for inner in node.body:
                for sub in ast.walk(inner):
                    if isinstance(sub, (ast.Import, ast.ImportFrom)):
                        lines.add(sub.lineno)
    return lines


def imports_of(path: Path, module: str, is_package: bool) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    skipped = _type_checking_only(tree)
    package = module if is_package else module.rsplit(".", 1)[0]
    found = set()
    for node in ast.walk(tree):
        if getattr(node, "lineno", None) in skipped:
            continue
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
                found |= {f"{target}.{alias.name}" for alias in node.names} if node.module is None else {target}
            elif node.module and node.module.split(".")[0] == "ketareport":
                found.add(node.module)
        elif isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names if alias.name.split(".")[0] == "ketareport"}
    return found


def graph(root: Path) -> dict[str, set[str]]:
    modules = {}
    for path in sorted((root / "ketareport").rglob("*.py")):
        parts = path.relative_to(root).with_suffix("").parts
        is_package = parts[-1] == "__init__"
        modules[".".join(parts[:-1] if is_package else parts)] = (path, is_package)
    edges: dict[str, set[str]] = {}
    for module, (path, is_package) in modules.items():
        source = node_of(module)
        if source in ("", "__main__") or (is_package and source.split("/")[0] not in PACKAGES):
            continue  # the command's entry point, or a package's face (its files are drawn)
        edges.setdefault(source, set())
        for target in imports_of(path, module, is_package):
            while target not in modules and "." in target:
                target = target.rsplit(".", 1)[0]
            node = node_of(target)
            if target in modules and node not in ("", source):
                edges[source].add(node)
    return edges


def in_loops(edges: dict[str, set[str]]) -> set[str]:
    def reaches(start: str, goal: str) -> bool:
        seen, stack = set(), list(edges.get(start, ()))
        while stack:
            node = stack.pop()
            if node == goal:
                return True
            if node not in seen:
                seen.add(node)
                stack += edges.get(node, ())
        return False
    return {node for node in edges if reaches(node, node)}


def floors(edges: dict[str, set[str]]) -> dict[str, int]:
    floor: dict[str, int] = {}

    def of(node: str, path: tuple[str, ...] = ()) -> int:
        if node in floor:
            return floor[node]
        if node in path:  # a loop: count the edge that closes it as level
            return 0
        result = 1 + max((of(target, path + (node,)) for target in sorted(edges.get(node, ()))), default=0)
        floor[node] = result
        return result

    for node in sorted(edges):  # sorted: in a loop, which edge closes it must not depend on hash order
        of(node)
    return floor


def diagram(root: Path) -> str:
    edges = graph(root)
    floor, looped = floors(edges), in_loops(edges)
    width = max(len(node) for node in edges) + 1
    lines = []
    for level in sorted(set(floor.values()), reverse=True):
        for node in sorted(n for n in edges if floor[n] == level):
            targets = sorted(edges[node], key=lambda t: (-floor[t], t))
            name = f"{node}{'*' if node in looped else ''}"
            lines.append(f"{level:>2}  {name:<{width}} -> {', '.join(targets) if targets else '(nothing of ketareport)'}")
    return "\n".join(lines) + "\n"


ARCHITECTURE = Path("docs") / "architecture.md"
FENCE = "```\n"


def documented_diagram(root: Path) -> str:
    """The diagram as docs/architecture.md shows it: the first code block after "## Module graph"."""
    text = (root / ARCHITECTURE).read_text(encoding="utf-8")
    start = text.index(FENCE, text.index("## Module graph")) + len(FENCE)
    return text[start:text.index(FENCE, start)]


def write_diagram(root: Path) -> None:
    path = root / ARCHITECTURE
    text = path.read_text(encoding="utf-8")
    start = text.index(FENCE, text.index("## Module graph")) + len(FENCE)
    path.write_text(text[:start] + diagram(root) + text[text.index(FENCE, start):], encoding="utf-8")


if __name__ == "__main__":
    if sys.argv[1:] == ["--write"]:
        write_diagram(Path.cwd())
    else:
        print(diagram(Path(sys.argv[1]) if len(sys.argv) > 1 else Path.cwd()), end="")
