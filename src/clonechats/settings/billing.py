"""Billing: the payment provider and the catalog of plans and credit packs."""

from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, Field, SecretStr, model_validator

from clonechats.settings.checks import require

CURRENCY_PATTERN = r"^[A-Z]{3}$"


PLAN_TIERS: tuple[str, ...] = ("free", "plus", "pro")
"""Every plan tier, cheapest first (`billing.plans` sells them; a catalog may name no other)."""


class CatalogPlan(BaseModel):
    """A subscription plan: a tier, the credits each month brings, features and prices."""

    id: str = Field(pattern=r"^[a-z0-9_]{2,32}$")
    name: str = Field(min_length=1, max_length=60)
    tier: str = Field(description="One of PLAN_TIERS.")
    monthly_credits: int = Field(ge=0)
    features: list[str] = Field(default_factory=list)
    prices: dict[str, Decimal] = Field(default_factory=dict, description="Currency code -> "
                                       "price per month; none for the free plan.")


class CatalogPack(BaseModel):
    """A one-off credit pack. `tier` is what a guardian must have authorised for a minor."""

    id: str = Field(pattern=r"^[a-z0-9_]{2,32}$")
    name: str = Field(min_length=1, max_length=60)
    credits: int = Field(gt=0)
    tier: str = Field("plus", description="Minors need this tier authorised to buy the pack.")
    prices: dict[str, Decimal]


def _default_plans() -> list[CatalogPlan]:
    return [
        CatalogPlan(id="free", name="Free", tier="free", monthly_credits=0, features=["chat"]),
        CatalogPlan(id="plus", name="Plus", tier="plus", monthly_credits=1000,
                    features=["chat", "voice"],
                    prices={"INR": Decimal("299.00"), "USD": Decimal("4.99")}),
        CatalogPlan(id="pro", name="Pro", tier="pro", monthly_credits=5000,
                    features=["chat", "voice", "video", "debates"],
                    prices={"INR": Decimal("999.00"), "USD": Decimal("14.99")}),
    ]


def _default_packs() -> list[CatalogPack]:
    return [
        CatalogPack(id="pack_small", name="200 credits", credits=200,
                    prices={"INR": Decimal("99.00"), "USD": Decimal("1.99")}),
        CatalogPack(id="pack_medium", name="1,200 credits", credits=1200,
                    prices={"INR": Decimal("499.00"), "USD": Decimal("7.99")}),
        CatalogPack(id="pack_large", name="3,000 credits", credits=3000,
                    prices={"INR": Decimal("999.00"), "USD": Decimal("17.99")}),
    ]


class BillingSettings(BaseModel):
    """Plans, credit packs and the payment provider: `sandbox` (offline) or Cashfree."""

    provider: Literal["sandbox", "cashfree"] = Field(
        "sandbox", description="`sandbox` simulates checkout locally and sends itself signed "
        "webhooks (no money moves); `cashfree` takes real payments.")
    sandbox_without_dev_mode: bool = Field(
        False, description="Let the sandbox take orders outside dev mode (a staging server). "
        "Never on a public instance: anyone could 'pay' with it and get credits.")
    currency: str = Field("INR", pattern=CURRENCY_PATTERN, description="Currency of new orders "
                          "unless the buyer picks another one the item is priced in.")
    plans: list[CatalogPlan] = Field(default_factory=_default_plans)
    packs: list[CatalogPack] = Field(default_factory=_default_packs)
    cashfree_app_id: str | None = Field(None, description="Cashfree app id (`x-client-id`).")
    cashfree_secret_key: SecretStr | None = Field(None, description="Cashfree secret key "
                                                  "(`x-client-secret`); also signs webhooks.")
    cashfree_previous_secret_keys: list[SecretStr] = Field(
        default_factory=list, description="Secrets still accepted on webhooks after a key "
        "rotation, until deliveries signed with them have drained.")
    cashfree_environment: Literal["sandbox", "production"] = Field(
        "sandbox", description="Which Cashfree environment (base URL and checkout mode).")
    cashfree_base_url: str | None = Field(None, description="Override of the API base URL "
                                          "(default: the environment's `/pg` URL).")
    cashfree_api_version: str = Field("2025-01-01", pattern=r"^\d{4}-\d{2}-\d{2}$",
                                      description="`x-api-version` sent on every call.")
    cashfree_send_notify_url: bool = Field(True, description="Also send `order_meta.notify_url`"
                                           " (https only); configure the dashboard webhook too.")
    cashfree_customer_phone: str = Field("9999999999", pattern=r"^\+?\d{10,13}$",
                                         description="Phone sent as customer_phone, which "
                                         "Cashfree requires; we do not collect phone numbers.")
    sandbox_webhook_secret: SecretStr | None = Field(None, description="Signs sandbox "
                                                     "webhooks; derived from secret_key if unset.")
    webhook_max_age_seconds: int = Field(24 * 3600, gt=0, description="Older signed webhook "
                                         "timestamps are refused (retries come up to ~45 min "
                                         "later by default).")
    webhook_max_future_seconds: int = Field(300, ge=0, description="Allowed clock skew ahead.")
    confirm_with_provider: bool = Field(True, description="Ask the provider for the order's "
                                        "status before granting on a success webhook.")
    reconcile_after_minutes: float = Field(15.0, gt=0, description="First check of an order "
                                           "whose webhook has not come; then with back-off.")
    reconcile_max_attempts: int = Field(8, ge=1, description="Checks before a still-pending "
                                        "order is left to the provider's expiry.")
    order_ttl_minutes: int = Field(24 * 60, ge=15, description="Provider-side order expiry.")
    max_open_orders: int = Field(10, ge=1, description="Unpaid orders one user may hold "
                                 "created within an hour.")
    timeout_seconds: float = Field(15.0, gt=0, description="Time limit of one provider call.")

    @model_validator(mode="after")
    def _valid_catalog(self) -> "BillingSettings":
        _validate_catalog(self)
        if self.provider == "cashfree":
            require(self, "billing", "cashfree_app_id", "cashfree_secret_key")
        return self


def _validate_catalog(billing: BillingSettings) -> None:
    """Refuse a catalog that could not be sold correctly (raises ValueError)."""
    items: list[CatalogPlan | CatalogPack] = [*billing.plans, *billing.packs]
    ids = [item.id for item in items]
    if len(ids) != len(set(ids)):
        raise ValueError("billing: plan and pack ids must be unique")
    tiers = [plan.tier for plan in billing.plans]
    if len(tiers) != len(set(tiers)):
        raise ValueError("billing: one plan per tier")
    for item in items:
        if item.tier not in PLAN_TIERS:
            raise ValueError(f"billing: {item.id} has unknown tier {item.tier!r}; "
                             f"tiers are {', '.join(PLAN_TIERS)}")
        for currency, price in item.prices.items():
            if len(currency) != 3 or not currency.isalpha() or not currency.isupper():
                raise ValueError(f"billing: {item.id} has a bad currency code {currency!r}")
            if price < 1 or price != price.quantize(Decimal("0.01")):
                raise ValueError(f"billing: {item.id} price {price} must be at least 1 with "
                                 "at most two decimals")
        if item.prices and billing.currency not in item.prices:
            raise ValueError(f"billing: {item.id} has no price in {billing.currency}")
