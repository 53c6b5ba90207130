"""Memories API (`/api/v1/personas/{persona_id}/memories`): owner only; to anyone else the
persona does not exist (404). Thin: the service checks ownership and validates."""

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response

from clonechats.accounts.dependencies import ActiveUser
from clonechats.personas.memory import service
from clonechats.personas.memory.schemas import (
    MemoryCreate,
    MemoryOut,
    MemoryUpdate,
    RecalledOut,
)
from clonechats.web.context import context_of
from clonechats.web.query import Cursor100 as Cursor
from clonechats.web.query import Limit100 as Limit

router = APIRouter(prefix="/api/v1/personas/{persona_id}/memories", tags=["memories"])



def memory_body(memory: dict[str, Any]) -> dict[str, Any]:
    return {"memory": MemoryOut(**service.public(memory)).model_dump(mode="json")}


@router.post("", status_code=201)
async def add_memory(persona_id: str, data: MemoryCreate, request: Request,
                     user: ActiveUser) -> dict[str, Any]:
    memory = await service.add(context_of(request), user_id=user["_id"],
                               persona_id=persona_id, text=data.text, pinned=data.pinned)
    return memory_body(memory)


@router.get("")
async def list_memories(persona_id: str, request: Request, user: ActiveUser,
                        limit: Limit = service.PAGE_DEFAULT,
                        cursor: Cursor = None) -> dict[str, Any]:
    items, next_cursor = await service.list_page(context_of(request), user_id=user["_id"],
                                                 persona_id=persona_id, limit=limit,
                                                 cursor=cursor)
    return {"items": [MemoryOut(**service.public(m)).model_dump(mode="json") for m in items],
            "next_cursor": next_cursor}


@router.get("/search")
async def search_memories(persona_id: str, request: Request, user: ActiveUser,
                          q: Annotated[str, Query(min_length=1, max_length=service.MAX_TEXT)],
                          k: Annotated[int, Query(ge=1, le=20)] = 5) -> dict[str, Any]:
    found = await service.search(context_of(request), user_id=user["_id"],
                                 persona_id=persona_id, query=q, k=k)
    items = [RecalledOut(**service.public(hit.memory), score=hit.score,
                         matched_by=hit.matched_by).model_dump(mode="json") for hit in found]
    return {"items": items, "next_cursor": None}


@router.get("/{memory_id}")
async def get_memory(persona_id: str, memory_id: str, request: Request,
                     user: ActiveUser) -> dict[str, Any]:
    return memory_body(await service.get(context_of(request), user_id=user["_id"],
                                         persona_id=persona_id, memory_id=memory_id))


@router.patch("/{memory_id}")
async def update_memory(persona_id: str, memory_id: str, data: MemoryUpdate, request: Request,
                        user: ActiveUser) -> dict[str, Any]:
    memory = await service.update(context_of(request), user_id=user["_id"],
                                  persona_id=persona_id, memory_id=memory_id, text=data.text,
                                  pinned=data.pinned)
    return memory_body(memory)


@router.delete("/{memory_id}", status_code=204)
async def delete_memory(persona_id: str, memory_id: str, request: Request,
                        user: ActiveUser) -> Response:
    await service.delete(context_of(request), user_id=user["_id"], persona_id=persona_id,
                         memory_id=memory_id)
    return Response(status_code=204)
