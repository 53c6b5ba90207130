"""The payment provider contract: hosted checkout, order status, refunds, signed webhooks.

A provider never stores or sees card numbers, CVVs, UPI PINs or bank credentials here: the
buyer types those on the provider's own page (or, for the sandbox, types nothing at all). What
comes back is an order status, a payment id and amounts.

Implementations: `sandbox` (offline, local checkout page) and `cashfree`. Both deliver webhooks
in Cashfree's wire format (see `signing.py`), so one verification and processing path serves
both. Vendor failures surface as `providers.errors.ProviderError`s.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Protocol, runtime_checkable

PAID, PENDING, FAILED = "paid", "pending", "failed"
REFUND_SUCCESS, REFUND_PENDING, REFUND_FAILED = "success", "pending", "failed"


@dataclass(frozen=True, kw_only=True)
class CheckoutRequest:
    order_id: str  # our internal id; also the provider's order id (3-45 chars, [A-Za-z0-9_-])
    amount: Decimal
    currency: str
    description: str
    customer_id: str
    customer_email: str | None
    return_url: str
    notify_url: str
    expires_at: datetime
    item_id: str


@dataclass(frozen=True)
class Checkout:
    provider_order_id: str
    payment_session_id: str
    checkout_url: str  # where the buyer's browser goes next (a path on this site)


@dataclass(frozen=True)
class ProviderOrder:
    """The provider's view of an order: PAID, PENDING (still payable) or FAILED (terminal)."""

    order_id: str
    status: str
    raw_status: str
    amount: Decimal | None = None
    currency: str | None = None
    payment_id: str | None = None


@dataclass(frozen=True)
class RefundResult:
    refund_id: str
    status: str  # REFUND_SUCCESS, REFUND_PENDING or REFUND_FAILED
    raw_status: str
    provider_refund_id: str | None = None


@dataclass(frozen=True)
class SignedDelivery:
    """A webhook as it travels: the exact body bytes and the headers that sign them."""

    headers: dict[str, str]
    body: bytes


@runtime_checkable
class PaymentProvider(Protocol):
    name: str
    supports_saved_charges: bool  # can charge a subscription renewal without the buyer

    async def create_checkout(self, request: CheckoutRequest) -> Checkout:
        """Register the order with the provider and say where the buyer pays."""
        ...

    async def fetch_order(self, order_id: str) -> ProviderOrder:
        """The order's status at the provider (raises ProviderRejected when unknown)."""
        ...

    async def refund(self, *, order_id: str, refund_id: str, amount: Decimal,
                     note: str) -> RefundResult:
        """Refund `amount` of a paid order, once per `refund_id`."""
        ...

    async def fetch_refund(self, *, order_id: str, refund_id: str) -> RefundResult:
        ...

    def webhook_secrets(self) -> list[str]:
        """Secrets a genuine webhook may be signed with (current first)."""
        ...


@runtime_checkable
class SavedChargeProvider(PaymentProvider, Protocol):
    """A provider that charges a subscription renewal to the buyer's saved method itself."""

    async def charge_saved(self, order_id: str) -> SignedDelivery:
        """Charge order `order_id`; the result arrives as the webhook it returns."""
        ...


def header(headers: Mapping[str, str], name: str) -> str | None:
    """Case-insensitive header lookup over a plain mapping."""
    lowered = name.lower()
    for key, value in headers.items():
        if key.lower() == lowered:
            return value
    return None
