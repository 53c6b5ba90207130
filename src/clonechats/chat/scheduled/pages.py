"""The chat page's scheduled strip: `/chat/{id}/scheduled` renders what is pending, being
delivered or failed in one conversation (fetched by `web/static/js/scheduled.js`, which polls it
while something is due soon). Times are shown in the zone each item was scheduled in.
"""

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from clonechats.accounts.dependencies import OptionalUser
from clonechats.chat import service as chat
from clonechats.chat.pages import check_active, to_login
from clonechats.chat.scheduled import service, timing
from clonechats.web.context import context_of

router = APIRouter(include_in_schema=False)


def strip_context(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{"item": item, "when": timing.describe(item["send_at"], item.get("time_zone")),
             "local": timing.in_zone(item["send_at"], item.get("time_zone")),
             "retry_when": timing.describe(item["retry_at"], item.get("time_zone"))
             if item.get("retry_at") else None} for item in items]


@router.get("/chat/{conversation_id}/scheduled", response_class=HTMLResponse)
async def scheduled_strip(conversation_id: str, request: Request,
                          user: OptionalUser) -> Response:
    if user is None:
        return to_login(request)
    check_active(user)
    ctx = context_of(request)
    conversation = await chat.get(ctx, user_id=user["_id"], conversation_id=conversation_id)
    items = await service.for_conversation(ctx, user_id=user["_id"],
                                           conversation_id=conversation_id)
    return request.app.state.templates.TemplateResponse(request, "chat/_scheduled.html", {
        "entries": strip_context(items), "persona_name": conversation["persona_name"]})
