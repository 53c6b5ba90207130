"""One error handler for the whole app: JSON for the API, a page for browsers.

Every error has the shape `{"error": {"code", "message"}}`. Unexpected exceptions become a 500
with an opaque id; the trace goes to the log under that id, never to the client.
"""

import logging
import secrets
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from clonechats.errors import AppError
from clonechats.storage.faults import MONGO_UNAVAILABLE, StorageUnavailable
from clonechats.telemetry import errors as error_traces
from clonechats.web.context import context_if_open
from clonechats.web.middleware import security_headers

log = logging.getLogger(__name__)

HTTP_CODES = {
    400: "bad_request", 401: "not_authenticated", 403: "forbidden", 404: "not_found",
    405: "method_not_allowed", 406: "not_acceptable", 409: "conflict", 413: "payload_too_large",
    415: "unsupported_media_type", 422: "validation_failed", 429: "too_many_requests",
}


def wants_json(request: Request) -> bool:
    if request.url.path.startswith("/api/"):
        return True
    accept = request.headers.get("accept", "")
    return "text/html" not in accept


def error_response(request: Request, *, status: int, code: str, message: str,
                   headers: dict[str, str] | None = None, details: Any = None) -> Response:
    if wants_json(request):
        body: dict[str, Any] = {"code": code, "message": message}
        if details is not None:
            body["details"] = details
        return JSONResponse({"error": body}, status_code=status, headers=headers)
    templates = request.app.state.templates
    return templates.TemplateResponse(
        request, "error.html", {"status": status, "code": code, "message": message},
        status_code=status, headers=headers,
    )


def describe_validation(exc: RequestValidationError) -> tuple[str, str, list[dict[str, Any]]]:
    errors = exc.errors()
    if any(e.get("type") == "json_invalid" for e in errors):
        return "malformed_json", "The request body is not valid JSON.", []
    details = [
        {"field": ".".join(str(p) for p in e.get("loc", ()) if p != "body"), "problem": e["msg"]}
        for e in errors
    ]
    first = details[0] if details else {"field": "", "problem": "invalid input"}
    where = f" ({first['field']})" if first["field"] else ""
    return "validation_failed", f"Invalid input{where}: {first['problem']}.", details


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(AppError)
    async def app_error(request: Request, exc: AppError) -> Response:
        page_redirect = getattr(exc, "page_redirect", None)
        if page_redirect and not wants_json(request):  # a page that needs a step first
            return RedirectResponse(page_redirect, status_code=303)
        return error_response(request, status=exc.status, code=exc.code, message=exc.message,
                              headers=exc.headers, details=exc.details)

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError) -> Response:
        code, message, details = describe_validation(exc)
        status = 400 if code == "malformed_json" else 422
        return error_response(request, status=status, code=code, message=message,
                              details=details or None)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        code = HTTP_CODES.get(exc.status_code, "http_error")
        message = exc.detail if isinstance(exc.detail, str) else code.replace("_", " ")
        if exc.status_code == 404:
            message = "Nothing was found at this address."
        return error_response(request, status=exc.status_code, code=code, message=message,
                              headers=getattr(exc, "headers", None))

    for mongo_error in MONGO_UNAVAILABLE:  # a MongoDB server that stalls or is gone: 503
        @app.exception_handler(mongo_error)
        async def storage_error(request: Request, exc: Exception) -> Response:
            log.warning("database unavailable", extra={"error": type(exc).__name__})
            failure = StorageUnavailable()
            return error_response(request, status=failure.status, code=failure.code,
                                  message=failure.message, headers=failure.headers)

    @app.exception_handler(Exception)
    async def unexpected_error(request: Request, exc: Exception) -> Response:
        error_id = secrets.token_hex(8)
        log.error("unhandled error", exc_info=exc, extra={"error_id": error_id,
                                                          "route": request.url.path})
        await record_error_trace(request, exc)
        message = f"Something went wrong on our side. Reference: {error_id}."
        # This response is sent from outside every middleware, so it carries their headers itself.
        hsts = not request.app.state.settings.dev_mode
        headers = {name.decode(): value.decode() for name, value in security_headers(hsts=hsts)}
        if wants_json(request):
            return JSONResponse({"error": {"code": "internal_error", "message": message,
                                           "error_id": error_id}}, status_code=500,
                                headers=headers)
        return HTMLResponse(f"<h1>Server error</h1><p>{message}</p>", status_code=500,
                            headers=headers)


async def record_error_trace(request: Request, exc: Exception) -> None:
    """Count the error in its anonymised group (`telemetry.errors`); never fails the response."""
    ctx = context_if_open(request)
    if ctx is None:
        return
    route = route_template(request)
    try:
        await error_traces.record(ctx, exc, route=route, method=request.method)
    except Exception:  # the database may be what failed
        log.warning("could not record the error trace", exc_info=True)


def route_template(request: Request) -> str:
    """The request's path with each path parameter put back as `{name}` (ids never reach
    an error trace), or "unmatched" when no route matched."""
    params = {str(value): name for name, value in (request.scope.get("path_params") or {}).items()}
    if request.scope.get("route") is None:
        return "unmatched"
    segments = [f"{{{params[part]}}}" if part in params else part
                for part in request.url.path.split("/")]
    return "/".join(segments)
