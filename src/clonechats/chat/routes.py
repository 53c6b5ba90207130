"""Chat API (`/api/v1/conversations`): conversations, messages and streamed replies.

Thin: each route resolves the caller, hands the input to `chat.service` (conversations,
messages, stop), `chat.conversation_list` (list, search, rename, pin), `chat.transcript` (one
chat as a Markdown or JSON file), `chat.replies` (send, regenerate, edit), `chat.alternatives`
(page through and choose among the replies to one message, or the versions of an edited one,
each with its branch), `chat.continuation` (continue a
reply cut at the length limit) or `chat.reply_edits` (rewrite a persona reply) and shapes the
answer.
A reply streams as Server-Sent Events (`token` {"text"}, then `done` {"message_id", "usage",
"credits_charged", "balance"} or `error` {"code", "message"}); `?stream=false` waits and
returns the finished message as JSON. Every refusal before the reply starts (404, 409, 402,
422) is an ordinary JSON error with its status. When the client goes away mid-stream the reply
is asked to stop; it settles on its own.
"""

import json
from typing import Annotated, Any

from fastapi import APIRouter, Header, Query, Request, Response
from fastapi.responses import JSONResponse, StreamingResponse
from starlette.types import Receive, Scope, Send

from clonechats.accounts.dependencies import ActiveUser
from clonechats.billing import ledger
from clonechats.chat import (
    alternatives,
    continuation,
    conversation_list,
    idempotency,
    replies,
    reply_edits,
    repo,
    service,
    transcript,
)
from clonechats.chat.generation import ERROR_MESSAGES, Generation
from clonechats.chat.repo import Conversation
from clonechats.chat.schemas import (
    ConversationCreate,
    ConversationListItemOut,
    ConversationOut,
    ConversationUpdate,
    MessageIn,
    MessageOut,
    ReplyTextIn,
)
from clonechats.chat.translation import service as translation_service
from clonechats.errors import AppError
from clonechats.voice.spoken_reply import spoken_batches
from clonechats.web.context import context_of
from clonechats.web.query import Cursor
from clonechats.web.query import OptionalLimit200 as Limit

router = APIRouter(tags=["chat"])

BASE = "/api/v1/conversations"
Stream = Annotated[bool, Query(description="false: wait and return the message as JSON")]
IdempotencyKey = Annotated[str | None, Header(alias="Idempotency-Key", max_length=255)]
SSE_HEADERS = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}


def sse(name: str, data: dict[str, Any]) -> str:
    return f"event: {name}\ndata: {json.dumps(data, ensure_ascii=False)}\n\n"


class ReplyStream(StreamingResponse):
    """The SSE response of one reply; if it ends before the reply did (the client left), the
    reply is asked to stop."""

    def __init__(self, generation: Generation, batches: Any = None) -> None:
        self.generation = generation
        self.batches = batches  # another source of event batches (a spoken reply's)
        super().__init__(self._body(), media_type="text/event-stream",
                         headers={**SSE_HEADERS, "X-Message-Id": generation.message_id})

    async def _body(self) -> Any:
        async for batch in self.batches or self.generation.event_batches():
            yield "".join(sse(name, data) for name, data in batch)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await super().__call__(scope, receive, send)
        finally:
            if not self.generation.finished:
                self.generation.request_stop("disconnected")


async def reply_response(request: Request, generation: Generation, stream: bool) -> Response:
    if stream:
        return ReplyStream(generation)
    message = await generation.wait()
    details = {"message_id": message["_id"]}
    if message["status"] == repo.BLOCKED:
        raise AppError(ERROR_MESSAGES["reply_blocked"], code="reply_blocked", status=422,
                       details=details)
    if message["status"] == repo.FAILED:
        code = message.get("error_code") or "reply_failed"
        raise AppError(ERROR_MESSAGES.get(code, ERROR_MESSAGES["reply_failed"]), code=code,
                       status=503 if code == "provider_unavailable" else 502, details=details)
    balance = await ledger.balance(context_of(request).db, generation.plan.owner_id)
    return JSONResponse({"message": MessageOut.of(message).model_dump(mode="json"),
                         "balance": balance}, status_code=201)


def conversation_body(conversation: Conversation) -> dict[str, Any]:
    return {"conversation": ConversationOut.of(conversation).model_dump(mode="json")}


@router.post(BASE, status_code=201)
async def create_conversation(data: ConversationCreate, request: Request,
                              user: ActiveUser) -> dict[str, Any]:
    ctx = context_of(request)
    translation = None if data.translation is None else translation_service.mode_for(
        ctx, user_language=data.translation.user_language,
        persona_language=data.translation.persona_language)
    conversation = await service.create(ctx, user_id=user["_id"],
                                        persona_id=data.persona_id, translation=translation)
    return conversation_body(conversation)


@router.get(BASE)
async def list_conversations(
        request: Request, user: ActiveUser, limit: Limit = None, cursor: Cursor = None,
        q: Annotated[str | None, Query(max_length=500, description="search titles and "
                                       "message text")] = None,
        pinned: Annotated[bool | None, Query(description="only pinned, or only unpinned, "
                                             "chats")] = None) -> dict[str, Any]:
    items, next_cursor = await conversation_list.page(
        context_of(request), user_id=user["_id"], limit=limit, cursor=cursor, query=q,
        pinned=pinned)
    return {"items": [ConversationListItemOut.of(c).model_dump(mode="json") for c in items],
            "next_cursor": next_cursor}


@router.get(BASE + "/{conversation_id}")
async def get_conversation(conversation_id: str, request: Request,
                           user: ActiveUser) -> dict[str, Any]:
    conversation = await service.get(context_of(request), user_id=user["_id"],
                                     conversation_id=conversation_id)
    return conversation_body(conversation)


@router.patch(BASE + "/{conversation_id}")
async def update_conversation(conversation_id: str, data: ConversationUpdate, request: Request,
                              user: ActiveUser) -> dict[str, Any]:
    conversation = await conversation_list.update(
        context_of(request), user_id=user["_id"], conversation_id=conversation_id,
        fields=data.model_dump(exclude_unset=True))
    return conversation_body(conversation)


@router.get(BASE + "/{conversation_id}/export")
async def export_conversation(conversation_id: str, request: Request, user: ActiveUser,
                              format: transcript.Format = "markdown") -> Response:
    found = await transcript.export(context_of(request), user_id=user["_id"],
                                    conversation_id=conversation_id, fmt=format)
    return Response(found.body, media_type=found.media_type, headers={
        "Content-Disposition": f'attachment; filename="{found.filename}"',
        "Cache-Control": "no-store"})


@router.delete(BASE + "/{conversation_id}", status_code=204)
async def delete_conversation(conversation_id: str, request: Request,
                              user: ActiveUser) -> Response:
    await service.delete(context_of(request), user_id=user["_id"],
                         conversation_id=conversation_id)
    return Response(status_code=204)


@router.get(BASE + "/{conversation_id}/messages")
async def list_messages(conversation_id: str, request: Request, user: ActiveUser,
                        limit: Limit = None, cursor: Cursor = None) -> dict[str, Any]:
    items, next_cursor = await service.list_messages(
        context_of(request), user_id=user["_id"], conversation_id=conversation_id,
        limit=limit, cursor=cursor)
    return {"items": [MessageOut.of(m).model_dump(mode="json") for m in items],
            "next_cursor": next_cursor}


@router.post(BASE + "/{conversation_id}/messages", response_model=None)
async def send_message(conversation_id: str, data: MessageIn, request: Request,
                       user: ActiveUser, stream: Stream = True,
                       idempotency_key: IdempotencyKey = None) -> Response:
    ctx = context_of(request)

    async def send() -> Generation:
        return await replies.send_message(ctx, user_id=user["_id"],
                                          conversation_id=conversation_id, text=data.text)

    if idempotency_key is None:
        generation = await send()
    else:
        generation, replayed = await idempotency.send_once(
            ctx, key=idempotency_key, user_id=user["_id"], conversation_id=conversation_id,
            text=data.text, send=send)
        if replayed is not None:  # a retry: the reply the first request started, nothing new
            return JSONResponse({"message": MessageOut.of(replayed).model_dump(mode="json"),
                                 "balance": await ledger.balance(ctx.db, user["_id"])},
                                status_code=200, headers={"Idempotent-Replayed": "true"})
    if data.speak and stream:
        return ReplyStream(generation, spoken_batches(ctx, generation))
    return await reply_response(request, generation, stream)


@router.get(BASE + "/{conversation_id}/messages/{message_id}")
async def get_message(conversation_id: str, message_id: str, request: Request,
                      user: ActiveUser) -> dict[str, Any]:
    message = await service.get_message(context_of(request), user_id=user["_id"],
                                        conversation_id=conversation_id, message_id=message_id)
    return {"message": MessageOut.of(message).model_dump(mode="json")}


@router.get(BASE + "/{conversation_id}/messages/{message_id}/alternatives")
async def list_alternatives(conversation_id: str, message_id: str, request: Request,
                            user: ActiveUser) -> dict[str, Any]:
    replies, shown = await alternatives.of(context_of(request), user_id=user["_id"],
                                           conversation_id=conversation_id, message_id=message_id)
    return {"items": [MessageOut.of(m).model_dump(mode="json") for m in replies],
            "shown_id": shown["_id"] if shown else None}


@router.post(BASE + "/{conversation_id}/messages/{message_id}/choose")
async def choose_alternative(conversation_id: str, message_id: str, request: Request,
                             user: ActiveUser) -> dict[str, Any]:
    chosen = await alternatives.choose(context_of(request), user_id=user["_id"],
                                       conversation_id=conversation_id, message_id=message_id)
    return {"message": MessageOut.of(chosen).model_dump(mode="json")}


@router.patch(BASE + "/{conversation_id}/messages/{message_id}")
async def edit_reply(conversation_id: str, message_id: str, data: ReplyTextIn, request: Request,
                     user: ActiveUser) -> dict[str, Any]:
    message = await reply_edits.edit_reply(context_of(request), user_id=user["_id"],
                                           conversation_id=conversation_id,
                                           message_id=message_id, text=data.text)
    return {"message": MessageOut.of(message).model_dump(mode="json")}


@router.delete(BASE + "/{conversation_id}/messages/{message_id}", status_code=204)
async def delete_message(conversation_id: str, message_id: str, request: Request,
                         user: ActiveUser) -> Response:
    await service.delete_message(context_of(request), user_id=user["_id"],
                                 conversation_id=conversation_id, message_id=message_id)
    return Response(status_code=204)


@router.post(BASE + "/{conversation_id}/messages/{message_id}/stop")
async def stop_reply(conversation_id: str, message_id: str, request: Request,
                     user: ActiveUser) -> dict[str, Any]:
    message = await service.stop(context_of(request), user_id=user["_id"],
                                 conversation_id=conversation_id, message_id=message_id)
    return {"message": MessageOut.of(message).model_dump(mode="json")}


@router.post(BASE + "/{conversation_id}/messages/{message_id}/regenerate", response_model=None)
async def regenerate_reply(conversation_id: str, message_id: str, request: Request,
                           user: ActiveUser, stream: Stream = True) -> Response:
    generation = await replies.regenerate(context_of(request), user_id=user["_id"],
                                          conversation_id=conversation_id,
                                          message_id=message_id)
    return await reply_response(request, generation, stream)


@router.post(BASE + "/{conversation_id}/messages/{message_id}/continue", response_model=None)
async def continue_reply(conversation_id: str, message_id: str, request: Request,
                         user: ActiveUser, stream: Stream = True) -> Response:
    generation = await continuation.continue_reply(context_of(request), user_id=user["_id"],
                                                   conversation_id=conversation_id,
                                                   message_id=message_id)
    return await reply_response(request, generation, stream)


@router.post(BASE + "/{conversation_id}/messages/{message_id}/edit", response_model=None)
async def edit_message(conversation_id: str, message_id: str, data: MessageIn, request: Request,
                       user: ActiveUser, stream: Stream = True) -> Response:
    generation = await replies.edit_message(context_of(request), user_id=user["_id"],
                                            conversation_id=conversation_id,
                                            message_id=message_id, text=data.text)
    if data.speak and stream:
        return ReplyStream(generation, spoken_batches(context_of(request), generation))
    return await reply_response(request, generation, stream)
