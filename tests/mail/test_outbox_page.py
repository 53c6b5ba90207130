"""The admin outbox page: its data (dev mode only, paginated) and its template."""

from typing import Any

import pytest
from starlette.requests import Request

from clonechats.context import AppContext
from clonechats.errors import NotFound
from clonechats.mail import service as mail
from clonechats.providers.email.base import EmailMessage
from clonechats.storage.pagination import InvalidCursor
from clonechats.web.templates import build_templates
from tests.conftest import FrozenClock


def page_request(query: bytes = b"") -> Request:
    return Request({"type": "http", "method": "GET", "path": "/admin/outbox",
                    "query_string": query, "headers": [], "scheme": "http",
                    "server": ("testserver", 80)})


def render_page(ctx: AppContext, data: dict[str, Any]) -> str:
    template = build_templates(ctx.settings).get_template("admin/outbox.html")
    return template.render(request=page_request(), **data)


async def store(ctx: AppContext, clock: FrozenClock, count: int, subject: str = "Hi") -> None:
    for n in range(count):
        clock.advance(seconds=1)
        await ctx.email.send(EmailMessage(to=f"u{n}@example.com", subject=f"{subject} {n}",
                                          text=f"Body {n}", idempotency_key=f"k{n}"))


async def test_lists_newest_first_and_pages(ctx: AppContext, clock: FrozenClock) -> None:
    await store(ctx, clock, mail.OUTBOX_PAGE_SIZE + 2)

    first = await mail.outbox_page_data(ctx, cursor=None)
    assert len(first["messages"]) == mail.OUTBOX_PAGE_SIZE
    assert first["messages"][0]["subject"] == f"Hi {mail.OUTBOX_PAGE_SIZE + 1}"
    assert first["is_first_page"] is True
    assert first["provider"] == "outbox"

    second = await mail.outbox_page_data(ctx, cursor=first["next_cursor"])
    assert [m["subject"] for m in second["messages"]] == ["Hi 1", "Hi 0"]
    assert second["next_cursor"] is None
    assert second["is_first_page"] is False


async def test_hidden_outside_dev_mode(ctx: AppContext) -> None:
    ctx.settings = ctx.settings.model_copy(update={"dev_mode": False})
    with pytest.raises(NotFound):
        await mail.outbox_page_data(ctx, cursor=None)


async def test_bad_cursor_is_a_400(ctx: AppContext) -> None:
    with pytest.raises(InvalidCursor) as caught:
        await mail.outbox_page_data(ctx, cursor="not-a-cursor")
    assert caught.value.status == 400


async def test_page_shows_messages_escaped_with_their_bodies(ctx: AppContext,
                                                            clock: FrozenClock) -> None:
    await store(ctx, clock, mail.OUTBOX_PAGE_SIZE + 1, subject="<script>x</script>")

    html = render_page(ctx, await mail.outbox_page_data(ctx, cursor=None))

    assert "<script>x</script>" not in html
    assert "&lt;script&gt;x&lt;/script&gt; 25" in html
    assert "u25@example.com" in html
    assert "<details" in html and "Body 25" in html
    assert '/admin/outbox?cursor=' in html and "Older emails" in html
    assert "Newest" not in html


async def test_page_has_the_admin_menu_and_clickable_escaped_links(
        ctx: AppContext) -> None:
    link = "http://testserver/verify-email?token=abc_DEF-123"
    await ctx.email.send(EmailMessage(
        to="new@example.com", subject="Confirm", idempotency_key="k",
        text=f"Hello <b>Ann</b> & co,\nconfirm here: {link}\nThanks."))

    html = render_page(ctx, await mail.outbox_page_data(ctx, cursor=None))

    assert 'class="admin-nav" aria-label="Admin"' in html
    assert 'href="/admin/outbox" aria-current="page"' in html
    assert f'<a href="{link}"' in html
    assert "<b>Ann</b>" not in html and "Hello &lt;b&gt;Ann&lt;/b&gt; &amp; co," in html


async def test_page_empty_state(ctx: AppContext) -> None:
    html = render_page(ctx, await mail.outbox_page_data(ctx, cursor=None))

    assert "No emails yet" in html
    assert "Stored emails" not in html
    assert "Older emails" not in html
