"""`create_app(settings)`: the routers of `domains.DOMAINS`, middleware and the lifespan that
opens the context."""

import asyncio
import contextlib
from collections.abc import AsyncIterator

from fastapi import Depends, FastAPI
from fastapi.staticfiles import StaticFiles
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from clonechats import __version__, domains
from clonechats.accounts.appearance import PageCallerMiddleware
from clonechats.clock import Clock
from clonechats.context import open_context
from clonechats.jobs.runner import JobRunner
from clonechats.privacy import pages as privacy_pages
from clonechats.safety import routes as safety_routes
from clonechats.settings import Settings
from clonechats.telemetry.metrics import Metrics
from clonechats.web.csrf import CsrfCookieMiddleware, verify_csrf
from clonechats.web.errors import install_error_handlers
from clonechats.web.middleware import (
    BodySizeLimitMiddleware,
    ObservabilityMiddleware,
    SecurityHeadersMiddleware,
)
from clonechats.web.templates import STATIC_DIR, build_templates


def create_app(settings: Settings, *, clock: Clock | None = None) -> FastAPI:
    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        ctx = await open_context(settings, clock=clock)
        if settings.llm.local_preload and ctx.llm is not None:
            ctx.llm.preload()  # the default local model loads on its own thread meanwhile
        app.state.ctx = ctx
        await privacy_pages.start(app, ctx)
        stop = asyncio.Event()
        runner_task = None
        if settings.runs_jobs_in_server:
            runner = JobRunner(db=ctx.db, registry=ctx.jobs, context=ctx, clock=ctx.clock,
                               settings=settings.jobs)
            runner_task = asyncio.create_task(runner.run_forever(stop))
        try:
            yield
        finally:
            stop.set()
            if runner_task is not None:
                await runner_task
            app.state.ctx = None
            await ctx.close()

    app = FastAPI(title="Clone Chats API", version=__version__, lifespan=lifespan,
                  dependencies=[Depends(verify_csrf), Depends(privacy_pages.load_viewer),
                                Depends(safety_routes.load_notice)],
                  docs_url=None, redoc_url=None, openapi_url="/api/v1/openapi.json")
    app.state.settings = settings
    app.state.ctx = None
    app.state.metrics = Metrics()
    app.state.templates = build_templates(settings)

    install_error_handlers(app)
    for router in domains.routers():
        app.include_router(router)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")

    app.add_middleware(PageCallerMiddleware)
    app.add_middleware(CsrfCookieMiddleware, settings=settings)
    app.add_middleware(BodySizeLimitMiddleware, max_bytes=settings.max_body_bytes,
                       max_json_bytes=settings.max_json_bytes)
    app.add_middleware(SecurityHeadersMiddleware, hsts=not settings.dev_mode)
    app.add_middleware(ObservabilityMiddleware, metrics=app.state.metrics)
    app.add_middleware(ProxyHeadersMiddleware, trusted_hosts=settings.trusted_proxies or [])
    return app
