"""The catalog: plan tiers, subscription plans and one-off credit packs, from the settings.

Everything a buyer can order is an `Item` with an id, a tier, the credits it brings and its
prices (exact `Decimal`s per currency). Plans bring `credits` every month; packs once. The free
plan has no price and cannot be ordered.

Minors: a guardian authorises plan tiers (`PLAN_TIERS`); a plan needs its own tier authorised,
and a credit pack needs the tier it names (by default "plus", the cheapest paid tier), so a
guardian who allowed no paid tier allows no spending at all.
"""

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from clonechats.accounts.age import ADULT_AGE, age_on
from clonechats.accounts.users import User
from clonechats.errors import AppError, Forbidden, NotFound
from clonechats.settings import PLAN_TIERS as PLAN_TIERS  # the settings check the catalog's tiers

PLAN, PACK = "plan", "pack"
CURRENCY_SYMBOLS = {"INR": "₹", "USD": "$", "EUR": "€", "GBP": "£"}
CENT = Decimal("0.01")


@dataclass(frozen=True)
class Item:
    id: str
    kind: str  # PLAN or PACK
    name: str
    tier: str
    credits: int  # per month for a plan, once for a pack
    prices: dict[str, Decimal]
    features: tuple[str, ...] = field(default_factory=tuple)

    @property
    def orderable(self) -> bool:
        return bool(self.prices)

    def description(self) -> str:
        if self.kind == PLAN:
            return f"{self.name} plan, one month ({self.credits:,} credits)"
        return f"Credit pack: {self.name}"

    def price(self, currency: str) -> Decimal:
        try:
            return self.prices[currency]
        except KeyError:
            raise AppError(f"{self.name} is not sold in {currency}.",
                           code="currency_unavailable", status=422) from None


@dataclass(frozen=True)
class Catalog:
    currency: str
    plans: tuple[Item, ...]
    packs: tuple[Item, ...]

    def get(self, item_id: str) -> Item:
        for item in (*self.plans, *self.packs):
            if item.id == item_id:
                return item
        raise NotFound("There is no such plan or credit pack.", code="unknown_item")

    def plan_for_tier(self, tier: str) -> Item | None:
        return next((plan for plan in self.plans if plan.tier == tier), None)


def build_catalog(billing: Any) -> Catalog:
    """The catalog described by `BillingSettings` (already validated there)."""
    plans = tuple(
        Item(id=p.id, kind=PLAN, name=p.name, tier=p.tier, credits=p.monthly_credits,
             prices=dict(p.prices), features=tuple(p.features))
        for p in billing.plans
    )
    packs = tuple(
        Item(id=p.id, kind=PACK, name=p.name, tier=p.tier, credits=p.credits,
             prices=dict(p.prices))
        for p in billing.packs
    )
    return Catalog(currency=billing.currency, plans=plans, packs=packs)


def format_amount(amount: Decimal, currency: str) -> str:
    """`₹299.00`, `$4.99`, or `CHF 12.00` for currencies without a symbol here."""
    text = f"{amount.quantize(CENT):,}"
    symbol = CURRENCY_SYMBOLS.get(currency)
    return f"{symbol}{text}" if symbol else f"{currency} {text}"


class TierNotAuthorised(Forbidden):
    code = "tier_not_authorised"
    message = "Your parent or guardian has not allowed this purchase."


def check_tier_allowed(user: User, item: Item, *, today: date) -> None:
    """A minor (an account with a guardian, under 18 today) may buy only authorised tiers."""
    guardian = user.get("guardian")
    if not guardian or not is_minor(user, today):
        return
    if item.tier not in (guardian.get("authorized_tiers") or []):
        raise TierNotAuthorised()


def is_minor(user: User, today: date) -> bool:
    birth = user.get("birth_date")
    if not birth:
        return True  # a guardian-linked account without a birth date stays restricted
    return age_on(date.fromisoformat(birth), today) < ADULT_AGE


def public_item(item: Item) -> dict[str, Any]:
    return {
        "id": item.id, "kind": item.kind, "name": item.name, "tier": item.tier,
        "credits": item.credits, "features": list(item.features),
        "prices": {currency: str(price) for currency, price in item.prices.items()},
        "orderable": item.orderable,
    }
