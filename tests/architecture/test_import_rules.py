"""The import rules of `src/clonechats`, read from the source with `ast` (nothing is imported).

An import counts wherever it is written: at the top of a module or inside a function (a cycle
behind a function-level import is still a cycle). Imports under `if TYPE_CHECKING:` are for the
type checker only and do not count. `from a.b import c` counts as importing the module `a.b.c`
when there is one, else `a.b`.

1. No import cycles between modules.
2. Only the web layer imports the web framework: `fastapi`, `starlette` and `clonechats.web` are
   imported only by the modules under `web/`, `app.py`, `cli.py`, route modules (any module
   that builds an `APIRouter`, whatever its file is called) and the few request helpers named
   in `REQUEST_HELPERS`. Services, repos, jobs, providers and schemas never import them.

Each rule has a short list of known exceptions that are being removed; an entry that no longer
applies fails too, so the lists only shrink.
"""

from __future__ import annotations

import ast
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from itertools import pairwise
from pathlib import Path

import clonechats

PACKAGE = Path(clonechats.__file__).resolve().parent
FRAMEWORK = ("fastapi", "starlette")
WEB_LAYER = ("clonechats.app", "clonechats.cli")  # with clonechats.web and its modules

# Modules outside web/ that work on the request or response itself, so they import the framework.
REQUEST_HELPERS = {
    "clonechats.accounts.dependencies": "the caller, as FastAPI dependencies of the routes",
    "clonechats.accounts.session_cookies": "sets and clears the session cookies on a response",
    "clonechats.accounts.guardian_devices": "the device-id cookie of a guardian's browser",
    "clonechats.accounts.appearance": "PageCallerMiddleware: the theme every page renders with",
    "clonechats.chat.translation.form": "reads the start-a-chat form and Accept-Language",
}

# Known import cycles, each as the one import that closes it; the test ignores these imports.
KNOWN_CYCLES: dict[tuple[str, str], str] = {}

# Known imports of clonechats.web from outside the web layer (neither module imports FastAPI).
KNOWN_WEB_IMPORTS = {
    # the cookie table on the cookie policy page lives beside the code that sets the cookies
    ("clonechats.privacy.policies", "clonechats.web.cookies"): "cookie table in web/",
    # the export archive's pages format times with the pages' helper (framework-free)
    ("clonechats.privacy.export_archive", "clonechats.web.timestamps"): "time helper in web/",
    ("clonechats.privacy.export_index", "clonechats.web.timestamps"): "time helper in web/",
}


@dataclass(frozen=True)
class Import:
    source: str  # the importing module
    target: str  # the imported module, or a third-party name such as "fastapi.responses"
    line: int
    in_function: bool


@dataclass(frozen=True)
class Module:
    name: str
    path: Path
    tree: ast.Module


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


@cache
def modules() -> dict[str, Module]:
    found = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        name = module_name(path)
        found[name] = Module(name, path, ast.parse(path.read_text(encoding="utf-8"), str(path)))
    return found


def is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def imported_names(module: Module, node: ast.Import | ast.ImportFrom) -> list[str]:
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    base = node.module or ""
    if node.level:  # relative: from the module's package, one level up per extra dot
        package = module.name.split(".")
        if module.path.name != "__init__.py":
            package = package[:-1]
        package = package[:len(package) - (node.level - 1)]
        base = ".".join([*package, *([node.module] if node.module else [])])
    known = modules()
    return [f"{base}.{alias.name}" if f"{base}.{alias.name}" in known else base
            for alias in node.names]


def imports_of(module: Module) -> list[Import]:
    found: list[Import] = []

    def visit(nodes: Iterable[ast.AST], in_function: bool) -> None:
        for node in nodes:
            if isinstance(node, ast.If) and is_type_checking(node.test):
                visit(node.orelse, in_function)
                continue
            if isinstance(node, ast.Import | ast.ImportFrom):
                found.extend(Import(module.name, target, node.lineno, in_function)
                             for target in imported_names(module, node))
                continue
            inner = in_function or isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
            visit(ast.iter_child_nodes(node), inner)

    visit(module.tree.body, False)
    return found


def resolve(target: str) -> str | None:
    """The module of the package that `target` names (the nearest enclosing one), or None."""
    known = modules()
    while target not in known and "." in target:
        target = target.rsplit(".", 1)[0]
    return target if target in known else None


@cache
def graph() -> dict[str, dict[str, Import]]:
    """Module -> the package's modules it imports, with the first such import."""
    edges: dict[str, dict[str, Import]] = {name: {} for name in modules()}
    for module in modules().values():
        for item in imports_of(module):
            target = resolve(item.target) if item.target.startswith("clonechats.") else None
            if target is not None and target != module.name:
                edges[module.name].setdefault(target, item)
    return edges


def cycles(edges: dict[str, dict[str, Import]]) -> list[list[str]]:
    """One shortest cycle for each group of modules that import each other (Tarjan's SCCs)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[set[str]] = []

    def connect(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in edges[node]:
            if target not in index:
                connect(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            group = set()
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.add(member)
                if member == node:
                    break
            if len(group) > 1:
                groups.append(group)

    for node in sorted(edges):
        if node not in index:
            connect(node)
    return [shortest_cycle(edges, group) for group in groups]


def shortest_cycle(edges: dict[str, dict[str, Import]], group: set[str]) -> list[str]:
    start = min(group)
    came_from: dict[str, str] = {}
    queue = deque([start])
    while queue:
        node = queue.popleft()
        for target in sorted(edges[node]):
            if target not in group:
                continue
            if target == start:
                path = [node]
                while path[-1] != start:
                    path.append(came_from[path[-1]])
                return [*reversed(path), start]
            if target not in came_from:
                came_from[target] = node
                queue.append(target)
    raise AssertionError(f"no cycle through {start}")


def describe(edges: dict[str, dict[str, Import]], cycle: list[str]) -> str:
    steps = []
    for source, target in pairwise(cycle):
        item = edges[source][target]
        where = "inside a function" if item.in_function else "at the top"
        steps.append(f"  {source} imports {target} ({where}, line {item.line})")
    return "\n".join(steps)


def without(edges: dict[str, dict[str, Import]],
            dropped: set[tuple[str, str]]) -> dict[str, dict[str, Import]]:
    return {source: {target: item for target, item in targets.items()
                     if (source, target) not in dropped}
            for source, targets in edges.items()}


def test_there_are_no_import_cycles() -> None:
    edges = without(graph(), set(KNOWN_CYCLES))
    found = cycles(edges)
    assert not found, "import cycles (break each; a function-level import does not):\n" + \
        "\n\n".join(describe(edges, cycle) for cycle in found)


def reaches(edges: dict[str, dict[str, Import]], start: str, goal: str) -> bool:
    seen, queue = {start}, deque([start])
    while queue:
        node = queue.popleft()
        if node == goal:
            return True
        for target in edges.get(node, {}):
            if target not in seen:
                seen.add(target)
                queue.append(target)
    return False


def test_each_known_cycle_is_still_there() -> None:
    edges = graph()
    stale = sorted((source, target) for source, target in KNOWN_CYCLES
                   if target not in edges.get(source, {}) or not reaches(edges, target, source))
    assert not stale, f"no longer closes a cycle, remove it from KNOWN_CYCLES: {stale}"


def is_route_module(module: Module) -> bool:
    return any(isinstance(node, ast.Call) and (
        (isinstance(node.func, ast.Name) and node.func.id == "APIRouter")
        or (isinstance(node.func, ast.Attribute) and node.func.attr == "APIRouter"))
        for node in ast.walk(module.tree))


def in_web_layer(module: Module) -> bool:
    name = module.name
    return (name == "clonechats.web" or name.startswith("clonechats.web.")
            or name in WEB_LAYER or name in REQUEST_HELPERS or is_route_module(module))


def web_imports(module: Module) -> list[Import]:
    return [item for item in imports_of(module)
            if item.target.split(".")[0] in FRAMEWORK
            or item.target == "clonechats.web" or item.target.startswith("clonechats.web.")]


def test_only_the_web_layer_imports_the_web_framework() -> None:
    broken = [f"  {item.source} imports {item.target} (line {item.line})"
              for module in modules().values() if not in_web_layer(module)
              for item in web_imports(module)
              if (item.source, resolve(item.target) or item.target) not in KNOWN_WEB_IMPORTS]
    assert not broken, ("outside the web layer (web/, app.py, cli.py, route modules, "
                        "REQUEST_HELPERS) nothing imports fastapi, starlette or "
                        "clonechats.web:\n" + "\n".join(broken))


def test_each_known_exception_still_applies() -> None:
    known = modules()
    missing = sorted(name for name in REQUEST_HELPERS if name not in known)
    assert not missing, f"no such module, remove it from REQUEST_HELPERS: {missing}"
    needless = sorted(name for name in REQUEST_HELPERS if not web_imports(known[name]))
    assert not needless, f"imports no web framework, remove it from REQUEST_HELPERS: {needless}"
    edges = graph()
    stale = sorted((source, target) for source, target in KNOWN_WEB_IMPORTS
                   if target not in edges.get(source, {}))
    assert not stale, f"no longer imported, remove it from KNOWN_WEB_IMPORTS: {stale}"


SAMPLE = """
from typing import TYPE_CHECKING

from fastapi import APIRouter

from clonechats import errors
from . import clock

if TYPE_CHECKING:
    from clonechats.context import Ctx
else:
    from clonechats.storage import indexes


def later() -> None:
    from clonechats.web.client import client_info


router = APIRouter()
"""


def test_the_reader_counts_function_level_imports_and_skips_type_checking_ones() -> None:
    sample = Module("clonechats.sample", PACKAGE / "sample.py", ast.parse(SAMPLE))
    found = {item.target: item.in_function for item in imports_of(sample)}
    assert found == {"typing": False, "fastapi": False,
                     "clonechats.errors": False, "clonechats.clock": False,
                     "clonechats.storage.indexes": False, "clonechats.web.client": True}
    assert is_route_module(sample)
    assert not is_route_module(modules()["clonechats.errors"])
