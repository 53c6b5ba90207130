"""Helpers for scheduled-message tests: schedule through the API, and read what was stored.

The clock starts at 2026-03-01 12:00 UTC (tests/conftest.py); jobs run only when a test calls
`run_jobs()`, so a test moves the clock to an item's time and then lets the workers run.
"""

from typing import Any

import httpx

from clonechats.chat.scheduled import repo

AN_HOUR = "2026-03-01T13:00:00Z"


async def schedule(member: Any, conversation_id: str, text: str = "Good morning!", *,
                   send_at: str = AN_HOUR, kind: str = "message",
                   **extra: Any) -> httpx.Response:
    return await member.send("POST", f"/api/v1/conversations/{conversation_id}/scheduled",
                             json={"text": text, "send_at": send_at, "kind": kind, **extra})


async def scheduled_item(member: Any, conversation_id: str, text: str = "Good morning!",
                         **kwargs: Any) -> dict[str, Any]:
    response = await schedule(member, conversation_id, text, **kwargs)
    assert response.status_code == 201, response.text
    return response.json()["scheduled"]


async def stored(ctx: Any, item_id: str) -> dict[str, Any] | None:
    return await repo.get(ctx.db, item_id)


async def messages_of(ctx: Any, conversation_id: str) -> list[dict[str, Any]]:
    return await ctx.db.messages.find({"conversation_id": conversation_id}).sort(
        "seq", 1).to_list()


async def ledger_keys(ctx: Any, user_id: str) -> list[str]:
    entries = await ctx.db.credit_ledger.find({"user_id": user_id}).to_list()
    return sorted(e["_id"] for e in entries if e["kind"] in ("reserve", "release"))
