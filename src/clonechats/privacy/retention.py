"""How long each kind of data is kept: ONE table of rules (`RULES`), and the job that applies it.

A rule names a collection, the field that dates each document, how long after that date the
document goes, an optional condition (e.g. generated media that was not saved) and an action:
delete the documents, delete media files with their documents, delete export archives, or fold
raw telemetry into anonymous daily totals. The same table is rendered on the privacy policy
page and checked by `clonechats privacy audit`, so the page, the job and the audit cannot
disagree. The table is the declaration of each domain's retention; the job runs it with one
query per rule rather than through each domain's code.

The job `privacy.retention` runs daily at 03:00 UTC: it first queues its next run (deduplicated
on the date, so one chain exists however often it is seeded) and then applies every rule.
`seed` queues the next run at start-up.
"""

from __future__ import annotations

import calendar
import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from typing import TYPE_CHECKING, Any

from clonechats.accounts.age import SIGNUP_BLOCKS
from clonechats.accounts.audit import AUDIT
from clonechats.accounts.google import FLOWS
from clonechats.accounts.guardian import UNAPPROVED_KEEP_DAYS
from clonechats.accounts.repo import GUARDIAN_PENDING, USERS
from clonechats.accounts.sessions import SESSIONS
from clonechats.accounts.throttle import ATTEMPTS, THROTTLE
from clonechats.accounts.tokens import TOKENS
from clonechats.accounts.trials import TRIAL_DEVICES
from clonechats.accounts.two_factor_login import PENDING as PENDING_LOGINS
from clonechats.billing.ledger import LEDGER
from clonechats.billing.orders import ORDERS
from clonechats.billing.subscriptions import SUBSCRIPTIONS
from clonechats.billing.webhooks import DELIVERIES
from clonechats.billing.webhooks import EVENTS as WEBHOOK_EVENTS
from clonechats.chat.idempotency import SEND_KEYS
from clonechats.chat.scheduled.repo import COLLECTION as SCHEDULED
from clonechats.contact.repo import MESSAGES as CONTACT_MESSAGES
from clonechats.jobs import repo as jobs
from clonechats.jobs.service import enqueue_daily
from clonechats.media import repo as media
from clonechats.media.video.repo import VIDEO_JOBS
from clonechats.privacy import repo
from clonechats.providers.email.outbox import COLLECTION as OUTBOX
from clonechats.providers.payments.sandbox import SANDBOX_ORDERS
from clonechats.safety.rate_limits import RATE_LIMITS
from clonechats.telemetry import fold as telemetry_fold
from clonechats.telemetry.errors import ERROR_GROUPS
from clonechats.telemetry.events import COST_EVENTS, PAYWALL_HITS

if TYPE_CHECKING:
    from clonechats.context import Ctx


log = logging.getLogger(__name__)

RETENTION_JOB = "privacy.retention"
RUN_AT = time(3, 0, tzinfo=UTC)
GRACE = timedelta(hours=25)
"""The job runs daily, so a document may outlive its date by up to a day; the audit allows
this much before it calls a document overdue."""

DELETE, DELETE_MEDIA, DELETE_EXPORT, FOLD = "delete", "delete_media", "delete_export", "fold"
DELETE_ACCOUNT = "delete_account"
VOICE_CLIP, VIDEO = "voice_clip", "video"
UNITS = {"days": 1, "months": 30}


def _shift_months(moment: datetime, months: int) -> datetime:
    index = moment.year * 12 + moment.month - 1 + months
    year, month = divmod(index, 12)
    day = min(moment.day, calendar.monthrange(year, month + 1)[1])
    return moment.replace(year=year, month=month + 1, day=day)


@dataclass(frozen=True)
class Keep:
    """A retention period in the unit people read it in (0: until the document's own date)."""

    amount: int
    unit: str = "days"  # days | months | years

    @property
    def delta(self) -> timedelta:
        if self.unit == "years":
            return timedelta(days=365 * self.amount + (self.amount + 3) // 4)
        return timedelta(days=self.amount * UNITS[self.unit])

    def before(self, now: datetime) -> datetime:
        """The date a document must be older than (at `now`) to be past this period. Months
        are calendar months (24 months back from 15 March is 15 March two years before; a day
        that month lacks becomes its last day), days and years as `delta`."""
        if self.unit != "months":
            return now - self.delta
        return _shift_months(now, -self.amount)

    def due(self, dated: datetime) -> datetime:
        """When a document dated `dated` is past this period."""
        if self.unit != "months":
            return dated + self.delta
        return _shift_months(dated, self.amount)

    def __str__(self) -> str:
        if self.amount == 0:
            return "until it expires"
        unit = self.unit if self.amount != 1 else self.unit.removesuffix("s")
        return f"{self.amount} {unit}"


@dataclass(frozen=True)
class Rule:
    name: str
    category: str
    """What the privacy page calls this data."""
    collection: str
    age_field: str
    keep: Keep
    condition: Mapping[str, Any] = field(default_factory=dict)
    keep_until_field: str | None = None
    """When a document has this field, it is also kept until that date (e.g. `retain_until`
    of payment records of deleted accounts)."""
    action: str = DELETE
    note: str = ""
    wording: str = ""
    """How the policy page states the period, when `keep` alone would not say it."""

    @property
    def period(self) -> str:
        text = self.wording or str(self.keep)
        return f"{text} ({self.note})" if self.note else text

    def query(self, now: datetime) -> dict[str, Any]:
        """Documents past this rule's retention at `now`."""
        parts: list[dict[str, Any]] = [{self.age_field: {"$lte": self.keep.before(now)}}]
        if self.condition:
            parts.append(dict(self.condition))
        if self.keep_until_field:
            parts.append({"$or": [{self.keep_until_field: {"$exists": False}},
                                  {self.keep_until_field: None},
                                  {self.keep_until_field: {"$lte": now}}]})
        return parts[0] if len(parts) == 1 else {"$and": parts}


RULES: tuple[Rule, ...] = (
    Rule("generated_media", "Voice clips and videos generated for you", media.MEDIA,
         "created_at", Keep(90), {"kind": {"$in": [VOICE_CLIP, VIDEO]}, "saved": {"$ne": True}},
         action=DELETE_MEDIA, note="unless you saved them"),
    Rule("audit_log", "Security log (sign-ins and account changes, hashed addresses)", AUDIT,
         "at", Keep(24, "months")),
    Rule("login_attempts", "Sign-in attempts (hashed address, browser name)", ATTEMPTS, "at",
         Keep(90)),
    Rule("login_throttle", "Counters of failed sign-ins", THROTTLE, "last_failure_at",
         Keep(7)),
    Rule("sessions", "Sign-in sessions", SESSIONS, "expires_at", Keep(0),
         note="at most 30 days after you sign in"),
    Rule("expired_links", "Links we email (verification, password reset)", TOKENS,
         "expires_at", Keep(0), note="a few hours to 7 days"),
    Rule("used_links", "Links we email, once used", TOKENS, "used_at", Keep(1)),
    Rule("google_flows", "Unfinished Google sign-ins", FLOWS, "expires_at", Keep(0),
         note="10 minutes"),
    Rule("signup_blocks", "Refused sign-ups of children under 13 (hashed email only)",
         SIGNUP_BLOCKS, "expires_at", Keep(0), note="24 hours"),
    Rule("trial_devices", "Browsers that used the free trial (hashed)", TRIAL_DEVICES, "at",
         Keep(12, "months")),
    Rule("outbox", "Copies of the emails we sent you", OUTBOX, "created_at", Keep(30)),
    Rule("finished_jobs", "Finished background tasks (such as an email waiting to be sent)",
         jobs.COLLECTION, "finished_at", Keep(30), {"status": {"$in": [jobs.DONE, jobs.DEAD]}}),
    Rule("exports", "Your data exports", repo.EXPORTS, "expires_at", Keep(0),
         action=DELETE_EXPORT, note="48 hours after they are ready"),
    Rule("closed_requests", "Data requests, once answered", repo.REQUESTS, "closed_at",
         Keep(24, "months")),
    Rule("deletion_records", "Records that an account was deleted (pseudonymised)",
         repo.DELETIONS, "finished_at", Keep(24, "months")),
    Rule("payment_orders", "Payment orders", ORDERS, "created_at", Keep(7, "years"),
         keep_until_field="retain_until", note="statutory tax and dispute window"),
    Rule("sandbox_orders", "Payment orders (test payments)", SANDBOX_ORDERS, "created_at",
         Keep(7, "years")),
    Rule("webhook_logs", "Payment webhook logs", DELIVERIES, "received_at", Keep(7, "years"),
         keep_until_field="retain_until"),
    Rule("webhook_events", "Payment webhook logs", WEBHOOK_EVENTS, "first_seen_at",
         Keep(7, "years"), keep_until_field="retain_until"),
    Rule("deleted_ledger", "Credit ledger of deleted accounts (pseudonymised)", LEDGER,
         "retain_until", Keep(0), {"pseudonymised": True},
         wording="7 years after the account is deleted"),
    Rule("deleted_subscriptions", "Subscriptions of deleted accounts (pseudonymised)",
         SUBSCRIPTIONS, "retain_until", Keep(0), {"pseudonymised": True},
         wording="7 years after the account is deleted"),
    Rule("cost_events", "Cost meter of your generations (tokens, credits, timing)",
         COST_EVENTS, "ts", Keep(30), action=FOLD,
         note="then only anonymous daily totals, kept indefinitely"),
    Rule("paywall_hits", "Times you ran out of credits", PAYWALL_HITS, "ts", Keep(30),
         action=FOLD, note="then only anonymous daily totals, kept indefinitely"),
    Rule("video_jobs", "Requests for video replies (status, length, errors)", VIDEO_JOBS,
         "created_at", Keep(90)),
    Rule("cancelled_scheduled", "Scheduled messages you cancelled (their text is deleted at "
         "once)", SCHEDULED, "cancelled_at", Keep(30), {"status": "cancelled"}),
    Rule("unapproved_minors", "Accounts of 13-17-year-olds that no guardian approved",
         USERS, "created_at", Keep(UNAPPROVED_KEEP_DAYS),
         condition={"status": GUARDIAN_PENDING}, action=DELETE_ACCOUNT,
         note="after sign-up; the whole account and everything it holds"),
    Rule("send_keys", "Keys of recent message sends (so a retry is not sent twice)",
         SEND_KEYS, "expires_at", Keep(0), wording="24 hours"),
)
RULES += (  # the admin console's data
    Rule("error_traces", "Error reports (no personal data: the type of error, where in our "
         "code and which page)", ERROR_GROUPS, "last_seen", Keep(30),
         note="then only anonymous daily counts"),
    Rule("rate_limits", "Counters that limit contact messages and reports (hashed address)",
         RATE_LIMITS, "expires_at", Keep(0), note="one hour"),
    Rule("contact_messages", "Messages you sent us, once answered and closed",
         CONTACT_MESSAGES, "closed_at", Keep(24, "months")),
)
RULES += (
    Rule("two_factor_logins", "Sign-ins waiting for a two-factor code", PENDING_LOGINS,
         "expires_at", Keep(0), note="5 minutes"),
)

Action = Callable[[Any, Rule, datetime], Awaitable[int]]


async def _delete(ctx: Ctx, rule: Rule, now: datetime) -> int:
    return (await ctx.db[rule.collection].delete_many(rule.query(now))).deleted_count


async def _delete_media(ctx: Ctx, rule: Rule, now: datetime) -> int:
    from clonechats.media import service as media_service
    from clonechats.media.errors import MediaNotFound

    removed = 0
    for document in await ctx.db[rule.collection].find(rule.query(now)).to_list():
        try:  # the owner's own delete: file, then document, then the persona's references
            await media_service.delete_media(ctx, user_id=document["owner_id"],
                                             media_id=document["_id"])
        except MediaNotFound:
            continue  # deleted meanwhile
        removed += 1
    return removed


async def _delete_exports(ctx: Ctx, rule: Rule, now: datetime) -> int:
    from clonechats.privacy import export

    removed = 0
    for document in await ctx.db[rule.collection].find(rule.query(now)).to_list():
        await export.remove(ctx, document)
        removed += 1
    return removed


async def _fold(ctx: Ctx, rule: Rule, now: datetime) -> int:
    return await telemetry_fold.fold(ctx, rule.collection, before=now - rule.keep.delta)


async def _delete_accounts(ctx: Ctx, rule: Rule, now: datetime) -> int:
    from clonechats.accounts import guardian

    removed = 0
    for document in await ctx.db[rule.collection].find(rule.query(now)).to_list():
        removed += await guardian.delete_unapproved(ctx, document)
    return removed


ACTIONS: dict[str, Action] = {DELETE: _delete, DELETE_MEDIA: _delete_media,
                              DELETE_EXPORT: _delete_exports, FOLD: _fold}
ACTIONS[DELETE_ACCOUNT] = _delete_accounts


async def apply_rules(ctx: Ctx, *, now: datetime | None = None,
                      rules: tuple[Rule, ...] | None = None) -> dict[str, int]:
    """Apply every rule once; returns how many documents each removed or folded."""
    moment = now or ctx.clock.now()
    counts = {}
    for rule in RULES if rules is None else rules:
        counts[rule.name] = await ACTIONS[rule.action](ctx, rule, moment)
    return counts


async def overdue(ctx: Ctx, *, now: datetime | None = None) -> dict[str, int]:
    """How many documents each rule should already have removed, allowing `GRACE`."""
    moment = (now or ctx.clock.now()) - GRACE
    return {rule.name: await ctx.db[rule.collection].count_documents(rule.query(moment))
            for rule in RULES}


async def seed(ctx: Ctx) -> dict[str, Any]:
    """Queue the next daily run (idempotent: one job per date)."""
    return await enqueue_daily(ctx, RETENTION_JOB, RUN_AT)


async def run_retention(payload: dict[str, Any], ctx: Ctx) -> None:
    await seed(ctx)  # the next run is queued first, so a failure here never ends the chain
    counts = await apply_rules(ctx)
    if any(counts.values()):
        await ctx.connection.scrub()
    log.info("retention applied", extra={"removed": {k: v for k, v in counts.items() if v}})
