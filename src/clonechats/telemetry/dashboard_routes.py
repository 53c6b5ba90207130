"""The observability dashboard and error traces over HTTP, mounted inside `admin.routes.api`
(`/api/v1/admin/dashboard`, `/api/v1/admin/errors`) and `admin.routes.pages` (`/admin`,
`/admin/errors`), whose `admin_user` dependency guards every one.

The range is `?days=N` (1-366, default 30, ending today) or `?start=&end=` (dates, UTC);
`?format=csv` gives the daily series as CSV. `POST /api/v1/admin/errors/probe` raises a
deliberate error, so an operator can see that error traces are recorded.
"""

from datetime import date, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, Response

from clonechats.accounts.dependencies import admin_user
from clonechats.errors import AppError
from clonechats.telemetry import dashboard
from clonechats.telemetry import errors as error_traces
from clonechats.telemetry.chart import bar_chart, line_chart
from clonechats.web.context import context_of
from clonechats.web.query import Cursor100 as Cursor
from clonechats.web.query import Limit200 as Limit

api = APIRouter(dependencies=[Depends(admin_user)])
pages = APIRouter(dependencies=[Depends(admin_user)])

Days = Annotated[int, Query(ge=1, le=dashboard.MAX_DAYS)]
Format = Annotated[str, Query(pattern="^(json|csv)$")]
BAR_CHARTS = ("generations", "tokens", "credits_spent", "cost", "active_users", "errors",
              "error_rate", "paywall_hits", "paywall_conversions", "moderation_flags",
              "voice_minutes", "video_minutes")


class ErrorProbe(RuntimeError):
    """Raised on purpose by the probe route: a known error to look for in the traces."""


class InvalidRange(AppError):
    code = "invalid_range"
    status = 422


def resolve_range(today: date, days: int, start: date | None,
                  end: date | None) -> tuple[date, date]:
    if start is None and end is None:
        return today - timedelta(days=days - 1), today
    if start is None or end is None:
        raise InvalidRange("Give both a start and an end date.")
    if start > end:
        raise InvalidRange("The start date is after the end date.")
    if (end - start).days + 1 > dashboard.MAX_DAYS:
        raise InvalidRange(f"Choose at most {dashboard.MAX_DAYS} days.")
    return start, end


async def _build(request: Request, days: int, start: date | None,
                 end: date | None) -> dict[str, Any]:
    ctx = context_of(request)
    first, last = resolve_range(ctx.clock.now().date(), days, start, end)
    return await dashboard.build(ctx, first=first, last=last)


@api.get("/dashboard")
async def dashboard_data(request: Request, days: Days = 30, start: date | None = None,
                         end: date | None = None, format: Format = "json") -> Any:
    data = await _build(request, days, start, end)
    if format == "csv":
        name = f"dashboard-{data['first_day']}-{data['last_day']}.csv"
        return Response(dashboard.to_csv(data), media_type="text/csv; charset=utf-8",
                        headers={"Content-Disposition": f'attachment; filename="{name}"',
                                 "Cache-Control": "no-store"})
    return data


@api.get("/errors")
async def error_groups(request: Request, limit: Limit = 50,
                       cursor: Cursor = None) -> dict[str, Any]:
    groups, next_cursor = await error_traces.list_groups(context_of(request), limit=limit,
                                                         cursor=cursor)
    return {"items": [error_traces.public(g) for g in groups], "next_cursor": next_cursor}


@api.post("/errors/probe")
async def error_probe() -> None:
    raise ErrorProbe("deliberate error from the admin console's probe")


def charts(data: dict[str, Any]) -> list[dict[str, Any]]:
    """One small chart per series (TTFT median and p95 together as lines)."""
    daily = data["daily"]
    found = []
    for name in BAR_CHARTS:
        label = dashboard.LABELS[name]
        if name == "cost":
            label = f"{label} ({data['currency']})"
        found.append({"name": name, "label": label, "kind": "bar",
                      "total": data["totals"].get(name),
                      "chart": bar_chart([(row["day"], row[name]) for row in daily],
                                         width=360, height=180, max_x_labels=4)})
    found.insert(2, {"name": "ttft", "label": "Time to first token (ms): median and 95th "
                     "percentile", "kind": "line", "total": None,
                     "chart": line_chart({
                         "p50": [(row["day"], row["ttft_p50_ms"]) for row in daily],
                         "p95": [(row["day"], row["ttft_p95_ms"]) for row in daily]})})
    return found


async def overview_context(request: Request, days: int, start: date | None,
                           end: date | None) -> dict[str, Any]:
    data = await _build(request, days, start, end)
    groups, _ = await error_traces.list_groups(context_of(request), limit=5)
    return {"data": data, "charts": charts(data), "labels": dashboard.LABELS,
            "series": dashboard.SERIES, "days": days, "start": data["first_day"],
            "end": data["last_day"], "custom": start is not None,
            "recent_errors": [error_traces.public(g) for g in groups]}


@pages.get("/errors", response_class=HTMLResponse)
async def errors_page(request: Request, cursor: Cursor = None) -> HTMLResponse:
    ctx = context_of(request)
    groups, next_cursor = await error_traces.list_groups(ctx, limit=50, cursor=cursor)
    return request.app.state.templates.TemplateResponse(
        request, "admin/errors.html",
        {"groups": [error_traces.public(g) for g in groups], "next_cursor": next_cursor,
         "is_first_page": not cursor, "dev_mode": ctx.settings.dev_mode},
        headers={"Cache-Control": "no-store"})
