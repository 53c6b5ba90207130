"""Steps of a purchase, as a browser and the provider take them."""

import re
from typing import Any

import httpx

from clonechats.billing import checkout
from tests.factories import csrf, log_in, make_user

PACK = "pack_small"
PACK_CREDITS = 200


async def buyer(ctx: Any, client: httpx.AsyncClient, *, email: str = "buyer@example.com",
                **fields: Any) -> dict[str, Any]:
    birth_date = fields.pop("birth_date", None)
    user = await make_user(ctx, email=email, display_name="Bea", **fields)
    if birth_date is not None:
        await ctx.db.users.update_one({"_id": user["_id"]}, {"$set": {"birth_date": birth_date}})
    response = await log_in(client, email=email)
    assert response.status_code == 200, response.text
    return user


async def order(client: httpx.AsyncClient, item_id: str = PACK, **extra: Any) -> httpx.Response:
    return await client.post("/api/v1/billing/orders", json={"item_id": item_id, **extra},
                             headers=csrf(client))


async def choose(client: httpx.AsyncClient, order_id: str, outcome: str) -> httpx.Response:
    """The buyer on the sandbox checkout page: open it, then press pay or fail."""
    page = await client.get(f"/billing/sandbox/checkout/{order_id}")
    assert page.status_code == 200, page.text
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert token
    return await client.post(f"/billing/sandbox/checkout/{order_id}",
                             data={"csrf_token": token.group(1), "outcome": outcome})


async def queued_deliveries(ctx: Any) -> list[dict[str, Any]]:
    return await ctx.db.jobs.find({"kind": checkout.DELIVER}).sort("created_at", 1).to_list()


async def balance(ctx: Any, user_id: str) -> int:
    return (await ctx.db.users.find_one({"_id": user_id}))["credits"]


async def grants(ctx: Any, user_id: str) -> list[dict[str, Any]]:
    return await ctx.db.credit_ledger.find({"user_id": user_id, "kind": "grant"}).to_list()
