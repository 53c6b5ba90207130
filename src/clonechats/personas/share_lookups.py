"""Looking up a persona by its share link, with a limit on guessing.

Share ids carry 128 random bits, so they cannot be guessed; this also stops anyone trying: a
client address that asks for `MISSES` unknown share ids is refused (429 `too_many_lookups`,
with `Retry-After`) for a back-off that doubles as it keeps missing, as sign-in failures do
(`accounts.throttle`, key `share:<hashed address>`). Valid links never count.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from clonechats.accounts import throttle
from clonechats.client_info import ClientInfo
from clonechats.errors import TooManyRequests
from clonechats.personas import service
from clonechats.personas.repo import Persona

if TYPE_CHECKING:
    from clonechats.context import Ctx


MISSES = 30


class TooManyLookups(TooManyRequests):
    code = "too_many_lookups"
    message = "Too many unknown share links from this network. Please wait and try again."


async def get_public(ctx: Ctx, *, share_id: str, client: ClientInfo) -> Persona:
    keys = [throttle.ThrottleKey(f"share:{client.ip_hash}", MISSES)] if client.ip_hash else []
    now = ctx.clock.now()
    try:
        await throttle.check(ctx.db, keys, now=now)
    except throttle.TooManyAttempts as blocked:
        raise TooManyLookups(headers=blocked.headers) from None
    try:
        return await service.get_public(ctx, share_id=share_id)
    except service.PersonaNotFound:
        await throttle.record_failure(ctx.db, keys, now=now, settings=ctx.settings.accounts)
        raise
