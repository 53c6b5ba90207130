"""Two-factor authentication with time-based codes (TOTP, RFC 6238) and recovery codes.

Owns the `two_factor` and `two_factor_setup` fields of a user: the TOTP secret, sealed with a
key derived from the server secret (Fernet), never shown again once confirmed; the time step of
the last accepted code, so a code works once (a conditional update, so two requests racing
with one code cannot both pass); and the SHA-256 keyed hashes of ten single-use recovery codes,
shown once. Turning it on takes a current code; turning it off the password and a code. The
sign-in step that asks for a code is `two_factor_login`. Never touches HTTP.
"""

from __future__ import annotations

import base64
import hmac
import secrets
from datetime import datetime
from typing import TYPE_CHECKING, Final

import pyotp
import segno
from cryptography.fernet import Fernet, InvalidToken

from clonechats.accounts import audit, passwords, repo, throttle
from clonechats.accounts.repo import User
from clonechats.client_info import ClientInfo
from clonechats.errors import AppError, Conflict, Forbidden
from clonechats.privacy.pseudonyms import hash_email, keyed_hash

if TYPE_CHECKING:
    from clonechats.context import Ctx


FIELD: Final = "two_factor"
SETUP_FIELD: Final = "two_factor_setup"
ISSUER = "Clone Chats"
RECOVERY_CODES = 10
RECOVERY_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"
RECOVERY_LENGTH = 10
CODE_MAX_LENGTH = 32
TOTP_DIGITS = 6
TOTP, RECOVERY = "totp", "recovery"


class InvalidCode(AppError):
    code = "invalid_two_factor_code"
    message = "That code is not right. Enter the current code from your authenticator app."


class AlreadyEnabled(Conflict):
    code = "two_factor_enabled"
    message = "Two-factor authentication is already on for this account."


class NotEnabled(Conflict):
    code = "two_factor_not_enabled"
    message = "Two-factor authentication is not on for this account."


class NoSetupStarted(Conflict):
    code = "two_factor_setup_missing"
    message = "Start the set-up again: no new secret is waiting to be confirmed."


class RequiredForAdmins(Forbidden):
    code = "two_factor_required_for_admins"
    message = "Administrators must keep two-factor authentication on."


class NotAvailable(Forbidden):
    code = "two_factor_unavailable"
    message = "Two-factor authentication needs an account with an email address."


def is_enabled(user: User | None) -> bool:
    return bool(user and (user.get(FIELD) or {}).get("enabled_at"))


def _fernet(server_secret: str) -> Fernet:
    key = bytes.fromhex(keyed_hash(server_secret, "two-factor-secret", "v1"))
    return Fernet(base64.urlsafe_b64encode(key))


def seal(server_secret: str, totp_secret: str) -> str:
    return _fernet(server_secret).encrypt(totp_secret.encode()).decode()


def unseal(server_secret: str, sealed: str) -> str:
    try:
        return _fernet(server_secret).decrypt(sealed.encode()).decode()
    except InvalidToken:
        raise InvalidCode() from None  # a changed server secret: the code cannot be checked


def hash_recovery_code(server_secret: str, code: str) -> str:
    return keyed_hash(server_secret, "recovery-code", normalise(code))


def normalise(code: str) -> str:
    return "".join(code.split()).replace("-", "").lower()


def new_recovery_codes() -> list[str]:
    codes = []
    for _ in range(RECOVERY_CODES):
        raw = "".join(secrets.choice(RECOVERY_ALPHABET) for _ in range(RECOVERY_LENGTH))
        codes.append(f"{raw[:5]}-{raw[5:]}")
    return codes


def qr_svg(uri: str) -> str:
    """The provisioning URI as an inline SVG QR code (no external request, no script)."""
    return segno.make(uri, error="m").svg_inline(scale=4, border=2, title="QR code")


async def begin_setup(ctx: Ctx, user: User) -> dict[str, str]:
    """A new secret waiting for its first code: returns the secret and its URI."""
    if is_enabled(user):
        raise AlreadyEnabled()
    if not user.get("email") or user["status"] == repo.TRIAL:
        raise NotAvailable()
    secret = pyotp.random_base32()
    await repo.update(ctx.db, user["_id"], {SETUP_FIELD: {
        "secret": seal(ctx.secret, secret), "started_at": ctx.clock.now()}})
    uri = provisioning_uri(secret, user["email"])
    return {"secret": secret, "uri": uri}


def provisioning_uri(secret: str, email: str) -> str:
    return pyotp.TOTP(secret).provisioning_uri(name=email, issuer_name=ISSUER)


def _matching_step(secret: str, code: str, now: datetime) -> int | None:
    """The time step (the current one or a neighbour, for clock drift) whose code is `code`."""
    totp = pyotp.TOTP(secret)
    current = totp.timecode(now)
    for step in (current - 1, current, current + 1):
        if hmac.compare_digest(totp.generate_otp(step), code):
            return step
    return None


async def _use_step(ctx: Ctx, user_id: str, step: int) -> bool:
    """Record `step` as used unless it (or a later one) already was: a code works once."""
    newer = {"$or": [{f"{FIELD}.last_step": {"$exists": False}},
                     {f"{FIELD}.last_step": {"$lt": step}}]}
    return await repo.update(ctx.db, user_id, {f"{FIELD}.last_step": step},
                             expect=newer) is not None


async def confirm_setup(ctx: Ctx, user: User, *, code: str,
                        client: ClientInfo) -> list[str]:
    """Turn two-factor on with a current code; returns the recovery codes (shown once)."""
    if is_enabled(user):
        raise AlreadyEnabled()
    pending = user.get(SETUP_FIELD)
    if not pending:
        raise NoSetupStarted()
    now = ctx.clock.now()
    secret = unseal(ctx.secret, pending["secret"])
    step = _matching_step(secret, "".join(code.split())[:CODE_MAX_LENGTH], now)
    if step is None:
        await audit.record(ctx.db, "two_factor_failed", now=now, user_id=user["_id"],
                           client=client, stage="setup")
        raise InvalidCode()
    codes = new_recovery_codes()
    enabled = await repo.update(ctx.db, user["_id"], {FIELD: {
        "secret": pending["secret"], "enabled_at": now, "last_step": step,
        "recovery_hashes": [hash_recovery_code(ctx.secret, c) for c in codes]},
        "updated_at": now}, expect={f"{FIELD}.enabled_at": {"$exists": False}})
    if enabled is None:
        raise AlreadyEnabled()
    await repo.unset(ctx.db, user["_id"], [SETUP_FIELD], now=now)
    await audit.record(ctx.db, "two_factor_enabled", now=now, user_id=user["_id"], client=client)
    return codes


async def verify(ctx: Ctx, user: User, code: str) -> str | None:
    """TOTP or RECOVERY if `code` is a current, unused code of the user's, else None.
    A recovery code is used up by this call; a TOTP code's time step is."""
    state = user.get(FIELD) or {}
    cleaned = "".join((code or "").split())[:CODE_MAX_LENGTH]
    if not state.get("enabled_at") or not cleaned:
        return None
    if cleaned.isdigit() and len(cleaned) == TOTP_DIGITS:  # else a recovery code
        step = _matching_step(unseal(ctx.secret, state["secret"]), cleaned, ctx.clock.now())
        return TOTP if step is not None and await _use_step(ctx, user["_id"], step) else None
    hashed = hash_recovery_code(ctx.secret, cleaned)
    if await repo.pull_value(ctx.db, user["_id"], field=f"{FIELD}.recovery_hashes",
                             value=hashed):
        return RECOVERY
    return None


async def check_code(ctx: Ctx, user: User, code: str, *, client: ClientInfo,
                     stage: str) -> str:
    """`verify` behind the sign-in back-off (the same counters as wrong passwords, per
    account and per address): returns TOTP or RECOVERY, else raises InvalidCode."""
    now, settings = ctx.clock.now(), ctx.settings.accounts
    keys = throttle.keys_for(email_hash=hash_email(ctx.secret, user.get("email") or ""),
                             ip_hash=client.ip_hash, settings=settings)
    try:
        await throttle.check(ctx.db, keys, now=now)
    except throttle.TooManyAttempts:
        await audit.record(ctx.db, "login_locked", now=now, user_id=user["_id"], client=client,
                           stage=stage)
        raise
    method = await verify(ctx, user, code)
    if method is None:
        await throttle.record_failure(ctx.db, keys, now=now, settings=settings)
        await audit.record(ctx.db, "two_factor_failed", now=now, user_id=user["_id"],
                           client=client, stage=stage)
        raise InvalidCode()
    if method == RECOVERY:
        await audit.record(ctx.db, "two_factor_recovery_used", now=now, user_id=user["_id"],
                           client=client, left=recovery_codes_left(user) - 1)
    return method


def recovery_codes_left(user: User) -> int:
    return len((user.get(FIELD) or {}).get("recovery_hashes") or [])


async def disable(ctx: Ctx, user: User, *, password: str, code: str,
                  client: ClientInfo) -> None:
    """Turn two-factor off after the password and a current code (or a recovery code)."""
    if not is_enabled(user):
        raise NotEnabled()
    if user.get("role") == "admin":
        raise RequiredForAdmins()
    now = ctx.clock.now()
    if not await passwords.verify_password(password, user.get("password_hash"),
                                           rounds=ctx.settings.accounts.bcrypt_rounds):
        await audit.record(ctx.db, "two_factor_failed", now=now, user_id=user["_id"],
                           client=client, stage="disable", reason="password")
        raise InvalidCode("The password or the code is not right.")
    await check_code(ctx, user, code, client=client, stage="disable")
    await repo.unset(ctx.db, user["_id"], [FIELD, SETUP_FIELD], now=now)
    await audit.record(ctx.db, "two_factor_disabled", now=now, user_id=user["_id"],
                       client=client)

