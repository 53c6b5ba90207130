"""Site-wide pages and probes: home, health, metrics. (Policy pages and security.txt are
the privacy domain's: `privacy/pages.py`.)"""

import asyncio
import hmac

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response

from clonechats.errors import NotFound
from clonechats.jobs import repo as jobs_repo
from clonechats.storage.faults import MONGO_UNAVAILABLE, StorageUnavailable
from clonechats.telemetry.metrics import CONTENT_TYPE_LATEST
from clonechats.web.context import context_of

router = APIRouter()
HEALTH = "health_probe"  # never written: a read of it proves the database answers
COLLECTIONS = (HEALTH,)


@router.get("/healthz", include_in_schema=False)
@router.get("/readyz", include_in_schema=False)
async def healthz(request: Request) -> JSONResponse:
    """Ready only when the database answers a read within `database_timeout_seconds`; says
    whether each local model is loaded yet ("loading" while it loads at start-up)."""
    ctx = getattr(request.app.state, "ctx", None)
    if ctx is None:
        return JSONResponse({"status": "starting"}, status_code=503)
    models = ctx.llm.local_status() if ctx.llm is not None else {}
    try:
        await asyncio.wait_for(ctx.db[HEALTH].find_one({"_id": "ping"}),
                               ctx.settings.database_timeout_seconds)
    except (TimeoutError, StorageUnavailable, *MONGO_UNAVAILABLE):
        return JSONResponse({"status": "unavailable", "database": "not answering",
                             "models": models}, status_code=503, headers={"Retry-After": "5"})
    return JSONResponse({"status": "ok", "database": "ok", "models": models})


@router.get("/metrics", include_in_schema=False)
async def metrics(request: Request) -> Response:
    token = request.app.state.settings.metrics_token
    if token is not None:
        given = request.headers.get("authorization", "").removeprefix("Bearer ")
        if not hmac.compare_digest(given.encode(), token.get_secret_value().encode()):
            raise NotFound()
    metrics_store = request.app.state.metrics
    counts = await jobs_repo.count_by_status(context_of(request).db)
    for status in (jobs_repo.QUEUED, jobs_repo.RUNNING, jobs_repo.DONE, jobs_repo.DEAD):
        metrics_store.jobs.labels(status).set(counts.get(status, 0))
    return Response(metrics_store.render(), media_type=CONTENT_TYPE_LATEST)


@router.get("/", response_class=HTMLResponse, include_in_schema=False)
async def home(request: Request) -> HTMLResponse:
    return request.app.state.templates.TemplateResponse(request, "home.html")
