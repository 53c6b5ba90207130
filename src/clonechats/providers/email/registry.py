"""Email provider registry: the `email.provider` setting's slug -> a factory building it."""

from collections.abc import Callable
from typing import Any

import httpx

from clonechats.clock import Clock
from clonechats.providers.email.base import EmailProvider
from clonechats.providers.email.outbox import OutboxEmailProvider
from clonechats.providers.email.resend import ResendEmailProvider
from clonechats.settings import EmailSettings

Factory = Callable[..., EmailProvider]


def _outbox(settings: EmailSettings, *, db: Any, http: httpx.AsyncClient,
            clock: Clock) -> EmailProvider:
    return OutboxEmailProvider(db=db, clock=clock, from_address=settings.from_address)


def _resend(settings: EmailSettings, *, db: Any, http: httpx.AsyncClient,
            clock: Clock) -> EmailProvider:
    if settings.resend_api_key is None:
        raise ValueError("email.provider 'resend' needs email.resend_api_key")
    return ResendEmailProvider(api_key=settings.resend_api_key.get_secret_value(),
                               from_address=settings.from_address, http=http,
                               base_url=settings.resend_base_url,
                               timeout_seconds=settings.timeout_seconds)


PROVIDERS: dict[str, Factory] = {
    "outbox": _outbox,
    "resend": _resend,
}


def build_email_provider(settings: EmailSettings, *, db: Any, http: httpx.AsyncClient,
                         clock: Clock) -> EmailProvider:
    try:
        factory = PROVIDERS[settings.provider]
    except KeyError:
        raise ValueError(f"unknown email provider {settings.provider!r}") from None
    return factory(settings, db=db, http=http, clock=clock)
