"""Orders: the only transitions are created -> paid | failed and paid -> refunded; who may
order what; the API's shapes and refusals."""

import asyncio
import itertools
from datetime import timedelta

import pytest

from clonechats.billing import orders
from clonechats.billing.checkout import new_order
from clonechats.billing.plans import build_catalog
from tests.billing.helpers import PACK, buyer, order
from tests.factories import csrf, make_user

ALLOWED = {(orders.CREATED, orders.PAID), (orders.CREATED, orders.FAILED),
           (orders.PAID, orders.REFUNDED)}


async def stored_order(ctx, status: str) -> dict:
    item = build_catalog(ctx.settings.billing).get(PACK)
    document = new_order(order_id=orders.new_order_id(), user_id="u1", item=item,
                         amount=item.prices["INR"], currency="INR", provider="sandbox",
                         now=ctx.clock.now(), ttl=timedelta(hours=1))
    document["status"] = status
    return await orders.insert(ctx.db, document)


@pytest.mark.parametrize(("start", "target"),
                         list(itertools.product(orders.STATUSES, repeat=2)))
async def test_only_the_three_transitions_exist(ctx, start, target):
    document = await stored_order(ctx, start)
    now = ctx.clock.now()
    if target not in orders.TRANSITIONS:
        with pytest.raises(orders.IllegalTransition):
            await orders.transition(ctx.db, document["_id"], target, now=now)
        moved = None
    else:
        moved = await orders.transition(ctx.db, document["_id"], target, now=now)
    stored = await orders.get(ctx.db, document["_id"])
    if (start, target) in ALLOWED:
        assert moved is not None and stored["status"] == target
        assert stored[f"{target}_at"] == now
    else:
        assert moved is None and stored["status"] == start


async def test_racing_transitions_let_exactly_one_win(ctx):
    document = await stored_order(ctx, orders.CREATED)
    now = ctx.clock.now()
    results = await asyncio.gather(*[
        orders.transition(ctx.db, document["_id"], target, now=now)
        for target in [orders.PAID, orders.FAILED] * 10
    ])
    winners = [r for r in results if r is not None]
    assert len(winners) == 1
    assert (await orders.get(ctx.db, document["_id"]))["status"] == winners[0]["status"]


async def test_status_never_changes_through_set_fields(ctx):
    document = await stored_order(ctx, orders.PAID)
    with pytest.raises(orders.IllegalTransition):
        await orders.set_fields(ctx.db, document["_id"], {"status": orders.CREATED},
                                now=ctx.clock.now())


async def test_catalog_lists_plans_and_packs_with_exact_prices(client, ctx):
    assert (await client.get("/api/v1/billing/catalog")).status_code == 401
    await buyer(ctx, client)
    body = (await client.get("/api/v1/billing/catalog")).json()
    assert body["currency"] == "INR" and body["provider"] == "sandbox"
    assert [p["tier"] for p in body["plans"]] == ["free", "plus", "pro"]
    plus = body["plans"][1]
    assert plus["prices"] == {"INR": "299.00", "USD": "4.99"} and plus["credits"] == 1000
    assert "voice" in plus["features"] and "video" in body["plans"][2]["features"]
    assert body["plans"][0]["orderable"] is False
    assert {p["id"] for p in body["packs"]} == {"pack_small", "pack_medium", "pack_large"}


async def test_pricing_page_lists_the_catalog(client):
    page = await client.get("/pricing")
    assert page.status_code == 200
    assert "₹299.00" in page.text and "₹99.00" in page.text and "Test payments" in page.text


async def test_order_needs_a_signed_in_active_account(client, ctx):
    await client.get("/")
    anonymous = await order(client)
    assert anonymous.status_code == 401
    trial = await client.post("/api/v1/auth/trial", headers=csrf(client))
    assert trial.status_code == 201
    refused = await order(client)
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "account_required"
    assert await ctx.db.orders.count_documents({}) == 0


@pytest.mark.parametrize(("body", "status", "code"), [
    ({"item_id": "nope"}, 404, "unknown_item"),
    ({"item_id": "free"}, 422, "not_orderable"),
    ({"item_id": PACK, "currency": "EUR"}, 422, "currency_unavailable"),
    ({"item_id": PACK, "currency": "inr"}, 422, "validation_failed"),
    ({"item_id": PACK, "amount": "1.00"}, 422, "validation_failed"),
    ({}, 422, "validation_failed"),
])
async def test_bad_order_requests_are_refused_and_store_nothing(client, ctx, body, status,
                                                                code):
    await buyer(ctx, client)
    response = await client.post("/api/v1/billing/orders", json=body, headers=csrf(client))
    assert response.status_code == status and response.json()["error"]["code"] == code
    assert await ctx.db.orders.count_documents({}) == 0


async def test_order_in_another_priced_currency(client, ctx):
    await buyer(ctx, client)
    response = await order(client, currency="USD")
    assert response.status_code == 201
    stored = await ctx.db.orders.find_one({"_id": response.json()["order_id"]})
    assert stored["amount"] == "1.99" and stored["currency"] == "USD"


async def test_unpaid_orders_per_hour_are_limited(client, ctx, clock):
    await buyer(ctx, client)
    for _ in range(ctx.settings.billing.max_open_orders):
        assert (await order(client)).status_code == 201
    refused = await order(client)
    assert refused.status_code == 429
    assert refused.json()["error"]["code"] == "too_many_open_orders"
    clock.advance(hours=1, seconds=1)
    assert (await order(client)).status_code == 201


async def test_orders_and_ledger_lists_are_paginated_and_private(client, ctx, second_client):
    await buyer(ctx, client)
    ids = [(await order(client)).json()["order_id"] for _ in range(3)]
    first = (await client.get("/api/v1/billing/orders?limit=2")).json()
    assert len(first["items"]) == 2 and first["next_cursor"]
    rest = (await client.get(f"/api/v1/billing/orders?limit=2&cursor={first['next_cursor']}"))
    second = rest.json()
    assert second["next_cursor"] is None
    assert {o["order_id"] for o in first["items"] + second["items"]} == set(ids)
    bad = await client.get("/api/v1/billing/orders?cursor=%%%")
    assert bad.status_code == 400 and bad.json()["error"]["code"] == "invalid_cursor"
    await make_user(ctx, email="other@example.com")
    await buyer(ctx, second_client, email="third@example.com")
    assert (await second_client.get("/api/v1/billing/orders")).json()["items"] == []
    ledger = (await second_client.get("/api/v1/billing/ledger")).json()
    assert ledger == {"items": [], "next_cursor": None, "balance": 0}
