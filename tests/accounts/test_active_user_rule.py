"""Until a guardian approves, an account can only use settings and policies: structurally.

Every `/api/v1/` route outside an explicit allow-list must depend on `active_user` (which
refuses guardian-pending accounts) or `admin_user`. The check walks the app's routes, so a
product route added later that forgets `ActiveUser` fails here.
"""

from collections.abc import Callable, Iterator
from typing import Any

from fastapi import APIRouter, Depends, FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute

from clonechats.accounts.dependencies import (
    ActiveUser,
    CurrentUser,
    active_user,
    admin_user,
)
from tests.admin.routes import flat_routes

ALLOWED_PREFIXES = {
    "/api/v1/auth/": "signing up, in and out: before there is an account to check",
    "/api/v1/account/": "settings, which a guardian-pending account may change",
    "/api/v1/account": "deleting the account (DELETE /api/v1/account): any account may",
    "/api/v1/guardian/": "the guardian's own decision, made without an account",
    "/api/v1/privacy/": "privacy settings, export and deletion: always available",
    "/api/v1/public/": "public views of shared personas, for anyone",
    "/api/v1/billing/webhooks/": "payment providers' calls, authenticated by signature",
    "/api/v1/webhooks/": "other vendors' callbacks (fal.ai), authenticated by signature",
    "/api/v1/contact": "writing to the operator, for anyone (throttled)",
    "/api/v1/notices/": "dismissing a moderator's notice, which any signed-in account may see",
}
UNPROTECTED_SCHEMA = "/api/v1/openapi.json"
GATES = (active_user, admin_user)


def calls(dependant: Dependant) -> Iterator[Callable[..., Any]]:
    for dependency in dependant.dependencies:
        if dependency.call is not None:
            yield dependency.call
        yield from calls(dependency)


def ungated_api_routes(app: FastAPI) -> list[str]:
    missing = []
    for route in flat_routes(app):
        path = route.path or ""
        if not path.startswith("/api/v1/") or path == UNPROTECTED_SCHEMA:
            continue
        if path.startswith(tuple(ALLOWED_PREFIXES)):
            continue
        original = getattr(route, "original_route", route)
        dependant = getattr(route, "dependant", None)
        if not isinstance(original, APIRoute) or dependant is None:
            missing.append(f"{path} (not an API route: cannot check)")
            continue
        if not any(call in GATES for call in calls(dependant)):
            missing.append(f"{sorted(route.methods or [])} {path}")
    return missing


def test_every_product_api_route_requires_an_active_account(app):
    assert ungated_api_routes(app) == []


def test_the_walk_sees_every_api_route(app):
    paths = {route.path for route in flat_routes(app)}
    assert {"/api/v1/auth/signup", "/api/v1/account/profile", "/api/v1/guardian/consent",
            "/api/v1/admin/users"} <= paths


def test_the_walk_catches_a_route_that_forgets_the_rule():
    product = APIRouter(prefix="/api/v1/things")

    @product.get("")
    async def forgot(user: CurrentUser) -> dict[str, str]:
        return {}

    @product.get("/fine")
    async def fine(user: ActiveUser) -> dict[str, str]:
        return {}

    nested = APIRouter(prefix="/api/v1/nested", dependencies=[Depends(active_user)])

    @nested.get("/inherited")
    async def inherited() -> dict[str, str]:
        return {}

    app = FastAPI()
    app.include_router(product)
    app.include_router(nested)
    assert ungated_api_routes(app) == ["['GET'] /api/v1/things"]
