"""Walking the app's routes, included routers flattened, for the structural access tests."""

import re
from typing import Any

from fastapi import FastAPI

DUMMY_ID = "0123456789abcdef01234567"


def flat_routes(app: FastAPI) -> list[Any]:
    """Every route with its full path and effective dependencies."""
    try:
        from fastapi.routing import iter_route_contexts
    except ImportError:  # FastAPI versions that copy routes into the app when included
        return list(app.routes)
    return list(iter_route_contexts(app.routes))


def admin_endpoints(app: FastAPI) -> list[tuple[str, str]]:
    """(method, path with dummy ids) for every route under /admin or /api/v1/admin."""
    found = []
    for route in flat_routes(app):
        path = route.path or ""
        if not (path == "/admin" or path.startswith(("/admin/", "/api/v1/admin"))):
            continue
        for method in sorted((route.methods or set()) - {"HEAD"}):
            found.append((method, re.sub(r"\{[^}]+\}", DUMMY_ID, path)))
    return found
