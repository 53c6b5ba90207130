"""Minors buy only the tiers their guardian authorised, checked on the server."""

import pytest

from tests.billing.helpers import buyer, order

MINOR = {"birth_date": "2011-01-01"}  # 15 on the test clock's date


async def minor(ctx, client, tiers):
    return await buyer(ctx, client, guardian={"email": "parent@example.com",
                                              "approved_at": None, "authorized_tiers": tiers},
                       **MINOR)


@pytest.mark.parametrize(("tiers", "item", "allowed"), [
    (["free", "plus"], "plus", True),
    (["free", "plus"], "pro", False),
    (["free", "plus"], "pack_small", True),
    (["free"], "pack_small", False),
    (["free"], "plus", False),
    (["pro"], "pro", True),
    ([], "pack_large", False),
])
async def test_minors_order_only_authorised_tiers(client, ctx, tiers, item, allowed):
    await minor(ctx, client, tiers)
    response = await order(client, item)
    if allowed:
        assert response.status_code == 201
    else:
        assert response.status_code == 403
        assert response.json()["error"]["code"] == "tier_not_authorised"
        assert await ctx.db.orders.count_documents({}) == 0


async def test_pricing_page_shows_what_the_guardian_did_not_allow(client, ctx):
    await minor(ctx, client, ["free", "plus"])
    page = await client.get("/pricing")
    assert page.text.count("has not allowed this") == 1  # Pro only
    assert 'value="pro"' not in page.text and 'value="plus"' in page.text


async def test_an_adult_with_a_guardian_record_is_not_restricted(client, ctx):
    await buyer(ctx, client, guardian={"email": "parent@example.com", "approved_at": None,
                                       "authorized_tiers": []}, birth_date="2000-01-01")
    assert (await order(client, "pro")).status_code == 201


async def test_pending_guardian_consent_blocks_ordering(client, ctx):
    await buyer(ctx, client, status="guardian_pending",
                guardian={"email": "parent@example.com", "approved_at": None,
                          "authorized_tiers": ["plus"]}, **MINOR)
    response = await order(client, "plus")
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "guardian_consent_required"
