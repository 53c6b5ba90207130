"""Accounts as other domains see them: code outside `accounts/` reads a user, and makes the few
changes it may make to one, through this module, never through `accounts.repo` (which is this
package's own).

A user document belongs to `accounts`, except its credit balance (`credits`, `ledger_keys`),
which only `billing.ledger` writes (and reads with `ledger.balance`). The other fields another
domain keeps on the account each have one function here: the plan (`billing.subscriptions`),
a billing flag (`billing.refunds`), the acknowledged policy version (`privacy.consent`) and the
lock of an account being deleted (`privacy.deletion`).
"""

from datetime import datetime
from typing import Any

from clonechats.accounts import repo
from clonechats.accounts.repo import User

__all__ = ["User"]  # the user document's shape, for the domains that read users through here

ACTIVE, GUARDIAN_PENDING, TRIAL = repo.ACTIVE, repo.GUARDIAN_PENDING, repo.TRIAL
"""The account statuses: a full account, a 13-17-year-old's awaiting their guardian, a trial."""
EXPIRING = repo.EXPIRING
"""What the retention job may do to accounts (rule `unapproved_minors`: it finds them, and
`guardian.delete_unapproved` deletes each)."""


async def get(db: Any, user_id: str) -> User | None:
    return await repo.get(db, user_id)


async def get_by_email(db: Any, email: str) -> User | None:
    """The account with this (normalised) email address, if any."""
    return await repo.get_by_email(db, email)


async def search(db: Any, *, text: str, pattern: str, limit: int) -> list[User]:
    """Accounts with the id `text`, or whose email or display name matches `pattern`."""
    return await repo.search(db, text=text, pattern=pattern, limit=limit)


async def insert(db: Any, user: User) -> User:
    """Store a new account made by `accounts.service.new_user` (DuplicateKeyError if its email
    is taken)."""
    return await repo.insert(db, user)


async def list_page(db: Any, *, limit: int, cursor: str | None = None,
                    ) -> tuple[list[User], str | None]:
    """Accounts newest first, and the next page's cursor."""
    return await repo.list_page(db, limit=limit, cursor=cursor)


async def count_by_status(db: Any) -> dict[str, int]:
    return await repo.count_by_status(db)


async def count_with_role(db: Any, role: str) -> int:
    return await repo.count_with_role(db, role)


async def count_admins(db: Any) -> int:
    """Admins whose account is not being deleted."""
    return await repo.count_admins(db)


async def set_plan(db: Any, user_id: str, tier: str, *, now: datetime) -> None:
    """The plan tier the account is on (`billing.subscriptions`)."""
    await repo.update(db, user_id, {"plan": tier, "updated_at": now})


async def flag_billing(db: Any, user_id: str, flag: dict[str, Any]) -> None:
    """Mark the account for the operator's attention (`billing.refunds`: refunded credits that
    were already spent)."""
    await repo.update(db, user_id, {"billing_flag": flag})


async def acknowledge_policy(db: Any, user_id: str, version: str, *,
                             now: datetime) -> User | None:
    """Record the privacy policy version the user has seen; the updated user."""
    return await repo.update(db, user_id, {"policy_acknowledged_version": version,
                                           "updated_at": now})


async def lock_for_deletion(db: Any, user_id: str, *, now: datetime) -> None:
    """Take away every way to sign in and mark the account as being deleted
    (`privacy.deletion`, before its purge job runs)."""
    await repo.unset(db, user_id, ["password_hash", "google_sub"], now=now)
    await repo.update(db, user_id, {"deletion_requested_at": now})
