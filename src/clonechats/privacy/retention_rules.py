"""How long each kind of data is kept: ONE table of rules (`RULES`), and nothing else.

A rule names a collection (through the `Expiring` its owner module declares, never by its
name), the field that dates each document, how long after that date the document goes, an
optional condition (e.g. generated media that was not saved) and an action: delete the
documents, delete media files with their documents, delete export archives, delete the whole
account, or fold raw telemetry into anonymous daily totals. The same table is rendered on the
privacy policy page (`policies`), applied by the daily job (`retention`, which carries out each
action through the owner's code) and checked by `clonechats privacy audit`, so the page, the
job and the audit cannot disagree. The table is the declaration of each domain's retention;
this module only states it, so the policy pages read it without importing what the job does.
"""

from __future__ import annotations

import calendar
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from clonechats.accounts import (
    age,
    audit,
    google,
    sessions,
    throttle,
    tokens,
    trials,
    two_factor_login,
    users,
)
from clonechats.accounts.guardian import UNAPPROVED_KEEP_DAYS
from clonechats.billing import ledger, orders, subscriptions, webhook_log
from clonechats.chat import idempotency
from clonechats.chat.scheduled import repo as scheduled
from clonechats.contact import repo as contact
from clonechats.jobs import repo as jobs
from clonechats.media import repo as media
from clonechats.media.video import repo as video_jobs
from clonechats.privacy import repo
from clonechats.providers.email import outbox
from clonechats.providers.payments import sandbox
from clonechats.safety import rate_limits
from clonechats.storage.expiring import Expiring
from clonechats.telemetry import errors, events

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
    store: Expiring
    """The collection, as its owner module declares it (`storage.expiring`)."""
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
    def collection(self) -> str:
        return self.store.collection

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
    Rule("generated_media", "Voice clips and videos generated for you", media.EXPIRING,
         "created_at", Keep(90), {"kind": {"$in": [VOICE_CLIP, VIDEO]}, "saved": {"$ne": True}},
         action=DELETE_MEDIA, note="unless you saved them"),
    Rule("audit_log", "Security log (sign-ins and account changes, hashed addresses)",
         audit.EXPIRING, "at", Keep(24, "months")),
    Rule("login_attempts", "Sign-in attempts (hashed address, browser name)",
         throttle.ATTEMPTS_EXPIRING, "at", Keep(90)),
    Rule("login_throttle", "Counters of failed sign-ins", throttle.THROTTLE_EXPIRING,
         "last_failure_at", Keep(7)),
    Rule("sessions", "Sign-in sessions", sessions.EXPIRING, "expires_at", Keep(0),
         note="at most 30 days after you sign in"),
    Rule("expired_links", "Links we email (verification, password reset)", tokens.EXPIRING,
         "expires_at", Keep(0), note="a few hours to 7 days"),
    Rule("used_links", "Links we email, once used", tokens.EXPIRING, "used_at", Keep(1)),
    Rule("google_flows", "Unfinished Google sign-ins", google.EXPIRING, "expires_at", Keep(0),
         note="10 minutes"),
    Rule("signup_blocks", "Refused sign-ups of children under 13 (hashed email only)",
         age.EXPIRING, "expires_at", Keep(0), note="24 hours"),
    Rule("trial_devices", "Browsers that used the free trial (hashed)", trials.EXPIRING, "at",
         Keep(12, "months")),
    Rule("outbox", "Copies of the emails we sent you", outbox.EXPIRING, "created_at", Keep(30)),
    Rule("finished_jobs", "Finished background tasks (such as an email waiting to be sent)",
         jobs.EXPIRING, "finished_at", Keep(30), {"status": {"$in": [jobs.DONE, jobs.DEAD]}}),
    Rule("exports", "Your data exports", repo.EXPORTS_EXPIRING, "expires_at", Keep(0),
         action=DELETE_EXPORT, note="48 hours after they are ready"),
    Rule("closed_requests", "Data requests, once answered", repo.REQUESTS_EXPIRING, "closed_at",
         Keep(24, "months")),
    Rule("deletion_records", "Records that an account was deleted (pseudonymised)",
         repo.DELETIONS_EXPIRING, "finished_at", Keep(24, "months")),
    Rule("payment_orders", "Payment orders", orders.EXPIRING, "created_at", Keep(7, "years"),
         keep_until_field="retain_until", note="statutory tax and dispute window"),
    Rule("sandbox_orders", "Payment orders (test payments)", sandbox.EXPIRING, "created_at",
         Keep(7, "years")),
    Rule("webhook_logs", "Payment webhook logs", webhook_log.DELIVERIES_EXPIRING, "received_at",
         Keep(7, "years"), keep_until_field="retain_until"),
    Rule("webhook_events", "Payment webhook logs", webhook_log.EVENTS_EXPIRING, "first_seen_at",
         Keep(7, "years"), keep_until_field="retain_until"),
    Rule("deleted_ledger", "Credit ledger of deleted accounts (pseudonymised)", ledger.EXPIRING,
         "retain_until", Keep(0), {"pseudonymised": True},
         wording="7 years after the account is deleted"),
    Rule("deleted_subscriptions", "Subscriptions of deleted accounts (pseudonymised)",
         subscriptions.EXPIRING, "retain_until", Keep(0), {"pseudonymised": True},
         wording="7 years after the account is deleted"),
    Rule("cost_events", "Cost meter of your generations (tokens, credits, timing)",
         events.COST_EVENTS_EXPIRING, "ts", Keep(30), action=FOLD,
         note="then only anonymous daily totals, kept indefinitely"),
    Rule("paywall_hits", "Times you ran out of credits", events.PAYWALL_HITS_EXPIRING, "ts",
         Keep(30), action=FOLD, note="then only anonymous daily totals, kept indefinitely"),
    Rule("video_jobs", "Requests for video replies (status, length, errors)", video_jobs.EXPIRING,
         "created_at", Keep(90)),
    Rule("cancelled_scheduled", "Scheduled messages you cancelled (their text is deleted at "
         "once)", scheduled.EXPIRING, "cancelled_at", Keep(30), {"status": "cancelled"}),
    Rule("unapproved_minors", "Accounts of 13-17-year-olds that no guardian approved",
         users.EXPIRING, "created_at", Keep(UNAPPROVED_KEEP_DAYS),
         condition={"status": users.GUARDIAN_PENDING}, action=DELETE_ACCOUNT,
         note="after sign-up; the whole account and everything it holds"),
    Rule("send_keys", "Keys of recent message sends (so a retry is not sent twice)",
         idempotency.EXPIRING, "expires_at", Keep(0), wording="24 hours"),
)
RULES += (  # the admin console's data
    Rule("error_traces", "Error reports (no personal data: the type of error, where in our "
         "code and which page)", errors.ERROR_GROUPS_EXPIRING, "last_seen", Keep(30),
         note="then only anonymous daily counts"),
    Rule("rate_limits", "Counters that limit contact messages and reports (hashed address)",
         rate_limits.EXPIRING, "expires_at", Keep(0), note="one hour"),
    Rule("contact_messages", "Messages you sent us, once answered and closed",
         contact.EXPIRING, "closed_at", Keep(24, "months")),
)
RULES += (
    Rule("two_factor_logins", "Sign-ins waiting for a two-factor code", two_factor_login.EXPIRING,
         "expires_at", Keep(0), note="5 minutes"),
)
