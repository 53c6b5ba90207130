"""`create_app(settings)`: routers, middleware and the lifespan that opens the context."""

import asyncio
import contextlib
from collections.abc import AsyncIterator

from fastapi import Depends, FastAPI
from fastapi.staticfiles import StaticFiles
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from clonechats import __version__
from clonechats.accounts import (
    account_router,
    google_router,
    guardian_router,
    pages,
    two_factor_router,
)
from clonechats.accounts import router as accounts
from clonechats.accounts.appearance import PageCallerMiddleware
from clonechats.admin import router as admin
from clonechats.billing import pages as billing_pages
from clonechats.billing import router as billing
from clonechats.chat import pages as chat_pages
from clonechats.chat import router as chat
from clonechats.chat.scheduled import pages as scheduled_pages
from clonechats.chat.scheduled import router as scheduled
from clonechats.chat.translation import router as translation
from clonechats.clock import Clock
from clonechats.contact import router as contact
from clonechats.context import open_context
from clonechats.jobs.runner import JobRunner
from clonechats.media import router as media
from clonechats.media.clips import router as clips
from clonechats.media.video import router as video
from clonechats.personas import cards_router
from clonechats.personas import pages as persona_pages
from clonechats.personas import router as personas
from clonechats.personas.memory import mine_router
from clonechats.personas.memory import router as memories
from clonechats.privacy import pages as privacy_pages
from clonechats.privacy import router as privacy
from clonechats.rooms import pages as room_pages
from clonechats.rooms import router as rooms
from clonechats.safety import notices_router
from clonechats.settings import Settings
from clonechats.telemetry.metrics import Metrics
from clonechats.voice import pages as voice_pages
from clonechats.voice import router as voice
from clonechats.web import router as site
from clonechats.web.csrf import CsrfCookieMiddleware, verify_csrf
from clonechats.web.errors import install_error_handlers
from clonechats.web.middleware import (
    BodySizeLimitMiddleware,
    ObservabilityMiddleware,
    SecurityHeadersMiddleware,
)
from clonechats.web.templates import STATIC_DIR, build_templates

ROUTERS = [site.router, accounts.router, account_router.router, pages.router,
           google_router.router, guardian_router.api, guardian_router.pages, admin.api,
           admin.pages, personas.router, persona_pages.router, media.router,
           cards_router.router, memories.router, billing.router, billing_pages.router,
           chat.router, chat_pages.router, privacy.router, privacy_pages.router]
ROUTERS += [rooms.router, room_pages.router]
ROUTERS += [translation.router]
ROUTERS += [voice.router, clips.router, voice_pages.router]
ROUTERS += [video.router]
ROUTERS += [scheduled.router, scheduled_pages.router]
ROUTERS += [mine_router.router]
ROUTERS += [contact.router, notices_router.router]
ROUTERS += [two_factor_router.api, two_factor_router.pages]


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
                                Depends(notices_router.load_notice)],
                  docs_url=None, redoc_url=None, openapi_url="/api/v1/openapi.json")
    app.state.settings = settings
    app.state.ctx = None
    app.state.metrics = Metrics()
    app.state.templates = build_templates(settings)

    install_error_handlers(app)
    for router in ROUTERS:
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
