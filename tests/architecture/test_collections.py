"""Who touches a collection: every collection has one owner module, which lists it in its
`COLLECTIONS` tuple, and only that module reads or writes it (docs/README.md, "Collections").

The scan reads every module of `src/clonechats` with `ast` and finds each collection access:
`db[NAME]`, `ctx.db[NAME]` (anything ending in `.db`), `db.name.<method>` and
`db.get_collection(NAME)` / `db.drop_collection(NAME)`. `NAME` is worked out from the module's
own namespace (a constant, an imported one, `repo.USERS`). An access is allowed when the module
owns the collection, or declares `OWNED_FIELDS` on it (`billing.ledger`: `users.credits`), or is
one of the few modules in `GENERIC` below that work on every owner's declarations.
"""

from __future__ import annotations

import ast
import importlib
import pkgutil
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import clonechats

GENERIC = {
    "clonechats.storage.indexes": "creates the indexes each owner declares in `INDEXES`",
    "clonechats.storage.expiring": "the retention job's find, count and delete on a collection "
                                   "whose owner declared it `Expiring`",
}
READS_EVERYTHING = {
    "clonechats.privacy.audit": "`clonechats privacy audit` reads every stored document to "
                                "check the policy's promises, and writes nothing",
}
FOLDS = {
    "clonechats.telemetry.fold": "folds the raw events that telemetry/events.py owns "
                                 "(`cost_events`, `paywall_hits`) into the daily totals it "
                                 "declares (`telemetry_daily`, `paywall_daily`)",
}
"""Known exceptions inside the owner's own domain; the test fails once the module is gone, so
the entry goes with it."""

READ_METHODS = {"find", "find_one", "distinct", "count_documents", "aggregate",
                "index_information"}
DATABASE_METHODS = {"get_collection", "drop_collection"}


@dataclass(frozen=True)
class Access:
    module: str
    line: int
    collection: str | None  # None: not known from the code (a variable)
    method: str | None  # the collection method called on it, when directly

    def __str__(self) -> str:
        return f"{self.module}:{self.line} {self.collection or '<dynamic>'}"


def _modules() -> dict[str, ModuleType]:
    found = {}
    for info in pkgutil.walk_packages(clonechats.__path__, "clonechats."):
        if info.name.endswith("__main__"):  # runs the command line when imported
            continue
        found[info.name] = importlib.import_module(info.name)
    return found


MODULES = _modules()


def _is_db(node: ast.AST) -> bool:
    return (isinstance(node, ast.Name) and node.id == "db") or (
        isinstance(node, ast.Attribute) and node.attr == "db")


def _value(module: ModuleType, node: ast.AST) -> Any:
    """What a constant, a name or a dotted name means in the module; None if not that."""
    if isinstance(node, ast.Constant):
        return node.value
    if isinstance(node, ast.Name):
        return vars(module).get(node.id)
    if isinstance(node, ast.Attribute):
        owner = _value(module, node.value)
        return getattr(owner, node.attr, None) if owner is not None else None
    return None


def _name(module: ModuleType, node: ast.AST) -> str | None:
    value = _value(module, node)
    return value if isinstance(value, str) else None


def _accesses(name: str, module: ModuleType) -> list[Access]:
    path = Path(module.__file__ or "")
    tree = ast.parse(path.read_text(encoding="utf-8"))
    parents = {child: node for node in ast.walk(tree) for child in ast.iter_child_nodes(node)}

    def method_on(node: ast.AST) -> str | None:
        parent = parents.get(node)
        return parent.attr if isinstance(parent, ast.Attribute) else None

    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Subscript) and _is_db(node.value):
            found.append(Access(name, node.lineno, _name(module, node.slice), method_on(node)))
        elif isinstance(node, ast.Attribute) and _is_db(node.value):
            parent = parents.get(node)
            if node.attr in DATABASE_METHODS and isinstance(parent, ast.Call) and parent.args:
                found.append(Access(name, node.lineno, _name(module, parent.args[0]), None))
            elif not (isinstance(parent, ast.Call) and parent.func is node):
                # `db.users.find(...)`, not a call of a method of the database (or of an array)
                found.append(Access(name, node.lineno, node.attr, method_on(node)))
    return found


ACCESSES = [access for name, module in MODULES.items() for access in _accesses(name, module)]


def _owners() -> dict[str, str]:
    owners: dict[str, str] = {}
    for name, module in MODULES.items():
        for collection in vars(module).get("COLLECTIONS", ()):
            assert collection not in owners, (
                f"{collection} is declared by {owners[collection]} and {name}")
            owners[collection] = name
    return owners


OWNERS = _owners()


def _allowed(access: Access) -> bool:
    if access.module in GENERIC or access.module in FOLDS:
        return True
    if access.module in READS_EVERYTHING:
        return access.method in READ_METHODS
    if access.collection is None:
        return False
    if OWNERS.get(access.collection) == access.module:
        return True
    shared = vars(MODULES[access.module]).get("OWNED_FIELDS", {})
    return access.collection in shared


def test_the_scan_finds_the_accesses_it_should():
    assert len(ACCESSES) > 300
    assert Access("clonechats.accounts.repo", 0, "users", "find_one") in {
        Access(a.module, 0, a.collection, a.method) for a in ACCESSES}


def test_every_collection_has_one_declared_owner():
    touched = {access.collection for access in ACCESSES if access.collection}
    assert touched - set(OWNERS) == set(), "collections no module declares in COLLECTIONS"
    assert "users" in OWNERS and OWNERS["users"] == "clonechats.accounts.repo"


def test_every_owner_touches_what_it_declares():
    used = {(access.module, access.collection) for access in ACCESSES}
    assert {(module, collection) for collection, module in OWNERS.items()} - used == set()


def test_only_the_owner_touches_a_collection():
    strays = [str(access) for access in ACCESSES if not _allowed(access)]
    assert strays == []


def test_dynamic_access_only_in_the_generic_modules():
    dynamic = {access.module for access in ACCESSES if access.collection is None}
    assert dynamic - set(GENERIC) - set(READS_EVERYTHING) - set(FOLDS) == set()


def test_the_users_fields_of_the_ledger_are_its_balance():
    from clonechats.billing import ledger

    assert ledger.OWNED_FIELDS == {"users": ("credits", "ledger_keys")}
    sharing = {access.module for access in ACCESSES if access.collection == "users"}
    assert sharing - set(READS_EVERYTHING) == {"clonechats.accounts.repo",
                                               "clonechats.billing.ledger"}


def test_the_listed_exceptions_are_still_needed():
    for module in [*GENERIC, *READS_EVERYTHING, *FOLDS]:
        assert module in MODULES, f"{module} is gone: drop its entry"
        assert any(access.module == module for access in ACCESSES), module
