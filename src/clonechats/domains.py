"""The domain manifest: what each domain plugs into the app, listed in one place.

Per domain (a package under `clonechats`): the route modules the app includes, the route modules
the admin console mounts, the module whose `register_jobs(registry)` adds its job handlers, the
modules that register a privacy `DataHolder` when imported, and the modules that declare
`INDEXES`. `app.py`, `admin/routes.py`, `context.py` and `storage/indexes.py` read these lists
and nothing else; `tests/architecture/test_manifest.py` walks the package and fails on a module
that creates an `APIRouter`, has `register_jobs`, registers a holder or declares indexes without
being listed here.

Entries are dotted module names, imported only when the app or the context is built: importing
this module imports nothing. A route module's routers are included `api` first, then `pages`,
then `router` (whichever it has). Route order matters only where two paths can match one request;
the manifest test checks that no two modules' routes can, so the order of the domains below does
not change which handler answers.
"""

from collections.abc import Iterator
from dataclasses import dataclass
from importlib import import_module
from types import ModuleType
from typing import Any

ROUTER_NAMES = ("api", "pages", "router")
"""The names a route module gives its routers, in the order they are included."""


@dataclass(frozen=True)
class Domain:
    package: str
    """The package under `clonechats` every module below lives in (`chat.scheduled`)."""
    routes: tuple[str, ...] = ()
    """Modules whose routers the app includes, in this order."""
    admin_routes: tuple[str, ...] = ()
    """Modules whose routers hang from the admin console (`/api/v1/admin`, `/admin`)."""
    jobs: tuple[str, ...] = ()
    """Modules with `register_jobs(registry)`."""
    personal_data: tuple[str, ...] = ()
    """Modules that register a `privacy.registry.DataHolder` when imported (see
    `PERSONAL_DATA_ORDER` for the order they are imported in)."""
    indexes: tuple[str, ...] = ()
    """Modules that declare `INDEXES: list[storage.Index]`."""


def _in(package: str, *names: str) -> tuple[str, ...]:
    return tuple(f"clonechats.{package}.{name}" for name in names)


DOMAINS: tuple[Domain, ...] = (
    Domain("web", routes=_in("web", "routes")),
    Domain("accounts",
           routes=_in("accounts", "routes", "account_routes", "pages", "google_routes",
                      "guardian_routes", "two_factor_routes"),
           personal_data=_in("accounts", "personal_data"),
           indexes=_in("accounts", "repo", "sessions", "audit", "throttle", "tokens", "api_keys",
                       "age", "trials", "google", "two_factor_login")),
    Domain("admin", routes=_in("admin", "routes")),
    Domain("personas",
           routes=_in("personas", "routes", "pages", "card_routes"),
           personal_data=_in("personas", "personal_data"),
           indexes=_in("personas", "repo", "favourites")),
    Domain("personas.memory",
           routes=_in("personas.memory", "routes", "my_memory_routes"),
           jobs=_in("personas.memory", "jobs"),
           personal_data=_in("personas.memory", "personal_data"),
           indexes=_in("personas.memory", "repo")),
    Domain("media",
           routes=_in("media", "routes"),
           jobs=_in("media", "jobs"),
           personal_data=_in("media", "personal_data"),
           indexes=_in("media", "repo")),
    Domain("billing",
           routes=_in("billing", "routes", "pages"),
           admin_routes=_in("billing", "admin_routes"),
           jobs=_in("billing", "jobs"),
           personal_data=_in("billing", "personal_data"),
           indexes=_in("billing", "ledger", "orders", "subscriptions", "webhook_log")),
    Domain("chat",
           routes=_in("chat", "routes", "pages"),
           jobs=_in("chat", "jobs"),
           personal_data=_in("chat", "personal_data", "idempotency"),
           indexes=_in("chat", "repo", "idempotency")),
    Domain("privacy",
           routes=_in("privacy", "routes", "pages"),
           admin_routes=_in("privacy", "admin_routes"),
           jobs=_in("privacy", "jobs"),
           personal_data=_in("privacy", "personal_data"),
           indexes=_in("privacy", "repo")),
    Domain("rooms",
           routes=_in("rooms", "routes", "pages"),
           jobs=_in("rooms", "jobs"),
           personal_data=_in("rooms", "personal_data"),
           indexes=_in("rooms", "repo")),
    Domain("chat.translation", routes=_in("chat.translation", "routes")),
    Domain("voice",
           routes=_in("voice", "routes", "pages"),
           indexes=_in("voice", "clones")),
    Domain("media.clips",
           routes=_in("media.clips", "routes"),
           personal_data=_in("media.clips", "personal_data"),
           indexes=_in("media.clips", "repo")),
    Domain("media.video",
           routes=_in("media.video", "routes"),
           jobs=_in("media.video", "jobs"),
           personal_data=_in("media.video", "personal_data"),
           indexes=_in("media.video", "repo")),
    Domain("chat.scheduled",
           routes=_in("chat.scheduled", "routes", "pages"),
           jobs=_in("chat.scheduled", "jobs"),
           personal_data=_in("chat.scheduled", "personal_data"),
           indexes=_in("chat.scheduled", "repo")),
    Domain("contact",
           routes=_in("contact", "routes"),
           admin_routes=_in("contact", "admin_routes"),
           personal_data=_in("contact", "personal_data"),
           indexes=_in("contact", "repo")),
    Domain("safety",
           routes=_in("safety", "routes"),
           admin_routes=_in("safety", "flag_routes", "review_routes"),
           personal_data=_in("safety", "personal_data", "warnings"),
           indexes=_in("safety", "flags", "rate_limits", "warnings")),
    Domain("telemetry",
           admin_routes=_in("telemetry", "dashboard_routes", "admin_routes"),
           personal_data=_in("telemetry", "events"),
           indexes=_in("telemetry", "events", "fold", "errors", "clips")),
    Domain("mail",
           jobs=_in("mail", "jobs"),
           personal_data=_in("mail", "personal_data")),
    Domain("jobs", indexes=_in("jobs", "repo")),
    Domain("providers", indexes=_in("providers", "email.outbox", "payments.sandbox")),
)

PERSONAL_DATA_ORDER: tuple[str, ...] = (
    "clonechats.personas.personal_data",
    "clonechats.personas.memory.personal_data",
    "clonechats.media.personal_data",
    "clonechats.billing.personal_data",
    "clonechats.mail.personal_data",
    "clonechats.safety.personal_data",
    "clonechats.telemetry.events",
    "clonechats.chat.personal_data",
    "clonechats.rooms.personal_data",
    "clonechats.chat.scheduled.personal_data",
    "clonechats.chat.idempotency",
    "clonechats.privacy.personal_data",
    "clonechats.media.clips.personal_data",
    "clonechats.media.video.personal_data",
    "clonechats.contact.personal_data",
    "clonechats.safety.warnings",
    "clonechats.accounts.personal_data",
)
"""Every domain's `personal_data` modules, in the order they are imported. Deletion and export
run by `DataHolder.order`; holders with the same order run in the order they registered, which
is this one. Accounts stays last (it removes the user). The manifest test checks this holds
exactly the modules the domains list."""


def _modules(names: tuple[str, ...]) -> Iterator[ModuleType]:
    for name in names:
        yield import_module(name)


def _routers(names: tuple[str, ...]) -> list[Any]:
    return [getattr(module, attribute) for module in _modules(names)
            for attribute in ROUTER_NAMES if hasattr(module, attribute)]


def routers() -> list[Any]:
    """The routers the app includes, in order."""
    return _routers(tuple(name for domain in DOMAINS for name in domain.routes))


def admin_routers(kind: str) -> list[Any]:
    """The admin console's `api` (JSON) or `pages` routers of every domain, in order."""
    return [getattr(module, kind)
            for module in _modules(tuple(name for domain in DOMAINS
                                         for name in domain.admin_routes))
            if hasattr(module, kind)]


def job_modules() -> list[ModuleType]:
    return list(_modules(tuple(name for domain in DOMAINS for name in domain.jobs)))


def import_personal_data() -> None:
    """Import every `personal_data` module, which registers its holders."""
    for _ in _modules(PERSONAL_DATA_ORDER):
        pass


def index_modules() -> list[ModuleType]:
    return list(_modules(tuple(name for domain in DOMAINS for name in domain.indexes)))
