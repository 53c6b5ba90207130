"""Guardian consent for accounts of 13–17-year-olds.

Sign-up stores such an account as `guardian_pending` and emails the guardian a single-use link
(`service.send_guardian_request`). Here: reading that link without using it (for the consent
page), the guardian's decision, and the young person's request to send the email again.

- Approve: the account becomes active, with `guardian.approved_at` and the plan tiers the
  guardian authorised (`guardian.authorized_tiers`, a subset of `billing.plans.PLAN_TIERS`).
- Decline: the account and everything it owns is deleted through the privacy registry.
- The decision must come from the guardian, not from the young person's own session or
  browser (`guardian_devices.check_not_self`, 403 `guardian_self_approval`).
- Withdraw: the approval email carries a second link that works until the young person turns
  18; using it withdraws consent, which deletes the account and its data like a decline.

At most one consent link is live per account: a new one revokes the older ones, and a decision
revokes them all, so two links can never lead to two decisions. Never touches HTTP.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import TYPE_CHECKING, Any

from clonechats.accounts import age, audit, repo, tokens
from clonechats.accounts.guardian_devices import Requester, SelfApproval, check_not_self
from clonechats.accounts.repo import User
from clonechats.accounts.service import link, send_guardian_request
from clonechats.billing.plans import PLAN_TIERS
from clonechats.client_info import ClientInfo
from clonechats.errors import AppError, Conflict, TooManyRequests
from clonechats.mail import service as mail
from clonechats.privacy import registry

if TYPE_CHECKING:
    from clonechats.context import Ctx


APPROVE, DECLINE = "approve", "decline"
UNAPPROVED_KEEP_DAYS = 30
"""A minor's account that no guardian approved is deleted this long after sign-up (the
retention rule `unapproved_minors`; the consent email says so)."""
RESENDS_PER_DAY = 3
RESEND_WINDOW = timedelta(days=1)


class NotPending(Conflict):
    code = "not_pending"
    message = "This account does not need a guardian's approval."


class InvalidDecision(AppError):
    code = "invalid_decision"
    status = 422
    message = "The decision must be approve or decline."


class TiersRequired(AppError):
    code = "tiers_required"
    status = 422
    message = "Choose at least one plan the account may use."


class UnknownTier(AppError):
    code = "invalid_tier"
    status = 422
    message = f"Plan tiers must be among: {', '.join(PLAN_TIERS)}."


class TooManyResends(TooManyRequests):
    code = "too_many_resends"
    message = (f"The email can be sent again at most {RESENDS_PER_DAY} times a day. "
               "Please try again later.")


def check_tiers(tiers: list[str]) -> list[str]:
    """The chosen tiers without repeats, in `PLAN_TIERS` order; unknown names are refused."""
    unknown = set(tiers) - set(PLAN_TIERS)
    if unknown:
        raise UnknownTier()
    return [tier for tier in PLAN_TIERS if tier in tiers]


async def consent_request(ctx: Ctx, token: str) -> dict[str, Any]:
    """What the consent page shows: who asks, their age and when the link expires.

    Looks at the token without using it (email scanners open links too).
    """
    now = ctx.clock.now()
    if not token or len(token) > 128:
        raise tokens.InvalidToken()
    record = await tokens.peek(ctx.db, token, purpose=tokens.GUARDIAN_CONSENT, now=now)
    user = await repo.get(ctx.db, record["user_id"])
    if user is None or user["status"] != repo.GUARDIAN_PENDING:
        raise tokens.InvalidToken()
    years = None
    if user.get("birth_date"):
        years = age.age_on(date.fromisoformat(user["birth_date"]), now.date())
    return {"display_name": user.get("display_name"), "email": user.get("email"),
            "age": years, "requested_at": user["created_at"],
            "expires_at": record["expires_at"]}


async def decide(ctx: Ctx, *, token: str, decision: str, authorized_tiers: list[str],
                 client: ClientInfo | None,
                 requester: Requester | None = None) -> User | None:
    """Apply the guardian's decision; returns the approved user, or None once declined.

    Input is checked before the token is used, so a refused request leaves the link working.
    """
    if decision not in (APPROVE, DECLINE):
        raise InvalidDecision()
    tiers = check_tiers(authorized_tiers) if decision == APPROVE else []
    if decision == APPROVE and not tiers:
        raise TiersRequired()
    now = ctx.clock.now()
    if not token or len(token) > 128:
        raise tokens.InvalidToken()
    record = await tokens.peek(ctx.db, token, purpose=tokens.GUARDIAN_CONSENT, now=now)
    user = await repo.get(ctx.db, record["user_id"])
    if user is None or user["status"] != repo.GUARDIAN_PENDING:
        raise tokens.InvalidToken()
    try:
        check_not_self(user, requester)
    except SelfApproval:
        await audit.record(ctx.db, "guardian_self_approval_refused", now=now,
                           user_id=user["_id"], client=client)
        raise
    await tokens.consume(ctx.db, token, purpose=tokens.GUARDIAN_CONSENT, now=now)
    await tokens.revoke_unused(ctx.db, purpose=tokens.GUARDIAN_CONSENT, user_id=user["_id"],
                               now=now)
    if decision == DECLINE:
        await audit.record(ctx.db, "account_deleted", now=now, user_id=user["_id"],
                           client=client, reason="guardian_declined")
        await registry.delete_user_data(ctx, user["_id"])
        return None
    approved = await repo.update(
        ctx.db, user["_id"],
        {"status": repo.ACTIVE, "guardian.approved_at": now,
         "guardian.authorized_tiers": tiers, "updated_at": now},
        expect={"status": repo.GUARDIAN_PENDING},
    )
    if approved is None:
        raise tokens.InvalidToken()
    await audit.record(ctx.db, "guardian_approved", now=now, user_id=user["_id"], client=client,
                       authorized_tiers=tiers)
    await send_withdrawal_link(ctx, approved)
    return approved


def _adult_on(user: User) -> datetime | None:
    if not user.get("birth_date"):
        return None
    born = date.fromisoformat(user["birth_date"])
    try:
        day = born.replace(year=born.year + age.ADULT_AGE)
    except ValueError:  # born on 29 February
        day = date(born.year + age.ADULT_AGE, 3, 1)
    return datetime.combine(day, time(0, 0), tzinfo=UTC)


async def send_withdrawal_link(ctx: Ctx, user: User) -> None:
    """Email the guardian that the account is approved, with a link to withdraw consent that
    works until the young person turns 18."""
    now = ctx.clock.now()
    adult_on = _adult_on(user) or now + timedelta(days=365 * 5)
    lifetime = max(adult_on - now, timedelta(days=1))
    token = await tokens.issue(ctx.db, purpose=tokens.GUARDIAN_WITHDRAW, user_id=user["_id"],
                               now=now, lifetime=lifetime)
    await mail.send_email(ctx, to=user["guardian"]["email"], template="guardian_approved",
                          context={"child_display_name": user.get("display_name")
                                   or "A young person",
                                   "withdraw_url": link(ctx, "/guardian/withdraw", token),
                                   "expires_at": now + lifetime},
                          idempotency_key=f"guardian-approved:{tokens.reference(token)}")


async def withdrawal_request(ctx: Ctx, token: str) -> dict[str, Any]:
    """What the withdrawal page shows (the token is only looked at)."""
    if not token or len(token) > 128:
        raise tokens.InvalidToken()
    record = await tokens.peek(ctx.db, token, purpose=tokens.GUARDIAN_WITHDRAW,
                               now=ctx.clock.now())
    user = await repo.get(ctx.db, record["user_id"])
    if user is None or user["status"] != repo.ACTIVE or not user.get("guardian"):
        raise tokens.InvalidToken()
    return {"display_name": user.get("display_name"), "email": user.get("email")}


async def withdraw(ctx: Ctx, *, token: str, client: ClientInfo | None) -> None:
    """Withdraw the guardian's consent: the account and everything it owns is deleted."""
    now = ctx.clock.now()
    await withdrawal_request(ctx, token)
    record = await tokens.consume(ctx.db, token, purpose=tokens.GUARDIAN_WITHDRAW, now=now)
    user_id = record["user_id"]
    await audit.record(ctx.db, "guardian_consent_withdrawn", now=now, user_id=user_id,
                       client=client)
    await audit.record(ctx.db, "account_deleted", now=now, user_id=user_id, client=client,
                       reason="guardian_withdrew")
    await registry.delete_user_data(ctx, user_id)


async def resend_request(ctx: Ctx, user: User) -> None:
    """Email the guardian a new link (the older ones stop working), at most a few times a day.

    The times of the last resends live on the user (`guardian.resent_at`, oldest first, at
    most `RESENDS_PER_DAY` kept); one conditional update both checks and records a resend.
    """
    if user["status"] != repo.GUARDIAN_PENDING or not user.get("guardian"):
        raise NotPending()
    now = ctx.clock.now()
    window_start = now - RESEND_WINDOW
    oldest = f"guardian.resent_at.{RESENDS_PER_DAY - 1}"
    updated = await repo.push_capped(
        ctx.db, user["_id"], field="guardian.resent_at", value=now, keep=RESENDS_PER_DAY,
        expect={"status": repo.GUARDIAN_PENDING,
                "$or": [{oldest: {"$exists": False}},
                        {"guardian.resent_at.0": {"$lte": window_start}}]},
    )
    if updated is None:
        current = await repo.get(ctx.db, user["_id"])
        if current is None or current["status"] != repo.GUARDIAN_PENDING:
            raise NotPending()
        first = current["guardian"]["resent_at"][0]
        if first.tzinfo is None:
            first = first.replace(tzinfo=now.tzinfo)
        wait = max(int((first + RESEND_WINDOW - now).total_seconds()) + 1, 1)
        raise TooManyResends(headers={"Retry-After": str(wait)})
    await tokens.revoke_unused(ctx.db, purpose=tokens.GUARDIAN_CONSENT, user_id=user["_id"],
                               now=now)
    await send_guardian_request(ctx, updated)


async def delete_unapproved(ctx: Ctx, user: User) -> bool:
    """Delete a minor's account that no guardian approved in time (the retention job)."""
    current = await repo.get(ctx.db, user["_id"])
    if current is None or current["status"] != repo.GUARDIAN_PENDING:
        return False  # approved or deleted meanwhile
    now = ctx.clock.now()
    await audit.record(ctx.db, "unapproved_minor_deleted", now=now, user_id=user["_id"])
    await audit.record(ctx.db, "account_deleted", now=now, user_id=user["_id"],
                       reason="guardian_never_approved")
    await registry.delete_user_data(ctx, user["_id"])
    return True
