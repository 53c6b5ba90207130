"""What the privacy domain does when a process starts (`serve` and `clonechats worker`).

- Record the policy version in force (`policy_versions`): the first process to see a version
  dates it, and users who joined before a material version see the notice until they
  acknowledge it.
- Queue the next daily retention run and orphan-media sweep (idempotent: one job per date),
  in processes that run jobs: `clonechats worker`, and `serve` when it runs them itself (the
  embedded engine).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from clonechats.accounts.users import User
from clonechats.media import orphans
from clonechats.privacy import repo, retention

if TYPE_CHECKING:
    from clonechats.context import Ctx



@dataclass(frozen=True)
class PolicyState:
    version: str
    effective_at: datetime
    material: bool
    policy_date: str


def needs_notice(state: PolicyState | None, user: User | None) -> bool:
    """A material version the user has not acknowledged and that came after they joined."""
    if state is None or user is None or not state.material:
        return False
    if user.get("policy_acknowledged_version") == state.version:
        return False
    created_at = user.get("created_at")
    return created_at is None or created_at < state.effective_at


async def record_policy(ctx: Ctx) -> PolicyState:
    settings = ctx.settings.privacy
    record = await repo.record_policy_version(
        ctx.db, version=settings.policy_version, now=ctx.clock.now(),
        policy_date=settings.policy_date.isoformat(), material=settings.material_change)
    return PolicyState(version=settings.policy_version, effective_at=record["first_seen_at"],
                       material=settings.material_change,
                       policy_date=settings.policy_date.isoformat())


async def prepare(ctx: Ctx, *, runs_jobs: bool = True) -> PolicyState:
    state = await record_policy(ctx)
    if runs_jobs:
        await retention.seed(ctx)
        await orphans.seed(ctx)
    return state
