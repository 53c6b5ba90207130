"""The application context of the app serving a request, typed for route handlers."""

from starlette.requests import HTTPConnection

from clonechats.context import AppContext


def context_of(request: HTTPConnection) -> AppContext:
    """The context the lifespan in `app.py` opened; route handlers run only while it is open."""
    ctx: AppContext = request.app.state.ctx
    return ctx


def context_if_open(request: HTTPConnection) -> AppContext | None:
    """The context, or None before the lifespan opened it or after it closed (error pages and
    checks that run for every request)."""
    ctx: AppContext | None = request.app.state.ctx
    return ctx
