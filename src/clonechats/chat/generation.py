"""One reply being written: the provider stream, stopping, and settling whatever happens.

A `Generation` runs as its own task, apart from the HTTP request that started it, so a client
that goes away or a cancelled request can only *ask* it to stop. A stop cancels the task that
reads the provider stream where it waits for the next token (closing the provider's stream),
keeps the partial text and settles (`chat.settlement`). Events (`token`, then `done` or
`error`) go to a queue that the SSE response reads. Stopping works across processes too: every
`settings.chat.stop_poll_seconds` (after each token when that is 0) the reply saves its text
so far (or, when it has not grown, only reads the message) and reads its `stop_requested` flag;
it renews the conversation's lease once a quarter of the lease has passed.
Settling runs shielded from cancellation, so a reply is settled even while the server stops.
Moods are worked out after the reply has settled (`chat.mood_backlog`).
"""

from __future__ import annotations

import asyncio
import logging
import time
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from clonechats.billing import ledger
from clonechats.chat import in_progress, repo
from clonechats.chat.repo import Message
from clonechats.chat.settlement import HIDDEN_NOTICE, GenerationOutcome, ReplyPlan, settle_reply
from clonechats.chat.translation.texts import TRANSLATION_EVENT, event_for
from clonechats.errors import AppError
from clonechats.providers.errors import (
    ProviderAuthError,
    ProviderError,
    ProviderQuotaError,
    ProviderRejected,
)
from clonechats.providers.llm.base import StreamEnd, TextDelta, close_stream

if TYPE_CHECKING:
    from clonechats.context import Ctx


log = logging.getLogger(__name__)

ERROR_MESSAGES = {
    "provider_unavailable": "The model is not available right now. Your message is kept; "
                            "please try again in a moment.",
    "provider_rejected": "The model could not answer this message. Your message is kept; "
                         "try again or rephrase it.",
    "reply_failed": "The reply could not be completed. Your message is kept; please try again.",
    "interrupted": "The reply was interrupted. Your message is kept; please try again.",
    "reply_blocked": HIDDEN_NOTICE,
}

_settling: set[asyncio.Future[Any]] = set()


def error_code_for(exc: BaseException) -> str:
    if isinstance(exc, ProviderRejected):
        return "provider_rejected"
    if isinstance(exc, ProviderError):
        if isinstance(exc, ProviderAuthError | ProviderQuotaError):
            log.error("LLM provider refused our credentials or quota", extra={"error": str(exc)})
        return "provider_unavailable"
    return "reply_failed"


def _retrieve(task: asyncio.Task[Any]) -> None:
    """Mark a reply task's failure as seen (it was logged, and its consumer told)."""
    if not task.cancelled():
        task.exception()


def running(message_id: str) -> Generation | None:
    return in_progress.get(message_id)


class ServerBusy(AppError):
    code = "server_busy"
    status = 503
    message = "Too many replies are being written right now. Please try again in a few seconds."


BUSY_RETRY_SECONDS = 5


def admit(ctx: Ctx) -> None:
    """Refuse a new reply (503 with Retry-After) while this process writes its most at once:
    past that every reply would slow down together. Nothing is stored or charged."""
    if in_progress.count() >= ctx.settings.chat.max_concurrent_replies:
        raise ServerBusy(headers={"Retry-After": str(BUSY_RETRY_SECONDS)})


class Generation:
    def __init__(self, ctx: Ctx, plan: ReplyPlan) -> None:
        self.ctx = ctx
        self.plan = plan
        self.message_id = plan.message_id
        self._events: asyncio.Queue[tuple[str, dict[str, Any]]] = asyncio.Queue()
        self._stop = asyncio.Event()
        self.stop_reason: str | None = None
        self._parts: list[str] = []
        self._saved_text: str | None = None
        self._lease_renewed = ctx.clock.now()  # taken with the conversation, just before
        self._task: asyncio.Task[Message] | None = None
        self._pump: asyncio.Task[None] | None = None
        self.finished = False

    def start(self) -> Generation:
        in_progress.add(self.message_id, self)
        self._task = asyncio.create_task(self._run(), name=f"chat-reply-{self.message_id}")
        self._task.add_done_callback(_retrieve)
        return self

    def request_stop(self, reason: str = "stopped") -> None:
        """Stop at once: the provider stream is cancelled where it waits for its next token."""
        if not self._stop.is_set():
            self.stop_reason = reason
            self._stop.set()
            pump = self._pump
            if pump is not None and not pump.done() and pump is not asyncio.current_task():
                pump.cancel()

    async def wait(self) -> Message:
        """The final message once settled."""
        assert self._task is not None
        return await asyncio.shield(self._task)

    async def event_batches(self) -> Any:
        """Lists of `(name, data)` pairs (tokens, then `done` or `error`): each list is what
        had arrived by the time the previous one was taken, so a burst goes out in one write."""
        while True:
            batch = [await self._events.get()]
            while not self._events.empty():
                batch.append(self._events.get_nowait())
            yield batch
            if batch[-1][0] in ("done", "error"):
                return

    def _emit(self, name: str, data: dict[str, Any]) -> None:
        self._events.put_nowait((name, data))

    async def _run(self) -> Message:
        outcome: GenerationOutcome | None = None
        started = time.perf_counter()
        try:
            outcome = await self._generate(started)
        finally:
            if outcome is None:  # cancelled (shutting down): keep what arrived
                outcome = GenerationOutcome(text="".join(self._parts), status=repo.FAILED,
                                            error_code="interrupted")
            outcome.latency_ms = round((time.perf_counter() - started) * 1000, 1)
            settling = asyncio.ensure_future(self._settle(outcome))
            _settling.add(settling)
            settling.add_done_callback(_settling.discard)
            try:
                message = await asyncio.shield(settling)
            finally:
                in_progress.remove(self.message_id)
        return message

    async def _generate(self, started: float) -> GenerationOutcome:
        outcome = GenerationOutcome()
        self._pump = asyncio.ensure_future(self._read_stream(outcome, started))
        if self._stop.is_set():
            self._pump.cancel()
        poll = self.ctx.settings.chat.stop_poll_seconds
        watcher = asyncio.ensure_future(self._watch(poll)) if poll > 0 else None
        try:
            await self._pump
        finally:
            if watcher is not None:
                watcher.cancel()
        if self._stop.is_set() and outcome.status == repo.COMPLETE and outcome.usage is None:
            outcome.status = repo.STOPPED
        outcome.text = "".join(self._parts)
        return outcome

    async def _read_stream(self, outcome: GenerationOutcome, started: float) -> None:
        """Pass the provider's deltas on until it ends, fails or a stop cancels this task."""
        plan, settings = self.plan, self.ctx.settings.chat
        check_each_token = settings.stop_poll_seconds == 0
        if plan.provider is None:  # only a plan that settles an abandoned reply has none
            raise RuntimeError("this reply's model is switched off")
        stream = plan.provider.stream(model=plan.model.id, messages=plan.messages,
                                      max_tokens=plan.reply_tokens,
                                      temperature=settings.temperature
                                      if plan.temperature is None else plan.temperature)
        try:
            async for item in stream:
                if isinstance(item, TextDelta) and item.text:
                    if outcome.ttft_ms is None:
                        outcome.ttft_ms = round((time.perf_counter() - started) * 1000, 1)
                    self._parts.append(item.text)
                    self._emit("token", {"text": item.text})
                    if check_each_token and await self._save_progress():
                        self.request_stop("stopped")
                        break
                elif isinstance(item, StreamEnd):
                    outcome.usage, outcome.finish_reason = item.usage, item.finish_reason
                    break
        except asyncio.CancelledError:
            if not self._stop.is_set():
                raise  # the reply itself is being cancelled (shutting down)
        except ProviderError as exc:
            log.warning("LLM stream failed", extra={"message_id": self.message_id,
                                                    "error": str(exc)})
            outcome.status, outcome.error_code = repo.FAILED, error_code_for(exc)
        except Exception:
            log.exception("reply failed", extra={"message_id": self.message_id})
            outcome.status, outcome.error_code = repo.FAILED, "reply_failed"
        finally:
            await close_stream(stream)

    async def _watch(self, poll: float) -> None:
        """Every `poll` seconds: save the text, renew the lease, honour a stop request made
        through another process."""
        while True:
            await asyncio.sleep(poll)
            if await self._save_progress():
                self.request_stop("stopped")
                return

    async def _save_progress(self) -> bool:
        """Save the text so far (when it grew) and renew the lease (once a quarter of it has
        passed); True when a stop was requested. One write per poll at most, or one read."""
        now = self.ctx.clock.now()
        text = self.plan.earlier_text + "".join(self._parts)
        if text != self._saved_text:
            saved = await repo.update_message(self.ctx.db, self.message_id, {"text": text},
                                              status=repo.STREAMING)
            self._saved_text = text
        else:
            saved = await repo.get_message(self.ctx.db, self.message_id)
            saved = saved if saved and saved["status"] == repo.STREAMING else None
        lease = self.ctx.settings.chat.generation_lease_seconds
        if (now - self._lease_renewed).total_seconds() >= lease / 4:
            await repo.renew_generation(self.ctx.db, self.plan.conversation_id,
                                        message_id=self.message_id,
                                        until=lease_until(self.ctx, now))
            self._lease_renewed = now
        return saved is None or bool(saved.get("stop_requested"))

    async def _settle(self, outcome: GenerationOutcome) -> Message:
        plan = self.plan
        try:
            message = await settle_reply(self.ctx, plan=plan, outcome=outcome)
        except BaseException:
            log.exception("settling a reply failed", extra={"message_id": self.message_id})
            self._emit("error", {"code": "reply_failed",
                                 "message": ERROR_MESSAGES["reply_failed"]})
            raise
        self.finished = True
        if message["status"] in (repo.COMPLETE, repo.STOPPED):
            if (translated := event_for(message)) is not None:
                self._emit(TRANSLATION_EVENT, translated)
            usage = message.get("usage") or {}
            self._emit("done", {
                "message_id": message["_id"],
                "usage": {"prompt_tokens": usage["prompt_tokens"],
                          "completion_tokens": usage["completion_tokens"]},
                "credits_charged": message["credits_charged"],
                "balance": await ledger.balance(self.ctx.db, plan.owner_id),
            })
        else:
            code = message.get("error_code") or "reply_failed"
            self._emit("error", {"code": code,
                                 "message": ERROR_MESSAGES.get(code, ERROR_MESSAGES[
                                     "reply_failed"])})
        return message


def lease_until(ctx: Ctx, now: datetime) -> datetime:
    return now + timedelta(seconds=ctx.settings.chat.generation_lease_seconds)
