"""The public contact form: the `/contact` page and `POST /api/v1/contact` (no sign-in needed,
throttled per hashed address) -> 202."""

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse
from pydantic import BaseModel, ConfigDict, Field

from clonechats.accounts.dependencies import OptionalUser
from clonechats.client_info import ClientInfo
from clonechats.contact import service
from clonechats.web.client import client_info
from clonechats.web.context import context_of

router = APIRouter(tags=["contact"])
Client = Annotated[ClientInfo, Depends(client_info)]


class ContactIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    email: str = Field(max_length=320)
    subject: str = Field(max_length=service.SUBJECT_MAX)
    message: str = Field(max_length=service.MESSAGE_MAX)


@router.post("/api/v1/contact", status_code=202)
async def send_message(data: ContactIn, request: Request, client: Client,
                       user: OptionalUser) -> dict[str, Any]:
    stored = await service.send(context_of(request), email=data.email, subject=data.subject,
                                message=data.message, client=client, user=user)
    return {"status": "Thank you. We sent you an acknowledgement and will answer by "
            f"{stored['due_at']:%d %B %Y}.", "due_at": stored["due_at"].isoformat()}


@router.get("/contact", response_class=HTMLResponse, include_in_schema=False)
async def contact_page(request: Request, user: OptionalUser) -> HTMLResponse:
    return request.app.state.templates.TemplateResponse(
        request, "contact.html", {"email": (user or {}).get("email") or "",
                                  "answer_days": service.ANSWER_DAYS,
                                  "ack_days": service.ACK_BUSINESS_DAYS})
