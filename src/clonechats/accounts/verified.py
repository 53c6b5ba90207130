"""A confirmed email address is required before spending money or publishing anything.

Buying credits or a plan and making a persona public (which gives it a share link and a place
on Explore) need `email_verified`: a throwaway or mistyped address cannot be used to pay, to
receive receipts, or to publish under. The refusal is a 403 `email_unverified` whose message
says what to do; the pages show the same explanation and a button that mails a new link.
"""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

from clonechats.accounts import tokens
from clonechats.accounts.repo import User
from clonechats.accounts.service import send_verification
from clonechats.errors import Conflict, Forbidden, TooManyRequests

if TYPE_CHECKING:
    from clonechats.context import Ctx


RESENDS_PER_HOUR = 3


class EmailUnverified(Forbidden):
    code = "email_unverified"
    message = ("Confirm your email address first: open the link we emailed you, or ask for a "
               "new one on your account page. Buying and sharing need a confirmed address.")


class AlreadyVerified(Conflict):
    code = "email_already_verified"
    message = "Your email address is already confirmed."


class TooManyVerificationEmails(TooManyRequests):
    code = "too_many_verification_emails"
    message = (f"We can send at most {RESENDS_PER_HOUR} confirmation emails an hour. "
               "Please check your inbox and spam folder, or try again later.")


def is_verified(user: User) -> bool:
    return bool(user.get("email")) and user.get("email_verified") is True


def require_verified_email(user: User) -> User:
    if not is_verified(user):
        raise EmailUnverified()
    return user


async def resend_verification(ctx: Ctx, user: User) -> None:
    """Mail a new confirmation link to the account's address, a few times an hour at most."""
    if is_verified(user):
        raise AlreadyVerified()
    if not user.get("email"):
        raise EmailUnverified("Sign up with an email address first.")
    now = ctx.clock.now()
    recent = await tokens.count_recent(ctx.db, purpose=tokens.VERIFY_EMAIL, user_id=user["_id"],
                                       since=now - timedelta(hours=1))
    if recent >= RESENDS_PER_HOUR:
        raise TooManyVerificationEmails(headers={"Retry-After": "3600"})
    await send_verification(ctx, user)
