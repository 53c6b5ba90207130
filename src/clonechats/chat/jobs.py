"""Chat's background job.

- `chat.settle_abandoned`: queued with every reply, due when its lease (plus a grace period)
  has run out. A reply that finished meanwhile is left alone; one whose lease was renewed is
  looked at again when the new lease ends; one still "streaming" with an expired lease belonged
  to a process that died: it is settled as failed ("interrupted") with the text it had saved,
  charged for that text only, and its conversation is freed. A continuation of a cut reply
  that died the same way keeps the text it held before plus what the continuation saved, and
  only the continuation's part is charged (under its own ledger id).
"""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING, Any

from clonechats.chat import generation, metering, repo
from clonechats.chat.replies import SETTLE_GRACE_SECONDS, SETTLE_JOB
from clonechats.chat.settlement import Continuation, GenerationOutcome, ReplyPlan, settle_reply
from clonechats.errors import AppError
from clonechats.jobs.service import JobRegistry
from clonechats.providers.llm.base import ModelInfo
from clonechats.settings import ModelPrice

if TYPE_CHECKING:
    from clonechats.context import Ctx



def _price(ctx: Ctx, model_id: str) -> ModelPrice:
    try:
        return metering.price_for(ctx.settings.chat, model_id)
    except AppError:  # no price any more: the interrupted reply is not charged
        return ModelPrice(prompt_per_1k=0, completion_per_1k=0, minimum=0)


async def settle_abandoned(payload: dict[str, Any], ctx: Ctx) -> None:
    message = await repo.get_message(ctx.db, payload["message_id"])
    if message is None or message["status"] != repo.STREAMING:
        return
    conversation = await repo.get_conversation(ctx.db, message["conversation_id"])
    holder = (conversation or {}).get("generating") or {}
    now = ctx.clock.now()
    alive = holder.get("message_id") == message["_id"] and holder["until"] > now
    if alive or generation.running(message["_id"]) is not None:
        later = max(holder.get("until") or now, now) + timedelta(seconds=SETTLE_GRACE_SECONDS)
        await ctx.enqueue(SETTLE_JOB, payload, run_at=later,
                          dedupe_key=f"{SETTLE_JOB}:{message['_id']}:{later.isoformat()}")
        return
    model_id = message.get("model") or ""  # a reply is stored with its model
    try:
        provider, model = ctx.llm.resolve(model_id)
    except AppError:  # the model was switched off since: count the text by estimate
        provider, model = None, ModelInfo(id=model_id, provider=model_id.split(":", 1)[0],
                                          context_window=0, label=model_id)
    before = message.get("continuing")
    continuing = Continuation(**before) if before else None
    prompt_tokens = (continuing.prompt_tokens if continuing else
                     (message.get("usage") or {}).get("prompt_tokens", 0))
    plan = ReplyPlan(
        owner_id=message["owner_id"], conversation_id=message["conversation_id"],
        user_message=None, message_id=message["_id"], persona_name="",
        provider=provider, model=model, messages=[], prompt_tokens=prompt_tokens,
        reply_tokens=0, price=_price(ctx, model_id), reserved=message["reserved_credits"],
        continuing=continuing)
    waited_ms = max(0.0, (now - message["created_at"]).total_seconds() * 1000)
    await settle_reply(ctx, plan=plan, outcome=GenerationOutcome(
        text=message["text"][len(plan.earlier_text):], status=repo.FAILED,
        error_code="interrupted",
        latency_ms=round(waited_ms, 1)))


def register_jobs(registry: JobRegistry) -> None:
    registry.register(SETTLE_JOB, settle_abandoned)
