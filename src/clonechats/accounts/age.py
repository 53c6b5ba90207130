"""Age rules: under 13 no account; 13–17 only with a guardian's consent and chosen tiers."""

import math
from datetime import UTC, date, datetime, timedelta
from typing import Any

from clonechats.errors import AppError, Forbidden
from clonechats.storage.expiring import Expiring
from clonechats.storage.indexes import Index

SIGNUP_BLOCKS = "signup_blocks"
COLLECTIONS = (SIGNUP_BLOCKS,)
EXPIRING = Expiring(SIGNUP_BLOCKS)
MINIMUM_AGE = 13
ADULT_AGE = 18

INDEXES = [Index(SIGNUP_BLOCKS, [("expires_at", 1)])]


class AgeRestricted(Forbidden):
    code = "age_restricted"
    message = "You must be at least 13 years old to use this service."


class SignupBlocked(AgeRestricted):
    """An address recently refused for age: whatever birth date comes now, it waits."""

    code = "signup_blocked"

    def __init__(self, remaining: timedelta) -> None:
        super().__init__(f"This email address can't be used to sign up for now. Please try "
                         f"again in {wait_in_words(remaining)}.")


def wait_in_words(remaining: timedelta) -> str:
    minutes = max(1, math.ceil(remaining.total_seconds() / 60))
    if minutes < 60:
        return "less than an hour"
    hours = math.ceil(minutes / 60)
    return "about 1 hour" if hours == 1 else f"about {hours} hours"


class GuardianConsentRequired(Forbidden):
    code = "guardian_consent_required"
    message = ("A parent or guardian must approve this account first. Until then you can view "
               "policies and your settings.")


def age_on(birth_date: date, today: date) -> int:
    before_birthday = (today.month, today.day) < (birth_date.month, birth_date.day)
    return today.year - birth_date.year - int(before_birthday)


def check_birth_date(birth_date: date, today: date) -> int:
    if birth_date > today:
        raise AppError("The birth date is in the future.", code="invalid_birth_date", status=422)
    age = age_on(birth_date, today)
    if age > 120:
        raise AppError("Please check the birth date.", code="invalid_birth_date", status=422)
    return age


async def block_remaining(db: Any, email_hash: str, *, now: datetime) -> timedelta | None:
    """How long the address stays blocked from signing up, or None when it is not."""
    found = await db[SIGNUP_BLOCKS].find_one({"_id": email_hash, "expires_at": {"$gt": now}})
    if found is None:
        return None
    expires_at = found["expires_at"]
    if expires_at.tzinfo is None:  # MongoDB hands datetimes back as naive UTC
        expires_at = expires_at.replace(tzinfo=UTC)
    return expires_at - now


async def block(db: Any, email_hash: str, *, now: datetime, hours: float) -> None:
    """Remember only a keyed hash of the email, briefly, to stop an immediate retry."""
    await db[SIGNUP_BLOCKS].update_one(
        {"_id": email_hash}, {"$set": {"expires_at": now + timedelta(hours=hours)}}, upsert=True,
    )
