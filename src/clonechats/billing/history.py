"""The credit history as people read it: one row per reply, each change named in words.

A reply (in a chat or a debate) reserves its largest cost up front and later returns the part
it did not use; the billing page shows the two as one net charge, with the parts in a details
view. The ledger and its API keep every entry as it is: this is presentation only.
"""

from dataclasses import dataclass, field
from datetime import datetime

from clonechats.billing import ledger
from clonechats.billing.ledger import LedgerEntry

RESERVED_SUFFIX = " (reserved)"
KEY_LABELS = {"welcome": "Welcome credits", "trial": "Free trial credits"}
"""Grants named by their idempotency key's prefix."""
PART_LABELS = {ledger.RESERVE: "Reserved when the reply started",
               ledger.RELEASE: "Unused part returned"}
REPLY_KIND = "reply"


@dataclass
class HistoryRow:
    at: datetime
    label: str
    delta: int
    balance_after: int
    kind: str
    parts: list[tuple[str, int]] = field(default_factory=list)  # the reservation first


def history_rows(entries: list[LedgerEntry]) -> list[HistoryRow]:
    """Rows for applied ledger entries given newest first; a reply's reservation and its
    release become one row, placed where its newest part is."""
    rows: list[HistoryRow] = []
    replies: dict[str, HistoryRow] = {}
    for entry in entries:
        reply_id = _reply_id(entry)
        if reply_id is None:
            rows.append(HistoryRow(at=entry["at"], label=entry_label(entry),
                                   delta=entry["delta"], balance_after=entry["balance_after"] or 0,
                                   kind=entry["kind"]))
            continue
        row = replies.get(reply_id)
        if row is None:
            row = HistoryRow(at=entry["at"], label=entry_label(entry), delta=0,
                             balance_after=entry["balance_after"] or 0, kind=REPLY_KIND)
            replies[reply_id] = row
            rows.append(row)
        row.delta += entry["delta"]
        part = (PART_LABELS[entry["kind"]], entry["delta"])
        if entry["kind"] == ledger.RESERVE:  # first, even when both parts share a moment
            row.parts.insert(0, part)
            row.label = entry_label(entry)
        else:
            row.parts.append(part)
    return rows


def entry_label(entry: LedgerEntry) -> str:
    prefix = str(entry["_id"]).split(":", 1)[0]
    if entry["kind"] == ledger.GRANT and prefix in KEY_LABELS:
        return KEY_LABELS[prefix]
    reason = str(entry.get("reason") or "")
    if entry["kind"] == ledger.RESERVE:  # "Chat reply from Ada (reserved)" -> "Reply from Ada"
        reason = reason.removesuffix(RESERVED_SUFFIX).replace("Chat reply from ", "Reply from ", 1)
    return reason or entry["kind"].title()


def _reply_id(entry: LedgerEntry) -> str | None:
    if entry["kind"] not in PART_LABELS:
        return None
    return str(entry["_id"]).split(":", 1)[-1]
