"""Guardian consent for accounts of 13–17-year-olds.

Sign-up stores such an account as `guardian_pending` and emails the guardian a single-use link
(`service.send_guardian_request`). Here: reading that link without using it (for the consent
page), the guardian's decision, and the young person's request to send the email again.

- Approve: the account becomes active, with `guardian.approved_at` and the plan tiers the
  guardian authorised (`guardian.authorized_tiers`, a subset of `billing.plans.PLAN_TIERS`).
- Decline: the account and everything it owns is deleted through the privacy registry.

At most one consent link is live per account: a new one revokes the older ones, and a decision
revokes them all, so two links can never lead to two decisions. Never touches HTTP.
"""

from datetime import date, timedelta
from typing import Any

from clonechats.accounts import age, audit, repo, tokens
from clonechats.accounts.service import send_guardian_request
from clonechats.billing.plans import PLAN_TIERS
from clonechats.errors import AppError, Conflict, TooManyRequests
from clonechats.privacy import registry
from clonechats.web.client import ClientInfo

APPROVE, DECLINE = "approve", "decline"
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


async def consent_request(ctx: Any, token: str) -> dict[str, Any]:
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


async def decide(ctx: Any, *, token: str, decision: str, authorized_tiers: list[str],
                 client: ClientInfo | None) -> dict[str, Any] | None:
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
    return approved


async def resend_request(ctx: Any, user: dict[str, Any]) -> None:
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
