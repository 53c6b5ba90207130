"""Payment provider registry: the `billing.provider` setting's slug -> the provider in use.

One provider is enabled at a time. The sandbox's webhook secret is the configured one or, by
default, derived from the server secret, so nobody outside this instance can sign for it.
"""

from typing import Any

import httpx

from clonechats.clock import Clock
from clonechats.errors import NotFound
from clonechats.privacy.pseudonyms import keyed_hash
from clonechats.providers.payments.base import PaymentProvider
from clonechats.providers.payments.cashfree import CashfreePaymentProvider
from clonechats.providers.payments.sandbox import SandboxPaymentProvider


class UnknownPaymentProvider(NotFound):
    code = "unknown_provider"
    message = "There is no such payment provider here."


class PaymentProviders:
    """The enabled providers by name; `default` takes new orders."""

    def __init__(self, providers: dict[str, PaymentProvider], default: str) -> None:
        if default not in providers:
            raise ValueError(f"default provider {default!r} is not enabled")
        self._providers = providers
        self.default_name = default

    @property
    def default(self) -> PaymentProvider:
        return self._providers[self.default_name]

    def get(self, name: str) -> PaymentProvider:
        try:
            return self._providers[name]
        except KeyError:
            raise UnknownPaymentProvider() from None

    def names(self) -> list[str]:
        return sorted(self._providers)


def sandbox_secret(billing: Any, server_secret: str) -> str:
    if billing.sandbox_webhook_secret is not None:
        return billing.sandbox_webhook_secret.get_secret_value()
    return keyed_hash(server_secret, "sandbox-webhook", "v1")


def build_payment_providers(billing: Any, *, db: Any, http: httpx.AsyncClient, clock: Clock,
                            server_secret: str) -> PaymentProviders:
    if billing.provider == "cashfree":
        provider: PaymentProvider = CashfreePaymentProvider(
            app_id=billing.cashfree_app_id, secret_key=billing.cashfree_secret_key
            .get_secret_value(), http=http, api_version=billing.cashfree_api_version,
            environment=billing.cashfree_environment, base_url=billing.cashfree_base_url,
            customer_phone=billing.cashfree_customer_phone,
            send_notify_url=billing.cashfree_send_notify_url,
            previous_secrets=[s.get_secret_value() for s in billing.cashfree_previous_secret_keys],
            timeout_seconds=billing.timeout_seconds)
    elif billing.provider == "sandbox":
        provider = SandboxPaymentProvider(db=db, clock=clock,
                                          secret=sandbox_secret(billing, server_secret))
    else:
        raise ValueError(f"unknown payment provider {billing.provider!r}")
    return PaymentProviders({provider.name: provider}, default=provider.name)
