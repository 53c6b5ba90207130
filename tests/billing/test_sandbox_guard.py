"""The offline sandbox hands out credits for a simulated payment, so outside dev mode it takes
no orders unless the operator explicitly allows it (a staging server)."""

import httpx
import pytest

from clonechats.billing import orders
from clonechats.settings import AccountSettings, BillingSettings
from tests.conftest import make_settings
from tests.factories import log_in, make_user


@pytest.fixture(params=[False, True], ids=["production", "staging-allowed"])
def settings(request, tmp_path):
    return make_settings(tmp_path / "data", dev_mode=False,
                         accounts=AccountSettings(bcrypt_rounds=12),
                         billing=BillingSettings(sandbox_without_dev_mode=request.param))


async def test_sandbox_takes_orders_only_where_allowed(app, ctx, settings):
    await make_user(ctx, email="buyer@example.com")
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                 base_url="https://testserver") as client:
        await log_in(client, email="buyer@example.com")
        token = client.cookies.get("__Host-csrf_token")
        pack = ctx.settings.billing.packs[0].id
        response = await client.post("/api/v1/billing/orders", json={"item_id": pack},
                                     headers={"X-CSRF-Token": token})
        page = await client.get("/pricing")
    stored = await ctx.db[orders.ORDERS].count_documents({})
    if settings.billing.sandbox_without_dev_mode:
        assert response.status_code == 201
        assert stored == 1
        assert "Payments are not set up yet" not in page.text
    else:
        assert response.status_code == 503
        assert response.json()["error"]["code"] == "payments_not_configured"
        assert stored == 0
        assert "Payments are not set up yet" in page.text
