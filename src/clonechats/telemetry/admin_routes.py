"""Telemetry's admin routes, mounted inside `admin.routes.api` (`/api/v1/admin/usage`) and
`admin.routes.pages` (`/admin/usage`), whose `admin_user` dependency guards every one.

Daily usage over the last `days` days (UTC): generations, tokens, credits, failures, mean
latency and time to first token, paywall hits; per provider and model in the API, as a table
and a server-drawn bar chart on the page.
"""

from datetime import date, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse

from clonechats.accounts.dependencies import admin_user
from clonechats.context import Ctx
from clonechats.telemetry import events
from clonechats.telemetry.chart import bar_chart
from clonechats.web.context import context_of

api = APIRouter(prefix="/usage", dependencies=[Depends(admin_user)])
pages = APIRouter(prefix="/usage", dependencies=[Depends(admin_user)])

METRICS = {"generations": "Generations", "tokens": "Tokens", "credits": "Credits",
           "paywall_hits": "Paywall hits", "avg_latency_ms": "Mean latency (ms)",
           "avg_ttft_ms": "Mean time to first token (ms)"}
Days = Annotated[int, Query(ge=1, le=366)]
Metric = Annotated[str, Query(pattern="^(" + "|".join(METRICS) + ")$")]
DAY_FIELDS = ("day", "generations", "prompt_tokens", "completion_tokens", "tokens", "credits",
              "failed", "avg_latency_ms", "avg_ttft_ms", "paywall_hits")
MODEL_FIELDS = ("day", "provider", "model", "generations", "prompt_tokens",
                "completion_tokens", "tokens", "credits", "failed", "avg_latency_ms",
                "avg_ttft_ms")


async def _usage(ctx: Ctx, days: int) -> tuple[date, list[dict[str, Any]]]:
    since = (ctx.clock.now() - timedelta(days=days - 1)).date()
    rows = await events.daily_totals(ctx, since=since)
    return since, [{k: row[k] for k in DAY_FIELDS} for row in rows]


@api.get("")
async def usage(request: Request, days: Days = 30) -> dict[str, Any]:
    ctx = context_of(request)
    since, rows = await _usage(ctx, days)
    by_model = await events.daily_aggregates(ctx, since=since)
    return {"since": since.isoformat(), "days": rows,
            "by_model": [{k: row[k] for k in MODEL_FIELDS} for row in by_model]}


@pages.get("", response_class=HTMLResponse)
async def usage_page(request: Request, days: Days = 30,
                     metric: Metric = "generations") -> HTMLResponse:
    ctx = context_of(request)
    since, rows = await _usage(ctx, days)
    chart = bar_chart([(row["day"], row[metric]) for row in rows])
    totals = {name: sum(row[name] for row in rows)
              for name in ("generations", "tokens", "credits", "failed", "paywall_hits")}
    return request.app.state.templates.TemplateResponse(
        request, "admin/usage.html",
        {"rows": list(reversed(rows)), "chart": chart, "metric": metric,
         "metric_label": METRICS[metric], "metrics": METRICS, "days": days,
         "since": since.isoformat(),
         "totals": totals, "dev_mode": ctx.settings.dev_mode},
        headers={"Cache-Control": "no-store"})
