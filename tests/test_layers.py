"""The code's structure holds: each layer imports only the layers below it (the contract in pyproject.toml,
checked by import-linter), and no two modules import each other, directly or through others."""

from __future__ import annotations

import subprocess
import sys

import grimp

from tests.conftest import REPO

PACKAGES = ("newsmon", "crawler", "db", "alerts", "scheduler")


def test_each_layer_imports_only_the_layers_below_it() -> None:
    # In a fresh interpreter: import-linter inspects classes in a way zope.interface (Twisted's, loaded by the
    # crawl tests) breaks.
    check = ("import sys; from importlinter.cli import lint_imports; "
             "sys.exit(lint_imports(config_filename=sys.argv[1], no_cache=True, no_logo=True))")
    result = subprocess.run([sys.executable, "-c", check, str(REPO / "pyproject.toml")], capture_output=True,
                            text=True, cwd=REPO, check=False)
    assert result.returncode == 0, result.stdout + result.stderr


def test_no_module_imports_itself_through_others() -> None:
    graph = grimp.build_graph(*PACKAGES, cache_dir=None)
    cycles = [component for component in _strongly_connected(graph) if len(component) > 1]
    assert cycles == []


def _strongly_connected(graph: grimp.ImportGraph) -> list[list[str]]:
    """Tarjan's components of the import graph, iteratively (no recursion limit to meet)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    components: list[list[str]] = []
    counter = 0
    for root in sorted(graph.modules):
        if root in index:
            continue
        work = [(root, iter(sorted(graph.find_modules_directly_imported_by(root))))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph.find_modules_directly_imported_by(child)))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                components.append(sorted(component))
    return components
