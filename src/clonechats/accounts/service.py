"""Sign-up, sign-in and trials: the account lifecycle up to a live session.

Owns the rules (password policy, age rules, throttling, audit); never touches HTTP. Routers
turn the returned users into sessions with `session_cookies.start_session`.
"""

from __future__ import annotations

import secrets
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any, cast

from pymongo.errors import DuplicateKeyError

from clonechats.accounts import (
    age,
    audit,
    passwords,
    repo,
    suspension,
    throttle,
    tokens,
    trials,
    two_factor,
)
from clonechats.accounts.emails import InvalidEmail, normalise_email
from clonechats.accounts.repo import User
from clonechats.accounts.schemas import SignupIn
from clonechats.billing import ledger
from clonechats.client_info import ClientInfo
from clonechats.errors import AppError, Conflict, Forbidden, Unauthorized, still_there
from clonechats.mail import service as mail
from clonechats.privacy.pseudonyms import hash_email, keyed_hash

if TYPE_CHECKING:
    from clonechats.context import Ctx



class InvalidCredentials(Unauthorized):
    code = "invalid_credentials"
    message = "The email or password is not right."


class PasswordSignInDisabled(Forbidden):
    code = "password_sign_in_disabled"
    message = ("Password sign-in is off for this account after too many wrong passwords. "
               "Reset your password from the email we can send you to turn it back on.")


FAILURES_TO_DISABLE = 100
"""Consecutive wrong passwords after which password sign-in stays off until a reset (NIST
800-63B: at most 100 failed attempts on one account)."""


class EmailTaken(Conflict):
    code = "email_taken"
    message = "An account with this email already exists. Sign in or reset your password."


GUARDIAN_LINK_DAYS = 7


def link(ctx: Ctx, path: str, token: str) -> str:
    return f"{ctx.settings.public_url.rstrip('/')}{path}?token={token}"


def new_user(*, email: str | None, now: Any, status: str, auth_provider: str,
             **fields: Any) -> User:
    user: dict[str, Any] = {
        "_id": repo.new_user_id(), "email_verified": False, "display_name": None,
        "password_hash": None, "role": "user", "status": status, "plan": "free", "credits": 0,
        "auth_provider": auth_provider, "created_at": now, "updated_at": now, **fields,
    }
    if email is not None:
        user["email"] = email
    return cast(User, user)


async def signup(ctx: Ctx, data: SignupIn, *, client: ClientInfo,
                 trial_user: User | None = None) -> User:
    email = normalise_email(data.email)
    guardian_email = await check_age_rules(ctx, email=email, birth_date=data.birth_date,
                                           guardian_email=data.guardian_email, client=client)
    password = passwords.check_policy(data.password, email=email)
    fields = {
        "email": email, "password_hash": await passwords.hash_password(
            password, rounds=ctx.settings.accounts.bcrypt_rounds),
        "display_name": (data.display_name or "").strip() or None, "auth_provider": "password",
    }
    user = await create_account(ctx, fields, birth_date=data.birth_date,
                                guardian_email=guardian_email, client=client,
                                trial_user=trial_user)
    await send_verification(ctx, user)
    return user


async def check_age_rules(ctx: Ctx, *, email: str, birth_date: date,
                          guardian_email: str | None, client: ClientInfo) -> str | None:
    """Apply the age rules to a new account for `email` (already normalised).

    Under 13: refused, and only a keyed hash of the email is kept, briefly, to stop a retry.
    13-17: a guardian's email is required; returns it normalised. Adults: returns None.
    """
    now = ctx.clock.now()
    email_hash = hash_email(ctx.secret, email)
    remaining = await age.block_remaining(ctx.db, email_hash, now=now)
    if remaining is not None:
        raise age.SignupBlocked(remaining)
    years = age.check_birth_date(birth_date, now.date())
    if years < age.MINIMUM_AGE:
        await age.block(ctx.db, email_hash, now=now,
                        hours=ctx.settings.accounts.under13_block_hours)
        await audit.record(ctx.db, "signup_refused_age", now=now, client=client)
        raise age.AgeRestricted()
    if years >= age.ADULT_AGE:
        return None
    if not guardian_email:
        raise AppError("Under 18, a parent or guardian must approve the account. "
                       "Enter their email address.", code="guardian_email_required",
                       status=422)
    normalised = normalise_email(guardian_email)
    if normalised == email:
        raise AppError("The guardian's email must differ from yours.",
                       code="guardian_email_invalid", status=422)
    return normalised


async def create_account(ctx: Ctx, fields: dict[str, Any], *, birth_date: date,
                         guardian_email: str | None, client: ClientInfo,
                         trial_user: User | None = None,
                         **audit_details: Any) -> User:
    """Store an account that passed `check_age_rules` (or turn a trial into it), audit the
    sign-up and, for a minor, ask the guardian for consent."""
    now = ctx.clock.now()
    fields = {
        **fields, "birth_date": birth_date.isoformat(), "updated_at": now,
        "status": repo.GUARDIAN_PENDING if guardian_email else repo.ACTIVE,
    }
    if guardian_email:
        fields["guardian"] = {"email": guardian_email, "approved_at": None,
                              "authorized_tiers": []}
    try:
        if trial_user is not None:
            user = await repo.update(ctx.db, trial_user["_id"], fields,
                                     expect={"status": repo.TRIAL})
            if user is None:
                raise Conflict("This trial has already become an account.")
        else:
            user = await repo.insert(ctx.db, new_user(now=now, **fields))
    except DuplicateKeyError:
        raise EmailTaken() from None
    await audit.record(ctx.db, "signup", now=now, user_id=user["_id"], client=client,
                       from_trial=trial_user is not None, **audit_details)
    welcome = ctx.settings.accounts.welcome_credits
    if welcome and trial_user is None:
        await ledger.apply(ctx.db, user_id=user["_id"], delta=welcome, kind=ledger.GRANT,
                           reason="welcome", idempotency_key=f"welcome:{user['_id']}", now=now)
        user = still_there(await repo.get(ctx.db, user["_id"]))
    if guardian_email:
        await send_guardian_request(ctx, user)
    return user


async def send_verification(ctx: Ctx, user: User, *,
                            address: str | None = None) -> None:
    now = ctx.clock.now()
    to = address or user["email"]
    lifetime = timedelta(hours=ctx.settings.accounts.token_hours)
    token = await tokens.issue(ctx.db, purpose=tokens.VERIFY_EMAIL, user_id=user["_id"], now=now,
                               lifetime=lifetime, data={
                                   "email": to,
                                   "binding": tokens.binding(user, tokens.VERIFY_BINDING)})
    await mail.send_email(ctx, to=to, template="verification", context={
        "display_name": user.get("display_name"),
        "verification_url": link(ctx, "/verify-email", token),
        "expires_at": now + lifetime,
    }, idempotency_key=f"verify:{tokens.reference(token)}")


async def send_guardian_request(ctx: Ctx, user: User) -> None:
    now = ctx.clock.now()
    lifetime = timedelta(days=GUARDIAN_LINK_DAYS)
    token = await tokens.issue(ctx.db, purpose=tokens.GUARDIAN_CONSENT, user_id=user["_id"],
                               now=now, lifetime=lifetime)
    await mail.send_email(ctx, to=user["guardian"]["email"], template="guardian_consent", context={
        "child_display_name": user.get("display_name") or "A young person",
        "consent_url": link(ctx, "/guardian/consent", token),
        "expires_at": now + lifetime,
    }, idempotency_key=f"guardian:{tokens.reference(token)}")


async def login(ctx: Ctx, *, email: str, password: str, client: ClientInfo) -> User:
    now, settings = ctx.clock.now(), ctx.settings.accounts
    try:
        normalised = normalise_email(email)
    except InvalidEmail:
        normalised = email.strip().lower()
    keys = throttle.keys_for(email_hash=hash_email(ctx.secret, normalised),
                             ip_hash=client.ip_hash, settings=settings)
    try:
        await throttle.check(ctx.db, keys, now=now)
    except throttle.TooManyAttempts:
        await audit.record(ctx.db, "login_locked", now=now, client=client)
        raise
    user = await repo.get_by_email(ctx.db, normalised)
    hashed = user.get("password_hash") if user else None
    ok = await passwords.verify_password(password, hashed, rounds=settings.bcrypt_rounds)
    attempt: dict[str, Any] = {"user_id": user["_id"] if user else None, "ip_hash": client.ip_hash,
               "user_agent": client.user_agent, "now": now, "attempt_id": secrets.token_hex(12)}
    if user is not None and user.get("failed_logins", 0) >= FAILURES_TO_DISABLE:
        await audit.record(ctx.db, "login_failed", now=now, client=client, user_id=user["_id"],
                           reason="password_sign_in_disabled")
        raise PasswordSignInDisabled()
    if not ok or user is None:  # no account: the check ran against a dummy hash
        await throttle.record_failure(ctx.db, keys, now=now, settings=settings)
        await throttle.record_attempt(ctx.db, outcome="failed", **attempt)
        await audit.record(ctx.db, "login_failed", now=now, client=client,
                           user_id=user["_id"] if user else None)
        if user is not None:
            await repo.count_failed_login(ctx.db, user["_id"])
        raise InvalidCredentials()
    if user.get("failed_logins"):
        await repo.update(ctx.db, user["_id"], {"failed_logins": 0})
    if passwords.needs_rehash(hashed, rounds=settings.bcrypt_rounds):  # the cost changed
        user = still_there(await repo.update(ctx.db, user["_id"], {"password_hash": await passwords.
                                 hash_password(password, rounds=settings.bcrypt_rounds)}))
    suspension.check(user)
    if two_factor.is_enabled(user):
        return user  # no sign-in yet: `two_factor_login` asks for the code, then signs in
    await signed_in(ctx, user, client=client)
    return user


async def signed_in(ctx: Ctx, user: User, *, client: ClientInfo,
                    provider: str = "password") -> None:
    """Record a completed sign-in: the account's back-off counter is cleared and audited."""
    now = ctx.clock.now()
    if provider == "password":
        keys = throttle.keys_for(email_hash=hash_email(ctx.secret, user.get("email") or ""),
                                 ip_hash=client.ip_hash, settings=ctx.settings.accounts)
        await throttle.clear(ctx.db, keys[0].id)
        await throttle.record_attempt(ctx.db, outcome="ok", user_id=user["_id"],
                                      ip_hash=client.ip_hash, user_agent=client.user_agent,
                                      now=now, attempt_id=secrets.token_hex(12))
        await audit.record(ctx.db, "login_ok", now=now, user_id=user["_id"], client=client)
    else:
        await audit.record(ctx.db, "login_ok", now=now, user_id=user["_id"], client=client,
                           provider=provider)


async def start_trial(ctx: Ctx, *, device_id: str, client: ClientInfo) -> User:
    """Create a trial user once per device (and a few per address per day), with credits."""
    now, settings = ctx.clock.now(), ctx.settings.accounts
    device_key = keyed_hash(ctx.secret, "device", device_id)
    if client.ip_hash:
        recent = await trials.count_from_address(ctx.db, client.ip_hash,
                                                 since=now - timedelta(days=1))
        if recent >= settings.trials_per_address_per_day:
            raise AppError("Too many trials from this network today. Please sign up instead.",
                           code="trial_unavailable", status=429)
    if not await trials.claim(ctx.db, device_key, ip_hash=client.ip_hash, now=now):
        raise AppError("This browser has already used its free trial. Please sign up to "
                       "continue.", code="trial_used", status=409)
    user = await repo.insert(ctx.db, new_user(email=None, now=now, status=repo.TRIAL,
                                              auth_provider="trial"))
    if settings.trial_credits:
        await ledger.apply(ctx.db, user_id=user["_id"], delta=settings.trial_credits,
                           kind="grant", reason="trial", idempotency_key=f"trial:{user['_id']}",
                           now=now)
    await audit.record(ctx.db, "trial_started", now=now, user_id=user["_id"], client=client)
    return still_there(await repo.get(ctx.db, user["_id"]))
