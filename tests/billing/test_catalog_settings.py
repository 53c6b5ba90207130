"""The catalog comes from the settings, and a catalog that could not be sold is refused."""

from decimal import Decimal

import pytest
from pydantic import ValidationError

from clonechats.billing.plans import PLAN_TIERS, build_catalog, format_amount
from clonechats.settings import BillingSettings, CatalogPack, CatalogPlan, Settings


def test_default_catalog_has_every_tier_and_prices_in_inr_and_usd():
    catalog = build_catalog(BillingSettings())
    assert tuple(plan.tier for plan in catalog.plans) == PLAN_TIERS
    for item in (*catalog.plans[1:], *catalog.packs):
        assert set(item.prices) == {"INR", "USD"}
        assert all(isinstance(price, Decimal) for price in item.prices.values())


def test_catalog_from_the_environment(monkeypatch):
    monkeypatch.setenv("CLONECHATS_BILLING__CURRENCY", "USD")
    monkeypatch.setenv("CLONECHATS_BILLING__PACKS",
                       '[{"id": "pack_one", "name": "One", "credits": 10, '
                       '"prices": {"USD": "2.50"}}]')
    settings = Settings(_env_file=None)
    catalog = build_catalog(settings.billing)
    assert catalog.currency == "USD" and catalog.get("pack_one").prices == {
        "USD": Decimal("2.50")}


@pytest.mark.parametrize("billing", [
    {"plans": [CatalogPlan(id="gold", name="Gold", tier="gold", monthly_credits=1)]},
    {"packs": [CatalogPack(id="pp", name="P", credits=1, prices={"INR": Decimal("0.50")})]},
    {"packs": [CatalogPack(id="pp", name="P", credits=1, prices={"INR": Decimal("1.005")})]},
    {"packs": [CatalogPack(id="pp", name="P", credits=1, prices={"USD": Decimal("2")})]},
    {"packs": [CatalogPack(id="plus", name="P", credits=1, prices={"INR": Decimal("2")})]},
    {"provider": "cashfree"},
])
def test_unsellable_catalogs_are_refused(billing):
    with pytest.raises(ValidationError):
        BillingSettings(**billing)


def test_amounts_are_shown_with_their_currency():
    assert format_amount(Decimal("1299"), "INR") == "₹1,299.00"
    assert format_amount(Decimal("4.99"), "USD") == "$4.99"
    assert format_amount(Decimal("12"), "CHF") == "CHF 12.00"
