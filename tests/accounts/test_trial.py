"""Anonymous trials: once per device, a small credit grant on the ledger."""

import httpx

from clonechats.billing import ledger
from tests.factories import csrf


async def start_trial(client):
    await client.get("/")
    return await client.post("/api/v1/auth/trial", headers=csrf(client))


async def test_trial_grants_credits_once_per_device(client, ctx):
    response = await start_trial(client)
    assert response.status_code == 201
    user = response.json()["user"]
    assert user["status"] == "trial" and user["credits"] == 20 and user["email"] is None
    assert response.json()["status"] == ("Your free trial has started with 20 credits to "
                                         "spend on chats.")
    assert await ledger.applied_sum(ctx.db, user["id"]) == 20
    device = client.cookies.get("device_id")
    assert device
    await client.post("/api/v1/auth/logout", headers=csrf(client))
    again = await start_trial(client)
    assert again.status_code == 409 and again.json()["error"]["code"] == "trial_used"
    assert await ctx.db.users.count_documents({}) == 1
    assert device not in str(await ctx.db.trial_devices.find({}).to_list())


async def test_trials_per_address_are_limited(app, ctx):
    codes = []
    for _ in range(4):
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                     base_url="http://testserver") as browser:
            codes.append((await start_trial(browser)).status_code)
    assert codes == [201, 201, 201, 429]


async def test_signed_in_user_gets_no_trial(client, ctx):
    first = await start_trial(client)
    second = await client.post("/api/v1/auth/trial", headers=csrf(client))
    assert second.status_code == 201
    assert second.json()["user"]["id"] == first.json()["user"]["id"]
    assert await ctx.db.users.count_documents({}) == 1
