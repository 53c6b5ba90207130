"""Site-wide pages and probes: home, health, metrics. (Policy pages and security.txt are
the privacy domain's: `privacy/pages.py`.)"""

import hmac

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response

from clonechats.errors import NotFound
from clonechats.jobs import repo as jobs_repo
from clonechats.telemetry.metrics import CONTENT_TYPE_LATEST

router = APIRouter()


@router.get("/healthz", include_in_schema=False)
async def healthz(request: Request) -> JSONResponse:
    ctx = getattr(request.app.state, "ctx", None)
    ready = ctx is not None
    status = 200 if ready else 503
    body: dict[str, object] = {"status": "ok" if ready else "starting"}
    if ctx is not None and ctx.llm is not None:
        body["models"] = ctx.llm.local_status()  # "loading" until the local model can answer
    return JSONResponse(body, status_code=status)


@router.get("/metrics", include_in_schema=False)
async def metrics(request: Request) -> Response:
    token = request.app.state.settings.metrics_token
    if token is not None:
        given = request.headers.get("authorization", "").removeprefix("Bearer ")
        if not hmac.compare_digest(given.encode(), token.get_secret_value().encode()):
            raise NotFound()
    metrics_store = request.app.state.metrics
    counts = await jobs_repo.count_by_status(request.app.state.ctx.db)
    for status in (jobs_repo.QUEUED, jobs_repo.RUNNING, jobs_repo.DONE, jobs_repo.DEAD):
        metrics_store.jobs.labels(status).set(counts.get(status, 0))
    return Response(metrics_store.render(), media_type=CONTENT_TYPE_LATEST)


@router.get("/", response_class=HTMLResponse, include_in_schema=False)
async def home(request: Request) -> HTMLResponse:
    return request.app.state.templates.TemplateResponse(request, "home.html")
