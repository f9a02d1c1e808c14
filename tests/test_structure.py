"""The project's shape rules, checked on its source: no import circles, no module over ~400 lines.

Both rules are about a newcomer reading the code (issue 14): a circle means
no module in it can be understood, or imported, before the others, and a
long module hides its seams. Import circles are found on the source, not by
importing it: every ``import`` statement counts, the lazy ones inside
functions included, because a lazy import only hides a circle from Python,
not from the reader. Only ``if TYPE_CHECKING:`` blocks are left out: nothing
runs them, and a type named in an annotation fixes no order of import.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("norms", "attribution", "crawler")

# --- import circles ----------------------------------------------------------------------

# Imports that still close a circle, each as (importer, imported) with the reason it is there.
# The check drops these edges and then finds no circle; naming the closing edge, rather than
# the modules of the circle, keeps a circle from growing unnoticed while modules are added
# beside it. This list may only shrink: the test fails on an entry that is no longer imported.
ALLOWED_EDGES: dict[tuple[str, str], str] = {
}


def module_files(root: Path = ROOT, packages: Iterable[str] = PACKAGES) -> dict[str, Path]:
    """Dotted module name -> file, for every ``.py`` file of ``packages`` under ``root``."""
    found: dict[str, Path] = {}
    for package in packages:
        for path in sorted((root / package).rglob("*.py")):
            parts = list(path.relative_to(root).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            found[".".join(parts)] = path
    return found


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _runtime_nodes(tree: ast.AST) -> Iterator[ast.AST]:
    """Every node of ``tree`` except the bodies of ``if TYPE_CHECKING:`` (their ``else`` runs)."""
    pending = [tree]
    while pending:
        node = pending.pop()
        yield node
        if isinstance(node, ast.If) and _is_type_checking(node.test):
            pending.extend(node.orelse)
            continue
        pending.extend(ast.iter_child_nodes(node))


def _imported(module: str, is_package: bool, tree: ast.AST, known: Mapping[str, Path]) -> set[str]:
    """The project modules ``tree`` imports, anywhere in the file (functions and TYPE_CHECKING too).

    ``from pkg import name`` depends on ``pkg.name`` when that is a module,
    else on ``pkg`` itself (its ``__init__``). Modules outside ``known``
    (the standard library, third parties) are left out.
    """
    here = module.split(".") if is_package else module.split(".")[:-1]
    targets: set[str] = set()
    for node in _runtime_nodes(tree):
        if isinstance(node, ast.Import):
            targets.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base_parts = here[: len(here) - (node.level - 1)] if node.level > 1 else here
                base = ".".join(base_parts + ([node.module] if node.module else []))
            else:
                base = node.module or ""
            for alias in node.names:
                submodule = f"{base}.{alias.name}"
                targets.add(submodule if submodule in known else base)
    out = set()
    for target in targets:
        # ``import a.b.c`` of a name that is not a module of ours: its nearest known parent.
        while target and target not in known:
            target = target.rpartition(".")[0]
        if target and target != module:
            out.add(target)
    return out


def import_graph(files: Mapping[str, Path]) -> dict[str, set[str]]:
    """Module -> the project modules it imports."""
    graph: dict[str, set[str]] = {}
    for module, path in files.items():
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        graph[module] = _imported(module, path.name == "__init__.py", tree, files)
    return graph


def cycles(graph: Mapping[str, Iterable[str]]) -> list[tuple[str, ...]]:
    """The strongly connected components with more than one module (Tarjan's algorithm, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    found: list[tuple[str, ...]] = []
    counter = 0
    for start in sorted(graph):
        if start in index:
            continue
        work = [(start, iter(sorted(graph[start])))]
        index[start] = low[start] = counter
        counter += 1
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph.get(child, ())))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(tuple(sorted(component)))
    return sorted(found)


def _edges_within(graph: Mapping[str, set[str]], component: tuple[str, ...]) -> str:
    members = set(component)
    return "; ".join(
        f"{m} -> {', '.join(sorted(graph[m] & members))}" for m in component if graph[m] & members
    )


def test_the_project_has_no_import_circles() -> None:
    graph = import_graph(module_files())
    stale = [edge for edge in ALLOWED_EDGES if edge[1] not in graph.get(edge[0], set())]
    assert not stale, f"allowed imports that no longer exist, remove them from ALLOWED_EDGES: {stale}"
    for importer, imported in ALLOWED_EDGES:
        graph[importer] = graph[importer] - {imported}
    found = cycles(graph)
    assert not found, "import circles (move the shared piece to a module both can import):\n" + "\n".join(
        _edges_within(graph, c) for c in found
    )


def _write(root: Path, files: Mapping[str, str]) -> None:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")


@pytest.mark.parametrize(
    ("files", "expected"),
    [
        # a lazy import inside a function closes the circle as much as a top-level one
        (
            {
                "pkg/__init__.py": "",
                "pkg/a.py": "from pkg.b import thing\n",
                "pkg/b.py": "def thing():\n    from pkg import a\n    return a\n",
            },
            [("pkg.a", "pkg.b")],
        ),
        # through a package __init__ that re-exports, and a relative import
        (
            {
                "pkg/__init__.py": "from .sub.c import C\n",
                "pkg/sub/__init__.py": "",
                "pkg/sub/c.py": "from ..d import D\nC = 1\n",
                "pkg/d.py": "import pkg\nD = 1\n",
                "pkg/e.py": "import os\nfrom pkg.sub import c\n",
            },
            [("pkg", "pkg.d", "pkg.sub.c")],
        ),
        # a type-only import is no circle (nothing runs it), but its ``else`` branch is
        (
            {
                "pkg/__init__.py": "",
                "pkg/a.py": "from pkg.b import B\nA = 1\n",
                "pkg/b.py": "import typing\nif typing.TYPE_CHECKING:\n    from pkg.a import A\nB = 1\n",
                "pkg/c.py": "from pkg.d import D\n",
                "pkg/d.py": "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    pass\nelse:\n    import pkg.c\nD = 1\n",
            },
            [("pkg.c", "pkg.d")],
        ),
        # no circle: a chain and a diamond
        (
            {
                "pkg/__init__.py": "",
                "pkg/a.py": "from pkg import b, c\n",
                "pkg/b.py": "from pkg.d import x\n",
                "pkg/c.py": "import pkg.d\n",
                "pkg/d.py": "x = 1\n",
            },
            [],
        ),
    ],
)
def test_the_circle_finder_sees_lazy_relative_and_type_only_imports(
    tmp_path: Path, files: dict[str, str], expected: list[tuple[str, ...]]
) -> None:
    _write(tmp_path, files)
    assert cycles(import_graph(module_files(tmp_path, ["pkg"]))) == expected


def test_the_circle_finder_sees_a_circle_added_to_the_real_code(tmp_path: Path) -> None:
    """The real tree with one lazy import added (crawler.ledger.records -> crawler.ledger.store) has a circle."""
    files = module_files()
    graph = import_graph(files)
    graph["crawler.ledger.records"] = graph["crawler.ledger.records"] | {"crawler.ledger.store"}
    found = cycles(graph)
    assert any({"crawler.ledger.records", "crawler.ledger.store"} <= set(c) for c in found)


# --- module length -----------------------------------------------------------------------

MAX_LINES = 400

# Modules still over MAX_LINES (their length when listed), waiting to be split along their seams.
# This list may only shrink: the test fails on a module over the limit that is not listed, and
# on a listed module that is now within it (remove it then). Never add one.
OVER_THE_LIMIT: dict[str, int] = {
}


def test_no_module_is_over_the_line_limit() -> None:
    lengths = {
        str(path.relative_to(ROOT)): len(path.read_text(encoding="utf-8").splitlines())
        for path in module_files().values()
    }
    over = {name: n for name, n in lengths.items() if n > MAX_LINES}
    new = {name: n for name, n in over.items() if name not in OVER_THE_LIMIT}
    assert not new, f"modules over {MAX_LINES} lines (split them along their seams): {new}"
    shrunk = sorted(name for name in OVER_THE_LIMIT if name not in over)
    assert not shrunk, f"now within {MAX_LINES} lines, remove from OVER_THE_LIMIT: {shrunk}"
