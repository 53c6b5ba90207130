"""Persona lifecycle and access rules. Another user's private persona is always "not found"."""

from typing import Any

from clonechats.errors import NotFound
from clonechats.personas import repo


class PersonaNotFound(NotFound):
    code = "persona_not_found"
    message = "No such persona."


async def get_owned(ctx: Any, *, user_id: str, persona_id: str) -> dict[str, Any]:
    """The persona if `user_id` owns it; otherwise PersonaNotFound (never 403: no leak)."""
    persona = await repo.get(ctx.db, persona_id)
    if persona is None or persona["owner_id"] != user_id:
        raise PersonaNotFound()
    return persona


async def get_usable(ctx: Any, *, user_id: str, persona_id: str) -> dict[str, Any]:
    """A persona `user_id` may chat with: their own, or any public one."""
    persona = await repo.get(ctx.db, persona_id)
    if persona is None or (persona["owner_id"] != user_id and persona["visibility"] != "public"):
        raise PersonaNotFound()
    return persona
