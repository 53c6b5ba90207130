"""Moderation of chat messages, with the failure rules chat needs.

- Input moderation fails closed: when the moderator is unavailable the message is refused with
  503 `moderation_unavailable` before anything is stored or charged.
- Output moderation fails open: the reply was written within the platform rules from input
  that passed moderation, so an unavailable moderator leaves it shown (and logged).
- For a user aged 13-17 both checks are stricter (`safety.minors`).
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from clonechats.errors import AppError
from clonechats.providers.errors import ProviderError
from clonechats.providers.moderation.base import ModerationResult
from clonechats.safety import flags, minors

if TYPE_CHECKING:
    from clonechats.context import Ctx


log = logging.getLogger(__name__)


class ModerationUnavailable(AppError):
    code = "moderation_unavailable"
    status = 503
    message = "Messages cannot be checked right now, so none can be sent. Please try again " \
              "in a moment."


async def _check(ctx: Ctx, text: str, user_id: str | None) -> ModerationResult:
    if user_id is not None and await minors.is_minor(ctx, user_id):
        return await minors.check_for_minor(ctx, text)  # stricter for 13-17-year-olds
    return await ctx.moderation.check(text)


async def check_input(ctx: Ctx, text: str, *, user_id: str | None = None) -> ModerationResult:
    try:
        return await _check(ctx, text, user_id)
    except ProviderError as exc:
        log.warning("input moderation unavailable", extra={"error": str(exc)})
        raise ModerationUnavailable() from None


async def check_output(ctx: Ctx, text: str, *,
                       user_id: str | None = None) -> ModerationResult | None:
    try:
        return await _check(ctx, text, user_id)
    except ProviderError as exc:
        log.warning("output moderation unavailable; reply shown", extra={"error": str(exc)})
        return None


async def flag(ctx: Ctx, *, user_id: str, subject: str, ref_id: str,
               result: ModerationResult) -> None:
    await flags.record_flag(ctx, user_id=user_id, subject=subject, ref_id=ref_id, result=result)
