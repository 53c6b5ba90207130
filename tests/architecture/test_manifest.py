"""The domain manifest (`clonechats.domains`) lists everything a domain plugs into the app.

The package is read as source (nothing is imported to find these): a module that creates an
`APIRouter`, defines `register_jobs`, registers a privacy `DataHolder` or declares `INDEXES`
must be listed in its domain's entry, and every listed module must exist and do what it is
listed for. A route module follows the naming rule of docs/README.md. Routes of different
modules never answer the same request, so the order of the domains does not matter.
"""

import ast
import itertools
import re
from collections.abc import Iterator
from importlib import import_module
from pathlib import Path
from typing import Any

import clonechats
from clonechats import domains

PACKAGE = Path(clonechats.__file__).parent
ADMIN = "clonechats.admin.routes"


def modules() -> Iterator[tuple[str, ast.Module]]:
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        if parts[-1] == "__init__":
            parts = parts[:-1]
        yield ".".join(parts), ast.parse(path.read_text(encoding="utf-8"))


def called(node: ast.expr) -> str | None:
    if isinstance(node, ast.Call):
        function = node.func
        if isinstance(function, ast.Name):
            return function.id
        if isinstance(function, ast.Attribute):
            return function.attr
    return None


def assignments(tree: ast.Module) -> Iterator[tuple[str, ast.expr | None]]:
    """(name, value) of every module-level assignment to a plain name."""
    for node in tree.body:
        if isinstance(node, ast.Assign):
            for target in node.targets:
                if isinstance(target, ast.Name):
                    yield target.id, node.value
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            yield node.target.id, node.value


def router_names(tree: ast.Module) -> list[str]:
    """Module-level names bound to `APIRouter(...)`."""
    return [name for name, value in assignments(tree)
            if value is not None and called(value) == "APIRouter"]


def defines_register_jobs(tree: ast.Module) -> bool:
    return any(isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
               and node.name == "register_jobs" for node in tree.body)


def registers_holder(tree: ast.Module) -> bool:
    """A module-level `register(...)` (or `registry.register(...)`) of `privacy.registry`."""
    sources = [node for node in tree.body if isinstance(node, ast.ImportFrom)]
    imported = any(node.module == "clonechats.privacy.registry" for node in sources) or any(
        node.module == "clonechats.privacy" and any(a.name == "registry" for a in node.names)
        for node in sources)
    calls = any(isinstance(node, ast.Expr) and called(node.value) == "register"
                for node in tree.body)
    return imported and calls


def declares_indexes(tree: ast.Module) -> bool:
    return any(name == "INDEXES" for name, _ in assignments(tree))


SOURCE = dict(modules())


def found(check: Any) -> set[str]:
    return {name for name, tree in SOURCE.items() if check(tree)}


def listed(field: str) -> set[str]:
    return {name for domain in domains.DOMAINS for name in getattr(domain, field)}


def test_every_listed_module_exists_in_its_domain_package() -> None:
    for domain in domains.DOMAINS:
        for field in ("routes", "admin_routes", "jobs", "personal_data", "indexes"):
            for name in getattr(domain, field):
                assert name in SOURCE, f"{domain.package}.{field}: {name} does not exist"
                assert name.startswith(f"clonechats.{domain.package}."), (
                    f"{name} is listed under {domain.package}")
    packages = [domain.package for domain in domains.DOMAINS]
    assert len(packages) == len(set(packages))


def test_every_module_with_a_router_is_listed() -> None:
    app_routes, admin_routes = listed("routes"), listed("admin_routes")
    assert found(router_names) == app_routes | admin_routes
    assert not app_routes & admin_routes, "a module serves the admin console or the app, not both"
    assert ADMIN in app_routes


def test_every_module_with_register_jobs_is_listed() -> None:
    assert found(defines_register_jobs) == listed("jobs")


def test_every_module_that_registers_personal_data_is_listed_once_in_deletion_order() -> None:
    assert found(registers_holder) == listed("personal_data")
    order = domains.PERSONAL_DATA_ORDER
    assert len(order) == len(set(order))
    assert set(order) == listed("personal_data")
    assert order[-1] == "clonechats.accounts.personal_data"  # it removes the user


def test_every_module_that_declares_indexes_is_listed() -> None:
    assert found(declares_indexes) == listed("indexes")


ROUTE_MODULE = re.compile(r"^(routes|pages|[a-z0-9]+(_[a-z0-9]+)*_routes)$")


def test_route_modules_and_their_routers_are_named_by_the_rule() -> None:
    """`routes.py`, `pages.py` or `<topic>_routes.py`, and only those. An app route module calls
    its one router `router`, or a JSON and an HTML router side by side `api` and `pages`; an
    admin section names its routers after the console's router they join, `api` or `pages`."""
    route_modules = listed("routes") | listed("admin_routes")
    for name in route_modules:
        assert ROUTE_MODULE.match(name.rsplit(".", 1)[-1]), f"{name}: not a route module's name"
    for name in listed("routes"):
        assert sorted(router_names(SOURCE[name])) in (["router"], ["api", "pages"]), name
    for name in listed("admin_routes"):
        assert sorted(router_names(SOURCE[name])) in (["api"], ["pages"], ["api", "pages"]), name
    misnamed = [name for name in SOURCE
                if ROUTE_MODULE.match(name.rsplit(".", 1)[-1]) and name not in route_modules]
    assert misnamed == [], "named like a route module but holds no router"


PARAMETER = re.compile(r"^\{[^}]+\}$")


def may_match_one_request(path: str, other: str) -> bool:
    """Whether some request path matches both templates (parameters match any segment)."""
    if ":path}" in path or ":path}" in other:
        return True
    segments, others = path.strip("/").split("/"), other.strip("/").split("/")
    return len(segments) == len(others) and all(
        one == two or PARAMETER.match(one) or PARAMETER.match(two)
        for one, two in zip(segments, others, strict=True))


def routes_of(router: Any, prefix: str) -> Iterator[tuple[str, set[str]]]:
    """A router's own routes (routers it includes are listed modules of their own)."""
    for route in router.routes:
        if hasattr(route, "path"):
            yield prefix + route.path, set(getattr(route, "methods", None) or {"WEBSOCKET"})


def test_no_two_route_modules_answer_the_same_request() -> None:
    admin = import_module(ADMIN)
    routes: list[tuple[str, str, set[str]]] = []
    for name in listed("routes"):
        module = import_module(name)
        for attribute in domains.ROUTER_NAMES:
            if hasattr(module, attribute):
                routes += [(name, path, methods)
                           for path, methods in routes_of(getattr(module, attribute), "")]
    for name in listed("admin_routes"):
        module = import_module(name)
        for attribute in ("api", "pages"):
            if hasattr(module, attribute):
                prefix = getattr(admin, attribute).prefix
                routes += [(name, path, methods)
                           for path, methods in routes_of(getattr(module, attribute), prefix)]
    assert len(routes) > 200
    clashes = [(one, two) for one, two in itertools.combinations(routes, 2)
               if one[0] != two[0] and one[2] & two[2] and may_match_one_request(one[1], two[1])]
    assert clashes == []
