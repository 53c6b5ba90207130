"""Age rules: under 13 no account; 13–17 only with a guardian's consent and chosen tiers."""

from datetime import date, datetime, timedelta
from typing import Any

from clonechats.errors import AppError, Forbidden
from clonechats.storage.indexes import Index

SIGNUP_BLOCKS = "signup_blocks"
MINIMUM_AGE = 13
ADULT_AGE = 18

INDEXES = [Index(SIGNUP_BLOCKS, [("expires_at", 1)])]


class AgeRestricted(Forbidden):
    code = "age_restricted"
    message = "You must be at least 13 years old to use this service."


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


async def is_blocked(db: Any, email_hash: str, *, now: datetime) -> bool:
    return await db[SIGNUP_BLOCKS].find_one(
        {"_id": email_hash, "expires_at": {"$gt": now}}) is not None


async def block(db: Any, email_hash: str, *, now: datetime, hours: float) -> None:
    """Remember only a keyed hash of the email, briefly, to stop an immediate retry."""
    await db[SIGNUP_BLOCKS].update_one(
        {"_id": email_hash}, {"$set": {"expires_at": now + timedelta(hours=hours)}}, upsert=True,
    )


async def purge_expired(db: Any, *, now: datetime) -> int:
    return (await db[SIGNUP_BLOCKS].delete_many({"expires_at": {"$lte": now}})).deleted_count
