"""What every email provider promises, run against each implementation."""

from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass

import pytest

from clonechats.context import AppContext
from clonechats.providers.email import outbox
from clonechats.providers.email.base import EmailMessage, EmailProvider
from clonechats.providers.email.outbox import OutboxEmailProvider
from clonechats.providers.email.resend import ResendEmailProvider
from tests.conftest import FrozenClock
from tests.fakes.resend import API_KEY, BASE_URL, FakeResend

FROM = "Clone Chats <no-reply@mail.example.com>"


@dataclass
class Subject:
    provider: EmailProvider
    delivered: Callable[[], Awaitable[list[str]]]  # subjects actually delivered


@pytest.fixture(params=["outbox", "resend"])
async def subject(request: pytest.FixtureRequest, ctx: AppContext,
                  clock: FrozenClock) -> AsyncIterator[Subject]:
    if request.param == "outbox":
        async def stored() -> list[str]:
            items, _ = await outbox.list_outbox(ctx.db)
            return sorted(item["subject"] for item in items)

        yield Subject(OutboxEmailProvider(db=ctx.db, clock=clock, from_address=FROM), stored)
        return
    fake = FakeResend()

    async def sent() -> list[str]:
        return sorted(email["subject"] for email in fake.sent)

    async with fake.client() as http:
        yield Subject(ResendEmailProvider(api_key=API_KEY, from_address=FROM, http=http,
                                          base_url=BASE_URL), sent)


def message(key: str, subject: str = "Hello") -> EmailMessage:
    return EmailMessage(to="ada@example.com", subject=subject, text="Plain body",
                        html="<p>Plain body</p>", idempotency_key=key)


async def test_is_an_email_provider(subject: Subject) -> None:
    assert isinstance(subject.provider, EmailProvider)
    assert subject.provider.name in {"outbox", "resend"}


async def test_send_delivers_and_returns_an_id(subject: Subject) -> None:
    sent = await subject.provider.send(message("k1"))

    assert sent.provider_message_id
    assert await subject.delivered() == ["Hello"]


async def test_one_email_per_idempotency_key(subject: Subject) -> None:
    first = await subject.provider.send(message("k1", "A"))
    again = await subject.provider.send(message("k1", "A"))
    other = await subject.provider.send(message("k2", "B"))

    assert first == again
    assert other != first
    assert await subject.delivered() == ["A", "B"]
