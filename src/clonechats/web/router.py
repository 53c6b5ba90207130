"""Site-wide pages and probes: home, health, metrics, policy pages, security.txt."""

import hmac

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, JSONResponse, PlainTextResponse, Response

from clonechats.errors import NotFound
from clonechats.telemetry.metrics import CONTENT_TYPE_LATEST
from clonechats.web import policy_text

router = APIRouter()


@router.get("/healthz", include_in_schema=False)
async def healthz(request: Request) -> JSONResponse:
    ready = getattr(request.app.state, "ctx", None) is not None
    status = 200 if ready else 503
    return JSONResponse({"status": "ok" if ready else "starting"}, status_code=status)


@router.get("/metrics", include_in_schema=False)
async def metrics(request: Request) -> Response:
    token = request.app.state.settings.metrics_token
    if token is not None:
        given = request.headers.get("authorization", "").removeprefix("Bearer ")
        if not hmac.compare_digest(given.encode(), token.get_secret_value().encode()):
            raise NotFound()
    return Response(request.app.state.metrics.render(), media_type=CONTENT_TYPE_LATEST)


@router.get("/", response_class=HTMLResponse, include_in_schema=False)
async def home(request: Request) -> HTMLResponse:
    return request.app.state.templates.TemplateResponse(request, "home.html")


def render_policy(request: Request, page: str) -> HTMLResponse:
    heading, sections = policy_text.PAGES[page](request.app.state.settings)
    return request.app.state.templates.TemplateResponse(
        request, "policy.html", {"heading": heading, "sections": sections}
    )


@router.get("/privacy", response_class=HTMLResponse, include_in_schema=False)
async def privacy_page(request: Request) -> HTMLResponse:
    return render_policy(request, "privacy")


@router.get("/cookies", response_class=HTMLResponse, include_in_schema=False)
async def cookies_page(request: Request) -> HTMLResponse:
    return render_policy(request, "cookies")


@router.get("/security", response_class=HTMLResponse, include_in_schema=False)
async def security_page(request: Request) -> HTMLResponse:
    return render_policy(request, "security")


@router.get("/.well-known/security.txt", include_in_schema=False)
async def security_txt(request: Request) -> PlainTextResponse:
    return PlainTextResponse(policy_text.security_txt(request.app.state.settings,
                                                      request.app.state.ctx.clock.now()))
