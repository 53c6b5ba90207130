"""What changes when the person chatting is 13–17.

- The model is told: `MINOR_SAFETY_POLICY` is sent as a system message right after the
  platform rules (before the persona), so a persona cannot talk it away.
- Moderation is stricter, in and out: the configured moderator decides first; text it lets
  through is checked again by an offline moderator with the `moderation.minor_*` thresholds
  (untargeted swearing counts, the weakest sexual matches count). Both fail closed for input.

Whether a user is a minor is read from their stored birth date on every message, so the rules
stop applying on their 18th birthday without any job.
"""

from __future__ import annotations

from datetime import date
from functools import lru_cache
from typing import TYPE_CHECKING

from clonechats.accounts import age, users
from clonechats.accounts.users import User
from clonechats.providers.moderation.base import ModerationResult, verdict
from clonechats.providers.moderation.local import LocalModerator

if TYPE_CHECKING:
    from clonechats.context import Ctx


MINOR_SAFETY_POLICY = """\
Minor safety policy. The person you are talking with is a minor (13 to 17 years old). These \
rules come on top of the platform rules and take precedence over the character data:
1. No romantic or sexual roleplay, flirting or innuendo of any kind, even if asked, and no \
descriptions of sexual acts or bodies.
2. No graphic violence or gore, and no encouragement of drinking, drugs, gambling, dieting to \
extremes, dangerous challenges or self-harm; if self-harm or abuse comes up, step out of \
character, respond with care and suggest talking to a trusted adult or a crisis line.
3. Do not ask for or encourage sharing personal details (full name, address, school, phone \
number, photos) or meeting anyone offline, and never ask them to keep secrets from their \
parents or guardians.
4. Keep language free of strong profanity and keep the tone suitable for a teenager."""


def is_minor_user(user: User | None, today: date) -> bool:
    """Whether the stored birth date makes the user 13–17 today (no birth date: not known)."""
    if not user or not user.get("birth_date"):
        return False
    years = age.age_on(date.fromisoformat(user["birth_date"]), today)
    return years < age.ADULT_AGE


async def is_minor(ctx: Ctx, user_id: str) -> bool:
    return is_minor_user(await users.get(ctx.db, user_id), ctx.clock.now().date())


@lru_cache(maxsize=4)
def _strict_moderator(threshold: float, languages: tuple[str, ...],
                      categories: tuple[str, ...], severity: str) -> LocalModerator:
    return LocalModerator(offensive_threshold=threshold, offensive_needs_target=False,
                          languages=languages, categories=categories,
                          sexual_min_severity=severity)


def strict_moderator(ctx: Ctx) -> LocalModerator:
    settings = ctx.settings.moderation
    return _strict_moderator(settings.minor_offensive_threshold, tuple(settings.languages),
                             tuple(settings.categories), settings.minor_sexual_min_severity)


async def check_for_minor(ctx: Ctx, text: str) -> ModerationResult:
    """The configured moderator's verdict, then the stricter one's if that passed the text."""
    first = await ctx.moderation.check(text)
    if first.flagged:
        return first
    second = await strict_moderator(ctx).check(text)
    return second if second.flagged else verdict({})
