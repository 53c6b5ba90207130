"""The memory jobs.

- `memory.reembed`: give vectors to a persona's memories that lack one from the current
  embedding model (the provider failed when they were written, or the model changed). Each run
  handles a bounded number of memories, then queues itself again while some remain. A provider
  error propagates to the runner, which retries later with backoff.
- `memory.learn`: store the facts a user message states about its author (`learning.py`).
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from clonechats.jobs.service import JobRegistry
from clonechats.personas.memory import learning, service

if TYPE_CHECKING:
    from clonechats.context import Ctx


log = logging.getLogger(__name__)

PER_RUN = 1000


async def reembed(payload: dict[str, Any], ctx: Ctx) -> None:
    persona_id = payload["persona_id"]
    stored, more = await service.reembed_persona(ctx, persona_id=persona_id, limit=PER_RUN)
    log.info("memories re-embedded", extra={"persona_id": persona_id, "count": stored,
                                            "more": more})
    if more:
        await ctx.enqueue(service.REEMBED, {"persona_id": persona_id})


async def learn(payload: dict[str, Any], ctx: Ctx) -> None:
    await learning.learn_from_message(ctx, payload["message_id"])


def register_jobs(registry: JobRegistry) -> None:
    registry.register(service.REEMBED, reembed)
    registry.register(learning.LEARN, learn)
