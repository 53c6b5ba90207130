"""Rendering transactional emails from `mail/templates`: a subject, a plain-text body and HTML.

Each email is two files: `<name>.txt` (the text body; it also sets `subject` at the top) and
`<name>.html` (extends `_layout.html`). HTML is autoescaped, text is not (it is never read as
markup). Undefined variables raise, so a caller that forgets one fails at once instead of
mailing a half-empty email. `TEMPLATES` lists each email and the variables it needs; every
email also receives `operator_name`, `public_url` and `contact_email` from the settings.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from clonechats.settings import Settings

TEMPLATE_DIR = Path(__file__).parent / "templates"

TEMPLATES: dict[str, tuple[str, ...]] = {
    "verification": ("display_name", "verification_url", "expires_at"),
    "password_reset": ("display_name", "reset_url", "expires_at"),
    "guardian_consent": ("child_display_name", "consent_url", "expires_at"),
    "account_deleted": ("display_name", "deleted_at"),
    "receipt": ("display_name", "order_id", "description", "amount", "paid_at"),
    "link_google": ("display_name", "google_email", "link_url", "expires_at"),
    "scheduled_notice": ("display_name", "persona_name", "delivered", "conversation_url",
                         "due_at"),
    "password_changed": ("display_name", "changed_at", "via_reset"),
    "email_changed": ("display_name", "new_email", "changed_at"),
    "guardian_approved": ("child_display_name", "withdraw_url", "expires_at"),
}
"""Email name -> required variables. `receipt` also takes an optional `credits`."""
TEMPLATES.update({  # the operator's inbox (`contact`)
    "contact_received": ("from_email", "topic", "message", "received_at", "due_at",
                         "inbox_url"),
    "contact_ack": ("topic", "received_at", "due_at"),
    "operator_reply": ("topic", "text"),
})


@dataclass(frozen=True)
class RenderedEmail:
    subject: str
    text: str
    html: str


def format_utc(value: datetime) -> str:
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    value = value.astimezone(UTC)
    return f"{value.day} {value:%B %Y, %H:%M} UTC"


def _build_environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATE_DIR),
        autoescape=select_autoescape(enabled_extensions=("html",), default=False),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["utc"] = format_utc
    return env


_ENV = _build_environment()


def render_email(template: str, context: Mapping[str, Any], *,
                 settings: Settings) -> RenderedEmail:
    required = TEMPLATES.get(template)
    if required is None:
        raise ValueError(f"unknown email template {template!r}")
    missing = [name for name in required if name not in context]
    if missing:
        raise ValueError(f"email {template!r} needs {', '.join(missing)}")
    for name, value in context.items():
        if name.endswith("_url") and not str(value).startswith(("https://", "http://")):
            raise ValueError(f"{name} must be an http(s) URL")
    values = {
        "operator_name": settings.operator_name,
        "public_url": settings.public_url,
        "contact_email": settings.contact_email,
        **context,
    }
    text_module = _ENV.get_template(f"{template}.txt").make_module(values)
    subject = " ".join(str(text_module.subject).split())  # type: ignore[attr-defined]
    html = _ENV.get_template(f"{template}.html").render({**values, "subject": subject})
    return RenderedEmail(subject=subject, text=str(text_module).strip() + "\n", html=html)
