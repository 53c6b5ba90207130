"""Transactional email templates: each renders, HTML escapes user text, links are present."""

from datetime import UTC, datetime
from typing import Any

import pytest

from clonechats.mail.render import TEMPLATES, render_email
from clonechats.settings import Settings

WHEN = datetime(2026, 3, 2, 12, 30, tzinfo=UTC)
LINK = "https://app.example.com/verify?token=abc123&u=42"

CONTEXTS: dict[str, dict[str, Any]] = {
    "verification": {"display_name": "Ada", "verification_url": LINK, "expires_at": WHEN},
    "password_reset": {"display_name": "Ada", "reset_url": LINK, "expires_at": WHEN},
    "guardian_consent": {"child_display_name": "Sam", "consent_url": LINK, "expires_at": WHEN},
    "account_deleted": {"display_name": "Ada", "deleted_at": WHEN},
    "receipt": {"display_name": "Ada", "order_id": "order_7", "description": "100 credits",
                "amount": "₹499.00", "paid_at": WHEN, "credits": 100},
    "link_google": {"display_name": "Ada", "google_email": "ada@example.com", "link_url": LINK,
                    "expires_at": WHEN},
    "scheduled_notice": {"display_name": "Ada", "persona_name": "Ada",
                         "delivered": True, "conversation_url": LINK,
                         "due_at": "Mon 2 Mar 2026, 12:30 (UTC)"},
    "password_changed": {"display_name": "Ada", "changed_at": WHEN, "via_reset": True},
    "email_changed": {"display_name": "Ada", "new_email": "ada@new.example", "changed_at": WHEN},
    "guardian_approved": {"child_display_name": "Sam", "withdraw_url": LINK, "expires_at": WHEN},
}
CONTEXTS.update({  # the operator's inbox
    "contact_received": {"from_email": "ann@example.com", "topic": "Billing", "message": "Hi",
                         "received_at": datetime(2026, 3, 1, tzinfo=UTC),
                         "due_at": datetime(2026, 3, 31, tzinfo=UTC),
                         "inbox_url": "https://chats.example.com/admin/inbox"},
    "contact_ack": {"topic": "Billing", "received_at": datetime(2026, 3, 1, tzinfo=UTC),
                    "due_at": datetime(2026, 3, 31, tzinfo=UTC)},
    "operator_reply": {"topic": "Re: Billing", "text": "Answered."},
})


@pytest.fixture
def settings() -> Settings:
    return Settings(_env_file=None, operator_name="Acme Personas",
                    public_url="https://app.example.com", contact_email="help@example.com")


def test_every_template_has_a_test_context() -> None:
    assert set(CONTEXTS) == set(TEMPLATES)


@pytest.mark.parametrize("template", sorted(TEMPLATES))
def test_renders_subject_text_and_html(template: str, settings: Settings) -> None:
    email = render_email(template, CONTEXTS[template], settings=settings)

    assert "Acme Personas" in email.subject
    assert "\n" not in email.subject
    assert "Acme Personas" in email.text
    assert email.html.startswith("<!doctype html>")
    assert f"<title>{email.subject}</title>" in email.html
    assert "help@example.com" in email.html
    assert "{{" not in email.text + email.html


@pytest.mark.parametrize(("template", "url_field"), [
    ("verification", "verification_url"),
    ("password_reset", "reset_url"),
    ("guardian_consent", "consent_url"),
    ("link_google", "link_url"),
    ("guardian_approved", "withdraw_url"),
])
def test_the_one_time_link_is_in_both_bodies(template: str, url_field: str,
                                             settings: Settings) -> None:
    email = render_email(template, CONTEXTS[template], settings=settings)

    assert LINK in email.text
    assert f'href="{LINK.replace("&", "&amp;")}"' in email.html
    assert "2 March 2026, 12:30 UTC" in email.text


def test_display_name_is_escaped_in_html(settings: Settings) -> None:
    context = {**CONTEXTS["verification"], "display_name": '<script>alert("x")</script>'}

    email = render_email("verification", context, settings=settings)

    assert "<script>" not in email.html
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in email.html
    assert 'Hello <script>alert("x")</script>,' in email.text  # plain text is never markup


def test_receipt_lists_the_order(settings: Settings) -> None:
    email = render_email("receipt", CONTEXTS["receipt"], settings=settings)

    assert "order_7" in email.subject
    for value in ("order_7", "100 credits", "₹499.00", "Credits: 100"):
        assert value in email.text
    without_credits = {k: v for k, v in CONTEXTS["receipt"].items() if k != "credits"}
    assert "Credits:" not in render_email("receipt", without_credits, settings=settings).text


def test_missing_variable_is_refused(settings: Settings) -> None:
    with pytest.raises(ValueError, match="verification_url"):
        render_email("verification", {"display_name": "Ada", "expires_at": WHEN},
                     settings=settings)


def test_unknown_template_is_refused(settings: Settings) -> None:
    with pytest.raises(ValueError, match="unknown email template"):
        render_email("welcome_back", {}, settings=settings)


def test_non_http_link_is_refused(settings: Settings) -> None:
    context = {**CONTEXTS["password_reset"], "reset_url": "javascript:alert(1)"}
    with pytest.raises(ValueError, match="reset_url"):
        render_email("password_reset", context, settings=settings)


@pytest.mark.parametrize("template", ["verification", "password_reset", "account_deleted",
                                      "receipt"])
def test_missing_display_name_greets_without_a_name(template: str, settings: Settings) -> None:
    email = render_email(template, {**CONTEXTS[template], "display_name": None},
                         settings=settings)

    assert email.text.startswith("Hello,\n")
    assert "<p>Hello,</p>" in email.html
    assert "None" not in email.text + email.html
