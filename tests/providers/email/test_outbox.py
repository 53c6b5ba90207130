"""The local outbox provider: stores each message once, lists them newest first, by page."""

import pytest

from clonechats.context import AppContext
from clonechats.providers.email import outbox
from clonechats.providers.email.base import EmailMessage
from clonechats.providers.email.outbox import OutboxEmailProvider, list_outbox
from clonechats.storage.pagination import InvalidCursor
from tests.conftest import FrozenClock

FROM = "Clone Chats <no-reply@example.invalid>"


def message(n: int, **overrides: object) -> EmailMessage:
    values: dict[str, object] = {
        "to": f"user{n}@example.com",
        "subject": f"Message {n}",
        "text": f"Body {n}",
        "html": f"<p>Body {n}</p>",
        "idempotency_key": f"test/{n}",
        "tags": {"template": "verification"},
    }
    values.update(overrides)
    return EmailMessage(**values)  # type: ignore[arg-type]


@pytest.fixture
def provider(ctx: AppContext, clock: FrozenClock) -> OutboxEmailProvider:
    return OutboxEmailProvider(db=ctx.db, clock=clock, from_address=FROM)


async def test_stores_the_message_with_its_time(
    ctx: AppContext, clock: FrozenClock, provider: OutboxEmailProvider
) -> None:
    sent = await provider.send(message(1))

    stored = await outbox.get(ctx.db, sent.provider_message_id)
    assert stored is not None
    assert stored["to"] == "user1@example.com"
    assert stored["from_address"] == FROM
    assert stored["subject"] == "Message 1"
    assert stored["text"] == "Body 1"
    assert stored["html"] == "<p>Body 1</p>"
    assert stored["tags"] == {"template": "verification"}
    assert stored["idempotency_key"] == "test/1"
    assert stored["created_at"] == clock.now()


async def test_same_idempotency_key_stores_one_message(
    ctx: AppContext, provider: OutboxEmailProvider
) -> None:
    first = await provider.send(message(1))
    second = await provider.send(message(1, subject="Changed"))

    assert first == second
    items, _ = await list_outbox(ctx.db)
    assert [item["subject"] for item in items] == ["Message 1"]


async def test_lists_newest_first_in_pages(
    ctx: AppContext, clock: FrozenClock, provider: OutboxEmailProvider
) -> None:
    for n in range(5):
        clock.advance(seconds=1)
        await provider.send(message(n))
    clock.advance(seconds=1)
    for n in range(5, 8):  # three sent within the same instant, across a page boundary
        await provider.send(message(n))

    seen: list[str] = []
    pages = 0
    cursor = None
    while True:
        items, cursor = await list_outbox(ctx.db, limit=2, cursor=cursor)
        pages += 1
        seen.extend(item["subject"] for item in items)
        assert [i["created_at"] for i in items] == sorted(
            (i["created_at"] for i in items), reverse=True)
        if cursor is None:
            break

    assert pages == 4
    assert len(seen) == len(set(seen)) == 8
    assert set(seen[:3]) == {"Message 5", "Message 6", "Message 7"}
    assert seen[3:] == ["Message 4", "Message 3", "Message 2", "Message 1", "Message 0"]


async def test_last_full_page_has_no_next_cursor(
    ctx: AppContext, provider: OutboxEmailProvider
) -> None:
    for n in range(2):
        await provider.send(message(n))

    items, cursor = await list_outbox(ctx.db, limit=2)
    assert len(items) == 2
    assert cursor is None


async def test_empty_outbox(ctx: AppContext) -> None:
    assert await list_outbox(ctx.db) == ([], None)


@pytest.mark.parametrize("cursor", ["nonsense", "1.zz", "-5.0123456789abcdef01234567",
                                    "999999999999999999.0123456789abcdef01234567"])
async def test_refuses_a_cursor_it_never_handed_out(ctx: AppContext, cursor: str) -> None:
    with pytest.raises(InvalidCursor):
        await list_outbox(ctx.db, cursor=cursor)
