"""Translation chat API: which languages can be paired, and translating a reply again.

`GET /api/v1/translation/languages` (for any active account, like every product route): every
pair some translator serves, with its translators in the order they are tried, and each
language with the languages it can be paired with both ways. A translation chat itself is
created with `POST /api/v1/conversations` and its `translation` field (`chat.routes`).
"""

from typing import Any

from fastapi import APIRouter, Request

from clonechats.accounts.dependencies import ActiveUser
from clonechats.chat.schemas import MessageOut
from clonechats.chat.translation import retry, service
from clonechats.web.context import context_of

router = APIRouter(tags=["translation"])


@router.get("/api/v1/translation/languages")
async def list_languages(request: Request, user: ActiveUser) -> dict[str, Any]:
    return service.languages(context_of(request))


@router.post("/api/v1/conversations/{conversation_id}/messages/{message_id}/translate")
async def translate_again(conversation_id: str, message_id: str, request: Request,
                          user: ActiveUser) -> dict[str, Any]:
    message = await retry.retranslate(context_of(request), user_id=user["_id"],
                                      conversation_id=conversation_id, message_id=message_id)
    return {"message": MessageOut.of(message).model_dump(mode="json")}
