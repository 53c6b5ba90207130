"""The moderation review queue: flags with what a moderator needs to decide, reports from
anyone against public personas, and the actions.

Queue items are flags (`safety.flags`) with context: the message (text, role, status) or the
persona (name, tagline, traits, greeting, system prompt, whether it is public or hidden) it
points at, the reports' reasons, and the owner (email, status, earlier flags and warnings).

Actions, each closing the flag and audit-logged with the admin and their note:
- `dismiss`: nothing was wrong.
- `hide`: a persona leaves public view (its share link 404s; the owner cannot share it again).
  Messages were already held back when they were flagged, so there is nothing to hide.
- `warn`: the owner sees a notice on every page until they dismiss it.
- `suspend`: the account's sessions end and sign-in is refused (`accounts.suspension`).

Trust boundary: only `admin.routes` calls the queue and actions; `report_persona` is public
(throttled per hashed address by the router's caller). Never touches HTTP.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from clonechats.accounts import audit, suspension, users
from clonechats.accounts.users import User
from clonechats.client_info import ClientInfo
from clonechats.errors import AppError, Conflict
from clonechats.personas import service as persona_service
from clonechats.personas.repo import Persona
from clonechats.safety import flags, rate_limits, warnings

if TYPE_CHECKING:
    from clonechats.context import Ctx


ACTIONS = ("dismiss", "hide", "warn", "suspend")
PERSONA_SUBJECTS = frozenset({flags.PERSONA_REPORT, "persona_profile"})
REASON_MAX = 1000
NOTE_MAX = 2000
PROMPT_EXCERPT = 2000


class InvalidReport(AppError):
    code = "invalid_report"
    status = 422
    message = "Say briefly what is wrong with this persona."


class InvalidAction(AppError):
    code = "invalid_action"
    status = 422


class AlreadyReviewed(Conflict):
    code = "already_reviewed"
    message = "Another moderator already acted on this flag."


async def report_persona(ctx: Ctx, *, share_id: str, reason: str,
                         client: ClientInfo) -> dict[str, Any]:
    """Anyone's report against a public persona (404 for a link that does not work)."""
    text = " ".join(reason.split())
    if len(text) < 3 or len(text) > REASON_MAX:
        raise InvalidReport(f"Say what is wrong in 3 to {REASON_MAX} characters.")
    await rate_limits.hit(ctx, bucket="persona_report", key=client.ip_hash,
                          limit=ctx.settings.admin.reports_per_address_per_hour,
                          message="Too many reports from your network. Please try later.")
    persona = await persona_service.get_public(ctx, share_id=share_id)
    return await flags.add_persona_report(ctx, persona=persona, reason=text)


async def queue(ctx: Ctx, *, status: str | None, limit: int,
                cursor: str | None) -> tuple[list[dict[str, Any]], str | None]:
    items, next_cursor = await flags.list_flags(ctx, status=status, limit=limit, cursor=cursor)
    return [await with_context(ctx, flag) for flag in items], next_cursor


async def with_context(ctx: Ctx, flag: dict[str, Any]) -> dict[str, Any]:
    item = flags.public(flag)
    item["message"] = await flags.referenced_message(ctx, flag)
    item["persona"] = None
    if flag["subject"] in PERSONA_SUBJECTS and flag.get("ref_id"):
        persona = await persona_service.get_for_review(ctx, flag["ref_id"])
        if persona is not None:
            item["persona"] = {
                "id": persona["_id"], "name": persona.get("name"),
                "tagline": persona.get("tagline") or "", "traits": persona.get("traits") or [],
                "greeting": persona.get("greeting") or "",
                "system_prompt": (persona.get("system_prompt") or "")[:PROMPT_EXCERPT],
                "visibility": persona.get("visibility"), "share_id": persona.get("share_id"),
                "hidden": bool(persona.get("hidden_at"))}
    item["reports"] = [{"reason": r["reason"], "at": r["at"].isoformat()}
                       for r in reversed(flag.get("reports") or [])]
    item["owner"] = await _owner(ctx, flag.get("user_id"))
    item["note"] = flag.get("action_note")
    item["actions"] = [a for a in ACTIONS if a != "hide" or item["persona"] is not None]
    return item


async def _owner(ctx: Ctx, user_id: str | None) -> dict[str, Any] | None:
    if not user_id:
        return None
    user = await users.get(ctx.db, user_id)
    if user is None:
        return None
    return {"id": user["_id"], "email": user.get("email"), "status": user["status"],
            "suspended": suspension.is_suspended(user),
            "flags": await flags.count_for_user(ctx, user_id),
            "warnings": await warnings.count_for_user(ctx, user_id)}


def _warning_text(flag: dict[str, Any], persona: Persona | None) -> str:
    what = (f"Your persona “{persona['name']}”" if persona is not None else
            "One of your messages")
    reason = f" ({flag['reason']})" if flag.get("reason") and persona is None else ""
    return (f"{what} was reviewed by a moderator and breaks our terms of use{reason}. "
            "Please keep to the terms: repeated breaches can lead to suspension.")


async def act(ctx: Ctx, *, flag_id: str, action: str, note: str | None,
              admin: User, client: ClientInfo | None) -> dict[str, Any]:
    """Apply a moderator's action to an open flag; returns the updated queue item."""
    if action not in ACTIONS:
        raise InvalidAction("Choose dismiss, hide, warn or suspend.")
    text = (note or "").strip()
    if len(text) > NOTE_MAX:
        raise InvalidAction(f"Keep the note under {NOTE_MAX} characters.")
    flag = await flags.get_flag(ctx, flag_id)
    if flag.get("reviewed_at"):
        raise AlreadyReviewed()
    persona = (await persona_service.get_for_review(ctx, flag["ref_id"])
               if flag["subject"] in PERSONA_SUBJECTS and flag.get("ref_id") else None)
    owner_id = flag.get("user_id")
    if action == "hide" and persona is None:
        raise InvalidAction("Only a persona can be hidden; a flagged message was already "
                            "held back. Dismiss, warn or suspend instead.", code="not_hideable")
    if action in ("warn", "suspend") and not owner_id:
        raise InvalidAction("This flag no longer names an account.", code="no_account")
    if action == "suspend" and owner_id:
        target = await users.get(ctx.db, owner_id)
        if target is not None and target.get("role") == "admin":
            raise Conflict("Administrators cannot be suspended. Change their role first.",
                           code="target_is_admin")
    closed = await flags.record_action(ctx, flag_id=flag_id, action=action,
                                       reviewer_id=admin["_id"], note=text)
    if closed is None:
        raise AlreadyReviewed()
    if action == "hide" and persona is not None:
        await persona_service.hide_for_moderation(ctx, persona_id=persona["_id"])
    elif action == "warn" and owner_id:
        await warnings.issue(ctx, user_id=owner_id, text=_warning_text(flag, persona),
                             flag_id=flag_id)
    elif action == "suspend" and owner_id:
        await suspension.suspend(ctx, user_id=owner_id, actor_id=admin["_id"], note=text,
                                 client=client)
    await audit.record(ctx.db, "moderation_action", now=ctx.clock.now(), user_id=owner_id,
                       client=client, actor_id=admin["_id"], flag_id=flag_id, action=action,
                       subject=flag["subject"], note=text)
    return await with_context(ctx, closed)
