"""The user's own memories of a persona they chat with (`/api/v1/personas/{id}/my-memories`):
what it learnt from their chats (and, for the owner, what they typed in), with a switch to stop
learning. Any user who may chat with the persona; another user's memories are "not found".
Thin: `learning.py` checks access and validates."""

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response

from clonechats.accounts.dependencies import ActiveUser
from clonechats.personas.memory import learning, service
from clonechats.personas.memory.schemas import LearningUpdate, MemoryOut, MemoryUpdate
from clonechats.web.context import context_of
from clonechats.web.query import Cursor100 as Cursor
from clonechats.web.query import Limit100 as Limit

router = APIRouter(prefix="/api/v1/personas/{persona_id}/my-memories", tags=["memories"])

MessageId = Annotated[str | None, Query(max_length=100)]


def _out(memory: dict[str, Any]) -> dict[str, Any]:
    return MemoryOut(**service.public(memory)).model_dump(mode="json")


@router.get("")
async def list_mine(persona_id: str, request: Request, user: ActiveUser,
                    limit: Limit = service.PAGE_DEFAULT, cursor: Cursor = None,
                    message_id: MessageId = None) -> dict[str, Any]:
    ctx = context_of(request)
    items, next_cursor = await learning.mine(ctx, user_id=user["_id"], persona_id=persona_id,
                                             limit=limit, cursor=cursor, message_id=message_id)
    enabled = await learning.learning(ctx, user_id=user["_id"], persona_id=persona_id)
    return {"items": [_out(m) for m in items], "next_cursor": next_cursor,
            "learning": {"enabled": enabled}}


@router.delete("")
async def forget_message(persona_id: str, request: Request, user: ActiveUser,
                         message_id: Annotated[str, Query(min_length=1, max_length=100)],
                         ) -> dict[str, Any]:
    deleted = await learning.forget_message(context_of(request), user_id=user["_id"],
                                            persona_id=persona_id, message_id=message_id)
    return {"deleted": deleted}


@router.put("/learning")
async def set_learning(persona_id: str, data: LearningUpdate, request: Request,
                       user: ActiveUser) -> dict[str, Any]:
    enabled = await learning.set_learning(context_of(request), user_id=user["_id"],
                                          persona_id=persona_id, enabled=data.enabled)
    return {"learning": {"enabled": enabled}}


@router.patch("/{memory_id}")
async def edit_mine(persona_id: str, memory_id: str, data: MemoryUpdate, request: Request,
                    user: ActiveUser) -> dict[str, Any]:
    memory = await learning.edit_mine(context_of(request), user_id=user["_id"],
                                      persona_id=persona_id, memory_id=memory_id,
                                      text=data.text, pinned=data.pinned)
    return {"memory": _out(memory)}


@router.delete("/{memory_id}", status_code=204)
async def delete_mine(persona_id: str, memory_id: str, request: Request,
                      user: ActiveUser) -> Response:
    await learning.delete_mine(context_of(request), user_id=user["_id"],
                               persona_id=persona_id, memory_id=memory_id)
    return Response(status_code=204)
