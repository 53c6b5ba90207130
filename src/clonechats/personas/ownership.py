"""Whose persona it is: the one check that a user owns a persona.

The persona lifecycle (`service.py`) and every domain that keeps things of a persona (its
memories, its media) make this check before touching them, and import it from here rather than
from the lifecycle, which in turn removes and copies those things. To anyone but its owner a
persona does not exist: PersonaNotFound (404), never 403, so nothing leaks.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from clonechats.errors import NotFound
from clonechats.personas import repo
from clonechats.personas.repo import Persona

if TYPE_CHECKING:
    from clonechats.context import Ctx


class PersonaNotFound(NotFound):
    code = "persona_not_found"
    message = "No such persona."


async def get_owned(ctx: Ctx, *, user_id: str, persona_id: str) -> Persona:
    """The persona if `user_id` owns it; otherwise PersonaNotFound (never 403: no leak)."""
    persona = await repo.get(ctx.db, persona_id)
    if persona is None or persona["owner_id"] != user_id:
        raise PersonaNotFound()
    return persona
