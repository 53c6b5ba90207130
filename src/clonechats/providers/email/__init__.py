"""Email providers: the local outbox (default) and Resend. See `base.py` for the contract."""

from clonechats.providers.email.base import EmailMessage, EmailProvider, SentEmail

__all__ = ["EmailMessage", "EmailProvider", "SentEmail"]
