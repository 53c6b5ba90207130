"""Guessing share links is limited per address: after 30 unknown ids, lookups get 429 (valid
links never count, and another address is unaffected)."""

import httpx

from tests.factories import make_persona, make_user


async def test_unknown_share_ids_are_limited_per_address(app, ctx):
    owner = await make_user(ctx, email="o@example.com")
    await make_persona(ctx, owner_id=owner["_id"], name="Open", visibility="public",
                       share_id="s" * 22)
    transport = httpx.ASGITransport(app=app, client=("203.0.113.7", 1234))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as guesser:
        for n in range(30):
            assert (await guesser.get(f"/api/v1/public/personas/guess{n:04d}")).status_code \
                == 404
        assert (await guesser.get("/api/v1/public/personas/" + "s" * 22)).status_code == 429
        refused = await guesser.get("/p/another-guess")
        assert refused.status_code == 429 and refused.headers.get("retry-after")
    other = httpx.ASGITransport(app=app, client=("198.51.100.9", 1234))
    async with httpx.AsyncClient(transport=other, base_url="http://testserver") as visitor:
        assert (await visitor.get("/api/v1/public/personas/" + "s" * 22)).status_code == 200
