"""Sign in with Google: the login flow's server-side records, and what a verified Google
identity may do here.

A flow record lives in `google_flows`, keyed by the SHA-256 of a random value that only the
browser holds (the `oauth_flow` cookie); it expires after FLOW_MINUTES and every step that
uses it takes it with one atomic delete, so it works once. Stages:

  authorize  state, nonce and PKCE verifier sent to Google; used up by the callback.
  signup     a verified identity with no account yet: the person must give a birth date
             (the age rules of `service.check_age_rules`) before anything is created.
  link       a verified identity whose email belongs to an existing account without Google:
             nothing is linked until the person proves the account's password or opens a
             link emailed to that address, in the same browser.

A returning Google user (known `sub`) is signed in at the callback, unless the account has
two-factor authentication on: then the router asks for the code first (`two_factor_login`), as
after a password. Never touches HTTP.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

from pymongo.errors import DuplicateKeyError

from clonechats.accounts import (
    age,
    audit,
    passwords,
    repo,
    service,
    throttle,
    tokens,
    two_factor,
)
from clonechats.accounts.emails import InvalidEmail, normalise_email
from clonechats.accounts.repo import User
from clonechats.client_info import ClientInfo
from clonechats.errors import AppError, Conflict, Forbidden, NotFound
from clonechats.mail import service as mail
from clonechats.privacy.pseudonyms import hash_email
from clonechats.providers.errors import ProviderError, ProviderUnavailable
from clonechats.providers.identity import VerifiedIdentity
from clonechats.storage.expiring import Expiring
from clonechats.storage.indexes import Index

if TYPE_CHECKING:
    from clonechats.context import Ctx


FLOWS = "google_flows"
COLLECTIONS = (FLOWS,)
EXPIRING = Expiring(FLOWS)
INDEXES = [Index(FLOWS, [("expires_at", 1)])]
FLOW_MINUTES = 10
LINK_EMAILS_PER_FLOW = 3
AUTHORIZE, SIGNUP, LINK = "authorize", "signup", "link"
SIGNED_IN = "signed_in"
CALLBACK_PATH = "/auth/google/callback"
NEXT_MAX_LENGTH = 2000


class GoogleNotConfigured(NotFound):
    code = "google_not_configured"
    message = "Sign-in with Google is not available on this server."


class FlowInvalid(AppError):
    code = "google_flow_invalid"
    message = "This Google sign-in has expired or was already used. Please start again."


class GoogleCancelled(AppError):
    code = "google_cancelled"
    message = "Google sign-in was cancelled. You can try again or use your email and password."


class GoogleRefused(AppError):
    code = "google_refused"
    message = "Google's answer could not be verified, so you are not signed in. Please retry."


class GoogleUnavailable(AppError):
    code = "google_unavailable"
    status = 502
    message = "Google could not be reached just now. Please try again in a moment."


class GoogleEmailUnverified(Forbidden):
    code = "google_email_unverified"
    message = ("Your Google account has no verified email address. Verify it with Google, "
               "or sign up with your email and a password.")


class GoogleAccountMismatch(Conflict):
    code = "google_account_mismatch"
    message = "The account with this email is linked to a different Google account."


class TooManyLinkEmails(AppError):
    code = "too_many_link_emails"
    status = 429
    message = "We have already sent several links. Check your inbox, or start again later."


@dataclass(frozen=True)
class GoogleSignInOutcome:
    """Where a Google sign-in ended: signed in, or on to sign-up or linking."""

    kind: str  # SIGNED_IN (with `user`), or SIGNUP / LINK (with a new `flow_cookie`)
    return_to: str
    user: User | None = None
    flow_cookie: str | None = None


def _key(cookie_value: str | None) -> str:
    return hashlib.sha256((cookie_value or "").encode()).hexdigest()


def safe_return_path(value: str | None) -> str:
    """`value` if it is a path on this site, else "/" (no open redirects)."""
    if (not value or len(value) > NEXT_MAX_LENGTH or not value.startswith("/")
            or value.startswith("//") or "\\" in value
            or any(ord(c) < 32 or ord(c) == 127 for c in value)):
        return "/"
    return value


def callback_url(ctx: Ctx) -> str:
    return ctx.settings.public_url.rstrip("/") + CALLBACK_PATH


async def _new_flow(ctx: Ctx, stage: str, **fields: Any) -> str:
    now, value = ctx.clock.now(), secrets.token_urlsafe(32)
    await ctx.db[FLOWS].insert_one({"_id": _key(value), "stage": stage, "created_at": now,
                                    "expires_at": now + timedelta(minutes=FLOW_MINUTES),
                                    **fields})
    return value


async def _take(ctx: Ctx, cookie_value: str | None, stage: str) -> dict[str, Any] | None:
    """Use up the flow: one atomic delete, so a second use finds nothing."""
    if not cookie_value:
        return None
    return await ctx.db[FLOWS].find_one_and_delete(
        {"_id": _key(cookie_value), "stage": stage, "expires_at": {"$gt": ctx.clock.now()}})


async def pending(ctx: Ctx, cookie_value: str | None, stage: str) -> dict[str, Any]:
    """The live flow of `stage` for this cookie, without using it; else FlowInvalid."""
    record = None
    if cookie_value:
        record = await ctx.db[FLOWS].find_one(
            {"_id": _key(cookie_value), "stage": stage, "expires_at": {"$gt": ctx.clock.now()}})
    if record is None:
        raise FlowInvalid()
    return record


async def begin(ctx: Ctx, *, return_to: str | None) -> tuple[str, str]:
    """Start a sign-in: returns (flow cookie value, the URL to send the browser to)."""
    if ctx.google is None:
        raise GoogleNotConfigured()
    await ctx.db[FLOWS].delete_many({"expires_at": {"$lte": ctx.clock.now()}})
    try:
        request = await ctx.google.new_authorization(redirect_uri=callback_url(ctx))
    except ProviderError as exc:
        raise GoogleUnavailable() from exc
    value = await _new_flow(ctx, AUTHORIZE, state=request.state, nonce=request.nonce,
                            code_verifier=request.code_verifier,
                            return_to=safe_return_path(return_to))
    return value, request.url


async def finish_callback(ctx: Ctx, *, cookie_value: str | None, params: dict[str, str],
                          client: ClientInfo) -> GoogleSignInOutcome:
    """Check Google's redirect back to us and decide: signed in, age step, or proof step."""
    if ctx.google is None:
        raise GoogleNotConfigured()
    now, settings = ctx.clock.now(), ctx.settings.accounts
    address = throttle.address_keys(client.ip_hash, settings)
    try:  # one sign-in budget per address, shared with password sign-in
        await throttle.check(ctx.db, address, now=now)
    except throttle.TooManyAttempts:
        await audit.record(ctx.db, "login_locked", now=now, client=client, provider="google")
        raise
    flow = await _take(ctx, cookie_value, AUTHORIZE)
    try:
        if flow is None:
            raise FlowInvalid()
        if not hmac.compare_digest(params.get("state", "").encode(), flow["state"].encode()):
            raise FlowInvalid(code="google_state_invalid")
        if params.get("error") or not params.get("code"):
            raise GoogleCancelled()
        identity = await _authenticate(ctx, flow, params["code"])
        email = normalise_email(identity.email or "")
    except InvalidEmail:
        await _failed(ctx, client, GoogleEmailUnverified.code)
        raise GoogleEmailUnverified() from None
    except AppError as exc:
        await _failed(ctx, client, exc.code)
        if not isinstance(exc, GoogleCancelled | GoogleUnavailable):
            await throttle.record_failure(ctx.db, address, now=now, settings=settings)
        raise
    return_to = flow["return_to"]
    user = await repo.get_by_google_sub(ctx.db, identity.sub)
    if user is not None:
        if not two_factor.is_enabled(user):  # else the code step records the sign-in
            await audit.record(ctx.db, "login_ok", now=ctx.clock.now(), user_id=user["_id"],
                               client=client, provider="google")
        return GoogleSignInOutcome(SIGNED_IN, return_to, user=user)
    found = {"sub": identity.sub, "email": email, "name": identity.name}
    existing = await repo.get_by_email(ctx.db, email)
    if existing is None:
        value = await _new_flow(ctx, SIGNUP, identity=found, return_to=return_to)
        return GoogleSignInOutcome(SIGNUP, return_to, flow_cookie=value)
    if existing.get("google_sub"):
        await _failed(ctx, client, GoogleAccountMismatch.code, user_id=existing["_id"])
        raise GoogleAccountMismatch()
    value = await _new_flow(ctx, LINK, identity=found, user_id=existing["_id"],
                            return_to=return_to, link_emails=0)
    return GoogleSignInOutcome(LINK, return_to, flow_cookie=value)


async def _authenticate(ctx: Ctx, flow: dict[str, Any], code: str) -> VerifiedIdentity:
    if ctx.google is None:
        raise GoogleNotConfigured()
    try:
        identity = await ctx.google.authenticate(
            code=code, redirect_uri=callback_url(ctx), code_verifier=flow["code_verifier"],
            nonce=flow["nonce"])
    except ProviderUnavailable as exc:
        raise GoogleUnavailable() from exc
    except ProviderError as exc:
        raise GoogleRefused() from exc
    if not identity.email_verified:
        raise GoogleEmailUnverified()
    return identity


async def _failed(ctx: Ctx, client: ClientInfo, reason: str, *,
                  user_id: str | None = None) -> None:
    await audit.record(ctx.db, "login_failed", now=ctx.clock.now(), client=client,
                       user_id=user_id, provider="google", reason=reason)


async def complete_signup(ctx: Ctx, *, cookie_value: str | None, birth_date: date,
                          guardian_email: str | None, display_name: str | None,
                          client: ClientInfo,
                          trial_user: User | None = None) -> GoogleSignInOutcome:
    """Create the account of a new Google user once the age rules pass."""
    flow = await pending(ctx, cookie_value, SIGNUP)
    identity = flow["identity"]
    try:
        guardian = await service.check_age_rules(ctx, email=identity["email"],
                                                 birth_date=birth_date,
                                                 guardian_email=guardian_email, client=client)
    except age.AgeRestricted:
        await _take(ctx, cookie_value, SIGNUP)  # forget the identity: nothing is kept
        raise
    if await _take(ctx, cookie_value, SIGNUP) is None:
        raise FlowInvalid()
    name = (display_name or identity.get("name") or "").strip()[:80] or None
    fields = {"email": identity["email"], "email_verified": True,
              "google_sub": identity["sub"], "google_linked_at": ctx.clock.now(),
              "display_name": name, "auth_provider": "google"}
    user = await service.create_account(ctx, fields, birth_date=birth_date,
                                        guardian_email=guardian, client=client,
                                        trial_user=trial_user, provider="google")
    return GoogleSignInOutcome(SIGNED_IN, flow["return_to"], user=user)


async def link_with_password(ctx: Ctx, *, cookie_value: str | None, password: str,
                             client: ClientInfo) -> GoogleSignInOutcome:
    """Link Google to the existing account once its password is proven (throttled)."""
    flow = await pending(ctx, cookie_value, LINK)
    user = await repo.get(ctx.db, flow["user_id"])
    if user is None:
        raise FlowInvalid()
    now, settings = ctx.clock.now(), ctx.settings.accounts
    keys = throttle.keys_for(email_hash=hash_email(ctx.secret, user["email"]),
                             ip_hash=client.ip_hash, settings=settings)
    await throttle.check(ctx.db, keys, now=now)
    if not await passwords.verify_password(password, user.get("password_hash"),
                                           rounds=settings.bcrypt_rounds):
        await throttle.record_failure(ctx.db, keys, now=now, settings=settings)
        await _failed(ctx, client, "password", user_id=user["_id"])
        raise service.InvalidCredentials("The password is not right.")
    if await _take(ctx, cookie_value, LINK) is None:
        raise FlowInvalid()
    await throttle.clear(ctx.db, keys[0].id)
    return await _link(ctx, user, flow, client=client, proof="password")


async def send_link_email(ctx: Ctx, *, cookie_value: str | None, client: ClientInfo) -> None:
    """Email the account's address a link that completes the linking in this browser."""
    flow = await pending(ctx, cookie_value, LINK)
    user = await repo.get(ctx.db, flow["user_id"])
    if user is None:
        raise FlowInvalid()
    now = ctx.clock.now()
    lifetime = timedelta(minutes=FLOW_MINUTES)
    counted = await ctx.db[FLOWS].find_one_and_update(
        {"_id": flow["_id"], "link_emails": {"$lt": LINK_EMAILS_PER_FLOW}},
        {"$inc": {"link_emails": 1}, "$set": {"expires_at": now + lifetime}})
    if counted is None:
        raise TooManyLinkEmails()
    token = await tokens.issue(ctx.db, purpose=tokens.LINK_GOOGLE, user_id=user["_id"],
                               now=now, lifetime=lifetime,
                               data={"flow": flow["_id"], "sub": flow["identity"]["sub"]})
    await mail.send_email(ctx, to=user["email"], template="link_google", context={
        "display_name": user.get("display_name"),
        "google_email": flow["identity"]["email"],
        "link_url": service.link(ctx, "/auth/google/link", token),
        "expires_at": now + lifetime,
    }, idempotency_key=f"link-google:{tokens.reference(token)}")


async def check_link_token(ctx: Ctx, *, cookie_value: str | None,
                           token: str) -> dict[str, Any]:
    """The pending link flow a link token belongs to, without using either."""
    flow = await pending(ctx, cookie_value, LINK)
    record = await tokens.peek(ctx.db, token, purpose=tokens.LINK_GOOGLE, now=ctx.clock.now())
    if record["data"].get("flow") != flow["_id"] or record["user_id"] != flow["user_id"]:
        raise tokens.InvalidToken()
    return flow


async def link_with_email_token(ctx: Ctx, *, cookie_value: str | None, token: str,
                                client: ClientInfo) -> GoogleSignInOutcome:
    """Link Google to the account whose address received `token`, in the same browser."""
    flow = await check_link_token(ctx, cookie_value=cookie_value, token=token)
    await tokens.consume(ctx.db, token, purpose=tokens.LINK_GOOGLE, now=ctx.clock.now())
    if await _take(ctx, cookie_value, LINK) is None:
        raise FlowInvalid()
    user = await repo.get(ctx.db, flow["user_id"])
    if user is None:
        raise FlowInvalid()
    return await _link(ctx, user, flow, client=client, proof="email")


async def _link(ctx: Ctx, user: User, flow: dict[str, Any], *,
                client: ClientInfo, proof: str) -> GoogleSignInOutcome:
    now, identity = ctx.clock.now(), flow["identity"]
    try:
        linked = await repo.update(
            ctx.db, user["_id"],
            {"google_sub": identity["sub"], "google_linked_at": now, "email_verified": True,
             "updated_at": now},
            expect={"email": identity["email"], "google_sub": {"$exists": False}})
    except DuplicateKeyError:
        linked = None
    if linked is None:
        raise GoogleAccountMismatch()
    await audit.record(ctx.db, "google_linked", now=now, user_id=user["_id"], client=client,
                       proof=proof)
    if not two_factor.is_enabled(linked):
        await audit.record(ctx.db, "login_ok", now=now, user_id=user["_id"], client=client,
                           provider="google")
    return GoogleSignInOutcome(SIGNED_IN, flow["return_to"], user=linked)
