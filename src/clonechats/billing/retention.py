"""Payment records are kept 7 years (webhook logs; orders, ledger entries and subscriptions of
deleted accounts, under a pseudonym): each gets a `retain_until`, and the daily
`privacy.retention` job removes it after that date (its rules in `privacy/retention.py`)."""

from __future__ import annotations

from datetime import datetime, timedelta

RETENTION = timedelta(days=7 * 365 + 2)


def retain_until(moment: datetime) -> datetime:
    return moment + RETENTION
