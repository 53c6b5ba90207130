"""The email provider contract: one message in, the provider's message id out.

A provider delivers exactly what it is given; deciding what to send and rendering it belong to
the `mail` domain, and sending happens only inside the `email.send` job. Every provider honours
`idempotency_key`: sending the same key twice delivers one email and returns the same id, so a
job retried after a send that did succeed never mails the person twice.
"""

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

MAX_IDEMPOTENCY_KEY = 256
_TAG_PART = re.compile(r"[A-Za-z0-9_-]{1,256}")
_ADDRESS = re.compile(r"[^@\s<>\"',;]+@[^@\s<>\"',;]+\.[^@\s<>\"',;]+")


@dataclass(frozen=True, kw_only=True)
class EmailMessage:
    """One email to one recipient. `html` is optional; `text` is always sent."""

    to: str
    subject: str
    text: str
    html: str | None = None
    idempotency_key: str
    tags: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not _ADDRESS.fullmatch(self.to):
            raise ValueError("to must be one plain email address")
        if not self.subject or "\r" in self.subject or "\n" in self.subject:
            raise ValueError("subject must be one non-empty line")
        if not self.text:
            raise ValueError("text must not be empty")
        if not 1 <= len(self.idempotency_key) <= MAX_IDEMPOTENCY_KEY:
            raise ValueError(f"idempotency_key must be 1-{MAX_IDEMPOTENCY_KEY} characters")
        for name, value in self.tags.items():
            if not (_TAG_PART.fullmatch(name) and _TAG_PART.fullmatch(value)):
                raise ValueError("tag names and values use only ASCII letters, digits, _ and -")


@dataclass(frozen=True)
class SentEmail:
    provider_message_id: str


@runtime_checkable
class EmailProvider(Protocol):
    name: str

    async def send(self, message: EmailMessage) -> SentEmail:
        """Deliver `message` (once per idempotency key) or raise a `ProviderError`."""
        ...
