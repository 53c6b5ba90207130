"""Keeping a young person from approving their own account.

While an account waits for a guardian, every sign-in of it (sign-up included) gives the browser
a random device id (the `device_id` cookie) and keeps a keyed hash of it on the account
(`guardian.device_hashes`, at most `MAX_DEVICES`). A consent decision is refused with 403
`guardian_self_approval` when it comes from a session of the young person or from a browser
whose device id is one of theirs: the guardian must use their own device.
"""

import secrets
from dataclasses import dataclass

from fastapi import Request, Response

from clonechats.accounts import repo
from clonechats.accounts.dependencies import resolve_auth
from clonechats.accounts.repo import User
from clonechats.context import Ctx
from clonechats.errors import Forbidden
from clonechats.privacy.pseudonyms import keyed_hash
from clonechats.web import cookies
from clonechats.web.context import context_of

MAX_DEVICES = 10
DEVICE_MAX_AGE = 365 * 86400


class SelfApproval(Forbidden):
    code = "guardian_self_approval"
    message = ("This link is for your parent or guardian. They need to open it on their own "
               "phone or computer, not on a device you use for your account.")


@dataclass(frozen=True)
class Requester:
    """Who sends a consent decision: their signed-in user, if any, and their device hash."""

    user_id: str | None
    device_hash: str | None


def device_hash(ctx: Ctx, device_id: str) -> str:
    return keyed_hash(ctx.secret, "device", device_id)


def _device_id(request: Request) -> str | None:
    value = request.cookies.get(cookies.cookie_name(cookies.DEVICE, request.app.state.settings))
    return value if value and len(value) <= 64 else None


async def remember(request: Request, response: Response, user: User) -> None:
    """For an account awaiting consent: mark this browser as one of the young person's."""
    if user.get("status") != repo.GUARDIAN_PENDING:
        return
    ctx = context_of(request)
    device_id = _device_id(request)
    if device_id is None:
        device_id = secrets.token_urlsafe(24)
        cookies.set_cookie(response, cookies.DEVICE, device_id, ctx.settings,
                           max_age=DEVICE_MAX_AGE)
    hashed = device_hash(ctx, device_id)
    await repo.push_capped(ctx.db, user["_id"], field="guardian.device_hashes", value=hashed,
                           keep=MAX_DEVICES, expect={"status": repo.GUARDIAN_PENDING,
                                                     "guardian.device_hashes": {"$ne": hashed}})


async def requester_of(request: Request) -> Requester:
    auth = await resolve_auth(request)
    device_id = _device_id(request)
    return Requester(user_id=auth.user["_id"] if auth else None,
                     device_hash=device_hash(context_of(request), device_id)
                     if device_id else None)


def check_not_self(user: User, requester: Requester | None) -> None:
    """SelfApproval when the decision comes from the young person's own session or device."""
    if requester is None:
        return
    if requester.user_id is not None and requester.user_id == user["_id"]:
        raise SelfApproval()
    known = (user.get("guardian") or {}).get("device_hashes") or []
    if requester.device_hash is not None and requester.device_hash in known:
        raise SelfApproval()
