"""Settling a reply, however it ended: what it costs, what is shown, what is recorded.

`settle_reply` charges what was delivered (see `metering`; usage as the provider reported it,
or, for a reply cut short, the delivered text counted with the model's tokenizer and the prompt
as counted when the context was built), moderates the delivered text (a flagged reply is
withheld: status "blocked", the user sees `HIDDEN_NOTICE`, the text is kept as
`withheld_text` for admins, and the credits are still charged since the model did the work),
stores the final message, frees the conversation and writes the cost event; then it hands both
messages to the mood backlog (`chat.mood_backlog`), so `done` never waits for a mood. It is used
by `Generation` and by the recovery job for a reply whose process died, and is safe to repeat:
the ledger keys make it charge once.

A continuation of a cut reply (`chat.continuation`) settles the same way, with the plan's
`continuing`: the new text is appended to what the reply held, the new part is charged under
its own ledger id, and the stored usage and credits are the totals of both parts.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, cast

from clonechats.chat import markdown, metering, repo, screening
from clonechats.chat.repo import Message
from clonechats.chat.translation import service as chat_translation
from clonechats.providers.errors import ProviderError
from clonechats.providers.llm.base import ChatMessage, LLMProvider, ModelInfo, Usage
from clonechats.providers.llm.estimate import estimate_text_tokens
from clonechats.settings import ModelPrice
from clonechats.telemetry import events

if TYPE_CHECKING:
    from clonechats.context import Ctx


log = logging.getLogger(__name__)

HIDDEN_NOTICE = "This reply was hidden by moderation."


@dataclass(frozen=True)
class Continuation:
    """What a cut reply held before it was continued, and the id its new credits go under."""

    text: str
    usage: dict[str, int]
    credits_charged: int
    ledger_id: str
    prompt_tokens: int = 0  # of the continuation's own prompt

    def record(self) -> dict[str, Any]:
        return {"text": self.text, "usage": self.usage, "credits_charged": self.credits_charged,
                "ledger_id": self.ledger_id, "prompt_tokens": self.prompt_tokens}


@dataclass
class ReplyPlan:
    """Everything a reply needs, prepared (and paid for) by `chat.service`."""

    owner_id: str
    conversation_id: str
    user_message: Message | None  # None when settled by the recovery job
    message_id: str  # the assistant message, stored as "streaming"
    persona_name: str
    # None only when settling an abandoned reply whose model was switched off since
    provider: LLMProvider | None
    model: ModelInfo
    messages: list[ChatMessage]
    prompt_tokens: int
    reply_tokens: int
    price: ModelPrice
    reserved: int
    translation: dict[str, str] | None = None  # the conversation's translation mode, if any
    continuing: Continuation | None = None  # set when this reply continues a cut one
    temperature: float | None = None  # None: the operator's `chat.temperature`

    @property
    def ledger_id(self) -> str:
        """The id this reply's credits are reserved and settled under."""
        return self.continuing.ledger_id if self.continuing else self.message_id

    @property
    def earlier_text(self) -> str:
        return self.continuing.text if self.continuing else ""


@dataclass
class GenerationOutcome:
    """What one generation of a reply delivered, for `settle_reply` to store and charge."""

    text: str = ""  # what this generation delivered (after `plan.earlier_text`, if any)
    usage: Usage | None = None
    status: str = repo.COMPLETE
    error_code: str | None = None
    finish_reason: str | None = None
    ttft_ms: float | None = None
    latency_ms: float = 0.0  # set when the generation ends
    extra: dict[str, Any] = field(default_factory=dict)


async def delivered_tokens(provider: LLMProvider | None, model: str, text: str) -> int:
    """Tokens of `text` as the model counts them (what a reply cut short delivered)."""
    if not text:
        return 0
    if provider is not None:
        try:
            anchor = [ChatMessage("system", ".")]
            empty = await provider.count_tokens(
                model=model, messages=[*anchor, ChatMessage("assistant", "")])
            total = await provider.count_tokens(
                model=model, messages=[*anchor, ChatMessage("assistant", text)])
            return max(1, total - empty)
        except ProviderError:
            pass
    return max(1, estimate_text_tokens(text))


async def settle_reply(ctx: Ctx, *, plan: ReplyPlan, outcome: GenerationOutcome) -> Message:
    """Charge, moderate and store a finished (or abandoned) reply; free the conversation;
    record the cost; hand the moods of both messages to the backlog. Safe to repeat: the
    ledger keys make it charge once."""
    text = outcome.text
    user = plan.user_message
    usage = outcome.usage
    if usage is None:
        usage = Usage(prompt_tokens=plan.prompt_tokens,
                      completion_tokens=await delivered_tokens(plan.provider, plan.model.id, text))
    charge = min(plan.reserved, metering.cost_for(plan.price, usage)) if text else 0
    charged = await metering.settle(ctx, user_id=plan.owner_id, message_id=plan.ledger_id,
                                    reserved=plan.reserved, charged=charge)
    full = plan.earlier_text + text
    status, shown, moderation = outcome.status, full, None
    if full:
        result = await screening.check_output(ctx, full, user_id=plan.owner_id)
        if result is not None:
            moderation = {"flagged": result.flagged, "reason": result.reason}
            if result.flagged:
                status, shown = repo.BLOCKED, HIDDEN_NOTICE
                await screening.flag(ctx, user_id=plan.owner_id, subject="model_output",
                                  ref_id=plan.message_id, result=result)
    mood_later = ctx.mood_backlog is not None and status != repo.BLOCKED and bool(full.strip())
    now = ctx.clock.now()
    changes: dict[str, Any] = {
        "status": status, "text": shown, "html": markdown.render(shown),
        "usage": _totals(plan.continuing, usage), "moderation": moderation, "mood": None,
        "credits_charged": charged + (plan.continuing.credits_charged if plan.continuing else 0),
        "error_code": "reply_blocked" if status == repo.BLOCKED else outcome.error_code,
        "finish_reason": outcome.finish_reason, "completed_at": now,
        "ttft_ms": outcome.ttft_ms, "latency_ms": outcome.latency_ms, **outcome.extra,
    }
    if plan.continuing:
        changes["continuing"] = None
    if status == repo.BLOCKED:
        changes["withheld_text"] = full
    if mood_later:
        changes["mood_pending"] = True
    changes.update(await chat_translation.reply_fields(ctx, mode=plan.translation,
                                                       status=status, text=shown))
    message = await repo.update_message(ctx.db, plan.message_id, changes,
                                        status=repo.STREAMING)
    if message is None:
        stored = await repo.get_message(ctx.db, plan.message_id)
        if stored is not None:  # settled already (by the recovery job): report that
            return stored
        message = cast(Message, {"_id": plan.message_id, **changes})  # its chat was deleted
    await repo.release_generation(ctx.db, plan.conversation_id, message_id=plan.message_id,
                                  changes={"last_message_at": now, "updated_at": now})
    await events.record_cost(
        ctx, user_id=plan.owner_id, provider=plan.model.provider, model=plan.model.id,
        prompt_tokens=usage.prompt_tokens, completion_tokens=usage.completion_tokens,
        credits=charged, latency_ms=outcome.latency_ms, ttft_ms=outcome.ttft_ms,
        outcome=status)
    if ctx.mood_backlog is not None:
        ctx.mood_backlog.offer(
            ([(user["_id"], user["text"])] if user is not None and user.get("mood_pending")
             else []) + ([(plan.message_id, full)] if mood_later else []))
    return message


def _totals(continuing: Continuation | None, usage: Usage) -> dict[str, int]:
    """The usage a reply stores: this generation's, plus what it held before a continuation."""
    earlier = continuing.usage if continuing else {}
    return {"prompt_tokens": usage.prompt_tokens + int(earlier.get("prompt_tokens") or 0),
            "completion_tokens": usage.completion_tokens
            + int(earlier.get("completion_tokens") or 0)}
